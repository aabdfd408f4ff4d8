// A byte queue of chunks (Qt's QRingBuffer idea): appending never copies what
// is already queued, and reading copies only when a read spans chunks.

const EMPTY = Buffer.alloc(0);

export class RingBuffer {
  #chunks: Buffer[] = [];
  #head = 0; // bytes of #chunks[0] already consumed
  #size = 0;

  size(): number {
    return this.#size;
  }

  isEmpty(): boolean {
    return this.#size === 0;
  }

  /** Queues `data` without copying it: the caller must not modify it afterwards. */
  append(data: Buffer): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#size += data.length;
  }

  /** Puts bytes back at the front (ungetChar). */
  prepend(data: Buffer): void {
    if (data.length === 0) return;
    if (this.#head > 0) {
      this.#chunks[0] = this.#chunks[0].subarray(this.#head);
      this.#head = 0;
    }
    this.#chunks.unshift(data);
    this.#size += data.length;
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#size = 0;
  }

  /** Copies up to `max` bytes from the front without consuming them. */
  peek(max: number): Buffer {
    return this.#take(max, false);
  }

  /** Removes and returns up to `max` bytes from the front. */
  read(max: number): Buffer {
    return this.#take(max, true);
  }

  /** Drops up to `n` bytes from the front; returns how many were dropped. */
  skip(n: number): number {
    const count = Math.min(n, this.#size);
    let left = count;
    while (left > 0) {
      const avail = this.#chunks[0].length - this.#head;
      if (left < avail) {
        this.#head += left;
        break;
      }
      left -= avail;
      this.#chunks.shift();
      this.#head = 0;
    }
    this.#size -= count;
    return count;
  }

  /** The offset of the first `byte` within the first `max` bytes, or -1. */
  indexOf(byte: number, max = this.#size): number {
    let base = 0;
    const limit = Math.min(max, this.#size);
    for (let i = 0; i < this.#chunks.length && base < limit; i++) {
      const start = i === 0 ? this.#head : 0;
      const chunk = this.#chunks[i];
      const end = Math.min(chunk.length, start + (limit - base));
      const at = chunk.indexOf(byte, start);
      if (at !== -1 && at < end) return base + at - start;
      base += chunk.length - start;
    }
    return -1;
  }

  /** The queued chunks, front first, for writev; `firstOffset()` bytes of the first are already gone. */
  chunks(): readonly Buffer[] {
    return this.#chunks;
  }

  firstOffset(): number {
    return this.#head;
  }

  #take(max: number, consume: boolean): Buffer {
    const n = Math.min(max, this.#size);
    if (n === 0) return EMPTY;
    const first = this.#chunks[0];
    // The common case, a read inside the first chunk, shares its memory; a
    // read of exactly that chunk hands over the chunk itself (no view).
    if (first.length - this.#head >= n) {
      const out = this.#head === 0 && n === first.length ? first : first.subarray(this.#head, this.#head + n);
      if (consume) this.skip(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let head = this.#head;
    for (let i = 0; copied < n; i++) {
      const chunk = this.#chunks[i];
      copied += chunk.copy(out, copied, head, Math.min(chunk.length, head + (n - copied)));
      head = 0;
    }
    if (consume) this.skip(n);
    return out;
  }
}
