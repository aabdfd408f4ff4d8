// The hot half of QAbstractSocket (see abstract-socket.ts): the buffers, the
// read path, the write path, disconnecting and the readiness interest. The
// fields only this file uses stay #private; what the layers above need is
// protected.
import { binding, E } from './binding';
import { SocketError, SocketState, SocketType } from './enums';
import { Msg, mapErrno } from './errors';
import { checkSize } from './io-device';
import { EngineReceiver, NOT_READ, SocketEngine } from './native-engine';
import { reportSlotError, Signal } from './signal';
import { WriteRing } from './write-ring';
import { SocketBase } from './socket-base';

/** From this size on, a write with nothing queued before it is sent at once instead of copied. */
const DIRECT_WRITE_MIN = 16 * 1024;
/** @internal Bytes pulled from the kernel per recv at most. */
export const READ_CHUNK = 64 * 1024;
/** recv calls per readiness event at most, so one busy socket cannot starve the loop. */
const READS_PER_EVENT = 16;

// One scratch buffer per environment for a proxy's answers during a tunnel
// negotiation; what a read returns is copied out at once. Ordinary reads go
// straight into the socket's read buffer.
const readScratch = Buffer.allocUnsafe(READ_CHUNK);

const fdScratch = new Int32Array(65);

/** What write flushes are chained to (see _queueFlush). */
const RESOLVED = Promise.resolve();

/** The first `n` bytes of the read scratch, in a Buffer of their own (one allocation, from Node's pool when small). */
function copyOut(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  readScratch.copy(out, 0, 0, n);
  return out;
}

