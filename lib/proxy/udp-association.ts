// A SOCKS5 UDP association for QUdpSocket: the TCP control connection that
// keeps it alive, and the relay that datagrams go through. Opening one
// blocks, as Qt's SOCKS5 engine does in bind(): bind() must answer yes or no.
import { ProxyType, SocketError, SocketState } from '../enums';
import type { SocketFailure } from '../errors';
import { QHostAddress } from '../host-address';
import { QAuthenticator, QNetworkProxy } from '../network-proxy';
import { QTcpSocket } from '../tcp-socket';
import type { ProxyCredentials } from './negotiator';
import { createSocks5UdpAssociateNegotiator, socks5RelayEndpoint } from './socks5-udp';
import { ProxyMsg } from './tunnel';

export interface Association {
  control: QTcpSocket;
  relay: QHostAddress;
  relayPort: number;
}

/**
 * Connects to `proxy` and asks for a UDP association, blocking up to
 * `timeoutMs`. `ask` emits proxyAuthenticationRequired when the proxy wants
 * credentials; up to three rounds with new ones are tried.
 */
export function openAssociation(
  proxy: QNetworkProxy,
  timeoutMs: number,
  ask: (proxy: QNetworkProxy, auth: QAuthenticator) => void,
): Association | SocketFailure {
  if (proxy.type() !== ProxyType.Socks5Proxy) {
    return { error: SocketError.UnsupportedSocketOperationError, message: 'Datagrams need a SOCKS5 proxy' };
  }
  const end = performance.now() + timeoutMs;
  const left = () => Math.max(0, Math.ceil(end - performance.now()));
  let credentials: ProxyCredentials | null = proxy.user() !== '' ? { user: proxy.user(), password: proxy.password() } : null;
  const tried = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const control = new QTcpSocket();
    control.setProxy(new QNetworkProxy(ProxyType.NoProxy));
    control.connectToHost(proxy.hostName(), proxy.port());
    if (!control.waitForConnected(left())) {
      const timedOut = control.error() === SocketError.SocketTimeoutError;
      control.abort();
      return timedOut
        ? { error: SocketError.ProxyConnectionTimeoutError, message: ProxyMsg.timeout }
        : control.error() === SocketError.HostNotFoundError
          ? { error: SocketError.ProxyNotFoundError, message: ProxyMsg.notFound }
          : { error: SocketError.ProxyConnectionRefusedError, message: ProxyMsg.refused };
    }
    if (credentials) tried.add(`${credentials.user}\0${credentials.password}`);
    const n = createSocks5UdpAssociateNegotiator(credentials);
    if (n.startFailure) {
      control.abort();
      return n.startFailure;
    }
    control.write(n.start());
    let step = n.feed(Buffer.alloc(0));
    for (;;) {
      if ('send' in step) {
        control.write(step.send);
        step = step.more ? n.feed(Buffer.alloc(0)) : { wait: true };
        continue;
      }
      if (!('wait' in step)) break;
      if (!control.waitForReadyRead(left())) {
        const closed = control.state() !== SocketState.ConnectedState;
        control.abort();
        return closed
          ? { error: SocketError.ProxyConnectionClosedError, message: ProxyMsg.closed }
          : { error: SocketError.ProxyConnectionTimeoutError, message: ProxyMsg.timeout };
      }
      step = n.feed(control.readAll());
    }
    if ('done' in step) {
      const bound = step.bound ?? { host: '0.0.0.0', port: 0 };
      const relay = socks5RelayEndpoint(bound, control.peerAddress().toString());
      return { control, relay: new QHostAddress(relay.host), relayPort: relay.port };
    }
    control.abort();
    if ('fail' in step) return { error: step.error, message: step.message };
    // The proxy wants (other) credentials.
    const auth = new QAuthenticator();
    if (credentials) auth.setUser(credentials.user);
    ask(proxy, auth);
    const key = `${auth.user()}\0${auth.password()}`;
    if (auth.user() === '' || tried.has(key)) break;
    credentials = { user: auth.user(), password: auth.password() };
  }
  return { error: SocketError.ProxyAuthenticationRequiredError, message: ProxyMsg.authRequired };
}
