// QAbstractSocket: Qt's state machine, buffers and signals over one native
// engine. Every rule here is Qt 6's unless a comment says otherwise; the
// numbered rules of SPEC.md are cited as (Qt rule N).
import * as dns from 'dns';
import { binding, C, E } from './binding';
import {
  BindFlag,
  NetworkLayerProtocol,
  OpenMode,
  PauseMode,
  ProxyCapability,
  ProxyType,
  SocketError,
  SocketOption,
  SocketState,
  SocketType,
} from './enums';
import { Msg, errnoName, mapErrno, SocketFailure } from './errors';
import { QHostAddress } from './host-address';
import { QIODevice, WritableData, checkSize, toOwnedBuffer } from './io-device';
import { EngineReceiver, NOT_READ, SocketEngine } from './native-engine';
import { QAuthenticator, QNetworkProxy, QNetworkProxyQuery, ProxyQueryType, isUsableForSocket } from './network-proxy';
import { ByteQueue } from './byte-queue';
import { reportSlotError, Signal } from './signal';
import { optionSlot } from './socket-options';
import {
  LinuxOptionName,
  LinuxOptionValues,
  checkLinuxValue,
  getLinuxOption as getLinuxOptionOn,
  isLinuxOption,
  setLinuxOption as setLinuxOptionOn,
} from './linux-options';
import { negotiatorFor } from './proxy/select';
import { ProxyMsg, ProxyTunnel, TunnelHost } from './proxy/tunnel';

/** One resolved address, as `dns.lookup(name, { all: true })` gives them. */
export interface LookupAddress {
  address: string;
  family: number;
}

/**
 * Resolves a host name; the signature of `dns.lookup` with `{ all: true }`,
 * so `dns.lookup` itself, or any custom resolver with its shape, can be used.
 */
export type LookupFunction = (
  hostname: string,
  options: { all: true; family: 0 | 4 | 6 },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * Resolves a host name synchronously, for waitForConnected() from
 * HostLookupState; returns the addresses (empty when there are none) or
 * throws. `timeoutMs` is the time left (-1: no limit).
 */
export type LookupSyncFunction = (hostname: string, family: 0 | 4 | 6, timeoutMs: number) => LookupAddress[];

/** How setSocketDescriptor() adopts a descriptor, beyond Qt's arguments. */
export interface AdoptOptions {
  /**
   * With a ReadOnly or WriteOnly mode, also shut down the unused direction
   * in the kernel (shutdown(2)); by default the mode only limits this object.
   */
  shutdownUnusedDirection?: boolean;
}

export interface SocketOptions {
  /** The resolver for host names (default: `dns.lookup`). */
  lookup?: LookupFunction;
  /**
   * The resolver the blocking waits use (default: the system's getaddrinfo,
   * on a thread of its own so the time-out holds).
   */
  lookupSync?: LookupSyncFunction;
}

/** The time left until a deadline, for the blocking waits; -1 means none. */
function deadline(ms: number): () => number {
  if (ms < 0) return () => -1;
  const end = performance.now() + ms;
  return () => Math.max(0, Math.ceil(end - performance.now()));
}

function checkWaitTime(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < -1) {
    throw new RangeError(`msecs must be an integer >= -1, got ${String(ms)}`);
  }
  return Math.min(ms, 0x7fffffff);
}