/** @internal QAbstractSocket's buffers and I/O over its engine; see SocketBase. */
export abstract class SocketIO extends SocketBase implements EngineReceiver {
  #disconnectedSignal?: Signal<[]>;
  /** Emitted when a connected socket has disconnected. */
  get disconnected(): Signal<[]> {
    return (this.#disconnectedSignal ??= new Signal<[]>('disconnected'));
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

  /** @internal */
  protected readonly _writeBuffer = new WriteRing();
  /** @internal */
  protected _readBufferSize = 0;
  /** @internal */
  protected _pendingClose = false;
  /** @internal */
  protected _abortCalled = false;
  #flushQueued = false;
  /** @internal Bytes sent directly by writeData and not yet announced by bytesWritten. */
  protected _unreported = 0;
  // Made on the first write and kept: a write per message must not also cost
  // a closure per message, and a socket that never writes need not hold one.
  #flushTask: (() => void) | null = null;
  #emittingReadyRead = false;
  #emittingBytesWritten = false;
  /** @internal Counts readyRead emissions, for waitForReadyRead. */
  protected _readyReadCount = 0;
  /** @internal */
  protected _passDescriptors = false;
  #receivedFds: number[] | null = null;

  /** @internal A pending connect finished: Connected, or on to the next address. */
  protected abstract _testConnection(): void;

  // ---- buffers ------------------------------------------------------------

  /** The read buffer's limit in bytes; 0 means unlimited. */
  readBufferSize(): number {
    return this._readBufferSize;
  }

  /**
   * Caps the read buffer at `size` bytes (0: no cap). When it is full the
   * socket stops reading from the kernel, so the peer's sends back up.
   */
  setReadBufferSize(size: number): void {
    this._readBufferSize = checkSize('size', size);
    this.#syncNotifications();
  }

  override bytesToWrite(): number {
    return this._writeBuffer.size();
  }

  /**
   * Writes as much of the write buffer as the kernel takes now, without
   * blocking. Returns true if any byte was written.
   */
  flush(): boolean {
    return this._flushWriteBuffer();
  }

  // ---- disconnecting ------------------------------------------------------

  /**
   * Closes the connection once the write buffer has drained (ClosingState
   * meanwhile); while still connecting, waits for the connection first.
   * Emits disconnected if the socket was connected.
   */
  disconnectFromHost(): void {
    if (this._state === SocketState.UnconnectedState) return;
    if (
      !this._abortCalled &&
      (this._state === SocketState.ConnectingState || this._state === SocketState.HostLookupState)
    ) {
      this._pendingClose = true;
      return;
    }
    if (this._abortCalled) {
      this._lookupId++; // a lookup still running is forgotten
    } else {
      if (this._state !== SocketState.ClosingState) {
        this._setState(SocketState.ClosingState);
        if (this.state() !== SocketState.ClosingState) return;
      }
      // Bytes still to go, or sent directly and not yet announced: Closing
      // first, so that bytesWritten comes before disconnected.
      if (this._activeEngine !== null && this._activeEngine.isOpen() && (!this._writeBuffer.isEmpty() || this._unreported > 0)) {
        this.#syncNotifications();
        this._queueFlush();
        return;
      }
    }
    this.#finishDisconnect();
  }

  #finishDisconnect(): void {
    const previous = this._state;
    this._stopConnectTimer();
    this._tunnel?.cancel();
    this._tunnel = null;
    this._closeEngine();
    this._addresses = [];
    this._writeBuffer.clear();
    this._unreported = 0;
    this._setState(SocketState.UnconnectedState);
    this.readChannelFinished.emit();
    if (previous === SocketState.ConnectedState || previous === SocketState.ClosingState) this.#disconnectedSignal?.emit();
    // A slot may have started a new connection; its endpoints must survive.
    if (this._state === SocketState.UnconnectedState && this._activeEngine === null) this._clearEndpoints();
  }

  /**
   * Drops both buffers and closes at once: Unconnected before it returns;
   * disconnected fires only if the socket was connected.
   */
  abort(): void {
    this._writeBuffer.clear();
    this._abortCalled = true;
    this.close();
  }

  /**
   * Emits aboutToClose, drops the read buffer and disconnects; bytes still
   * in the write buffer go out first.
   */
  override close(): void {
    super.close();
    if (this._state !== SocketState.UnconnectedState) this.disconnectFromHost();
    if (this._state === SocketState.UnconnectedState && this._activeEngine === null) this._clearEndpoints();
  }

  // ---- reading ------------------------------------------------------------

  /** @internal EngineReceiver: the descriptor is readable. */
  _readNotification(ahead: number = NOT_READ): void {
    if (this._tunnel?.isNegotiating() && this._state === SocketState.ConnectingState) {
      this._tunnelRead();
      return;
    }
    if (this._state !== SocketState.ConnectedState || this._activeEngine === null) return;
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
        if (this._readBufferSize > 0) want = Math.min(want, this._readBufferSize - q.size());
        if (want <= 0) break;
        // A first read takes the room there is; after a full one, make room for a whole chunk.
        want = Math.min(want, q.reserve(i === 0 ? 1 : want));
        n = this._passDescriptors ? this.#readWithDescriptors(want) : this._activeEngine.read(q.store(), q.end(), want);
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
    if (this.#receivedFds !== null) {
      const fds = this.#receivedFds;
      this.#receivedFds = null;
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
    this._readyReadCount++;
    this.readyRead.emit();
  }

  /** recvmsg into the read buffer's room, collecting SCM_RIGHTS → bytes | -errno. */
  #readWithDescriptors(want: number): number {
    const q = this._buffer;
    const n = binding.recvFds(this._activeEngine!.fd(), q.store().subarray(q.end(), q.end() + want), fdScratch);
    for (let i = 0; i < fdScratch[0]; i++) (this.#receivedFds ??= []).push(fdScratch[1 + i]);
    return n;
  }

  /** @internal Reads the proxy's answer during a negotiation and hands it to the tunnel. */
  protected _tunnelRead(): void {
    const engine = this._activeEngine;
    const tunnel = this._tunnel;
    if (engine === null || tunnel === null) return;
    const n = engine.read(readScratch, 0, READ_CHUNK);
    if (n > 0) tunnel.feed(copyOut(n));
    else if (n === 0 || (n !== -E.EAGAIN && n !== -E.EWOULDBLOCK && n !== -E.EINTR)) tunnel.closed();
  }

  #emitReadyRead(): void {
    this._readyReadCount++;
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
    if (reset) this._writeBuffer.clear();
    this._setErrorAndEmit(SocketError.RemoteHostClosedError, Msg.remoteClosed);
    if (this._state === SocketState.ConnectedState || this._state === SocketState.ClosingState) this.disconnectFromHost();
  }

  #readFailed(errno: number): void {
    const failure = mapErrno('read', errno);
    if (failure.error === SocketError.RemoteHostClosedError) {
      this.#remoteClosed(true);
      return;
    }
    this._setErrorAndEmit(failure.error, failure.message);
    if (this._state === SocketState.ConnectedState) this.#hardClose();
  }

