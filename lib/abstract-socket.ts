// QAbstractSocket: Qt's state machine, buffers and signals over one native
// engine. Every rule here is Qt 6's unless a comment says otherwise; the
// numbered rules of SPEC.md are cited as (Qt rule N).
//
// Design: a chain of classes, one file each: socket-base.ts (state, errors,
// endpoints, options) < socket-io.ts (buffers, read/write paths, disconnect) <
// socket-connect.ts (lookup, connect, proxy tunnel) < socket-adoption.ts
// (adopting, passing descriptors) < this file (the blocking waits). A chain,
// not helpers behind an interface object, so the hot paths still read fields
// and call methods on `this`; #fields used across files became protected _fields.
import { C, E } from './binding';
import {
  BindFlag,
  NetworkLayerProtocol,
  PauseMode,
  ProxyCapability,
  SocketError,
  SocketOption,
  SocketState,
  SocketType,
} from './enums';
import { Msg } from './errors';
import { QHostAddress } from './host-address';
import { checkSize } from './io-device';
import { LookupAddress, LookupSyncFunction, SocketOptions, familyOf, nativeLookupSync } from './lookup';
import { READ_CHUNK } from './socket-io';
import { SocketAdoption } from './socket-adoption';

export type { LookupAddress, LookupFunction, LookupSyncFunction, SocketOptions } from './lookup';
export type { AdoptOptions } from './socket-adoption';
export { checkPort, isDescriptorNumber } from './socket-base';

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

/**
 * The base of QTcpSocket and QUdpSocket, after Qt's QAbstractSocket: the
 * connection state machine, Qt's signals and errors, a bounded read buffer
 * and a write buffer flushed when the current JS task ends.
 */
export class QAbstractSocket extends SocketAdoption {
  static readonly SocketType = SocketType;
  static readonly SocketState = SocketState;
  static readonly SocketError = SocketError;
  static readonly SocketOption = SocketOption;
  static readonly NetworkLayerProtocol = NetworkLayerProtocol;
  static readonly BindFlag = BindFlag;
  static readonly PauseMode = PauseMode;

  #lookupSync: LookupSyncFunction | null;
  #busyPollUs = 0;