const nativeLookupSync: LookupSyncFunction = (hostname, family, timeoutMs) => {
  const r = binding.resolve(hostname, family, timeoutMs);
  if (r.status === 'timeout') throw Object.assign(new Error(r.message), { code: 'ETIMEOUT' });
  if (r.status === 'error') throw Object.assign(new Error(r.message), { code: 'ENOTFOUND' });
  return r.addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

// Every socket without an address shares this one; it is never handed out
// (the getters return copies) and never changed.
const NULL_ADDRESS = new QHostAddress();

/** Qt's per-address connect time-out: after it, the next address is tried. */
const CONNECT_TIMEOUT_MS = 30000;
/** From this size on, a write with nothing queued before it is sent at once instead of copied. */
const DIRECT_WRITE_MIN = 16 * 1024;
/** Bytes pulled from the kernel per recv at most. */
const READ_CHUNK = 64 * 1024;
/** recv calls per readiness event at most, so one busy socket cannot starve the loop. */
const READS_PER_EVENT = 16;

// One scratch buffer per environment for a proxy's answers during a tunnel
// negotiation; what a read returns is copied out at once. Ordinary reads go
// straight into the socket's read buffer.
const readScratch = Buffer.allocUnsafe(READ_CHUNK);

const fdScratch = new Int32Array(65);

/** What write flushes are chained to (see #queueFlush). */
const RESOLVED = Promise.resolve();

/** The first `n` bytes of the read scratch, in a Buffer of their own (one allocation, from Node's pool when small). */
function copyOut(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  readScratch.copy(out, 0, 0, n);
  return out;
}

let defaultLookup: LookupFunction = dns.lookup as unknown as LookupFunction;

/** dns.lookup's family for a NetworkLayerProtocol (0: any). */
function familyOf(protocol: NetworkLayerProtocol): 0 | 4 | 6 {
  return protocol === NetworkLayerProtocol.IPv4Protocol ? 4 : protocol === NetworkLayerProtocol.IPv6Protocol ? 6 : 0;
}

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

/** @internal Whether `fd` can name a descriptor at all (0 to 2^31-1); others are invalid, never wrapped. */
export function isDescriptorNumber(fd: number): boolean {
  return Number.isInteger(fd) && fd >= 0 && fd <= 0x7fffffff;
}

/** @internal Validates a port argument. */
export function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

/**
 * The base of QTcpSocket and QUdpSocket, after Qt's QAbstractSocket: the
 * connection state machine, Qt's signals and errors, a bounded read buffer
 * and a write buffer flushed when the current JS task ends.
 */
export class QAbstractSocket extends QIODevice implements EngineReceiver, TunnelHost {
  static readonly SocketType = SocketType;
  static readonly SocketState = SocketState;
  static readonly SocketError = SocketError;
  static readonly SocketOption = SocketOption;
  static readonly NetworkLayerProtocol = NetworkLayerProtocol;
  static readonly BindFlag = BindFlag;
  static readonly PauseMode = PauseMode;

  #connectedSignal?: Signal<[]>;
  /** Emitted once the connection is established. */
  get connected(): Signal<[]> {
    return (this.#connectedSignal ??= new Signal<[]>('connected'));
  }
  #disconnectedSignal?: Signal<[]>;
  /** Emitted when a connected socket has disconnected. */
  get disconnected(): Signal<[]> {
    return (this.#disconnectedSignal ??= new Signal<[]>('disconnected'));
  }
  #errorOccurredSignal?: Signal<[SocketError]>;
  /** Emitted after an error; `error()` and `errorString()` tell which. */
  get errorOccurred(): Signal<[SocketError]> {
    return (this.#errorOccurredSignal ??= new Signal<[SocketError]>('errorOccurred'));
  }
  #hostFoundSignal?: Signal<[]>;
  /** Emitted when the host name has been resolved (also for an IP literal). */
  get hostFound(): Signal<[]> {
    return (this.#hostFoundSignal ??= new Signal<[]>('hostFound'));
  }
  #stateChangedSignal?: Signal<[SocketState]>;
  /** Emitted on every state change, with the new state. */
  get stateChanged(): Signal<[SocketState]> {
    return (this.#stateChangedSignal ??= new Signal<[SocketState]>('stateChanged'));
  }
  #descriptorsReceivedSignal?: Signal<[number[]]>;
  /**
   * Emitted with descriptors that arrived (SCM_RIGHTS) once
   * setDescriptorPassing(true) is on. The slots own them: wrap them with
   * setSocketDescriptor() or close them with closeDescriptor(). Not in Qt.
   */
  get descriptorsReceived(): Signal<[number[]]> {
    return (this.#descriptorsReceivedSignal ??= new Signal<[number[]]>('descriptorsReceived'));
  }
  #proxyAuthenticationRequiredSignal?: Signal<[QNetworkProxy, QAuthenticator]>;
  /** Emitted when a proxy asks for credentials. */
  get proxyAuthenticationRequired(): Signal<[QNetworkProxy, QAuthenticator]> {
    return (this.#proxyAuthenticationRequiredSignal ??= new Signal<[QNetworkProxy, QAuthenticator]>('proxyAuthenticationRequired'));
  }

  readonly #type: SocketType;
  #state = SocketState.UnconnectedState;
  #error = SocketError.UnknownSocketError;
  #engine: SocketEngine | null = null;
  readonly #writeBuffer = new ByteQueue();
  #readBufferSize = 0;
  #localAddress = NULL_ADDRESS;
  #localPort = 0;
  #peerAddress = NULL_ADDRESS;
  #peerPort = 0;
  #peerName = '';
  #hostName = '';
  #port = 0;
  #protocol = NetworkLayerProtocol.AnyIPProtocol;
  #addresses: QHostAddress[] = [];
  #lastConnectFailure: SocketFailure | null = null;
  #lookupId = 0;
  #connectTimer: NodeJS.Timeout | null = null;
  #pendingClose = false;
  #abortCalled = false;
  #flushQueued = false;
  /** Bytes sent directly by writeData and not yet announced by bytesWritten. */
  #unreported = 0;
  // Made once: a write per message must not also cost a closure per message.
  readonly #flushTask = () => {
    this.#flushQueued = false;
    try {
      this.#flushWriteBuffer();
    } catch (error) {
      reportSlotError(error); // a bug of ours must not become an unhandled rejection
    }
  };
  #emittingReadyRead = false;
  #emittingBytesWritten = false;
  #lookup: LookupFunction | null;
  #lookupSync: LookupSyncFunction | null;
  #readyReadCount = 0;
  #busyPollUs = 0;
  #proxy = new QNetworkProxy(ProxyType.DefaultProxy);
  #pendingOptions: Map<SocketOption, number> | null = null;
  /** Where connect() goes: the destination, or the proxy while tunnelling. */
  #connectHost = '';
  #connectPort = 0;
  #tunnel: ProxyTunnel | null = null;
  #proxyTimeout = 30000;
  #proxyAddresses: QHostAddress[] = [];
  #unixDomain = false;
  #passDescriptors = false;
  #receivedFds: number[] = [];
  #localPath = '';
  #peerPath = '';
  #unrefed = false;

  constructor(socketType: SocketType, options: SocketOptions = {}) {
    super();
    this.#type = socketType;
    this.#lookup = options.lookup ?? null;
    this.#lookupSync = options.lookupSync ?? null;
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

  // ---- state and errors ---------------------------------------------------

  state(): SocketState {
    return this.#state;
  }

  error(): SocketError {
    return this.#error;
  }

  /** TcpSocket or UdpSocket; UnknownSocketType for an adopted UNIX-domain descriptor. */
  socketType(): SocketType {
    return this.#unixDomain ? SocketType.UnknownSocketType : this.#type;
  }

  /** True while the socket has a usable descriptor. */
  isValid(): boolean {
    return this.#engine !== null && this.#engine.isOpen();
  }

  /** The native descriptor, or -1. It stays owned by the socket. */
  socketDescriptor(): number {
    return this.#engine?.fd() ?? -1;
  }

  /** Sets the state without emitting stateChanged (Qt's protected setSocketState). */
  setSocketState(state: SocketState): void {
    this.#state = state;
  }

  /** Sets the error code without emitting (Qt's protected setSocketError). */
  setSocketError(error: SocketError): void {
    this.#error = error;
  }

  localAddress(): QHostAddress {
    return new QHostAddress(this.#localAddress);
  }

  localPort(): number {
    return this.#localPort;
  }

  peerAddress(): QHostAddress {
    return new QHostAddress(this.#peerAddress);
  }

  peerPort(): number {
    return this.#peerPort;
  }

  /** The name given to connectToHost, or '' when none was. */
  peerName(): string {
    if (this.#peerName !== '') return this.#peerName;
    return this.#hostName !== '' ? this.#hostName : this.#peerPath;
  }

  setLocalAddress(address: QHostAddress): void {
    this.#localAddress = new QHostAddress(address);
  }

  setLocalPort(port: number): void {
    this.#localPort = checkPort(port);
  }

  setPeerAddress(address: QHostAddress): void {
    this.#peerAddress = new QHostAddress(address);
  }

  setPeerPort(port: number): void {
    this.#peerPort = checkPort(port);
  }

  setPeerName(name: string): void {
    this.#peerName = String(name);
  }

  proxy(): QNetworkProxy {
    return this.#proxy;
  }

  setProxy(proxy: QNetworkProxy): void {
    if (!(proxy instanceof QNetworkProxy)) throw new TypeError('proxy must be a QNetworkProxy');
    this.#proxy = proxy;
  }

  /** Whether this socket keeps the Node.js process alive while it is active (default: yes). */
  ref(): this {
    this.#unrefed = false;
    this.#engine?.ref();
    return this;
  }

  /** Lets the process exit even while this socket is connected, like node:net's unref(). */
  unref(): this {
    this.#unrefed = true;
    this.#engine?.unref();
    return this;
  }

  // ---- buffers ------------------------------------------------------------

  /** The read buffer's limit in bytes; 0 means unlimited. */
  readBufferSize(): number {
    return this.#readBufferSize;
  }

  /**
   * Caps the read buffer at `size` bytes (0: no cap). When it is full the
   * socket stops reading from the kernel, so the peer's sends back up.
   */
  setReadBufferSize(size: number): void {
    this.#readBufferSize = checkSize('size', size);
    this.#syncNotifications();
  }

  override bytesToWrite(): number {
    return this.#writeBuffer.size();
  }

  /**
   * Writes as much of the write buffer as the kernel takes now, without
   * blocking. Returns true if any byte was written.
   */
  flush(): boolean {
    return this.#flushWriteBuffer();
  }

  // ---- options ------------------------------------------------------------

  /**
   * Sets a socket option. Before a descriptor exists (during the host
   * lookup, say) the value is kept and applied as soon as one does.
   * Differs from Qt: returns whether the option was applied or kept.
   */
  setSocketOption(option: SocketOption, value: number | boolean): boolean {
    const v = typeof value === 'boolean' ? Number(value) : value;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError('option value must be an integer or a boolean');
    if (SocketOption[option] === undefined) throw new RangeError(`unknown socket option ${String(option)}`);
    if (this.#engine === null) {
      (this.#pendingOptions ??= new Map()).set(option, v);
      return true;
    }
    return this.#applyOption(this.#engine, option, v);
  }

  /** The option's current value from the kernel, or -1 when it cannot be read. */
  socketOption(option: SocketOption): number {
    if (SocketOption[option] === undefined) throw new RangeError(`unknown socket option ${String(option)}`);
    if (this.#engine === null) return this.#pendingOptions?.get(option) ?? -1;
    const slot = optionSlot(option, this.#engine.family());
    if (slot === null) return -1;
    return this.#engine.getOption(slot.level, slot.name).value;
  }

  /**
   * Sets a Linux socket option by its C name, with a typed value (see
   * LinuxOptionValues): TCP_QUICKACK, TCP_USER_TIMEOUT, SO_LINGER,
   * SO_BINDTODEVICE, SO_MARK and the rest. Needs a descriptor. Returns false
   * with error() set; an option that needs a privilege the process lacks
   * gives SocketAccessError and says which. Not in Qt.
   */
  setLinuxOption<K extends LinuxOptionName>(name: K, value: LinuxOptionValues[K]): boolean {
    if (!isLinuxOption(name)) throw new RangeError(`unknown Linux socket option ${String(name)}`);
    checkLinuxValue(name, value);
    const engine = this.#requireEngine();
    if (engine === null) return false;
    const r = setLinuxOptionOn(engine, name, value);
    if (r.ok) return true;
    return this.#optionFailed(`setsockopt(${name})`, r.errno, r.privilege);
  }

  /** Reads a Linux socket option by its C name; null with error() set when it cannot be read. Not in Qt. */
  linuxOption<K extends LinuxOptionName>(name: K): LinuxOptionValues[K] | null {
    if (!isLinuxOption(name)) throw new RangeError(`unknown Linux socket option ${String(name)}`);
    const engine = this.#requireEngine();
    if (engine === null) return null;
    const r = getLinuxOptionOn(engine, name);
    if (r.ok) return r.value;
    this.#optionFailed(`getsockopt(${name})`, r.errno);
    return null;
  }

  /**
   * setsockopt(level, name) with an int or raw bytes, for anything the
   * tables lack. Returns false with error() and an errorString() naming the
   * errno when the kernel refuses. Not in Qt.
   */
  setRawOption(level: number, name: number, value: number | Uint8Array): boolean {
    if (!Number.isInteger(level) || !Number.isInteger(name)) throw new TypeError('level and name must be integers');
    const engine = this.#requireEngine();
    if (engine === null) return false;
    let r: number;
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new TypeError('an int option value must be an integer');
      r = engine.setOption(level, name, value);
    } else if (value instanceof Uint8Array) {
      r = engine.raw().setOptionBytes(level, name, value);
    } else {
      throw new TypeError('value must be an integer or a Uint8Array');
    }
    return r === 0 || this.#optionFailed(`setsockopt(${level}, ${name})`, -r);
  }

  /** getsockopt(level, name) into `size` bytes (default 4); the bytes the kernel wrote, or null with error() set. Not in Qt. */
  rawOption(level: number, name: number, size = 4): Buffer | null {
    if (!Number.isInteger(level) || !Number.isInteger(name)) throw new TypeError('level and name must be integers');
    checkSize('size', size);
    const engine = this.#requireEngine();
    if (engine === null) return null;
    const buf = Buffer.alloc(size);
    const n = engine.raw().getOptionBytes(level, name, buf);
    if (n < 0) {
      this.#optionFailed(`getsockopt(${level}, ${name})`, -n);
      return null;
    }
    return buf.subarray(0, n);
  }

  #requireEngine(): SocketEngine | null {
    if (this.#engine !== null) return this.#engine;
    this.#error = SocketError.UnsupportedSocketOperationError;
    this.setErrorString('The socket has no descriptor yet: connect, bind or adopt one first');
    return null;
  }

  #optionFailed(call: string, errno: number, privilege?: string): false {
    const f = mapErrno('option', errno);
    const name = errnoName(errno);
    let message = `${call} failed: ${name} (${binding.strerror(errno)})`;
    if (f.error === SocketError.SocketAccessError && privilege) message += `; it needs ${privilege}`;
    this.#error = f.error;
    this.setErrorString(message);
    return false;
  }

  #applyOption(engine: SocketEngine, option: SocketOption, value: number): boolean {
    const slot = optionSlot(option, engine.family());
    if (slot === null || slot.readOnly) return false;
    return engine.setOption(slot.level, slot.name, value) === 0;
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
      this.#state === SocketState.ConnectedState ||
      this.#state === SocketState.ConnectingState ||
      this.#state === SocketState.ClosingState ||
      this.#state === SocketState.HostLookupState
    ) {
      this.#setErrorAndEmit(SocketError.OperationError, Msg.inProgress);
      return;
    }
    const literal = host instanceof QHostAddress ? new QHostAddress(host) : new QHostAddress(host);
    const hostName = host instanceof QHostAddress ? host.toString() : host;

    this.#error = SocketError.UnknownSocketError;
    this.setErrorString(Msg.unknown);
    this.#hostName = hostName;
    this.#peerName = hostName;
    this.#port = port;
    this.#protocol = protocol;
    this.#abortCalled = false;
    this.#pendingClose = false;
    this.#lastConnectFailure = null;
    this._buffer.clear();
    this.#writeBuffer.clear();
    this.#unreported = 0;
    this.open(mode);

    this.#setState(SocketState.HostLookupState);
    if (this.state() !== SocketState.HostLookupState) return;

    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#connectHost = hostName;
    this.#connectPort = port;
    const proxy = this.#effectiveProxy();
    if (proxy.type() !== ProxyType.NoProxy) {
      const problem =
        this.#type === SocketType.UdpSocket
          ? 'A connected UDP socket cannot go through a proxy: bind() and writeDatagram() relay through SOCKS5'
          : isUsableForSocket(proxy, false);
      if (problem !== null) {
        this.#failConnect({ error: SocketError.UnsupportedSocketOperationError, message: problem }, true);
        return;
      }
      // A proxy with HostNameLookupCapability resolves the destination's
      // name itself, so no lookup of it happens here; what is looked up is
      // the proxy's own host. Without the capability (a socks5:// URL), the
      // name is resolved here first and the proxy is given the address.
      const target = { host: literal.isNull() ? hostName : literal.toString(), port, isName: literal.isNull() };
      this.#tunnel = new ProxyTunnel(proxy, target, negotiatorFor(proxy), this.#proxyTimeout, this);
      this.#connectHost = proxy.hostName();
      this.#connectPort = proxy.port();
      if (target.isName && (proxy.capabilities() & ProxyCapability.HostNameLookupCapability) === 0) {
        this.#resolveTargetThenProxy(hostName, protocol);
        return;
      }
    }

    const family = this.#tunnel ? 0 : familyOf(protocol);
    this.#lookupConnectHost(this.#connectHost, family, true);
  }

  /** The seed's order: this socket's proxy, else the application proxy, else the application factory. */
  #effectiveProxy(): QNetworkProxy {
    const query = new QNetworkProxyQuery(
      this.#hostName,
      this.#port,
      '',
      this.#type === SocketType.UdpSocket ? ProxyQueryType.UdpSocket : ProxyQueryType.TcpSocket,
    );
    return QNetworkProxy.resolveForSocket(this.#proxy, query);
  }

  /** For a proxy that cannot resolve names: look the destination up here, then go on to the proxy. */
  #resolveTargetThenProxy(hostName: string, protocol: NetworkLayerProtocol): void {
    this.#resolve(hostName, familyOf(protocol), (addresses) => {
      if (this.#tunnel === null) return;
      if (addresses.length === 0) {
        this.#failConnect({ error: SocketError.HostNotFoundError, message: Msg.hostNotFound }, false);
        return;
      }
      this.#tunnel.target = { host: addresses[0].toString(), port: this.#port, isName: false };
      this.#lookupConnectHost(this.#connectHost, 0, false);
    });
  }

  /** Resolves where connect() goes (the destination, or the proxy) and starts connecting. */
  #lookupConnectHost(host: string, family: 0 | 4 | 6, synchronous: boolean): void {
    const literal = new QHostAddress(host);
    if (!literal.isNull()) {
      this.#startConnecting([literal], synchronous);
      return;
    }
    this.#resolve(host, family, (addresses) => this.#startConnecting(addresses, false));
  }

  /**
   * Looks `host` up with this socket's resolver; `done` runs from the loop,
   * only if no newer lookup or abort replaced this one and the socket is
   * still in HostLookupState.
   */
  #resolve(host: string, family: 0 | 4 | 6, done: (addresses: QHostAddress[]) => void): void {
    const id = ++this.#lookupId;
    const finish = (err: NodeJS.ErrnoException | null, list: LookupAddress[] | undefined) => {
      if (id !== this.#lookupId || this.#state !== SocketState.HostLookupState) return;
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

  #startConnecting(addresses: QHostAddress[], synchronous: boolean): void {
    if (this.state() !== SocketState.HostLookupState) return;
    const wanted = addresses.filter(
      (a) =>
        this.#protocol === NetworkLayerProtocol.AnyIPProtocol ||
        this.#protocol === NetworkLayerProtocol.UnknownNetworkLayerProtocol ||
        a.protocol() === this.#protocol,
    );
    if (wanted.length === 0) {
      this.#failConnect(
        this.#tunnel
          ? { error: SocketError.ProxyNotFoundError, message: ProxyMsg.notFound }
          : { error: SocketError.HostNotFoundError, message: Msg.hostNotFound },
        synchronous,
      );
      return;
    }
    if (this.#tunnel) this.#proxyAddresses = wanted.slice();
    this.#setState(SocketState.ConnectingState);
    if (this.state() !== SocketState.ConnectingState) return;
    this.#hostFoundSignal?.emit();
    if (this.state() !== SocketState.ConnectingState) return;
    this.#addresses = wanted;
    this.#connectToNextAddress(synchronous);
  }

  #connectToNextAddress(synchronous = false): void {
    while (this.#addresses.length > 0) {
      const address = this.#addresses.shift()!;
      this.#closeEngine();
      const engine = new SocketEngine(this);
      let r = engine.open(address.protocol(), this.#type === SocketType.UdpSocket ? C.SOCK_DGRAM : C.SOCK_STREAM);
      if (r === 0) {
        this.#engine = engine;
        this.#applyPendingOptions(engine);
        r = engine.connect(address, this.#connectPort);
      }
      if (r === 0 || r === -E.EINPROGRESS) {
        // Even an immediate success is reported from the loop, so that
        // connected never fires inside connectToHost.
        if (this.#tunnel === null) this.#peerAddress = address;
        this.#peerPort = this.#port;
        this.#syncNotifications();
        this.#startConnectTimer();
        return;
      }
      this.#lastConnectFailure = mapErrno(engine.isOpen() ? 'connect' : 'create', -r);
      engine.close();
      this.#engine = null;
    }
    let failure = this.#lastConnectFailure ?? { error: SocketError.ConnectionRefusedError, message: Msg.refused };
    if (this.#tunnel) failure = proxyConnectFailure(failure);
    this.#failConnect(failure, synchronous);
  }

  /**
   * Ends a connect attempt: Unconnected first, then errorOccurred (Qt rule
   * 2). A failure found inside connectToHost is reported on the next tick,
   * so no signal but stateChanged(HostLookupState) fires inside the call.
   */
  #failConnect(failure: SocketFailure, deferred: boolean): void {
    if (deferred) {
      const id = ++this.#lookupId;
      process.nextTick(() => {
        if (id === this.#lookupId) this.#failConnect(failure, false);
      });
      return;
    }
    this.#stopConnectTimer();
    this.#closeEngine();
    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#addresses = [];
    this.#peerAddress = NULL_ADDRESS;
    this.#peerPort = 0;
    this.#setState(SocketState.UnconnectedState);
    this.#setErrorAndEmit(failure.error, failure.message);
  }

  #startConnectTimer(): void {
    this.#stopConnectTimer();
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      if (this.state() !== SocketState.ConnectingState) return;
      this.#lastConnectFailure = { error: SocketError.SocketTimeoutError, message: Msg.connectTimeout };
      this.#connectToNextAddress();
    }, CONNECT_TIMEOUT_MS);
    if (this.#unrefed) this.#connectTimer.unref();
  }

  #stopConnectTimer(): void {
    if (this.#connectTimer !== null) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
    }
  }

  #applyPendingOptions(engine: SocketEngine): void {
    if (this.#pendingOptions !== null) {
      for (const [option, value] of this.#pendingOptions) this.#applyOption(engine, option, value);
      this.#pendingOptions = null;
    }
    if (this.#unrefed) engine.unref();
  }

  /** A pending connect finished: Connected, or on to the next address. */
  #testConnection(): void {
    const engine = this.#engine!;
    const err = engine.socketError();
    if (err !== 0) {
      this.#lastConnectFailure = mapErrno('connect', Math.abs(err));
      this.#stopConnectTimer();
      this.#connectToNextAddress();
      return;
    }
    this.#stopConnectTimer();
    this.#addresses = [];
    if (this.#tunnel !== null) {
      // Connected to the proxy: the tunnel is next, still in ConnectingState,
      // now reading the proxy's answers instead of waiting for writability.
      this.#tunnel.begin();
      this.#syncNotifications();
      return;
    }
    this.#fetchEndpoints();
    this.#becomeConnected(null);
  }

  /** Connected (directly or through a tunnel): the state, the signal, then what was waiting. */
  #becomeConnected(leftover: Buffer | null): void {
    this.#setState(SocketState.ConnectedState);
    if (this.state() !== SocketState.ConnectedState) return;
    this.#connectedSignal?.emit();
    if (this.state() !== SocketState.ConnectedState) return;
    if (leftover !== null && leftover.length > 0) {
      this._buffer.append(leftover);
      this.#syncNotifications();
      this.#emitReadyRead();
      if (this.state() !== SocketState.ConnectedState) return;
    }
    if (this.#pendingClose) {
      this.disconnectFromHost();
      return;
    }
    if (!this.#writeBuffer.isEmpty()) this.#flushWriteBuffer();
  }

  // ---- proxy tunnel (TunnelHost) -----------------------------------------

  /** @internal */
  _tunnelWrite(data: Buffer): boolean {
    const engine = this.#engine;
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
      this.#failConnect({ error: SocketError.ProxyConnectionClosedError, message: ProxyMsg.closed }, false);
      return false;
    }
    return true;
  }

  /** @internal */
  _tunnelUp(leftover: Buffer): void {
    const engine = this.#engine;
    this.#tunnel = null;
    const local = engine?.localEndpoint();
    if (local) {
      this.#localAddress = local.address;
      this.#localPort = local.port;
    }
    // The peer is the destination, not the proxy (an IP literal, or null
    // for a name only the proxy resolved).
    this.#peerAddress = new QHostAddress(this.#hostName);
    this.#peerPort = this.#port;
    this.#becomeConnected(leftover);
  }

  /** @internal */
  _tunnelFailed(failure: SocketFailure): void {
    this.#failConnect(failure, false);
  }

  /** @internal */
  _tunnelReconnect(): void {
    this.#closeEngine();
    this.#addresses = this.#proxyAddresses.slice();
    this.#connectToNextAddress();
  }

  /** @internal */
  _tunnelAskCredentials(proxy: QNetworkProxy, authenticator: QAuthenticator): void {
    this.#proxyAuthenticationRequiredSignal?.emit(proxy, authenticator);
  }

  #fetchEndpoints(): void {
    const engine = this.#engine;
    if (engine === null) return;
    const local = engine.localEndpoint();
    if (local) {
      this.#localAddress = local.address;
      this.#localPort = local.port;
      this.#localPath = local.path ?? '';
    }
    const peer = engine.peerEndpoint();
    if (peer) {
      this.#peerAddress = peer.address;
      this.#peerPort = peer.port;
      this.#peerPath = peer.path ?? '';
    }
  }

  // ---- disconnecting ------------------------------------------------------

  /**
   * Closes the connection once the write buffer has drained (ClosingState
   * meanwhile); while still connecting, waits for the connection first.
   * Emits disconnected if the socket was connected.
   */
  disconnectFromHost(): void {
    if (this.#state === SocketState.UnconnectedState) return;
    if (
      !this.#abortCalled &&
      (this.#state === SocketState.ConnectingState || this.#state === SocketState.HostLookupState)
    ) {
      this.#pendingClose = true;
      return;
    }
    if (this.#abortCalled) {
      this.#lookupId++; // a lookup still running is forgotten
    } else {
      if (this.#state !== SocketState.ClosingState) {
        this.#setState(SocketState.ClosingState);
        if (this.state() !== SocketState.ClosingState) return;
      }
      // Bytes still to go, or sent directly and not yet announced: Closing
      // first, so that bytesWritten comes before disconnected.
      if (this.#engine !== null && this.#engine.isOpen() && (!this.#writeBuffer.isEmpty() || this.#unreported > 0)) {
        this.#syncNotifications();
        this.#queueFlush();
        return;
      }
    }
    this.#finishDisconnect();
  }

  #finishDisconnect(): void {
    const previous = this.#state;
    this.#stopConnectTimer();
    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#closeEngine();
    this.#addresses = [];
    this.#writeBuffer.clear();
    this.#unreported = 0;
    this.#setState(SocketState.UnconnectedState);
    this.readChannelFinished.emit();
    if (previous === SocketState.ConnectedState || previous === SocketState.ClosingState) this.#disconnectedSignal?.emit();
    // A slot may have started a new connection; its endpoints must survive.
    if (this.#state === SocketState.UnconnectedState && this.#engine === null) this.#clearEndpoints();
  }

  #clearEndpoints(): void {
    this.#localAddress = NULL_ADDRESS;
    this.#localPort = 0;
    this.#peerAddress = NULL_ADDRESS;
    this.#peerPort = 0;
    this.#peerName = '';
    this.#localPath = '';
    this.#peerPath = '';
  }

  /**
   * Drops both buffers and closes at once: Unconnected before it returns;
   * disconnected fires only if the socket was connected.
   */
  abort(): void {
    this.#writeBuffer.clear();
    this.#abortCalled = true;
    this.close();
  }

  /**
   * Emits aboutToClose, drops the read buffer and disconnects; bytes still
   * in the write buffer go out first.
   */
  override close(): void {
    super.close();
    if (this.#state !== SocketState.UnconnectedState) this.disconnectFromHost();
    if (this.#state === SocketState.UnconnectedState && this.#engine === null) this.#clearEndpoints();
  }

  #closeEngine(): void {
    if (this.#engine !== null) {
      this.#engine.close();
      this.#engine = null;
    }
  }

  // ---- adopting a descriptor ----------------------------------------------

  /**
   * Adopts a socket descriptor made elsewhere: resets this socket, opens it
   * in `mode`, reads both endpoints from the kernel and emits
   * stateChanged(state) once (never connected). On failure returns false
   * with error() set and leaves both this socket and the descriptor as they were.
   */
  setSocketDescriptor(
    fd: number,
    state: SocketState = SocketState.ConnectedState,
    mode: OpenMode = OpenMode.ReadWrite,
    options: AdoptOptions = {},
  ): boolean {
    if (typeof fd !== 'number' || !Number.isInteger(fd)) throw new TypeError(`descriptor must be an integer, got ${String(fd)}`);
    if (typeof state !== 'number') throw new TypeError(`state must be a SocketState, got ${String(state)}`);
    if (!Number.isInteger(state) || SocketState[state] === undefined) throw new RangeError(`unknown socket state ${String(state)}`);
    const refuse = (failure: SocketFailure): false => {
      this.#error = failure.error;
      this.setErrorString(failure.message);
      return false;
    };
    const info = new Int32Array(5);
    const r = isDescriptorNumber(fd) ? binding.describe(fd, info) : -E.EBADF;
    if (r < 0) return refuse(mapErrno('adopt', -r));
    const [type, domain, , listening, connectedNow] = info;
    const checked = this._checkDescriptor({ type, domain, listening: listening !== 0, connected: connectedNow !== 0 }, state);
    if (typeof checked === 'string') return refuse({ error: SocketError.UnsupportedSocketOperationError, message: checked });
    state = checked;

    const engine = new SocketEngine(this);
    const a = engine.adopt(fd, domain);
    if (a < 0) return refuse(mapErrno('adopt', -a));

    this.#resetSilently();
    this.#unixDomain = domain === C.AF_UNIX;
    this.#engine = engine;
    this.#applyPendingOptions(engine);
    this.#error = SocketError.UnknownSocketError;
    this.setErrorString(Msg.unknown);
    this.open(mode);
    this.#fetchEndpoints();
    if (options.shutdownUnusedDirection && state === SocketState.ConnectedState) {
      // The kernel is told too, so the peer sees the end of a direction
      // this side will never use (SHUT_WR sends a FIN).
      if ((mode & OpenMode.ReadWrite) === OpenMode.ReadOnly) engine.shutdown(C.SHUT_WR);
      else if ((mode & OpenMode.ReadWrite) === OpenMode.WriteOnly) engine.shutdown(C.SHUT_RD);
    }
    if (state !== this.#state) {
      this.#state = state;
      this.#syncNotifications();
      this.#stateChangedSignal?.emit(state);
    } else {
      this.#syncNotifications();
    }
    return true;
  }

  /**
   * @internal Whether a descriptor of this kind fits this class: a reason to
   * refuse it, or the state to adopt it in. The kernel wins over the caller
   * where they disagree and the kernel's answer is usable: a stream socket
   * that is connected is adopted as Connected whatever state was asked for;
   * asking Connected for one that is not is refused. Subclasses narrow it.
   */
  protected _checkDescriptor(
    d: { type: number; domain: number; listening: boolean; connected: boolean },
    state: SocketState,
  ): string | SocketState {
    if (d.domain !== C.AF_INET && d.domain !== C.AF_INET6 && d.domain !== C.AF_UNIX) return Msg.unsupported;
    if (d.listening) return `${Msg.unsupported}: the descriptor is a listening socket`;
    if (state === SocketState.ListeningState || state === SocketState.HostLookupState || state === SocketState.ClosingState) {
      return `${Msg.unsupported}: a descriptor cannot be adopted in ${SocketState[state]}`;
    }
    if (state === SocketState.ConnectedState && !d.connected) return `${Msg.unsupported}: the descriptor is not connected`;
    if (d.connected && d.type === C.SOCK_STREAM) return SocketState.ConnectedState;
    return state;
  }

  /**
   * Gives the descriptor back, open, and forgets it: polling stops and the
   * socket is Unconnected (stateChanged, no disconnected), its read buffer
   * still readable. Returns the descriptor, or -1 when there is none or when
   * output is still buffered (it would be lost): then flush() or
   * waitForBytesWritten() first. Not in Qt.
   */
  detachSocketDescriptor(): number {
    const engine = this.#engine;
    if (engine === null) return -1;
    if (!this.#writeBuffer.isEmpty()) this.#flushWriteBuffer();
    if (!this.#writeBuffer.isEmpty()) {
      this.#error = SocketError.OperationError;
      this.setErrorString('Output is still buffered: flush it before detaching the descriptor');
      return -1;
    }
    this.#engine = null;
    const fd = engine.detach();
    this.#stopConnectTimer();
    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#lookupId++;
    this.#clearEndpoints();
    this.#setState(SocketState.UnconnectedState);
    return fd;
  }

  /**
   * Lets this (UNIX-domain stream) socket receive descriptors: reads use
   * recvmsg and each batch that arrives is emitted as descriptorsReceived.
   * Without it, descriptors sent to the socket are closed by the kernel.
   * Not in Qt.
   */
  setDescriptorPassing(on: boolean): void {
    this.#passDescriptors = on === true;
    this.#syncNotifications(); // the engine's own reads would drop the descriptors
  }

  /**
   * Sends descriptors (SCM_RIGHTS) with `data` (at least one byte is always
   * sent; default a single NUL) over this UNIX-domain stream socket, after
   * the bytes already written. The descriptors stay open here: the peer gets
   * copies. Returns false with error() set when they cannot go now. Not in Qt.
   */
  sendDescriptors(fds: readonly number[], data: WritableData = Buffer.alloc(1)): boolean {
    if (!Array.isArray(fds) || fds.some((fd) => !isDescriptorNumber(fd))) throw new TypeError('fds must be an array of descriptors');
    if (fds.length === 0 || fds.length > 64) throw new RangeError('between 1 and 64 descriptors per message');
    const engine = this.#engine;
    if (engine === null || this.#state !== SocketState.ConnectedState) {
      this.#error = SocketError.UnknownSocketError;
      this.setErrorString(Msg.notConnected);
      return false;
    }
    // Bytes written earlier go first, so the descriptors arrive where the
    // byte stream says they do.
    this.#flushWriteBuffer();
    if (!this.#writeBuffer.isEmpty()) {
      this.#setErrorAndEmit(SocketError.TemporaryError, 'Output is still buffered: wait for bytesWritten, then send the descriptors');
      return false;
    }
    const payload = toOwnedBuffer(data);
    const body = payload.length > 0 ? payload : Buffer.alloc(1);
    const n = binding.sendFds(engine.fd(), body, Int32Array.from(fds));
    if (n < 0) {
      const f = mapErrno('write', -n);
      this.#setErrorAndEmit(f.error, f.message);
      return false;
    }
    // The descriptors went with the first byte; the rest is ordinary output.
    if (n < body.length) {
      this.#writeBuffer.append(body.subarray(n));
      this.#queueFlush();
    }
    return true;
  }

  /** For a UNIX-domain socket, its own path ('@name' for the abstract namespace); '' otherwise. */
  localPath(): string {
    return this.#localPath;
  }

  /** For a UNIX-domain socket, the peer's path ('@name' when abstract, '' when unnamed). */
  peerPath(): string {
    return this.#peerPath;
  }

  /** Qt's resetSocketLayer: drops the old connection without any signal. */
  #resetSilently(): void {
    this.#lookupId++;
    this.#stopConnectTimer();
    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#closeEngine();
    this._buffer.clear();
    this.#writeBuffer.clear();
    this.#unreported = 0;
    this.#addresses = [];
    this.#pendingClose = false;
    this.#abortCalled = false;
    this.#localAddress = NULL_ADDRESS;
    this.#localPort = 0;
    this.#peerAddress = NULL_ADDRESS;
    this.#peerPort = 0;
    this.#peerName = '';
    this.#hostName = '';
    this.#unixDomain = false;
    this.#localPath = '';
    this.#peerPath = '';
  }

  // ---- reading ------------------------------------------------------------

  /** @internal EngineReceiver: the descriptor is readable. */
  _readNotification(ahead: number = NOT_READ): void {
    if (this.#tunnel?.isNegotiating() && this.#state === SocketState.ConnectingState) {
      this.#tunnelRead();
      return;
    }
    if (this.#state !== SocketState.ConnectedState || this.#engine === null) return;
    const q = this._buffer;
    let got = 0;
    let eof = false;
    let failure = 0;
    for (let i = 0; i < READS_PER_EVENT; i++) {
      let want: number;
      let n: number;
      if (i === 0 && ahead !== NOT_READ) {
        // The engine already read, at the end of the buffer, as much as the
        // armed window allowed (nothing has changed it since).
        want = q.readAheadSize();
        n = ahead;
      } else {
        want = READ_CHUNK;
        if (this.#readBufferSize > 0) want = Math.min(want, this.#readBufferSize - q.size());
        if (want <= 0) break;
        // A first read takes the room there is; after a full one, make room for a whole chunk.
        want = Math.min(want, q.reserve(i === 0 ? 1 : want));
        n = this.#passDescriptors ? this.#readWithDescriptors(want) : this.#engine.read(q.store(), q.end(), want);
      }
      if (n > 0) {
        q.commit(n);
        got += n;
        if (n < want) break; // the kernel had no more: skip the recv that would say EAGAIN
        continue;
      }
      if (n === 0) eof = true;
      else if (n !== -E.EAGAIN && n !== -E.EWOULDBLOCK) failure = -n;
      break;
    }
    this.#syncNotifications();
    if (this.#receivedFds.length > 0) {
      const fds = this.#receivedFds;
      this.#receivedFds = [];
      // Descriptors nobody takes would leak: close them.
      if ((this.#descriptorsReceivedSignal?.receivers() ?? 0) === 0) for (const fd of fds) binding.closeFd(fd);
      else this.#descriptorsReceivedSignal?.emit(fds);
      if (this.state() !== SocketState.ConnectedState) return;
    }
    if (got > 0) {
      this.#emitReadyRead();
      if (this.state() !== SocketState.ConnectedState) return;
    }
    if (eof) this.#remoteClosed(false);
    else if (failure !== 0) this.#readFailed(failure);
  }

  /** @internal For subclasses: emit readyRead, counted for waitForReadyRead. */
  protected _emitReadyRead(): void {
    this.#readyReadCount++;
    this.readyRead.emit();
  }

  /** recvmsg into the read buffer's room, collecting SCM_RIGHTS → bytes | -errno. */
  #readWithDescriptors(want: number): number {
    const q = this._buffer;
    const n = binding.recvFds(this.#engine!.fd(), q.store().subarray(q.end(), q.end() + want), fdScratch);
    for (let i = 0; i < fdScratch[0]; i++) this.#receivedFds.push(fdScratch[1 + i]);
    return n;
  }

  /** Reads the proxy's answer during a negotiation and hands it to the tunnel. */
  #tunnelRead(): void {
    const engine = this.#engine;
    const tunnel = this.#tunnel;
    if (engine === null || tunnel === null) return;
    const n = engine.read(readScratch, 0, READ_CHUNK);
    if (n > 0) tunnel.feed(copyOut(n));
    else if (n === 0 || (n !== -E.EAGAIN && n !== -E.EWOULDBLOCK && n !== -E.EINTR)) tunnel.closed();
  }

  #emitReadyRead(): void {
    this.#readyReadCount++;
    // Qt does not re-emit readyRead from inside a readyRead slot.
    if (this.#emittingReadyRead) return;
    this.#emittingReadyRead = true;
    try {
      this.readyRead.emit();
    } finally {
      this.#emittingReadyRead = false;
    }
  }

  /** The peer closed (or reset) the connection (Qt rule 3). */
  #remoteClosed(reset: boolean): void {
    // A reset peer takes no more bytes; waiting to send them would only
    // produce a second error.
    if (reset) this.#writeBuffer.clear();
    this.#setErrorAndEmit(SocketError.RemoteHostClosedError, Msg.remoteClosed);
    if (this.#state === SocketState.ConnectedState || this.#state === SocketState.ClosingState) this.disconnectFromHost();
  }

  #readFailed(errno: number): void {
    const failure = mapErrno('read', errno);
    if (failure.error === SocketError.RemoteHostClosedError) {
      this.#remoteClosed(true);
      return;
    }
    this.#setErrorAndEmit(failure.error, failure.message);
    if (this.#state === SocketState.ConnectedState) this.#hardClose();
  }

  /** Closes at once, like abort(), but keeps what is in the read buffer readable. */
  #hardClose(): void {
    this.#writeBuffer.clear();
    this.#abortCalled = true;
    this.disconnectFromHost();
  }

  protected override _bufferConsumed(): void {
    if (this.#readBufferSize > 0) this.#syncNotifications();
  }

  /**
   * Arms the engine's own read at readiness (one crossing per event instead
   * of two) while plain bytes are being read into the buffer; disarms it
   * while a proxy answers, descriptors may come along, or reading must stop.
   */
  #syncReadAhead(engine: SocketEngine): void {
    const q = this._buffer;
    let max = 0;
    if (
      this.#state === SocketState.ConnectedState &&
      this.#type !== SocketType.UdpSocket &&
      !this.#passDescriptors &&
      this.#tunnel?.isNegotiating() !== true
    ) {
      max = this.#readBufferSize > 0 ? Math.max(0, this.#readBufferSize - q.size()) : READ_CHUNK;
    }
    q.setReadAhead(max);
    // The store exists once something was read; until then every event reads from here.
    if (max > 0 && q.store().length > 0) engine.setReadArea(q.store());
  }

  // ---- writing ------------------------------------------------------------

  /**
   * Appends to the write buffer and returns the full length, even while
   * still connecting (Qt rule 5). The bytes leave when the current JS task
   * ends, on flush(), or in a waitFor* call. -1 when the socket is not connected.
   */
  protected writeData(data: Buffer, _owned: boolean): number {
    if (
      this.#state === SocketState.UnconnectedState ||
      this.#state === SocketState.BoundState ||
      (this.#engine === null && this.#state !== SocketState.HostLookupState)
    ) {
      // Qt's writeData reports this as UnknownSocketError with this text.
      this.#error = SocketError.UnknownSocketError;
      this.setErrorString(Msg.notConnected);
      return -1;
    }
    const engine = this.#engine;
    if (
      data.length >= DIRECT_WRITE_MIN &&
      this.#writeBuffer.isEmpty() &&
      engine !== null &&
      (this.#state === SocketState.ConnectedState || this.#state === SocketState.ClosingState)
    ) {
      // A large write with nothing queued before it goes to the kernel now,
      // so that only what the kernel does not take is copied (a bulk sender
      // would otherwise copy every chunk). bytesWritten still comes when the
      // task ends, as for any write.
      const n = engine.write(data, 0, data.length);
      if (n > 0) {
        this.#unreported += n;
        if (n < data.length) this.#writeBuffer.append(data.subarray(n));
        this.#queueFlush();
        return data.length;
      }
      // EAGAIN, or an error that the queued flush will meet and report.
    }
    this.#writeBuffer.append(data); // a copy, into storage the socket reuses
    if (this.#state === SocketState.ConnectedState || this.#state === SocketState.ClosingState) this.#queueFlush();
    return data.length;
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // A microtask, as queueMicrotask would make, but without the AsyncResource
    // and bound function that node's queueMicrotask allocates for each call.
    void RESOLVED.then(this.#flushTask);
  }

  /** @internal EngineReceiver: the descriptor is writable. */
  _writeNotification(): void {
    if (this.#state === SocketState.ConnectingState) {
      if (!this.#tunnel?.isNegotiating()) this.#testConnection();
      return;
    }
    this.#flushWriteBuffer();
  }

  /**
   * @internal EngineReceiver: the descriptor has an error condition. libuv
   * says EBADF for any POLLERR, so the socket itself is asked what it was:
   * SO_ERROR while connecting, else the data and error that recv reports.
   */
  _exceptionNotification(_status: number): void {
    const engine = this.#engine;
    if (engine === null) return;
    if (this.#state === SocketState.ConnectingState) {
      if (this.#tunnel?.isNegotiating()) this.#tunnelRead();
      else this.#testConnection();
      return;
    }
    if (this.#state === SocketState.ConnectedState) this._readNotification();
    if (this.#engine !== engine || this.state() === SocketState.UnconnectedState) return;
    const err = engine.socketError();
    if (err > 0) {
      this.#readFailed(err);
      return;
    }
    this.#syncNotifications();
  }

  #flushWriteBuffer(): boolean {
    const engine = this.#engine;
    if (engine === null || (this.#state !== SocketState.ConnectedState && this.#state !== SocketState.ClosingState)) {
      this.#unreported = 0; // the connection they went out on is gone
      return false;
    }
    // Bytes that writeData sent directly are reported here, with the rest.
    let written = this.#unreported;
    this.#unreported = 0;
    if (written === 0 && this.#writeBuffer.isEmpty()) return false;
    let failure = 0;
    const q = this.#writeBuffer;
    while (!q.isEmpty()) {
      // Everything queued is one contiguous range: one send, whatever the number of writes.
      const want = q.size();
      const n = engine.write(q.store(), q.start(), want);
      if (n > 0) {
        q.skip(n);
        written += n;
        if (n < want) break; // the kernel's buffer is full
        continue;
      }
      if (n !== -E.EAGAIN && n !== -E.EWOULDBLOCK && n !== -E.ENOBUFS) failure = -n;
      break;
    }
    if (failure !== 0) {
      const f = mapErrno('write', failure);
      if (f.error === SocketError.RemoteHostClosedError) {
        this.#remoteClosed(true);
      } else {
        this.#setErrorAndEmit(f.error, f.message);
        if (this.state() !== SocketState.UnconnectedState) this.#hardClose();
      }
      return written > 0;
    }
    this.#syncNotifications();
    if (written > 0 && !this.#emittingBytesWritten) {
      this.#emittingBytesWritten = true;
      try {
        this.bytesWritten.emit(written);
      } finally {
        this.#emittingBytesWritten = false;
      }
    }
    if (this.#writeBuffer.isEmpty() && this.#state === SocketState.ClosingState && this.#engine === engine) {
      this.disconnectFromHost();
    }
    return written > 0;
  }

  // ---- blocking waits -----------------------------------------------------
  //
  // Each blocks the calling thread in poll(2) on the descriptor, runs the same
  // handlers the event loop would (so the same signals fire, once, inside the
  // call), and leaves the uv_poll interest as the state needs it, so the
  // event-driven path carries on afterwards. -1 waits forever, 0 polls once.

  /**
   * Blocks until Connected (true) or the time runs out (false). From
   * HostLookupState the name is resolved synchronously first, within the
   * same time. A time-out sets SocketTimeoutError, returns the socket to
   * Unconnected and does not emit errorOccurred (Qt rule 9).
   */
  waitForConnected(msecs = 30000): boolean {
    const left = deadline(checkWaitTime(msecs));
    if (this.#state === SocketState.ConnectedState) return true;
    if (this.#state === SocketState.UnconnectedState || this.#state === SocketState.BoundState) return false;
    if (this.#state === SocketState.HostLookupState) {
      const family = familyOf(this.#protocol);
      this.#lookupId++; // the asynchronous lookup's answer is no longer wanted
      let list: LookupAddress[] = [];
      let timedOut = false;
      const tunnel = this.#tunnel;
      if (tunnel !== null && tunnel.target.isName && (tunnel.proxy.capabilities() & ProxyCapability.HostNameLookupCapability) === 0) {
        // A proxy that cannot resolve names gets the destination's address.
        let target: LookupAddress | undefined;
        try {
          target = (this.#lookupSync ?? nativeLookupSync)(tunnel.target.host, family, left())[0];
        } catch (err) {
          if ((err as NodeJS.ErrnoException)?.code === 'ETIMEOUT') return this.#connectTimedOut();
        }
        if (target === undefined) {
          this.#failConnect({ error: SocketError.HostNotFoundError, message: Msg.hostNotFound }, false);
          return false;
        }
        tunnel.target = { host: target.address, port: this.#port, isName: false };
      }
      try {
        list = (this.#lookupSync ?? nativeLookupSync)(this.#connectHost, this.#tunnel ? 0 : family, left());
      } catch (err) {
        timedOut = (err as NodeJS.ErrnoException)?.code === 'ETIMEOUT';
      }
      if (timedOut) return this.#connectTimedOut();
      this.#startConnecting(
        list.map((a) => new QHostAddress(a.address)).filter((a) => !a.isNull()),
        false,
      );
    }
    while (this.#state === SocketState.ConnectingState) {
      const engine = this.#engine;
      if (engine === null) break;
      const tunnel = this.#tunnel;
      const negotiating = tunnel?.isNegotiating() === true;
      // The proxy's own time-out runs no timer while this thread is blocked.
      const budget = left();
      const tunnelLeft = negotiating ? tunnel!.timeLeft() : -1;
      const wait = tunnelLeft >= 0 && (budget < 0 || tunnelLeft < budget) ? tunnelLeft : budget;
      const r = engine.poll(negotiating ? C.READABLE : C.WRITABLE, wait);
      if (r === 0) {
        if (negotiating && tunnel!.expireIfDue()) return false;
        if (left() === 0) return this.#connectTimedOut();
        continue;
      }
      if (r < 0 && r !== -E.EINTR) break;
      if (negotiating) this.#tunnelRead();
      else this.#testConnection();
    }
    return this.state() === SocketState.ConnectedState;
  }

  /**
   * Makes waitForReadyRead() spin for up to `micros` µs (checking the socket
   * without sleeping) before it sleeps in poll(2): a reply that is only
   * microseconds away is then seen without a wake-up's latency, at the cost
   * of a busy core. 0 (the default) turns it off. Pair it with
   * setLinuxOption('SO_BUSY_POLL', µs) to busy-poll the device too, where
   * permitted. Not in Qt.
   */
  setBusyPollBudget(micros: number): void {
    checkSize('micros', micros);
    this.#busyPollUs = Math.min(micros, 10_000_000);
  }

  busyPollBudget(): number {
    return this.#busyPollUs;
  }

  /** Takes what recvWait returned as the event loop's read would have. */
  #blockingRead(n: number, want: number): void {
    if (n > 0) {
      this._buffer.commit(n);
      // A full chunk may have more behind it: the ordinary read takes the
      // rest (and the end of stream, if it follows) and emits readyRead.
      if (n === want && this._wantsRead()) {
        const before = this.#readyReadCount;
        this._readNotification();
        if (this.#readyReadCount !== before) return;
      }
      this.#syncNotifications();
      this.#emitReadyRead();
      return;
    }
    if (n === 0) this.#remoteClosed(false);
    else this.#readFailed(-n);
  }

  #connectTimedOut(): false {
    this.#stopConnectTimer();
    this.#tunnel?.cancel();
    this.#tunnel = null;
    this.#lookupId++;
    this.#closeEngine();
    this.#addresses = [];
    this.#error = SocketError.SocketTimeoutError;
    this.setErrorString(Msg.socketTimeout);
    this.#setState(SocketState.UnconnectedState);
    return false;
  }

  #waitTimedOut(): false {
    this.#setErrorAndEmit(SocketError.SocketTimeoutError, Msg.socketTimeout);
    return false;
  }

  /**
   * Blocks until new data has been read into the buffer (readyRead emitted,
   * true), the time runs out (SocketTimeoutError emitted, the connection
   * kept, false), or the connection closes or fails (false, with the usual
   * signals). Pending output is written meanwhile.
   */
  override waitForReadyRead(msecs = 30000): boolean {
    const left = deadline(checkWaitTime(msecs));
    if (this.#state === SocketState.UnconnectedState) return false;
    if (
      (this.#state === SocketState.HostLookupState || this.#state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    const start = this.#readyReadCount;
    for (;;) {
      const engine = this.#engine;
      if (engine === null || (this.#state !== SocketState.ConnectedState && this.#state !== SocketState.BoundState)) return false;
      // Output first, without waiting: in a request/response loop it is the
      // request this wait is for.
      if (!this.#writeBuffer.isEmpty()) this.#flushWriteBuffer();
      if (this.#engine !== engine) return false;
      if (this.#writeBuffer.isEmpty() && this._wantsRead() && this.#type === SocketType.TcpSocket && !this.#passDescriptors) {
        // The common case: one recv that sleeps in the kernel, as a blocking
        // C client would.
        const q = this._buffer;
        const limit = this.#readBufferSize > 0 ? Math.min(READ_CHUNK, this.#readBufferSize - q.size()) : READ_CHUNK;
        const want = Math.min(limit, q.reserve(1));
        const n = engine.recvWait(q.store(), q.end(), want, left(), this.#busyPollUs);
        if (n === -E.EAGAIN || n === -E.EWOULDBLOCK) {
          if (left() === 0) return this.#waitTimedOut();
          continue;
        }
        if (n === -E.EINTR) continue;
        this.#blockingRead(n, want);
        if (this.#readyReadCount !== start) return true;
        continue;
      }
      const events = C.READABLE | (this.#writeBuffer.isEmpty() ? 0 : C.WRITABLE);
      const r = engine.poll(events, left(), this.#busyPollUs);
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & C.WRITABLE) this.#flushWriteBuffer();
      if (r & (C.READABLE | C.DISCONNECT | C.ERROR) && this.#engine === engine) {
        if (r & C.ERROR && !(r & C.READABLE)) this._exceptionNotification(-E.EBADF);
        else this._readNotification();
      }
      if (this.#readyReadCount !== start) return true;
      if (!this._wantsRead() && this.#writeBuffer.isEmpty()) {
        // The read buffer is full: nothing can arrive until it is read.
        if (left() === 0) return this.#waitTimedOut();
        if (this.#state === SocketState.ConnectedState) return false;
      }
    }
  }

  /**
   * Blocks until at least one chunk of the write buffer has been written
   * (bytesWritten emitted, true). False at once when nothing is buffered or
   * the socket is Unconnected; on time-out, SocketTimeoutError is emitted and
   * the connection kept.
   */
  override waitForBytesWritten(msecs = 30000): boolean {
    const left = deadline(checkWaitTime(msecs));
    // A large write may already be in the kernel (see writeData): what is
    // left to do is to say so.
    if (this.#unreported > 0 && this.#flushWriteBuffer()) return true;
    if (this.#state === SocketState.UnconnectedState || this.#writeBuffer.isEmpty()) return false;
    if (
      (this.#state === SocketState.HostLookupState || this.#state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    for (;;) {
      const engine = this.#engine;
      if (engine === null || this.#writeBuffer.isEmpty()) return false;
      if (this.#state !== SocketState.ConnectedState && this.#state !== SocketState.ClosingState) return false;
      // Try first: when the kernel has room, that is the whole wait, and
      // asking poll() first would cost a system call for nothing.
      if (this.#flushWriteBuffer()) return true;
      if (this.#engine !== engine || this.#writeBuffer.isEmpty()) return false;
      // Reading too, so that a peer that only drains after we read it back
      // (an echo server, say) cannot deadlock us.
      const events = C.WRITABLE | (this._wantsRead() ? C.READABLE : 0);
      const r = engine.poll(events, left());
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & (C.READABLE | C.DISCONNECT) && this.#state === SocketState.ConnectedState) this._readNotification();
      if (r & (C.WRITABLE | C.ERROR) && this.#engine === engine && this.#flushWriteBuffer()) return true;
      if (r & C.ERROR && this.#engine === engine) this._exceptionNotification(-E.EBADF);
    }
  }

  /**
   * Blocks until the socket is Unconnected (true): after disconnectFromHost()
   * while the write buffer drains, or until the peer closes. False at once
   * when already Unconnected; on time-out, SocketTimeoutError is emitted.
   */
  waitForDisconnected(msecs = 30000): boolean {
    const left = deadline(checkWaitTime(msecs));
    if (this.#state === SocketState.UnconnectedState) return false;
    if (
      (this.#state === SocketState.HostLookupState || this.#state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    while (this.state() !== SocketState.UnconnectedState) {
      // A direct write not yet announced: announcing it is what finishes a Closing socket.
      if (this.#unreported > 0) {
        this.#flushWriteBuffer();
        continue;
      }
      const engine = this.#engine;
      if (engine === null) break;
      const reading = this.#state === SocketState.ConnectedState;
      const events = (reading ? C.READABLE : 0) | (this.#writeBuffer.isEmpty() ? 0 : C.WRITABLE);
      if (events === 0) break; // nothing can change the state any more
      const r = engine.poll(events, left());
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & C.WRITABLE) this.#flushWriteBuffer();
      if (reading && r & (C.READABLE | C.DISCONNECT | C.ERROR) && this.#engine === engine) {
        const before = this._buffer.size();
        this._readNotification();
        // A full read buffer makes no progress: drop what cannot be read,
        // since the caller is waiting for the end, not for data.
        if (this._buffer.size() === before && !this._wantsRead() && this.#state === SocketState.ConnectedState) {
          return this.#waitTimedOut();
        }
      }
    }
    return this.state() === SocketState.UnconnectedState;
  }

  // ---- internals ----------------------------------------------------------

  /** Read interest while connected and the buffer has room; write interest while connecting or holding output. */
  #syncNotifications(): void {
    const engine = this.#engine;
    if (engine === null || !engine.isOpen()) return;
    const connected = this.#state === SocketState.ConnectedState;
    this.#syncReadAhead(engine);
    engine.setReadNotificationEnabled(this._wantsRead());
    const negotiating = this.#tunnel?.isNegotiating() === true;
    engine.setWriteNotificationEnabled(
      (this.#state === SocketState.ConnectingState && !negotiating) ||
        ((connected || this.#state === SocketState.ClosingState) && !this.#writeBuffer.isEmpty()),
    );
  }

  /** @internal Whether to watch for readability now: connected, and the read buffer has room. */
  protected _wantsRead(): boolean {
    if (this.#state === SocketState.ConnectingState) return this.#tunnel?.isNegotiating() === true;
    return (
      this.#state === SocketState.ConnectedState &&
      (this.#readBufferSize === 0 || this._buffer.size() < this.#readBufferSize)
    );
  }

  /** @internal For subclasses: re-evaluate which readiness events to watch. */
  protected _syncNotifications(): void {
    this.#syncNotifications();
  }

  /** @internal For subclasses: change state and emit stateChanged. */
  protected _setState(state: SocketState): void {
    this.#setState(state);
  }

  /**
   * @internal For subclasses that make their own descriptor (QUdpSocket's
   * bind): installs `engine` as this socket's, opens the device and reads
   * the local endpoint, without any signal.
   */
  protected _installEngine(engine: SocketEngine, mode: OpenMode = OpenMode.ReadWrite): void {
    this.#resetSilently();
    this.#engine = engine;
    this.#applyPendingOptions(engine);
    this.#error = SocketError.UnknownSocketError;
    this.setErrorString(Msg.unknown);
    this.open(mode);
    this.#fetchEndpoints();
  }

  #setState(state: SocketState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#syncNotifications();
    this.#stateChangedSignal?.emit(state);
  }

  #setErrorAndEmit(error: SocketError, message: string): void {
    this.#error = error;
    this.setErrorString(message);
    this.#errorOccurredSignal?.emit(error);
  }

  /** @internal For subclasses: record an error and emit errorOccurred. */
  protected _setErrorAndEmit(error: SocketError, message: string): void {
    this.#setErrorAndEmit(error, message);
  }

  /** @internal For subclasses: the engine, or null. */
  protected _engine(): SocketEngine | null {
    return this.#engine;
  }
}