  /** Closes at once, like abort(), but keeps what is in the read buffer readable. */
  #hardClose(): void {
    this._writeBuffer.clear();
    this._abortCalled = true;
    this.disconnectFromHost();
  }

  protected override _bufferConsumed(): void {
    if (this._readBufferSize > 0) this.#syncNotifications();
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
      this._state === SocketState.ConnectedState &&
      this._type !== SocketType.UdpSocket &&
      !this._passDescriptors &&
      this._tunnel?.isNegotiating() !== true
    ) {
      max = this._readBufferSize > 0 ? Math.max(0, this._readBufferSize - q.size()) : READ_CHUNK;
    }
    q.setReadAhead(max);
    // The store exists once something was read; until then every event reads from here.
    if (max > 0 && q.store().length > 0) engine.setReadArea(q.store());
  }

  /** @internal readyRead, unless already inside its slots (as the read path emits it). */
  protected _emitReadyReadOnce(): void {
    this.#emitReadyRead();
  }

  /** @internal Takes what recvWait returned as the event loop's read would have. */
  protected _blockingRead(n: number, want: number): void {
    if (n > 0) {
      this._buffer.commit(n);
      // A full chunk may have more behind it: the ordinary read takes the
      // rest (and the end of stream, if it follows) and emits readyRead.
      if (n === want && this._wantsRead()) {
        const before = this._readyReadCount;
        this._readNotification();
        if (this._readyReadCount !== before) return;
      }
      this.#syncNotifications();
      this.#emitReadyRead();
      return;
    }
    if (n === 0) this.#remoteClosed(false);
    else this.#readFailed(-n);
  }

  // ---- writing ------------------------------------------------------------

  /**
   * Appends to the write buffer and returns the full length, even while
   * still connecting (Qt rule 5). The bytes leave when the current JS task
   * ends, on flush(), or in a waitFor* call. -1 when the socket is not connected.
   */
  protected writeData(data: Buffer, _owned: boolean): number {
    if (
      this._state === SocketState.UnconnectedState ||
      this._state === SocketState.BoundState ||
      (this._activeEngine === null && this._state !== SocketState.HostLookupState)
    ) {
      // Qt's writeData reports this as UnknownSocketError with this text.
      this._error = SocketError.UnknownSocketError;
      this.setErrorString(Msg.notConnected);
      return -1;
    }
    const engine = this._activeEngine;
    if (
      data.length >= DIRECT_WRITE_MIN &&
      this._writeBuffer.isEmpty() &&
      engine !== null &&
      (this._state === SocketState.ConnectedState || this._state === SocketState.ClosingState)
    ) {
      // A large write with nothing queued before it goes to the kernel now,
      // so that only what the kernel does not take is copied (a bulk sender
      // would otherwise copy every chunk). bytesWritten still comes when the
      // task ends, as for any write.
      const n = engine.write(data, 0, data.length);
      if (n > 0) {
        this._unreported += n;
        if (n < data.length) this._writeBuffer.append(data.subarray(n));
        this._queueFlush();
        return data.length;
      }
      // EAGAIN, or an error that the queued flush will meet and report.
    }
    this._writeBuffer.append(data); // a copy, into storage the socket reuses
    if (this._state === SocketState.ConnectedState || this._state === SocketState.ClosingState) this._queueFlush();
    return data.length;
  }

  /** @internal */
  protected _queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // A microtask, as queueMicrotask would make, but without the AsyncResource
    // and bound function that node's queueMicrotask allocates for each call.
    void RESOLVED.then(
      (this.#flushTask ??= () => {
        this.#flushQueued = false;
        try {
          this._flushWriteBuffer();
        } catch (error) {
          reportSlotError(error); // a bug of ours must not become an unhandled rejection
        }
      }),
    );
  }

  /** @internal EngineReceiver: the descriptor is writable. */
  _writeNotification(): void {
    if (this._state === SocketState.ConnectingState) {
      if (!this._tunnel?.isNegotiating()) this._testConnection();
      return;
    }
    this._flushWriteBuffer();
  }

  /**
   * @internal EngineReceiver: the descriptor has an error condition. libuv
   * says EBADF for any POLLERR, so the socket itself is asked what it was:
   * SO_ERROR while connecting, else the data and error that recv reports.
   */
  _exceptionNotification(_status: number): void {
    const engine = this._activeEngine;
    if (engine === null) return;
    if (this._state === SocketState.ConnectingState) {
      if (this._tunnel?.isNegotiating()) this._tunnelRead();
      else this._testConnection();
      return;
    }
    if (this._state === SocketState.ConnectedState) this._readNotification();
    if (this._activeEngine !== engine || this.state() === SocketState.UnconnectedState) return;
    const err = engine.socketError();
    if (err > 0) {
      this.#readFailed(err);
      return;
    }
    this.#syncNotifications();
  }

  /** @internal Sends what the kernel takes now and announces it (bytesWritten); true if any byte went. */
  protected _flushWriteBuffer(): boolean {
    const engine = this._activeEngine;
    if (engine === null || (this._state !== SocketState.ConnectedState && this._state !== SocketState.ClosingState)) {
      this._unreported = 0; // the connection they went out on is gone
      return false;
    }
    // Bytes that writeData sent directly are reported here, with the rest.
    let written = this._unreported;
    this._unreported = 0;
    if (written === 0 && this._writeBuffer.isEmpty()) return false;
    let failure = 0;
    const q = this._writeBuffer;
    while (!q.isEmpty()) {
      // What was queued is one range (two when the ring wraps): one send,
      // whatever the number of writes.
      const want = q.contiguous();
      const n = engine.write(q.store(), q.head(), want);
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
        this._setErrorAndEmit(f.error, f.message);
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
    if (this._writeBuffer.isEmpty() && this._state === SocketState.ClosingState && this._activeEngine === engine) {
      this.disconnectFromHost();
    }
    return written > 0;
  }

  // ---- internals ----------------------------------------------------------

  /** Read interest while connected and the buffer has room; write interest while connecting or holding output. */
  #syncNotifications(): void {
    const engine = this._activeEngine;
    if (engine === null || !engine.isOpen()) return;
    const connected = this._state === SocketState.ConnectedState;
    this.#syncReadAhead(engine);
    engine.setReadNotificationEnabled(this._wantsRead());
    const negotiating = this._tunnel?.isNegotiating() === true;
    engine.setWriteNotificationEnabled(
      (this._state === SocketState.ConnectingState && !negotiating) ||
        ((connected || this._state === SocketState.ClosingState) && !this._writeBuffer.isEmpty()),
    );
  }

  /** @internal Whether to watch for readability now: connected, and the read buffer has room. */
  protected _wantsRead(): boolean {
    if (this._state === SocketState.ConnectingState) return this._tunnel?.isNegotiating() === true;
    return (
      this._state === SocketState.ConnectedState &&
      (this._readBufferSize === 0 || this._buffer.size() < this._readBufferSize)
    );
  }

  /** @internal For subclasses: re-evaluate which readiness events to watch. */
  protected _syncNotifications(): void {
    this.#syncNotifications();
  }

  /** @internal For subclasses: change state and emit stateChanged. */
  protected _setState(state: SocketState): void {
    if (this._state === state) return;
    this._state = state;
    this.#syncNotifications();
    this.#stateChangedSignal?.emit(state);
  }
}
