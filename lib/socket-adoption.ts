// Descriptors, for QAbstractSocket (see abstract-socket.ts): adopting one
// made elsewhere (the kernel's view of it corrects the state asked for),
// giving it back, installing a subclass's own engine, and passing
// descriptors over a UNIX-domain stream (SCM_RIGHTS).
import { binding, C, E } from './binding';
import { OpenMode, SocketError, SocketState } from './enums';
import { Msg, mapErrno, SocketFailure } from './errors';
import { WritableData, toOwnedBuffer } from './io-device';
import { SocketEngine } from './native-engine';
import { isDescriptorNumber } from './socket-base';
import { SocketConnect } from './socket-connect';

/** How setSocketDescriptor() adopts a descriptor, beyond Qt's arguments. */
export interface AdoptOptions {
  /**
   * With a ReadOnly or WriteOnly mode, also shut down the unused direction
   * in the kernel (shutdown(2)); by default the mode only limits this object.
   */
  shutdownUnusedDirection?: boolean;
}

/** @internal QAbstractSocket's descriptor adoption and passing; see SocketBase. */
export abstract class SocketAdoption extends SocketConnect {
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
      this._error = failure.error;
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

    this._installEngine(engine, mode);
    this._unixDomain = domain === C.AF_UNIX;
    if (options.shutdownUnusedDirection && state === SocketState.ConnectedState) {
      // The kernel is told too, so the peer sees the end of a direction
      // this side will never use (SHUT_WR sends a FIN).
      if ((mode & OpenMode.ReadWrite) === OpenMode.ReadOnly) engine.shutdown(C.SHUT_WR);
      else if ((mode & OpenMode.ReadWrite) === OpenMode.WriteOnly) engine.shutdown(C.SHUT_RD);
    }
    if (state !== this._state) this._setState(state);
    else this._syncNotifications();
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
    const engine = this._activeEngine;
    if (engine === null) return -1;
    if (!this._writeBuffer.isEmpty()) this._flushWriteBuffer();
    if (!this._writeBuffer.isEmpty()) {
      this._error = SocketError.OperationError;
      this.setErrorString('Output is still buffered: flush it before detaching the descriptor');
      return -1;
    }
    this._activeEngine = null;
    const fd = engine.detach();
    this._stopConnectTimer();
    this._tunnel?.cancel();
    this._tunnel = null;
    this._lookupId++;
    this._clearEndpoints();
    this._setState(SocketState.UnconnectedState);
    return fd;
  }

  /**
   * Lets this (UNIX-domain stream) socket receive descriptors: reads use
   * recvmsg and each batch that arrives is emitted as descriptorsReceived.
   * Without it, descriptors sent to the socket are closed by the kernel.
   * Not in Qt.
   */
  setDescriptorPassing(on: boolean): void {
    this._passDescriptors = on === true;
    this._syncNotifications(); // the engine's own reads would drop the descriptors
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
    const engine = this._activeEngine;
    if (engine === null || this._state !== SocketState.ConnectedState) {
      this._error = SocketError.UnknownSocketError;
      this.setErrorString(Msg.notConnected);
      return false;
    }
    // Bytes written earlier go first, so the descriptors arrive where the
    // byte stream says they do.
    this._flushWriteBuffer();
    if (!this._writeBuffer.isEmpty()) {
      this._setErrorAndEmit(SocketError.TemporaryError, 'Output is still buffered: wait for bytesWritten, then send the descriptors');
      return false;
    }
    const payload = toOwnedBuffer(data);
    const body = payload.length > 0 ? payload : Buffer.alloc(1);
    const n = binding.sendFds(engine.fd(), body, Int32Array.from(fds));
    if (n < 0) {
      const f = mapErrno('write', -n);
      this._setErrorAndEmit(f.error, f.message);
      return false;
    }
    // The descriptors went with the first byte; the rest is ordinary output.
    if (n < body.length) {
      this._writeBuffer.append(body.subarray(n));
      this._queueFlush();
    }
    return true;
  }

  /** Qt's resetSocketLayer: drops the old connection without any signal. */
  #resetSilently(): void {
    this._lookupId++;
    this._stopConnectTimer();
    this._tunnel?.cancel();
    this._tunnel = null;
    this._closeEngine();
    this._buffer.clear();
    this._writeBuffer.clear();
    this._unreported = 0;
    this._addresses = [];
    this._pendingClose = false;
    this._abortCalled = false;
    this._clearEndpoints();
    this._hostName = '';
    this._unixDomain = false;
  }

  /**
   * @internal For subclasses that make their own descriptor (QUdpSocket's
   * bind): installs `engine` as this socket's, opens the device and reads
   * the local endpoint, without any signal.
   */
  protected _installEngine(engine: SocketEngine, mode: OpenMode = OpenMode.ReadWrite): void {
    this.#resetSilently();
    this._activeEngine = engine;
    this._applyPendingOptions(engine);
    this._error = SocketError.UnknownSocketError;
    this.setErrorString(Msg.unknown);
    this.open(mode);
    this._fetchEndpoints();
  }
}
