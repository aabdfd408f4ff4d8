// The read buffer of a stream socket: one contiguous store, reused, that the
// kernel reads straight into (no scratch buffer, no Buffer per read). It hands
// out copies, never views, so its bytes can be overwritten once consumed.
//
// The store begins with a header the native engine reads: two int32 words,
// [offset, max] (see Engine.setReadArea). The queue keeps `offset` equal to
// the end of its data; the owner sets `max` (0: the engine must not read).
// A store that is given up has its `max` zeroed, so an engine still holding
// it can never write into memory the queue no longer reads from.

const EMPTY = Buffer.alloc(0);

/** Bytes of the engine header at the front of the store. */
export const AREA_HEADER = 8;
/** The first store's size, and the least room a reserve leaves. */
const MIN_STORE = 4 * 1024;
/** A drained store up to this size is kept for the next bytes; a larger one is given back. */
const KEEP_STORE = 128 * 1024;

export class ByteQueue {
  #store: Buffer = EMPTY;
  #ctl: Int32Array | null = null;
  #start = AREA_HEADER;
  #end = AREA_HEADER;
  #max = 0;

  size(): number {
    return this.#end - this.#start;
  }

  isEmpty(): boolean {
    return this.#end === this.#start;
  }

  /** The whole store, header included (what Engine.setReadArea takes). */
  store(): Buffer {
    return this.#store;
  }

  /** Where the queued bytes begin, as an index into store(). */
  start(): number {
    return this.#start;
  }

  /** Where the next bytes go, as an index into store(). */
  end(): number {
    return this.#end;
  }

  /** Sets the engine's `max` word: how much it may read at end() on its own; 0 stops it. */
  setReadAhead(max: number): void {
    this.#max = max;
    if (this.#ctl !== null) this.#ctl[1] = max;
  }

  /** How many bytes an engine read at end() may take: min(max, room). */
  readAheadSize(): number {
    return this.#ctl === null ? 0 : Math.min(this.#max, this.#store.length - this.#end);
  }

  /**
   * Makes room for at least `n` bytes after end() (at least MIN_STORE) and
   * returns the room there. May move the bytes or replace the store.
   */
  reserve(n: number): number {
    const want = Math.max(n, MIN_STORE);
    const room = this.#store.length - this.#end;
    if (room >= want) return room;
    const size = this.size();
    const capacity = this.#store.length - AREA_HEADER;
    // Slide the bytes to the front when what was consumed outweighs what is
    // left: each byte is then moved at most once for every time it was read
    // past, so appending stays linear.
    if (this.#start - AREA_HEADER >= size && capacity - size >= want) {
      this.#store.copyWithin(AREA_HEADER, this.#start, this.#end);
      this.#start = AREA_HEADER;
      this.#end = AREA_HEADER + size;
      this.#syncEnd();
      return this.#store.length - this.#end;
    }
    let next = Math.max(MIN_STORE, capacity * 2);
    while (next < size + want) next *= 2;
    this.#replace(Buffer.allocUnsafeSlow(AREA_HEADER + next), size);
    return this.#store.length - this.#end;
  }

  /** Takes `n` bytes that were written at end() (by the kernel) into the queue. */
  commit(n: number): void {
    this.#end += n;
    this.#syncEnd();
  }

  /** Copies `data` to the end. */
  append(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    this.reserve(n);
    copyBytes(data, 0, this.#store, this.#end, n);
    this.commit(n);
  }

  /** Puts bytes back at the front (ungetChar). */
  prepend(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (this.#start - AREA_HEADER < n) {
      this.reserve(n);
      this.#store.copyWithin(this.#start + n, this.#start, this.#end);
      this.#end += n;
      this.#start += n;
      this.#syncEnd();
    }
    this.#start -= n;
    copyBytes(data, 0, this.#store, this.#start, n);
  }

  /** Drops up to `n` bytes from the front; returns how many were dropped. */
  skip(n: number): number {
    const count = Math.min(n, this.size());
    this.#start += count;
    if (this.#start === this.#end) this.#drained();
    return count;
  }

  clear(): void {
    this.#start = this.#end;
    this.#drained();
  }

  /** Removes up to `max` bytes from the front, in a Buffer of their own. */
  read(max: number): Buffer {
    const out = this.peek(max);
    this.skip(out.length);
    return out;
  }

  /** Copies up to `max` bytes from the front without consuming them. */
  peek(max: number): Buffer {
    const n = Math.min(max, this.size());
    if (n === 0) return EMPTY;
    const out = Buffer.allocUnsafe(n);
    copyBytes(this.#store, this.#start, out, 0, n);
    return out;
  }

  /** Copies up to `length` bytes into `target` at `offset`, consuming them; returns how many. */
  readInto(target: Uint8Array, offset: number, length: number): number {
    const n = Math.min(length, this.size());
    if (n === 0) return 0;
    copyBytes(this.#store, this.#start, target, offset, n);
    this.skip(n);
    return n;
  }

  /** The byte at `index` from the front (0 ≤ index < size()). */
  at(index: number): number {
    return this.#store[this.#start + index];
  }

  /** The offset of the first `byte` within the first `max` bytes, or -1. */
  indexOf(byte: number, max = this.size()): number {
    const limit = Math.min(max, this.size());
    if (limit === 0) return -1;
    return this.#store.subarray(this.#start, this.#start + limit).indexOf(byte);
  }

  #drained(): void {
    this.#start = this.#end = AREA_HEADER;
    if (this.#store.length - AREA_HEADER > KEEP_STORE) this.#replace(EMPTY, 0);
    else this.#syncEnd();
  }

  /** Moves the `size` queued bytes into `store` (EMPTY: none may be queued) and disarms the old one. */
  #replace(store: Buffer, size: number): void {
    const old = this.#store;
    if (size > 0) old.copy(store, AREA_HEADER, this.#start, this.#end);
    if (this.#ctl !== null) this.#ctl[1] = 0;
    this.#store = store;
    this.#start = AREA_HEADER;
    this.#end = AREA_HEADER + size;
    this.#ctl = null;
    if (store.length >= AREA_HEADER) {
      this.#ctl = new Int32Array(store.buffer, store.byteOffset, 2);
      this.#ctl[1] = this.#max;
    }
    this.#syncEnd();
  }

  #syncEnd(): void {
    if (this.#ctl !== null) this.#ctl[0] = this.#end;
  }
}

/**
 * Copies between two distinct arrays. (A byte loop for small ranges measured
 * several times slower than the view this makes: its element accesses stay
 * polymorphic between Buffer and Uint8Array.)
 */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (from === 0 && n === src.length) dst.set(src, to);
  else dst.set(src.subarray(from, from + n), to);
}
