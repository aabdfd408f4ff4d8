// The bottom of QAbstractSocket's chain (see abstract-socket.ts): the state
// and error the other layers share, the endpoints, and the socket options,
// which are kept until a descriptor exists and applied to it then.
import { binding } from './binding';
import { SocketError, SocketOption, SocketState, SocketType } from './enums';
import { errnoName, mapErrno } from './errors';
import { QHostAddress } from './host-address';
import { QIODevice, checkSize } from './io-device';
import { SocketEngine } from './native-engine';
import { Signal } from './signal';
import { optionSlot } from './socket-options';
import {
  LinuxOptionName,
  LinuxOptionValues,
  checkLinuxValue,
  getLinuxOption as getLinuxOptionOn,
  isLinuxOption,
  setLinuxOption as setLinuxOptionOn,
} from './linux-options';
import type { ProxyTunnel } from './proxy/tunnel';

/**
 * @internal Every socket without an address shares this one; it is never
 * handed out (the getters return copies) and never changed.
 */
export const NULL_ADDRESS = new QHostAddress();

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
 * @internal Where QAbstractSocket's state lives: what every layer above reads
 * and tears down (state, error, engine, endpoints, the connect attempt's
 * timer, tunnel and addresses), plus the accessors and options over it.
 */
export abstract class SocketBase extends QIODevice {
  #errorOccurredSignal?: Signal<[SocketError]>;
  /** Emitted after an error; `error()` and `errorString()` tell which. */
  get errorOccurred(): Signal<[SocketError]> {
    return (this.#errorOccurredSignal ??= new Signal<[SocketError]>('errorOccurred'));
  }

  /** @internal */
  protected readonly _type: SocketType;
  /** @internal */
  protected _state = SocketState.UnconnectedState;
  /** @internal */
  protected _error = SocketError.UnknownSocketError;
  /** @internal The engine, or null; subclasses outside the chain use _engine(). */
  protected _activeEngine: SocketEngine | null = null;
  /** @internal */
  protected _localAddress = NULL_ADDRESS;
  /** @internal */
  protected _localPort = 0;
  /** @internal */
  protected _peerAddress = NULL_ADDRESS;
  /** @internal */
  protected _peerPort = 0;
  /** @internal */
  protected _peerName = '';
  /** @internal */
  protected _hostName = '';
  /** @internal The addresses of the connect attempt not tried yet. */
  protected _addresses: QHostAddress[] = [];
  /** @internal Bumped to forget a lookup (or deferred failure) still on its way. */
  protected _lookupId = 0;
  /** @internal */
  protected _connectTimer: NodeJS.Timeout | null = null;
  /** @internal */
  protected _tunnel: ProxyTunnel | null = null;
  /** @internal */
  protected _unixDomain = false;
  /** @internal */
  protected _localPath = '';
  /** @internal */
  protected _peerPath = '';
  /** @internal */
  protected _unrefed = false;
  #pendingOptions: Map<SocketOption, number> | null = null;

  constructor(socketType: SocketType) {
    super();
    this._type = socketType;
  }

  // ---- state and errors ---------------------------------------------------

  state(): SocketState {
    return this._state;
  }

  error(): SocketError {
    return this._error;
  }

  /** TcpSocket or UdpSocket; UnknownSocketType for an adopted UNIX-domain descriptor. */
  socketType(): SocketType {
    return this._unixDomain ? SocketType.UnknownSocketType : this._type;
  }

  /** True while the socket has a usable descriptor. */
  isValid(): boolean {
    return this._activeEngine !== null && this._activeEngine.isOpen();
  }

  /** The native descriptor, or -1. It stays owned by the socket. */
  socketDescriptor(): number {
    return this._activeEngine?.fd() ?? -1;
  }

  /** Sets the state without emitting stateChanged (Qt's protected setSocketState). */
  setSocketState(state: SocketState): void {
    this._state = state;
  }

  /** Sets the error code without emitting (Qt's protected setSocketError). */
  setSocketError(error: SocketError): void {
    this._error = error;
  }

  localAddress(): QHostAddress {
    return new QHostAddress(this._localAddress);
  }

  localPort(): number {
    return this._localPort;
  }

  peerAddress(): QHostAddress {
    return new QHostAddress(this._peerAddress);
  }

  peerPort(): number {
    return this._peerPort;
  }

  /** The name given to connectToHost, or '' when none was. */
  peerName(): string {
    if (this._peerName !== '') return this._peerName;
    return this._hostName !== '' ? this._hostName : this._peerPath;
  }

  setLocalAddress(address: QHostAddress): void {
    this._localAddress = new QHostAddress(address);
  }

  setLocalPort(port: number): void {
    this._localPort = checkPort(port);
  }

  setPeerAddress(address: QHostAddress): void {
    this._peerAddress = new QHostAddress(address);
  }

  setPeerPort(port: number): void {
    this._peerPort = checkPort(port);
  }

  setPeerName(name: string): void {
    this._peerName = String(name);
  }

  /** Whether this socket keeps the Node.js process alive while it is active (default: yes). */
  ref(): this {
    this._unrefed = false;
    this._activeEngine?.ref();
    return this;
  }

  /** Lets the process exit even while this socket is connected, like node:net's unref(). */
  unref(): this {
    this._unrefed = true;
    this._activeEngine?.unref();
    return this;
  }
  /** For a UNIX-domain socket, its own path ('@name' for the abstract namespace); '' otherwise. */
  localPath(): string {
    return this._localPath;
  }

  /** For a UNIX-domain socket, the peer's path ('@name' when abstract, '' when unnamed). */
  peerPath(): string {
    return this._peerPath;
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
    if (this._activeEngine === null) {
      (this.#pendingOptions ??= new Map()).set(option, v);
      return true;
    }
    return this.#applyOption(this._activeEngine, option, v);
  }

  /** The option's current value from the kernel, or -1 when it cannot be read. */
  socketOption(option: SocketOption): number {
    if (SocketOption[option] === undefined) throw new RangeError(`unknown socket option ${String(option)}`);
    if (this._activeEngine === null) return this.#pendingOptions?.get(option) ?? -1;
    const slot = optionSlot(option, this._activeEngine.family());
    if (slot === null) return -1;
    return this._activeEngine.getOption(slot.level, slot.name).value;
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
    if (this._activeEngine !== null) return this._activeEngine;
    this._error = SocketError.UnsupportedSocketOperationError;
    this.setErrorString('The socket has no descriptor yet: connect, bind or adopt one first');
    return null;
  }

  #optionFailed(call: string, errno: number, privilege?: string): false {
    const f = mapErrno('option', errno);
    const name = errnoName(errno);
    let message = `${call} failed: ${name} (${binding.strerror(errno)})`;
    if (f.error === SocketError.SocketAccessError && privilege) message += `; it needs ${privilege}`;
    this._error = f.error;
    this.setErrorString(message);
    return false;
  }

  #applyOption(engine: SocketEngine, option: SocketOption, value: number): boolean {
    const slot = optionSlot(option, engine.family());
    if (slot === null || slot.readOnly) return false;
    return engine.setOption(slot.level, slot.name, value) === 0;
  }

