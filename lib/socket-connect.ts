// Connecting, for QAbstractSocket (see abstract-socket.ts): the lookup, the
// proxy choice, trying each address in turn under Qt's connect time-out, and
// hosting the proxy tunnel (the _tunnel* methods) until it is up.
import * as dns from 'dns';
import { C, E } from './binding';
import {
  NetworkLayerProtocol,
  OpenMode,
  ProxyCapability,
  ProxyType,
  SocketError,
  SocketState,
  SocketType,
} from './enums';
import { Msg, mapErrno, SocketFailure } from './errors';
import { QHostAddress } from './host-address';
import { checkSize } from './io-device';
import { SocketEngine } from './native-engine';
import { QAuthenticator, QNetworkProxy, QNetworkProxyQuery, ProxyQueryType, isUsableForSocket } from './network-proxy';
import { Signal } from './signal';
import { LookupAddress, LookupFunction, SocketOptions, familyOf } from './lookup';
import { NULL_ADDRESS, checkPort } from './socket-base';
import { SocketIO } from './socket-io';
import { negotiatorFor } from './proxy/select';
import { ProxyMsg, ProxyTunnel, TunnelHost } from './proxy/tunnel';

/** Qt's per-address connect time-out: after it, the next address is tried. */
const CONNECT_TIMEOUT_MS = 30000;
/** What a socket without a proxy of its own resolves with; never handed out, so never changed. */
const DEFAULT_PROXY = new QNetworkProxy(ProxyType.DefaultProxy);
const NO_ADDRESSES: readonly QHostAddress[] = [];

let defaultLookup: LookupFunction = dns.lookup as unknown as LookupFunction;

/** A failure to reach the proxy itself, in Qt's proxy terms. */
function proxyConnectFailure(f: SocketFailure): SocketFailure {
  switch (f.error) {
    case SocketError.ConnectionRefusedError:
      return { error: SocketError.ProxyConnectionRefusedError, message: ProxyMsg.refused };
    case SocketError.SocketTimeoutError:
      return { error: SocketError.ProxyConnectionTimeoutError, message: ProxyMsg.timeout };
    case SocketError.HostNotFoundError:
      return { error: SocketError.ProxyNotFoundError, message: ProxyMsg.notFound };
    default:
      return f;
  }
}

