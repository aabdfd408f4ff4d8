// Which negotiator a proxy type uses, and which proxies a socket can use.
import { ProxyType, SocketType } from '../enums';
import type { QNetworkProxy } from '../network-proxy';
import type { NegotiatorFactory } from './negotiator';

/** The negotiator for a tunnelling proxy (Socks5Proxy or HttpProxy). */
export function negotiatorFor(proxy: QNetworkProxy): NegotiatorFactory {
  // TEMPORARY until the negotiators land (helper-4)
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return proxy.type() === ProxyType.Socks5Proxy ? require('./socks5').createSocks5Negotiator : require('./http-connect').createHttpConnectNegotiator;
}

/** Why `proxy` cannot carry a socket of `type`, or null when it can. */
export function proxyProblem(proxy: QNetworkProxy, type: SocketType): string | null {
  switch (proxy.type()) {
    case ProxyType.Socks5Proxy:
      return null;
    case ProxyType.HttpProxy:
      return type === SocketType.TcpSocket ? null : 'An HTTP proxy cannot carry datagrams: use a SOCKS5 proxy';
    case ProxyType.HttpCachingProxy:
    case ProxyType.FtpCachingProxy:
      return 'The proxy type is invalid for this operation';
    default:
      return `Unknown proxy type ${String(proxy.type())}`;
  }
}