  /** @internal */
  protected _applyPendingOptions(engine: SocketEngine): void {
    if (this.#pendingOptions !== null) {
      for (const [option, value] of this.#pendingOptions) this.#applyOption(engine, option, value);
      this.#pendingOptions = null;
    }
    if (this._unrefed) engine.unref();
  }

  /** @internal */
  protected _stopConnectTimer(): void {
    if (this._connectTimer !== null) {
      clearTimeout(this._connectTimer);
      this._connectTimer = null;
    }
  }

  /** @internal */
  protected _fetchEndpoints(): void {
    const engine = this._activeEngine;
    if (engine === null) return;
    const local = engine.localEndpoint();
    if (local) {
      this._localAddress = local.address;
      this._localPort = local.port;
      this._localPath = local.path ?? '';
    }
    const peer = engine.peerEndpoint();
    if (peer) {
      this._peerAddress = peer.address;
      this._peerPort = peer.port;
      this._peerPath = peer.path ?? '';
    }
  }

  /** @internal */
  protected _clearEndpoints(): void {
    this._localAddress = NULL_ADDRESS;
    this._localPort = 0;
    this._peerAddress = NULL_ADDRESS;
    this._peerPort = 0;
    this._peerName = '';
    this._localPath = '';
    this._peerPath = '';
  }

  /** @internal */
  protected _closeEngine(): void {
    if (this._activeEngine !== null) {
      this._activeEngine.close();
      this._activeEngine = null;
    }
  }

  /** @internal For subclasses: record an error and emit errorOccurred. */
  protected _setErrorAndEmit(error: SocketError, message: string): void {
    this._error = error;
    this.setErrorString(message);
    this.#errorOccurredSignal?.emit(error);
  }

  /** @internal For subclasses: the engine, or null. */
  protected _engine(): SocketEngine | null {
    return this._activeEngine;
  }
}