/** @internal QAbstractSocket's connecting and proxy tunnel; see SocketBase. */
export abstract class SocketConnect extends SocketIO implements TunnelHost {
  #connectedSignal?: Signal<[]>;
  /** Emitted once the connection is established. */
  get connected(): Signal<[]> {
    return (this.#connectedSignal ??= new Signal<[]>('connected'));
  }
  #hostFoundSignal?: Signal<[]>;
  /** Emitted when the host name has been resolved (also for an IP literal). */
  get hostFound(): Signal<[]> {
    return (this.#hostFoundSignal ??= new Signal<[]>('hostFound'));
  }
  #proxyAuthenticationRequiredSignal?: Signal<[QNetworkProxy, QAuthenticator]>;
  /** Emitted when a proxy asks for credentials. */
  get proxyAuthenticationRequired(): Signal<[QNetworkProxy, QAuthenticator]> {
    return (this.#proxyAuthenticationRequiredSignal ??= new Signal<[QNetworkProxy, QAuthenticator]>('proxyAuthenticationRequired'));
  }

  /** @internal */
  protected _port = 0;
  /** @internal */
  protected _protocol = NetworkLayerProtocol.AnyIPProtocol;
  #lastConnectFailure: SocketFailure | null = null;
  #lookup: LookupFunction | null;
  #proxy: QNetworkProxy | null = null; // made when asked for: most sockets never are
  /** @internal Where connect() goes: the destination, or the proxy while tunnelling. */
  protected _connectHost = '';
  #connectPort = 0;
  #proxyTimeout = 30000;
  #proxyAddresses: readonly QHostAddress[] = NO_ADDRESSES;

  constructor(socketType: SocketType, options: SocketOptions) {
    super(socketType);
    this.#lookup = options.lookup ?? null;
  }

  /** Sets the resolver that sockets without one of their own use (default `dns.lookup`). */
  static setDefaultLookup(lookup: LookupFunction): void {
    if (typeof lookup !== 'function') throw new TypeError('lookup must be a function');
    defaultLookup = lookup;
  }

  /** This socket's resolver for host names; `null` restores the default. */
  setLookup(lookup: LookupFunction | null): void {
    if (lookup !== null && typeof lookup !== 'function') throw new TypeError('lookup must be a function or null');
    this.#lookup = lookup;
  }

  proxy(): QNetworkProxy {
    return (this.#proxy ??= new QNetworkProxy(ProxyType.DefaultProxy));
  }

  setProxy(proxy: QNetworkProxy): void {
    if (!(proxy instanceof QNetworkProxy)) throw new TypeError('proxy must be a QNetworkProxy');
    this.#proxy = proxy;
  }

  // ---- connecting ---------------------------------------------------------

  /**
   * Starts connecting to `host` (a name, an IP literal or a QHostAddress) on
   * `port`. Emits stateChanged(HostLookupState) before it returns; the rest
   * (hostFound, Connecting, Connected, connected, or errorOccurred) follows.
   * Every resolved address is tried in turn.
   */
  connectToHost(
    host: string | QHostAddress,
    port: number,
    mode: OpenMode = OpenMode.ReadWrite,
    protocol: NetworkLayerProtocol = NetworkLayerProtocol.AnyIPProtocol,
  ): void {
    if (typeof host !== 'string' && !(host instanceof QHostAddress)) {
      throw new TypeError('host must be a string or a QHostAddress');
    }
    checkPort(port);
    if (
      this._state === SocketState.ConnectedState ||
      this._state === SocketState.ConnectingState ||
      this._state === SocketState.ClosingState ||
      this._state === SocketState.HostLookupState
    ) {
      this._setErrorAndEmit(SocketError.OperationError, Msg.inProgress);
      return;
    }
    const literal = host instanceof QHostAddress ? new QHostAddress(host) : new QHostAddress(host);
    const hostName = host instanceof QHostAddress ? host.toString() : host;

    this._error = SocketError.UnknownSocketError;
    this.setErrorString(Msg.unknown);
    this._hostName = hostName;
    this._peerName = hostName;
    this._port = port;
    this._protocol = protocol;
    this._abortCalled = false;
    this._pendingClose = false;
    this.#lastConnectFailure = null;
    this._buffer.clear();
    this._writeBuffer.clear();
    this._unreported = 0;
    this.open(mode);

    this._setState(SocketState.HostLookupState);
    if (this.state() !== SocketState.HostLookupState) return;

    this._tunnel?.cancel();
    this._tunnel = null;
    this._connectHost = hostName;
    this.#connectPort = port;
    const proxy = this.#effectiveProxy();
    if (proxy.type() !== ProxyType.NoProxy) {
      const problem =
        this._type === SocketType.UdpSocket
          ? 'A connected UDP socket cannot go through a proxy: bind() and writeDatagram() relay through SOCKS5'
          : isUsableForSocket(proxy, false);
      if (problem !== null) {
        this._failConnect({ error: SocketError.UnsupportedSocketOperationError, message: problem }, true);
        return;
      }
      // A proxy with HostNameLookupCapability resolves the destination's
      // name itself, so no lookup of it happens here; what is looked up is
      // the proxy's own host. Without the capability (a socks5:// URL), the
      // name is resolved here first and the proxy is given the address.
      const target = { host: literal.isNull() ? hostName : literal.toString(), port, isName: literal.isNull() };
      this._tunnel = new ProxyTunnel(proxy, target, negotiatorFor(proxy), this.#proxyTimeout, this);
      this._connectHost = proxy.hostName();
      this.#connectPort = proxy.port();
      if (target.isName && (proxy.capabilities() & ProxyCapability.HostNameLookupCapability) === 0) {
        this.#resolveTargetThenProxy(hostName, protocol);
        return;
      }
    }

    const family = this._tunnel ? 0 : familyOf(protocol);
    this.#lookupConnectHost(this._connectHost, family, true);
  }

  /** The seed's order: this socket's proxy, else the application proxy, else the application factory. */
  #effectiveProxy(): QNetworkProxy {
    const query = new QNetworkProxyQuery(
      this._hostName,
      this._port,
      '',
      this._type === SocketType.UdpSocket ? ProxyQueryType.UdpSocket : ProxyQueryType.TcpSocket,
    );
    return QNetworkProxy.resolveForSocket(this.#proxy ?? DEFAULT_PROXY, query);
  }

  /** For a proxy that cannot resolve names: look the destination up here, then go on to the proxy. */
  #resolveTargetThenProxy(hostName: string, protocol: NetworkLayerProtocol): void {
    this.#resolve(hostName, familyOf(protocol), (addresses) => {
      if (this._tunnel === null) return;
      if (addresses.length === 0) {
        this._failConnect({ error: SocketError.HostNotFoundError, message: Msg.hostNotFound }, false);
        return;
      }
      this._tunnel.target = { host: addresses[0].toString(), port: this._port, isName: false };
      this.#lookupConnectHost(this._connectHost, 0, false);
    });
  }

  /** Resolves where connect() goes (the destination, or the proxy) and starts connecting. */
  #lookupConnectHost(host: string, family: 0 | 4 | 6, synchronous: boolean): void {
    const literal = new QHostAddress(host);
    if (!literal.isNull()) {
      this._startConnecting([literal], synchronous);
      return;
    }
    this.#resolve(host, family, (addresses) => this._startConnecting(addresses, false));
  }

  /**
   * Looks `host` up with this socket's resolver; `done` runs from the loop,
   * only if no newer lookup or abort replaced this one and the socket is
   * still in HostLookupState.
   */
  #resolve(host: string, family: 0 | 4 | 6, done: (addresses: QHostAddress[]) => void): void {
    const id = ++this._lookupId;
    const finish = (err: NodeJS.ErrnoException | null, list: LookupAddress[] | undefined) => {
      if (id !== this._lookupId || this._state !== SocketState.HostLookupState) return;
      done(err || !Array.isArray(list) ? [] : list.map((a) => new QHostAddress(a.address)).filter((a) => !a.isNull()));
    };
    try {
      (this.#lookup ?? defaultLookup)(host, { all: true, family }, finish);
    } catch (err) {
      // A resolver that throws (node's own does for some malformed names)
      // is a failed lookup, reported from the loop like any other.
      process.nextTick(() => finish(err as NodeJS.ErrnoException, []));
    }
  }

  /** How long a proxy may take to set up the tunnel once connected to (default 30 s). */
  proxyTimeout(): number {
    return this.#proxyTimeout;
  }

  /**
   * Sets the proxy negotiation time-out; past it the connect fails with
   * ProxyConnectionTimeoutError. Not in Qt, whose value is fixed.
   */
  setProxyTimeout(msecs: number): void {
    this.#proxyTimeout = checkSize('msecs', msecs);
  }

  /** @internal */
  protected _startConnecting(addresses: QHostAddress[], synchronous: boolean): void {
    if (this.state() !== SocketState.HostLookupState) return;
    const wanted = addresses.filter(
      (a) =>
        this._protocol === NetworkLayerProtocol.AnyIPProtocol ||
        this._protocol === NetworkLayerProtocol.UnknownNetworkLayerProtocol ||
        a.protocol() === this._protocol,
    );
    if (wanted.length === 0) {
      this._failConnect(
        this._tunnel
          ? { error: SocketError.ProxyNotFoundError, message: ProxyMsg.notFound }
          : { error: SocketError.HostNotFoundError, message: Msg.hostNotFound },
        synchronous,
      );
      return;
    }
    if (this._tunnel) this.#proxyAddresses = wanted.slice();
    this._setState(SocketState.ConnectingState);
    if (this.state() !== SocketState.ConnectingState) return;
    this.#hostFoundSignal?.emit();
    if (this.state() !== SocketState.ConnectingState) return;
    this._addresses = wanted;
    this.#connectToNextAddress(synchronous);
  }

  #connectToNextAddress(synchronous = false): void {
    while (this._addresses.length > 0) {
      const address = this._addresses.shift()!;
      this._closeEngine();
      const engine = new SocketEngine(this);
      let r = engine.open(address.protocol(), this._type === SocketType.UdpSocket ? C.SOCK_DGRAM : C.SOCK_STREAM);
      if (r === 0) {
        this._activeEngine = engine;
        this._applyPendingOptions(engine);
        r = engine.connect(address, this.#connectPort);
      }
      if (r === 0 || r === -E.EINPROGRESS) {
        // Even an immediate success is reported from the loop, so that
        // connected never fires inside connectToHost.
        if (this._tunnel === null) this._peerAddress = address;
        this._peerPort = this._port;
        this._syncNotifications();
        this.#startConnectTimer();
        return;
      }
      this.#lastConnectFailure = mapErrno(engine.isOpen() ? 'connect' : 'create', -r);
      engine.close();
      this._activeEngine = null;
    }
    let failure = this.#lastConnectFailure ?? { error: SocketError.ConnectionRefusedError, message: Msg.refused };
    if (this._tunnel) failure = proxyConnectFailure(failure);
    this._failConnect(failure, synchronous);
  }

  /**
   * @internal Ends a connect attempt: Unconnected first, then errorOccurred (Qt rule
   * 2). A failure found inside connectToHost is reported on the next tick,
   * so no signal but stateChanged(HostLookupState) fires inside the call.
   */
  protected _failConnect(failure: SocketFailure, deferred: boolean): void {
    if (deferred) {
      const id = ++this._lookupId;
      process.nextTick(() => {
        if (id === this._lookupId) this._failConnect(failure, false);
      });
      return;
    }
    this._stopConnectTimer();
    this._closeEngine();
    this._tunnel?.cancel();
    this._tunnel = null;
    this._addresses = [];
    this._peerAddress = NULL_ADDRESS;
    this._peerPort = 0;
    this._setState(SocketState.UnconnectedState);
    this._setErrorAndEmit(failure.error, failure.message);
  }

  #startConnectTimer(): void {
    this._stopConnectTimer();
    this._connectTimer = setTimeout(() => {
      this._connectTimer = null;
      if (this.state() !== SocketState.ConnectingState) return;
      this.#lastConnectFailure = { error: SocketError.SocketTimeoutError, message: Msg.connectTimeout };
      this.#connectToNextAddress();
    }, CONNECT_TIMEOUT_MS);
    if (this._unrefed) this._connectTimer.unref();
  }

