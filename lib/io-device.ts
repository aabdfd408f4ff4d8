// QIODevice: the byte-device half of a socket. Buffered reads come from a
// ByteQueue that the subclass fills; writes go to the subclass's writeData.
import { OpenMode } from './enums';
import { Msg } from './errors';
import { ByteQueue } from './byte-queue';
import { Signal } from './signal';

/** What `write()` accepts: bytes as they are, or a string encoded as UTF-8. */
export type WritableData = Buffer | Uint8Array | string;

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;

/** @internal Validates a maxSize argument: a non-negative integer. */
export function checkSize(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** @internal Converts write() input to a Buffer that the caller can no longer change. */
export function toOwnedBuffer(data: WritableData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data); // a copy, as Qt copies into its write buffer
  throw new TypeError('data must be a Buffer, a Uint8Array or a string');
}

/**
 * The base of every qsocket device, after Qt's QIODevice: an open mode,
 * buffered reading (read, readLine, peek, getChar, ungetChar) and writing.
 * Sockets are sequential devices: there is no seek.
 */
export abstract class QIODevice {
  static readonly OpenMode = OpenMode;

  #readyReadSignal?: Signal<[]>;
  /** Emitted when new data can be read; not re-emitted from inside its own slots. */
  get readyRead(): Signal<[]> {
    return (this.#readyReadSignal ??= new Signal<[]>('readyRead'));
  }
  #bytesWrittenSignal?: Signal<[number]>;
  /** Emitted with the number of bytes the OS took from the write buffer. */
  get bytesWritten(): Signal<[number]> {
    return (this.#bytesWrittenSignal ??= new Signal<[number]>('bytesWritten'));
  }
  #aboutToCloseSignal?: Signal<[]>;
  /** Emitted by close() before the device closes. */
  get aboutToClose(): Signal<[]> {
    return (this.#aboutToCloseSignal ??= new Signal<[]>('aboutToClose'));
  }
  #readChannelFinishedSignal?: Signal<[]>;
  /** Emitted when no more data will arrive (the read channel closed). */
  get readChannelFinished(): Signal<[]> {
    return (this.#readChannelFinishedSignal ??= new Signal<[]>('readChannelFinished'));
  }

  /** @internal The read buffer, filled by the subclass (its store doubles as the engine's read area). */
  protected readonly _buffer = new ByteQueue();
  #openMode: OpenMode = OpenMode.NotOpen;
  #errorString: string = Msg.unknown;

  /** Opens the device in `mode`; returns true. */
  open(mode: OpenMode): boolean {
    this.#openMode = mode;
    return true;
  }

  /** Emits aboutToClose, drops the read buffer and sets the mode to NotOpen. */
  close(): void {
    if (this.#openMode === OpenMode.NotOpen) return;
    this.aboutToClose.emit();
    this.#openMode = OpenMode.NotOpen;
    this._buffer.clear();
  }

  openMode(): OpenMode {
    return this.#openMode;
  }

  /** Changes the mode without opening or closing anything (Qt's protected setOpenMode). */
  setOpenMode(mode: OpenMode): void {
    this.#openMode = mode;
  }

  isOpen(): boolean {
    return this.#openMode !== OpenMode.NotOpen;
  }

  isReadable(): boolean {
    return (this.#openMode & OpenMode.ReadOnly) !== 0;
  }

  isWritable(): boolean {
    return (this.#openMode & OpenMode.WriteOnly) !== 0;
  }

  /** Always true: sockets have no position to seek to. */
  isSequential(): boolean {
    return true;
  }

  /** A human-readable description of the last error. */
  errorString(): string {
    return this.#errorString;
  }

  protected setErrorString(text: string): void {
    this.#errorString = text;
  }

  /** Bytes waiting in the read buffer. */
  bytesAvailable(): number {
    return this._buffer.size();
  }

  /** Bytes waiting to be written; 0 for an unbuffered device. */
  bytesToWrite(): number {
    return 0;
  }

  /** True when a whole line (ending in '\n') is buffered. */
  canReadLine(): boolean {
    return this._buffer.indexOf(NEWLINE) !== -1;
  }

  /** True when the device is closed or nothing is buffered. */
  atEnd(): boolean {
    return !this.isOpen() || this._buffer.size() === 0;
  }

  /**
   * Reads at most `maxSize` bytes, into a Buffer of their own. Returns an
   * empty Buffer when nothing is buffered or the device is not open for
   * reading. readInto() reads without allocating.
   */
  read(maxSize: number): Buffer {
    checkSize('maxSize', maxSize);
    if (!this.#checkReadable()) return EMPTY;
    const out = this._buffer.read(maxSize);
    if (out.length > 0) this._bufferConsumed();
    return out;
  }

  /**
   * Qt's `read(char *data, qint64 maxSize)`: copies at most `length` bytes
   * (default: what fits after `offset`) into `target` at `offset` and
   * returns how many, 0 when nothing is buffered, or -1 when the device is
   * not open for reading. Allocates nothing: the way to read on a hot path.
   */
  readInto(target: Uint8Array, offset = 0, length?: number): number {
    const [off, len] = checkTarget(target, offset, length);
    if (!this.#checkReadable()) return -1;
    const n = this._buffer.readInto(target, off, len);
    if (n > 0) this._bufferConsumed();
    return n;
  }

  /**
   * Drops at most `maxSize` buffered bytes without copying them (Qt 5.10's
   * QIODevice::skip) and returns how many, or -1 when the device is not open
   * for reading. Unlike Qt it does not wait for more bytes to arrive.
   */
  skip(maxSize: number): number {
    checkSize('maxSize', maxSize);
    if (!this.#checkReadable()) return -1;
    const n = this._buffer.skip(maxSize);
    if (n > 0) this._bufferConsumed();
    return n;
  }

  /** Reads everything that is buffered. */
  readAll(): Buffer {
    if (!this.#checkReadable()) return EMPTY;
    const out = this._buffer.read(this._buffer.size());
    if (out.length > 0) this._bufferConsumed();
    return out;
  }

  /**
   * Reads up to and including the next '\n', or at most `maxSize` bytes (0:
   * no limit). Without a whole line buffered it returns what there is.
   */
  readLine(maxSize = 0): Buffer {
    checkSize('maxSize', maxSize);
    if (!this.#checkReadable()) return EMPTY;
    const limit = maxSize === 0 ? this._buffer.size() : maxSize;
    const nl = this._buffer.indexOf(NEWLINE, limit);
    const out = this._buffer.read(nl === -1 ? limit : nl + 1);
    if (out.length > 0) this._bufferConsumed();
    return out;
  }

  /** Like read(), but leaves the bytes in the buffer. */
  peek(maxSize: number): Buffer {
    checkSize('maxSize', maxSize);
    if (!this.#checkReadable()) return EMPTY;
    return this._buffer.peek(maxSize);
  }

  /** Reads one byte; null when nothing is buffered. Qt returns it through a char* and a bool. */
  getChar(): number | null {
    if (!this.#checkReadable() || this._buffer.isEmpty()) return null;
    const byte = this._buffer.at(0);
    this._buffer.skip(1);
    this._bufferConsumed();
    return byte;
  }

  /** Puts one byte back at the front of the read buffer. */
  ungetChar(c: number | string): void {
    const byte = toByte(c);
    if (!this.#checkReadable()) return;
    this._buffer.prepend(Uint8Array.of(byte));
    this._bufferConsumed();
  }

  /** Writes one byte; true on success. */
  putChar(c: number | string): boolean {
    return this.write(Buffer.from([toByte(c)])) === 1;
  }

  /**
   * Writes `data` (a string is encoded as UTF-8). Returns the number of bytes
   * accepted, or -1 when the device is not open for writing or the write failed.
   */
  write(data: WritableData): number {
    let buf: Buffer;
    let owned: boolean;
    if (typeof data === 'string') {
      buf = Buffer.from(data, 'utf8');
      owned = true;
    } else if (data instanceof Uint8Array) {
      buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      owned = false;
    } else {
      throw new TypeError('data must be a Buffer, a Uint8Array or a string');
    }
    if (!this.isWritable()) {
      this.setErrorString(this.isOpen() ? Msg.notWritable : Msg.deviceNotOpen);
      return -1;
    }
    return this.writeData(buf, owned);
  }

  /** Blocks until data arrives; the base device has nothing to wait for. */
  waitForReadyRead(_msecs = 30000): boolean {
    return false;
  }

  /** Blocks until data is written; the base device has nothing to wait for. */
  waitForBytesWritten(_msecs = 30000): boolean {
    return false;
  }

  /**
   * Writes `data`; returns bytes accepted or -1. Unless `owned`, `data` is
   * the caller's and may change as soon as this returns: keep a copy of what
   * is kept (Qt's write copies too).
   */
  protected abstract writeData(data: Buffer, owned: boolean): number;

  /** @internal Called after the read buffer changed outside the subclass (bytes read, or put back). */
  protected _bufferConsumed(): void {}

  #checkReadable(): boolean {
    if (this.isReadable()) return true;
    // Qt keeps the buffer readable after the peer closed, and so do we: only
    // an explicit close() or a write-only mode stops reading.
    this.setErrorString(this.isOpen() ? 'device not open for reading' : Msg.deviceNotOpen);
    return false;
  }
}

/** @internal Validates readInto's arguments → [offset, length]. */
export function checkTarget(target: unknown, offset: unknown, length: unknown): [number, number] {
  if (!(target instanceof Uint8Array)) throw new TypeError('target must be a Buffer or a Uint8Array');
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > target.length) {
    throw new RangeError(`offset must be an integer in [0, ${target.length}], got ${String(offset)}`);
  }
  if (length === undefined) return [offset, target.length - offset];
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || offset + length > target.length) {
    throw new RangeError(`length must be an integer in [0, ${target.length - offset}], got ${String(length)}`);
  }
  return [offset, length];
}

function toByte(c: number | string): number {
  if (typeof c === 'string') {
    if (c.length !== 1 || c.charCodeAt(0) > 0xff) throw new RangeError('expected a single byte character');
    return c.charCodeAt(0);
  }
  if (!Number.isInteger(c) || c < -128 || c > 255) throw new RangeError(`not a byte: ${c}`);
  return c & 0xff;
}
