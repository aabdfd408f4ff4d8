// QTcpServer: a listening socket that accepts connections into QTcpSockets.
import { binding, C, E } from './binding';
import { NetworkLayerProtocol, ProxyType, SocketError, SpecialAddress } from './enums';
import { Msg, mapErrno } from './errors';
import { QHostAddress } from './host-address';
import { checkPort, isDescriptorNumber } from './abstract-socket';
import { EngineReceiver, SocketEngine } from './native-engine';
import { QNetworkProxy } from './network-proxy';
import { Signal } from './signal';
import { QTcpSocket } from './tcp-socket';

/** Qt's listen() backlog. */
const BACKLOG = 50;
/** While out of descriptors, accepting pauses this long at first, doubling up to the maximum. */
const BACKOFF_MIN_MS = 10;
const BACKOFF_MAX_MS = 1000;

/**
 * A TCP server, after Qt's QTcpServer. listen() on an address and port;
 * each accepted connection becomes a connected QTcpSocket waiting in a queue
 * (nextPendingConnection), announced by newConnection.
 */
export class QTcpServer implements EngineReceiver {
  #newConnectionSignal?: Signal<[]>;
  /** Emitted once for every connection put in the queue. */
  get newConnection(): Signal<[]> {
    return (this.#newConnectionSignal ??= new Signal<[]>('newConnection'));
  }
  #acceptErrorSignal?: Signal<[SocketError]>;
  /** Emitted when accepting fails; the server keeps listening. */
  get acceptError(): Signal<[SocketError]> {
    return (this.#acceptErrorSignal ??= new Signal<[SocketError]>('acceptError'));
  }

  #engine: SocketEngine | null = null;
  #pending: QTcpSocket[] = [];
  #maxPending = 30;
  #paused = false;
  #backoffMs = 0;
  #backoffTimer: NodeJS.Timeout | null = null;
  #address = new QHostAddress();
  #path = '';
  #port = 0;
  #error = SocketError.UnknownSocketError;
  #errorString: string = Msg.unknown;
  #proxy = new QNetworkProxy(ProxyType.DefaultProxy);
  #unrefed = false;

  /**
   * Listens on `address` (default: Any, both IPv4 and IPv6) and `port` (0:
   * any free port). Sets SO_REUSEADDR as Qt does on Unix. Returns false,
   * without a signal, with serverError() set when it cannot.
   */
  listen(address: QHostAddress | string | SpecialAddress = SpecialAddress.Any, port = 0): boolean {
    checkPort(port);
    const addr = address instanceof QHostAddress ? new QHostAddress(address) : new QHostAddress(address as string);
    if (this.#engine !== null) {
      this.#setError(SocketError.OperationError, 'The server is already listening');
      return false;
    }
    if (addr.isNull()) {
      this.#setError(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
      return false;
    }
    let family = addr.protocol();
    const dualStack = family === NetworkLayerProtocol.AnyIPProtocol;
    const engine = new SocketEngine(this);
    let r = engine.open(dualStack ? NetworkLayerProtocol.IPv6Protocol : family, C.SOCK_STREAM);
    if (r === -E.EAFNOSUPPORT && dualStack) {
      // No IPv6 on this machine: Any falls back to IPv4's any address.
      family = NetworkLayerProtocol.IPv4Protocol;
      r = engine.open(family, C.SOCK_STREAM);
    }
    if (r < 0) return this.#fail(engine, mapErrno('create', -r));
    engine.setOption(C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    if (engine.family() === NetworkLayerProtocol.IPv6Protocol) {
      // The default differs between systems; Any means both families, an
      // explicit IPv6 address means IPv6 only (Qt's nativeBind does the same).
      engine.setOption(C.IPPROTO_IPV6, C.IPV6_V6ONLY, dualStack ? 0 : 1);
    }
    r = engine.bind(addr, port);
    if (r < 0) return this.#fail(engine, mapErrno('bind', -r));
    r = engine.listen(BACKLOG);
    if (r < 0) {
      const failure = r === -E.EADDRINUSE ? mapErrno('bind', -r) : mapErrno('listen', -r);
      return this.#fail(engine, failure);
    }
    const local = engine.localEndpoint();
    this.#engine = engine;
    this.#address = dualStack ? addr : (local?.address ?? addr);
    this.#port = local?.port ?? port;
    this.#error = SocketError.UnknownSocketError;
    this.#errorString = Msg.unknown;
    if (this.#unrefed) engine.unref();
    this.#syncNotifications();
    return true;
  }

  /**
   * Adopts a listening descriptor made elsewhere (systemd, a parent process).
   * Returns false with serverError() set when it is not a listening TCP
   * socket, leaving the descriptor open and untouched.
   */
  setSocketDescriptor(fd: number): boolean {
    if (typeof fd !== 'number' || !Number.isInteger(fd)) throw new TypeError(`descriptor must be an integer, got ${String(fd)}`);
    const info = new Int32Array(5);
    const r = isDescriptorNumber(fd) ? binding.describe(fd, info) : -E.EBADF;
    if (r < 0) {
      const f = mapErrno('adopt', -r);
      this.#setError(f.error, f.message);
      return false;
    }
    const [type, domain, , listening] = info;
    if (type !== C.SOCK_STREAM || (domain !== C.AF_INET && domain !== C.AF_INET6 && domain !== C.AF_UNIX) || listening === 0) {
      this.#setError(SocketError.UnsupportedSocketOperationError, `${Msg.unsupported}: not a listening stream socket`);
      return false;
    }
    const engine = new SocketEngine(this);
    const a = engine.adopt(fd, domain);
    if (a < 0) {
      const f = mapErrno('adopt', -a);
      this.#setError(f.error, f.message);
      return false;
    }
    this.close();
    this.#engine = engine;
    const local = engine.localEndpoint();
    this.#address = local?.address ?? new QHostAddress();
    this.#port = local?.port ?? 0;
    this.#path = local?.path ?? '';
    this.#error = SocketError.UnknownSocketError;
    this.#errorString = Msg.unknown;
    if (this.#unrefed) engine.unref();
    this.#syncNotifications();
    return true;
  }

  /** The listening descriptor, or -1. */
  socketDescriptor(): number {
    return this.#engine?.fd() ?? -1;
  }

  isListening(): boolean {
    return this.#engine !== null;
  }

  /** Stops listening and closes the connections that were accepted but not taken. */
  close(): void {
    this.#stopBackoff();
    if (this.#engine !== null) {
      this.#engine.close();
      this.#engine = null;
    }
    for (const s of this.#pending.splice(0)) s.abort();
    this.#address = new QHostAddress();
    this.#port = 0;
    this.#path = '';
    this.#paused = false;
  }

  serverAddress(): QHostAddress {
    return new QHostAddress(this.#address);
  }

  serverPort(): number {
    return this.#port;
  }

  /** For an adopted UNIX-domain listener, its path ('@name' when abstract); '' otherwise. Not in Qt. */
  serverPath(): string {
    return this.#path;
  }

  /**
   * Gives the listening descriptor back, open: accepting stops, connections
   * already queued stay available. Returns the descriptor or -1. Not in Qt.
   */
  detachSocketDescriptor(): number {
    const engine = this.#engine;
    if (engine === null) return -1;
    this.#stopBackoff();
    this.#engine = null;
    this.#address = new QHostAddress();
    this.#port = 0;
    this.#path = '';
    return engine.detach();
  }

  serverError(): SocketError {
    return this.#error;
  }

  errorString(): string {
    return this.#errorString;
  }

  /** How many accepted sockets may wait in the queue; above it, the kernel's backlog holds the rest. */
  setMaxPendingConnections(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`maxPendingConnections must be a non-negative integer, got ${n}`);
    this.#maxPending = n;
    this.#syncNotifications();
  }

  maxPendingConnections(): number {
    return this.#maxPending;
  }

  hasPendingConnections(): boolean {
    return this.#pending.length > 0;
  }

  /** The next accepted connection, already Connected, or null. Taking one lets accepting resume. */
  nextPendingConnection(): QTcpSocket | null {
    const s = this.#pending.shift() ?? null;
    if (s !== null) this.#syncNotifications();
    return s;
  }

  /**
   * Blocks the calling thread until a connection is accepted (true, with
   * newConnection emitted inside the call) or `msecs` pass (false; -1 waits
   * forever, 0 only looks). Qt's `bool *timedOut` out-parameter is an
   * optional object whose `value` is set: `const t = { value: false };
   * server.waitForNewConnection(100, t)`.
   */
  waitForNewConnection(msecs = 0, timedOut?: { value: boolean }): boolean {
    if (typeof msecs !== 'number' || !Number.isInteger(msecs) || msecs < -1) {
      throw new RangeError(`msecs must be an integer >= -1, got ${String(msecs)}`);
    }
    if (timedOut) timedOut.value = false;
    const engine = this.#engine;
    if (engine === null) return false;
    const end = msecs < 0 ? -1 : performance.now() + msecs;
    for (;;) {
      if (this.#pending.length >= this.#maxPending || this.#paused) {
        // Accepting is held back; only taking a connection frees it.
        if (timedOut) timedOut.value = true;
        return false;
      }
      const left = end < 0 ? -1 : Math.max(0, Math.ceil(end - performance.now()));
      const r = engine.poll(C.READABLE, left);
      if (r === 0) {
        if (timedOut) timedOut.value = true;
        this.#setError(SocketError.SocketTimeoutError, Msg.socketTimeout);
        return false;
      }
      if (r < 0 && r !== -E.EINTR) {
        const f = mapErrno('accept', -r);
        this.#setError(f.error, f.message);
        return false;
      }
      const before = this.#pending.length;
      this._readNotification();
      if (this.#pending.length > before) return true;
      // Closed by a slot, or out of descriptors (acceptError was emitted).
      if (this.#engine !== engine || this.#backoffTimer !== null) return false;
    }
  }

  /** Stops accepting; connections wait in the kernel's backlog. */
  pauseAccepting(): void {
    this.#paused = true;
    this.#syncNotifications();
  }

  resumeAccepting(): void {
    this.#paused = false;
    this.#syncNotifications();
  }

  proxy(): QNetworkProxy {
    return this.#proxy;
  }

  setProxy(proxy: QNetworkProxy): void {
    if (!(proxy instanceof QNetworkProxy)) throw new TypeError('proxy must be a QNetworkProxy');
    this.#proxy = proxy;
  }

  /** Whether the listening socket keeps the process alive (default: yes). */
  ref(): this {
    this.#unrefed = false;
    this.#engine?.ref();
    return this;
  }

  unref(): this {
    this.#unrefed = true;
    this.#engine?.unref();
    return this;
  }

  /**
   * Called with each accepted descriptor (connected, non-blocking,
   * close-on-exec). The default wraps it in a QTcpSocket and queues it with
   * addPendingConnection(); override it to wrap the descriptor yourself.
   */
  protected incomingConnection(fd: number): void {
    const socket = new QTcpSocket();
    if (!socket.setSocketDescriptor(fd)) {
      // Cannot happen for a descriptor accept() just made; never leak it.
      const orphan = new binding.Engine(); // never polled: the shared handler is never called
      orphan.adopt(fd);
      orphan.close();
      return;
    }
    this.addPendingConnection(socket);
  }

  /** Queues a socket for nextPendingConnection(); used by incomingConnection(). */
  protected addPendingConnection(socket: QTcpSocket): void {
    this.#pending.push(socket);
  }

  /** @internal EngineReceiver: connections are waiting. */
  _readNotification(): void {
    const engine = this.#engine;
    if (engine === null) return;
    while (!this.#paused && this.#pending.length < this.#maxPending) {
      const fd = engine.accept();
      if (fd >= 0) {
        this.#backoffMs = 0;
        const before = this.#pending.length;
        this.incomingConnection(fd);
        if (this.#pending.length > before) this.newConnection.emit();
        if (this.#engine !== engine) return; // a slot closed the server
        continue;
      }
      if (fd === -E.EAGAIN || fd === -E.EWOULDBLOCK) break;
      // The peer gave up before we took it: nothing to report.
      if (fd === -E.ECONNABORTED || fd === -E.EINTR || fd === -E.EPROTO) continue;
      this.#acceptFailed(-fd);
      return;
    }
    this.#syncNotifications();
  }

  /**
   * Out of descriptors (EMFILE/ENFILE) or memory: the connection stays in the
   * backlog, and readiness would be reported again at once, so accepting
   * backs off for a while instead of spinning.
   */
  #acceptFailed(errno: number): void {
    const failure = mapErrno('accept', errno);
    this.#error = failure.error;
    this.#errorString = failure.message;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs === 0 ? BACKOFF_MIN_MS : this.#backoffMs * 2);
    this.#stopBackoff();
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = null;
      this.#syncNotifications();
    }, this.#backoffMs);
    if (this.#unrefed) this.#backoffTimer.unref();
    this.#syncNotifications();
    this.acceptError.emit(failure.error);
  }

  #stopBackoff(): void {
    if (this.#backoffTimer !== null) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = null;
    }
  }

  /** @internal EngineReceiver: a listening socket is never written to. */
  _writeNotification(): void {}

  /** @internal EngineReceiver: an error condition on the listening socket; its SO_ERROR is collected. */
  _exceptionNotification(_status: number): void {
    const engine = this.#engine;
    if (engine === null) return;
    const err = engine.socketError();
    if (err > 0) {
      const f = mapErrno('accept', err);
      this.#setError(f.error, f.message);
      this.acceptError.emit(f.error);
    }
    this.#syncNotifications();
  }

  #syncNotifications(): void {
    this.#engine?.setReadNotificationEnabled(
      !this.#paused && this.#backoffTimer === null && this.#pending.length < this.#maxPending,
    );
  }

  #fail(engine: SocketEngine, failure: { error: SocketError; message: string }): false {
    engine.close();
    this.#setError(failure.error, failure.message);
    return false;
  }

  #setError(error: SocketError, message: string): void {
    this.#error = error;
    this.#errorString = message;
  }
}