  /** @internal A pending connect finished: Connected, or on to the next address. */
  protected override _testConnection(): void {
    const engine = this._activeEngine!;
    const err = engine.socketError();
    if (err !== 0) {
      this.#lastConnectFailure = mapErrno('connect', Math.abs(err));
      this._stopConnectTimer();
      this.#connectToNextAddress();
      return;
    }
    this._stopConnectTimer();
    this._addresses = [];
    if (this._tunnel !== null) {
      // Connected to the proxy: the tunnel is next, still in ConnectingState,
      // now reading the proxy's answers instead of waiting for writability.
      this._tunnel.begin();
      this._syncNotifications();
      return;
    }
    this._fetchEndpoints();
    this.#becomeConnected(null);
  }

  /** Connected (directly or through a tunnel): the state, the signal, then what was waiting. */
  #becomeConnected(leftover: Buffer | null): void {
    this._setState(SocketState.ConnectedState);
    if (this.state() !== SocketState.ConnectedState) return;
    this.#connectedSignal?.emit();
    if (this.state() !== SocketState.ConnectedState) return;
    if (leftover !== null && leftover.length > 0) {
      this._buffer.append(leftover);
      this._syncNotifications();
      this._emitReadyReadOnce();
      if (this.state() !== SocketState.ConnectedState) return;
    }
    if (this._pendingClose) {
      this.disconnectFromHost();
      return;
    }
    if (!this._writeBuffer.isEmpty()) this._flushWriteBuffer();
  }

  // ---- proxy tunnel (TunnelHost) -----------------------------------------

  /** @internal */
  _tunnelWrite(data: Buffer): boolean {
    const engine = this._activeEngine;
    if (engine === null) return false;
    let off = 0;
    // Negotiation messages are a few hundred bytes at most: the kernel's
    // buffer of a fresh connection always has room for them.
    while (off < data.length) {
      const n = engine.write(data, off, data.length - off);
      if (n > 0) {
        off += n;
        continue;
      }
      if (n === -E.EINTR) continue;
      this._failConnect({ error: SocketError.ProxyConnectionClosedError, message: ProxyMsg.closed }, false);
      return false;
    }
    return true;
  }

  /** @internal */
  _tunnelUp(leftover: Buffer): void {
    const engine = this._activeEngine;
    this._tunnel = null;
    const local = engine?.localEndpoint();
    if (local) {
      this._localAddress = local.address;
      this._localPort = local.port;
    }
    // The peer is the destination, not the proxy (an IP literal, or null
    // for a name only the proxy resolved).
    this._peerAddress = new QHostAddress(this._hostName);
    this._peerPort = this._port;
    this.#becomeConnected(leftover);
  }

  /** @internal */
  _tunnelFailed(failure: SocketFailure): void {
    this._failConnect(failure, false);
  }

  /** @internal */
  _tunnelReconnect(): void {
    this._closeEngine();
    this._addresses = this.#proxyAddresses.slice();
    this.#connectToNextAddress();
  }

  /** @internal */
  _tunnelAskCredentials(proxy: QNetworkProxy, authenticator: QAuthenticator): void {
    this.#proxyAuthenticationRequiredSignal?.emit(proxy, authenticator);
  }

}