  constructor(socketType: SocketType, options: SocketOptions = {}) {
    super(socketType, options);
    this.#lookupSync = options.lookupSync ?? null;
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
    if (this._state === SocketState.ConnectedState) return true;
    if (this._state === SocketState.UnconnectedState || this._state === SocketState.BoundState) return false;
    if (this._state === SocketState.HostLookupState) {
      const family = familyOf(this._protocol);
      this._lookupId++; // the asynchronous lookup's answer is no longer wanted
      let list: LookupAddress[] = [];
      let timedOut = false;
      const tunnel = this._tunnel;
      if (tunnel !== null && tunnel.target.isName && (tunnel.proxy.capabilities() & ProxyCapability.HostNameLookupCapability) === 0) {
        // A proxy that cannot resolve names gets the destination's address.
        let target: LookupAddress | undefined;
        try {
          target = (this.#lookupSync ?? nativeLookupSync)(tunnel.target.host, family, left())[0];
        } catch (err) {
          if ((err as NodeJS.ErrnoException)?.code === 'ETIMEOUT') return this.#connectTimedOut();
        }
        if (target === undefined) {
          this._failConnect({ error: SocketError.HostNotFoundError, message: Msg.hostNotFound }, false);
          return false;
        }
        tunnel.target = { host: target.address, port: this._port, isName: false };
      }
      try {
        list = (this.#lookupSync ?? nativeLookupSync)(this._connectHost, this._tunnel ? 0 : family, left());
      } catch (err) {
        timedOut = (err as NodeJS.ErrnoException)?.code === 'ETIMEOUT';
      }
      if (timedOut) return this.#connectTimedOut();
      this._startConnecting(
        list.map((a) => new QHostAddress(a.address)).filter((a) => !a.isNull()),
        false,
      );
    }
    while (this._state === SocketState.ConnectingState) {
      const engine = this._activeEngine;
      if (engine === null) break;
      const tunnel = this._tunnel;
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
      if (negotiating) this._tunnelRead();
      else this._testConnection();
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

  #connectTimedOut(): false {
    this._stopConnectTimer();
    this._tunnel?.cancel();
    this._tunnel = null;
    this._lookupId++;
    this._closeEngine();
    this._addresses = [];
    this._error = SocketError.SocketTimeoutError;
    this.setErrorString(Msg.socketTimeout);
    this._setState(SocketState.UnconnectedState);
    return false;
  }

  #waitTimedOut(): false {
    this._setErrorAndEmit(SocketError.SocketTimeoutError, Msg.socketTimeout);
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
    if (this._state === SocketState.UnconnectedState) return false;
    if (
      (this._state === SocketState.HostLookupState || this._state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    const start = this._readyReadCount;
    for (;;) {
      const engine = this._activeEngine;
      if (engine === null || (this._state !== SocketState.ConnectedState && this._state !== SocketState.BoundState)) return false;
      // Output first, without waiting: in a request/response loop it is the
      // request this wait is for.
      if (!this._writeBuffer.isEmpty()) this._flushWriteBuffer();
      if (this._activeEngine !== engine) return false;
      if (this._writeBuffer.isEmpty() && this._wantsRead() && this._type === SocketType.TcpSocket && !this._passDescriptors) {
        // The common case: one recv that sleeps in the kernel, as a blocking
        // C client would.
        const q = this._buffer;
        const limit = this._readBufferSize > 0 ? Math.min(READ_CHUNK, this._readBufferSize - q.size()) : READ_CHUNK;
        const want = Math.min(limit, q.reserve(1));
        const n = engine.recvWait(q.store(), q.end(), want, left(), this.#busyPollUs);
        if (n === -E.EAGAIN || n === -E.EWOULDBLOCK) {
          if (left() === 0) return this.#waitTimedOut();
          continue;
        }
        if (n === -E.EINTR) continue;
        this._blockingRead(n, want);
        if (this._readyReadCount !== start) return true;
        continue;
      }
      const events = C.READABLE | (this._writeBuffer.isEmpty() ? 0 : C.WRITABLE);
      const r = engine.poll(events, left(), this.#busyPollUs);
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & C.WRITABLE) this._flushWriteBuffer();
      if (r & (C.READABLE | C.DISCONNECT | C.ERROR) && this._activeEngine === engine) {
        if (r & C.ERROR && !(r & C.READABLE)) this._exceptionNotification(-E.EBADF);
        else this._readNotification();
      }
      if (this._readyReadCount !== start) return true;
      if (!this._wantsRead() && this._writeBuffer.isEmpty()) {
        // The read buffer is full: nothing can arrive until it is read.
        if (left() === 0) return this.#waitTimedOut();
        if (this._state === SocketState.ConnectedState) return false;
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
    if (this._unreported > 0 && this._flushWriteBuffer()) return true;
    if (this._state === SocketState.UnconnectedState || this._writeBuffer.isEmpty()) return false;
    if (
      (this._state === SocketState.HostLookupState || this._state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    for (;;) {
      const engine = this._activeEngine;
      if (engine === null || this._writeBuffer.isEmpty()) return false;
      if (this._state !== SocketState.ConnectedState && this._state !== SocketState.ClosingState) return false;
      // Try first: when the kernel has room, that is the whole wait, and
      // asking poll() first would cost a system call for nothing.
      if (this._flushWriteBuffer()) return true;
      if (this._activeEngine !== engine || this._writeBuffer.isEmpty()) return false;
      // Reading too, so that a peer that only drains after we read it back
      // (an echo server, say) cannot deadlock us.
      const events = C.WRITABLE | (this._wantsRead() ? C.READABLE : 0);
      const r = engine.poll(events, left());
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & (C.READABLE | C.DISCONNECT) && this._state === SocketState.ConnectedState) this._readNotification();
      if (r & (C.WRITABLE | C.ERROR) && this._activeEngine === engine && this._flushWriteBuffer()) return true;
      if (r & C.ERROR && this._activeEngine === engine) this._exceptionNotification(-E.EBADF);
    }
  }

  /**
   * Blocks until the socket is Unconnected (true): after disconnectFromHost()
   * while the write buffer drains, or until the peer closes. False at once
   * when already Unconnected; on time-out, SocketTimeoutError is emitted.
   */
  waitForDisconnected(msecs = 30000): boolean {
    const left = deadline(checkWaitTime(msecs));
    if (this._state === SocketState.UnconnectedState) return false;
    if (
      (this._state === SocketState.HostLookupState || this._state === SocketState.ConnectingState) &&
      !this.waitForConnected(left())
    ) {
      return false;
    }
    while (this.state() !== SocketState.UnconnectedState) {
      // A direct write not yet announced: announcing it is what finishes a Closing socket.
      if (this._unreported > 0) {
        this._flushWriteBuffer();
        continue;
      }
      const engine = this._activeEngine;
      if (engine === null) break;
      const reading = this._state === SocketState.ConnectedState;
      const events = (reading ? C.READABLE : 0) | (this._writeBuffer.isEmpty() ? 0 : C.WRITABLE);
      if (events === 0) break; // nothing can change the state any more
      const r = engine.poll(events, left());
      if (r === 0) return this.#waitTimedOut();
      if (r < 0) {
        if (r === -E.EINTR) continue;
        return false;
      }
      if (r & C.WRITABLE) this._flushWriteBuffer();
      if (reading && r & (C.READABLE | C.DISCONNECT | C.ERROR) && this._activeEngine === engine) {
        const before = this._buffer.size();
        this._readNotification();
        // A full read buffer makes no progress: drop what cannot be read,
        // since the caller is waiting for the end, not for data.
        if (this._buffer.size() === before && !this._wantsRead() && this._state === SocketState.ConnectedState) {
          return this.#waitTimedOut();
        }
      }
    }
    return this.state() === SocketState.UnconnectedState;
  }
}
