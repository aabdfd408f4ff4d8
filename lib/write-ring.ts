// The write buffer of a stream socket: a circular store, reused. Writes are
// copied in (as Qt copies into its write buffer: the caller may change its
// bytes at once), and the socket sends straight from the store. Circular, not
// slid to the front like the read buffer, because a bulk sender keeps it
// partly full all the time: sliding would copy what is queued once more for
// every store's worth sent, where wrapping costs one more send per lap.

import { copyBytes } from './byte-queue';

const EMPTY = Buffer.alloc(0);
/** The first store's size. */
const MIN_STORE = 4 * 1024;
/** A drained store up to this size is kept for the next writes; a larger one is given back. */
const KEEP_STORE = 128 * 1024;

export class WriteRing {
  #store: Buffer = EMPTY;
  #head = 0;
  #size = 0;

  size(): number {
    return this.#size;
  }

  isEmpty(): boolean {
    return this.#size === 0;
  }

  /** The store; the next bytes to send are its [head(), head() + contiguous()). */
  store(): Buffer {
    return this.#store;
  }

  head(): number {
    return this.#head;
  }

  /** How many queued bytes follow head() before the store wraps around. */
  contiguous(): number {
    return Math.min(this.#size, this.#store.length - this.#head);
  }

  /** Copies `data` to the end. */
  append(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (this.#store.length - this.#size < n) this.#grow(this.#size + n);
    const cap = this.#store.length;
    const tail = (this.#head + this.#size) % cap;
    const first = Math.min(n, cap - tail);
    copyBytes(data, 0, this.#store, tail, first);
    if (first < n) copyBytes(data, first, this.#store, 0, n - first);
    this.#size += n;
  }

  /** Drops `n` (≤ size()) bytes from the front: they were sent. */
  skip(n: number): void {
    this.#size -= n;
    if (this.#size === 0) {
      this.#head = 0;
      if (this.#store.length > KEEP_STORE) this.#store = EMPTY;
    } else {
      this.#head = (this.#head + n) % this.#store.length;
    }
  }

  clear(): void {
    this.skip(this.#size);
  }

  /** Moves what is queued, in order, to the front of a larger store. */
  #grow(need: number): void {
    let cap = Math.max(MIN_STORE, this.#store.length * 2);
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    const first = this.contiguous();
    copyBytes(this.#store, this.#head, next, 0, first);
    if (first < this.#size) copyBytes(this.#store, 0, next, first, this.#size - first);
    this.#store = next;
    this.#head = 0;
  }
}
