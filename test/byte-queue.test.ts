// ByteQueue: the contiguous, reused store behind a stream socket's read
// buffer, and the two-word engine header at the front of the read
// buffer's store ([offset, max], see Engine.setReadArea).
import { AREA_HEADER, ByteQueue } from '../lib/byte-queue';
import { prng } from './helpers';

const b = (s: string) => Buffer.from(s);
/** The first store's size and the least room a reserve leaves (lib/byte-queue.ts MIN_STORE). */
const MIN_STORE = 4 * 1024;
/** A drained store larger than this is given back (lib/byte-queue.ts KEEP_STORE). */
const KEEP_STORE = 128 * 1024;

/** The engine's view of a store's header: [offset, max]. */
function words(store: Buffer): Int32Array {
  return new Int32Array(store.buffer, store.byteOffset, 2);
}

/** The queued bytes, straight from the store (no copy made by the queue). */
function queued(q: ByteQueue): Buffer {
  return q.store().subarray(q.start(), q.end());
}

// Global lookups are slow inside jest's vm context; the hot loops below use these.
const { floor } = Math;


function pattern(n: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(n);
  const r = prng(seed);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

describe('ByteQueue: reading and writing', () => {
  test('a new queue is empty and reads nothing', () => {
    {
      const header = AREA_HEADER;
      const q = new ByteQueue();
      expect(q.size()).toBe(0);
      expect(q.isEmpty()).toBe(true);
      expect(q.store().length).toBe(0);
      expect(q.start()).toBe(header);
      expect(q.end()).toBe(header);
      expect(q.read(10).length).toBe(0);
      expect(q.peek(10).length).toBe(0);
      expect(q.skip(10)).toBe(0);
      expect(q.readInto(new Uint8Array(4), 0, 4)).toBe(0);
      expect(q.indexOf(0)).toBe(-1);
      expect(q.readAheadSize()).toBe(0);
      q.clear();
      expect(q.size()).toBe(0);
    }
  });

  test('append, read and peek keep order across many appends', () => {
    const q = new ByteQueue();
    q.append(b('hel'));
    q.append(b('lo '));
    q.append(new Uint8Array(0));
    q.append(Uint8Array.from(b('world')));
    expect(q.size()).toBe(11);
    expect(q.peek(4).toString()).toBe('hell');
    expect(q.size()).toBe(11);
    expect(q.read(4).toString()).toBe('hell');
    expect(q.read(5).toString()).toBe('o wor');
    expect(q.size()).toBe(2);
    expect(q.peek(100).toString()).toBe('ld');
    expect(q.read(100).toString()).toBe('ld');
    expect(q.isEmpty()).toBe(true);
    expect(q.read(0).length).toBe(0);
  });

  test('append copies its input: changing the input later changes nothing', () => {
    const q = new ByteQueue();
    const src = b('abcdef');
    q.append(src);
    src.fill(0x7a);
    const u8 = Uint8Array.from(b('ghi'));
    q.append(u8);
    u8.fill(0x7a);
    expect(q.read(100).toString()).toBe('abcdefghi');
  });

  test('read and peek return copies that later writes into the store do not change', () => {
    const q = new ByteQueue();
    q.append(b('0123456789'));
    const p = q.peek(4);
    const r = q.read(6);
    expect(p.buffer).not.toBe(q.store().buffer);
    expect(r.buffer).not.toBe(q.store().buffer);
    // What the queue hands out is not affected by anything done to its store...
    q.store().fill(0x21);
    expect(p.toString()).toBe('0123');
    expect(r.toString()).toBe('012345');
    // ...and changing what it handed out does not change the queue.
    q.clear();
    q.append(b('abc'));
    const p2 = q.peek(3);
    p2.fill(0x2a);
    expect(q.read(3).toString()).toBe('abc');
  });

  test('skip drops from the front; over-long skips stop at the end', () => {
    const q = new ByteQueue();
    q.append(b('abcdef'));
    expect(q.skip(0)).toBe(0);
    expect(q.skip(2)).toBe(2);
    expect(q.peek(10).toString()).toBe('cdef');
    expect(q.skip(100)).toBe(4);
    expect(q.size()).toBe(0);
    expect(q.skip(1)).toBe(0);
    q.append(b('xy'));
    expect(q.read(10).toString()).toBe('xy');
  });

  test('readInto copies at offset, at most length bytes, and consumes them', () => {
    const q = new ByteQueue();
    q.append(b('abcdefghij'));
    const t = new Uint8Array(8).fill(0x2e); // '.'
    expect(q.readInto(t, 2, 3)).toBe(3);
    expect(Buffer.from(t).toString()).toBe('..abc...');
    expect(q.size()).toBe(7);
    expect(q.readInto(t, 0, 0)).toBe(0);
    expect(q.size()).toBe(7);
    const big = Buffer.alloc(20, 0x2e);
    expect(q.readInto(big, 5, 15)).toBe(7); // only 7 were there
    expect(big.toString()).toBe('.....defghij........');
    expect(q.isEmpty()).toBe(true);
    expect(q.readInto(big, 0, 20)).toBe(0);
  });

  test('readInto writes into a view at its own byteOffset, not at the start of its ArrayBuffer', () => {
    const q = new ByteQueue();
    q.append(b('XYZ'));
    const whole = new Uint8Array(32);
    const view = whole.subarray(10, 20);
    expect(q.readInto(view, 1, 3)).toBe(3);
    expect(Array.from(whole.subarray(0, 11))).toEqual(new Array(11).fill(0));
    expect(Buffer.from(whole.subarray(11, 14)).toString()).toBe('XYZ');
    expect(Array.from(whole.subarray(14))).toEqual(new Array(18).fill(0));
  });

  test('indexOf looks within the first max bytes only; at() indexes from the front', () => {
    const q = new ByteQueue();
    q.append(b('xxab\ncd\n'));
    q.skip(2);
    expect(q.indexOf(0x0a)).toBe(2);
    expect(q.indexOf(0x0a, 3)).toBe(2);
    expect(q.indexOf(0x0a, 2)).toBe(-1);
    expect(q.indexOf(0x0a, 0)).toBe(-1);
    expect(q.indexOf(0x0a, 1000)).toBe(2);
    expect(q.indexOf(0x78)).toBe(-1); // the skipped 'x' are not seen
    expect(q.indexOf(0x64)).toBe(4);
    expect(q.at(0)).toBe(0x61);
    expect(q.at(3)).toBe(0x63);
    expect(q.at(5)).toBe(0x0a);
    q.skip(3);
    expect(q.indexOf(0x0a)).toBe(2);
    expect(q.at(0)).toBe(0x63);
  });

  test('prepend puts bytes back at the front, with or without room before the data', () => {
    {
      const header = AREA_HEADER;
      const q = new ByteQueue();
      // Into a queue that has no store yet.
      q.prepend(b('z'));
      expect(q.read(10).toString()).toBe('z');
      q.append(b('abcdef'));
      expect(q.start()).toBe(header);
      // No room in front: the bytes move.
      q.prepend(b('12'));
      expect(q.peek(100).toString()).toBe('12abcdef');
      expect(q.start()).toBeGreaterThanOrEqual(header);
      // Room in front after a read: no move needed.
      expect(q.read(3).toString()).toBe('12a');
      q.prepend(b('a'));
      q.prepend(b('2'));
      expect(q.read(100).toString()).toBe('2abcdef');
      q.prepend(new Uint8Array(0));
      expect(q.size()).toBe(0);
    }
  });

  test('prepend into a full store grows it and keeps every byte', () => {
    const q = new ByteQueue();
    const data = pattern(MIN_STORE);
    q.append(data);
    // Fill the store exactly, so the prepend has no room anywhere.
    q.append(pattern(q.store().length - q.end(), 2));
    expect(q.end()).toBe(q.store().length);
    const all = Buffer.concat([data, pattern(q.size() - data.length, 2)]);
    const store = q.store();
    q.prepend(b('!'));
    expect(q.store()).not.toBe(store);
    expect(q.peek(q.size())).toEqual(Buffer.concat([b('!'), all]));
    expect(words(q.store())[0]).toBe(q.end());
  });

  test('clear empties the queue; it can be used again', () => {
    const q = new ByteQueue();
    q.append(b('abc'));
    q.skip(1);
    q.clear();
    expect(q.size()).toBe(0);
    expect(q.start()).toBe(AREA_HEADER);
    expect(q.end()).toBe(AREA_HEADER);
    q.append(b('def'));
    expect(q.read(3).toString()).toBe('def');
  });

  test('commit takes bytes written into store() at end()', () => {
    {
      const header = AREA_HEADER;
      const q = new ByteQueue();
      q.append(b('ab'));
      const room = q.reserve(5);
      expect(room).toBe(q.store().length - q.end());
      q.store().write('cdefg', q.end());
      q.commit(5);
      expect(q.size()).toBe(7);
      q.commit(0);
      expect(q.read(100).toString()).toBe('abcdefg');
      // Into a fresh store too.
      const q2 = new ByteQueue();
      q2.reserve(1);
      q2.store()[q2.end()] = 0x51;
      q2.commit(1);
      expect(q2.read(1).toString()).toBe('Q');
    }
  });
});

describe('ByteQueue: reserve', () => {
  test('returns at least max(n, MIN_STORE) of room, exactly what is left after end()', () => {
    const q = new ByteQueue();
    for (const n of [0, 1, 100, MIN_STORE, MIN_STORE + 1, 70000, 300000]) {
      const room = q.reserve(n);
      expect(room).toBeGreaterThanOrEqual(Math.max(n, MIN_STORE));
      expect(room).toBe(q.store().length - q.end());
      expect(q.start()).toBeGreaterThanOrEqual(AREA_HEADER);
    }
  });

  test('growth keeps the queued bytes (and only them) and replaces the store', () => {
    const q = new ByteQueue();
    const data = pattern(6000, 3);
    q.append(data);
    q.skip(1000);
    const before = q.store();
    const room = q.reserve(before.length * 3);
    expect(room).toBeGreaterThanOrEqual(before.length * 3);
    expect(q.store()).not.toBe(before);
    expect(q.start()).toBe(AREA_HEADER);
    expect(q.size()).toBe(5000);
    expect(queued(q)).toEqual(data.subarray(1000));
    expect(q.read(10000)).toEqual(data.subarray(1000));
  });

  test('compaction slides the bytes to the front of the same store and keeps them', () => {
    const q = new ByteQueue();
    const data = pattern(8000, 4);
    q.append(data);
    const store = q.store();
    expect(store.length - AREA_HEADER).toBe(8192);
    q.skip(6000); // consumed (6000) outweighs what is left (2000)
    q.setReadAhead(777);
    const room = q.reserve(100);
    expect(q.store()).toBe(store);
    expect(q.start()).toBe(AREA_HEADER);
    expect(q.end()).toBe(AREA_HEADER + 2000);
    expect(room).toBe(store.length - q.end());
    expect(room).toBeGreaterThanOrEqual(MIN_STORE);
    expect(queued(q)).toEqual(data.subarray(6000));
    // The header follows the slide.
    expect(words(store)[0]).toBe(q.end());
    expect(words(store)[1]).toBe(777);
    q.append(b('tail'));
    expect(q.read(100000)).toEqual(Buffer.concat([data.subarray(6000), b('tail')]));
  });

  test('a reserve that fits leaves the bytes and the store where they are', () => {
    const q = new ByteQueue();
    q.append(pattern(100, 5));
    q.reserve(5000); // room for 5000 after the 100: a capacity of 8192
    q.skip(50);
    expect(q.store().length - q.end()).toBeGreaterThanOrEqual(MIN_STORE);
    const store = q.store();
    const start = q.start();
    q.reserve(10);
    expect(q.store()).toBe(store);
    expect(q.start()).toBe(start);
  });

  test('appending after reading stays linear: consumed room is reused, the store does not keep growing', () => {
    const q = new ByteQueue();
    const chunk = pattern(3000, 6);
    // One byte always stays behind, so the queue never drains and must slide.
    q.append(b('!'));
    let last = 0x21;
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      q.append(chunk);
      const got = q.read(3000);
      if (got[0] !== last || !got.subarray(1).equals(chunk.subarray(0, 2999))) bad++;
      last = chunk[2999];
      if (q.size() !== 1) bad++;
    }
    expect(bad).toBe(0);
    expect(q.store().length).toBeLessThanOrEqual(AREA_HEADER + 16384);
    expect(q.read(10)[0]).toBe(last);
  });
});

describe('ByteQueue: the engine header', () => {
  test('the first word is end(), the second the read-ahead max; readAheadSize = min(max, room)', () => {
    const q = new ByteQueue();
    q.setReadAhead(1000);
    expect(q.readAheadSize()).toBe(0); // no store yet
    q.append(b('hello'));
    const s = q.store();
    const w = words(s);
    expect(w[0]).toBe(q.end());
    expect(w[0]).toBe(AREA_HEADER + 5);
    expect(w[1]).toBe(1000);
    expect(q.readAheadSize()).toBe(1000);
    q.setReadAhead(1 << 20);
    expect(w[1]).toBe(1 << 20);
    expect(q.readAheadSize()).toBe(s.length - q.end());
    q.skip(2);
    expect(w[0]).toBe(q.end()); // a read does not move the end
    q.commit(0);
    q.store()[q.end()] = 0x21;
    q.commit(1);
    expect(w[0]).toBe(AREA_HEADER + 6);
    q.setReadAhead(0);
    expect(w[1]).toBe(0);
    expect(q.readAheadSize()).toBe(0);
    q.clear(); // a small drained store is kept, its offset back at the front
    expect(q.store()).toBe(s);
    expect(w[0]).toBe(AREA_HEADER);
    expect(w[1]).toBe(0);
  });

  test('the header bytes are never part of the data', () => {
    const q = new ByteQueue();
    q.setReadAhead(0x41414141);
    q.append(b('data'));
    q.prepend(b('>'));
    expect(q.start()).toBeGreaterThanOrEqual(AREA_HEADER);
    expect(q.read(100).toString()).toBe('>data');
    expect(words(q.store())[1]).toBe(0x41414141);
  });

  test('growth disarms the old store and arms the new one with the same max', () => {
    const q = new ByteQueue();
    q.setReadAhead(65536);
    q.append(pattern(1000, 7));
    const old = q.store();
    expect(words(old)[1]).toBe(65536);
    q.append(pattern(20000, 8));
    const now = q.store();
    expect(now).not.toBe(old);
    expect(words(old)[1]).toBe(0);
    expect(words(now)[1]).toBe(65536);
    expect(words(now)[0]).toBe(q.end());
    // A max set after the growth goes to the new store only.
    q.setReadAhead(12);
    expect(words(now)[1]).toBe(12);
    expect(words(old)[1]).toBe(0);
    expect(q.readAheadSize()).toBe(12);
  });

  test('a drained store bigger than 128 KiB is given back (disarmed); the next store is armed', () => {
    const q = new ByteQueue();
    q.setReadAhead(4321);
    const data = pattern(KEEP_STORE + 1, 9);
    q.append(data);
    const big = q.store();
    expect(big.length - AREA_HEADER).toBeGreaterThan(KEEP_STORE);
    expect(words(big)[1]).toBe(4321);
    expect(q.read(KEEP_STORE)).toEqual(data.subarray(0, KEEP_STORE));
    expect(q.store()).toBe(big); // not drained yet
    expect(q.read(10)).toEqual(data.subarray(KEEP_STORE));
    expect(q.store().length).toBe(0);
    expect(words(big)[1]).toBe(0);
    expect(q.readAheadSize()).toBe(0);
    expect(q.start()).toBe(AREA_HEADER);
    expect(q.end()).toBe(AREA_HEADER);
    q.append(b('again'));
    const next = q.store();
    expect(next).not.toBe(big);
    expect(words(next)[1]).toBe(4321);
    expect(words(next)[0]).toBe(AREA_HEADER + 5);
    expect(words(big)[1]).toBe(0);
    expect(q.read(10).toString()).toBe('again');
  });

  test('skip, readInto and clear that drain a big store give it back too; a store of 128 KiB is kept', () => {
    const drains: Array<(q: ByteQueue) => void> = [
      (q) => q.skip(q.size()),
      (q) => q.readInto(Buffer.alloc(q.size()), 0, q.size()),
      (q) => q.clear(),
    ];
    for (const drain of drains) {
      const q = new ByteQueue();
      q.setReadAhead(99);
      q.append(pattern(200000, 10));
      const big = q.store();
      drain(q);
      expect(q.store().length).toBe(0);
      expect(words(big)[1]).toBe(0);
    }
    // Exactly KEEP_STORE of capacity is kept.
    const q = new ByteQueue();
    q.setReadAhead(99);
    q.append(pattern(KEEP_STORE, 11));
    const kept = q.store();
    expect(kept.length - AREA_HEADER).toBe(KEEP_STORE);
    q.clear();
    expect(q.store()).toBe(kept);
    expect(words(kept)[0]).toBe(AREA_HEADER);
    expect(words(kept)[1]).toBe(99);
  });
});

/** The randomized model test: every operation is mirrored on a number[] and everything checked after each one. */
describe('ByteQueue: randomized against a model', () => {
  const OPS = 20000;
  test.each([0x5eed0001, 0x5eed0002, 0x5eed0003])('seed %i', (seed) => {
    const header = AREA_HEADER;
    const rnd = prng(seed);
    const int = (n: number) => floor(rnd() * n); // [0, n)
    const q = new ByteQueue();
    let model: number[] = [];
    let max = 0;
    let step = 0;
    let op = '';
    // Stores the queue gave up: their max word must stay 0, and their bytes
    // must never be written by the queue again.
    const retired: Array<{ store: Buffer; copy: Buffer | null }> = [];
    let store = q.store();
    // The store a simulated engine holds (set as #syncReadAhead would), possibly stale.
    let engineArea: Buffer | null = null;
    // Copies handed out earlier, with what they must still contain.
    const handed: Array<{ got: Buffer; want: Buffer }> = [];
    const counts = { grow: 0, slide: 0, giveBack: 0, engineRead: 0, engineSkipped: 0 };

    const fail = (msg: string): never => {
      throw new Error(`seed ${seed}, step ${step} (${op}): ${msg}`);
    };
    const eq = (a: unknown, want: unknown, what: string) => {
      if (a !== want) fail(`${what}: got ${String(a)}, want ${String(want)}`);
    };
    /** got must equal want[0, len) (len: all of want). */
    const sameBytes = (got: Uint8Array, want: ArrayLike<number>, what: string, len = want.length) => {
      if (got.length !== len) fail(`${what}: ${got.length} bytes, want ${len}`);
      for (let i = 0; i < len; i++) {
        if (got[i] !== want[i]) fail(`${what}: first difference at ${i} of ${len}`);
      }
    };
    const randomBytes = (n: number) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      // Some newlines for indexOf.
      if (n > 0 && rnd() < 0.5) out[int(n)] = 0x0a;
      return out;
    };
    /** A length for the next operation: often small, sometimes exact or over-long. */
    const size = () => {
      const r = rnd();
      const n = model.length;
      if (r < 0.08) return 0;
      if (r < 0.18) return 1;
      if (r < 0.35) return int(300);
      if (r < 0.65) return int(Math.max(1, n));
      if (r < 0.8) return n;
      if (r < 0.9) return n + 1 + int(1000);
      return int(70000);
    };
    /** Mostly small appends; now and then a burst past KEEP_STORE, so stores grow and are given back. */
    const appendSize = () => {
      const r = rnd();
      if (r < 0.55) return int(65);
      if (r < 0.85) return 65 + int(5000);
      if (r < 0.985) return 5000 + int(20000);
      return model.length < 300000 ? 100000 + int(150000) : int(100);
    };

    const check = () => {
      const s = q.store();
      eq(q.size(), model.length, 'size()');
      eq(q.isEmpty(), model.length === 0, 'isEmpty()');
      eq(q.end() - q.start(), model.length, 'end() - start()');
      if (q.start() < header) fail(`start() ${q.start()} is inside the header`);
      if (s.length > 0 && q.end() > s.length) fail(`end() ${q.end()} past the store (${s.length})`);
      if (s.length === 0 && (q.start() !== header || q.end() !== header)) fail('no store but start/end moved');
      sameBytes(s.subarray(q.start(), q.end()), model, 'contents');
      // Store changes.
      if (s !== store) {
        if (store.length > 0) {
          if (s.length === 0) counts.giveBack++;
          else counts.grow++;
          eq(words(store)[1], 0, 'max word of the store just given up');
          retired.push({ store, copy: store.length <= 64 * 1024 ? Buffer.from(store) : null });
          if (retired.length > 4) retired.shift();
        }
        store = s;
      }
      for (const r of retired) {
        eq(words(r.store)[1], 0, 'max word of a retired store');
        if (r.copy !== null && !r.copy.equals(r.store)) fail('a retired store was written to');
      }
      // Header words.
      if (s.length > 0) {
        const w = words(s);
        eq(w[0], q.end(), 'offset word');
        eq(w[1], max, 'max word');
        eq(q.readAheadSize(), Math.min(max, s.length - q.end()), 'readAheadSize()');
      } else {
        eq(q.readAheadSize(), 0, 'readAheadSize() without a store');
      }
      // Earlier copies are untouched.
      for (const h of handed) if (!h.got.equals(h.want)) fail('a Buffer handed out earlier changed');
    };

    for (step = 0; step < OPS; step++) {
      const r = rnd();
      const startBefore = q.start();
      const storeBefore = q.store();
      const sizeBefore = model.length;
      if (r < 0.2) {
        const data = randomBytes(appendSize());
        op = `append(${data.length})`;
        q.append(data);
        for (const x of data) model.push(x);
      } else if (r < 0.3) {
        const want = appendSize();
        op = `reserve(${want}) + commit`;
        const room = q.reserve(want);
        const s = q.store();
        if (room < Math.max(want, MIN_STORE)) fail(`reserve returned ${room}`);
        eq(room, s.length - q.end(), 'reserve() result');
        sameBytes(s.subarray(q.start(), q.end()), model, 'contents after reserve');
        if (s === storeBefore && q.start() !== startBefore) eq(q.start(), header, 'start() after a slide');
        const k = int(Math.min(room, want) + 1);
        const data = randomBytes(k);
        data.copy(s, q.end());
        q.commit(k);
        for (const x of data) model.push(x);
      } else if (r < 0.38) {
        // The engine reads at [offset] up to [max] bytes of its area, if armed.
        op = 'engine read';
        if (engineArea !== null) {
          const w = words(engineArea);
          const off = w[0];
          const m = w[1];
          if (m <= 0 || off < AREA_HEADER || off >= engineArea.length) {
            counts.engineSkipped++;
            if (engineArea === q.store()) eq(q.readAheadSize(), 0, 'readAheadSize() when the engine would not read');
          } else {
            if (engineArea !== q.store()) fail('a store the queue gave up is still armed');
            const n = Math.min(m, engineArea.length - off);
            eq(q.readAheadSize(), n, 'readAheadSize() vs what the engine may read');
            eq(off, q.end(), 'engine offset');
            const k = rnd() < 0.3 ? n : int(n + 1);
            const data = randomBytes(k);
            data.copy(engineArea, off);
            q.commit(k);
            for (const x of data) model.push(x);
            counts.engineRead++;
          }
        }
      } else if (r < 0.45) {
        const n = size();
        op = `read(${n})`;
        const got = q.read(n);
        const k = Math.min(n, model.length);
        sameBytes(got, model, 'read()', k);
        model = model.slice(k);
        if (got.length > 0 && rnd() < 0.2) handed.push({ got, want: Buffer.from(got) });
      } else if (r < 0.52) {
        const n = size();
        op = `peek(${n})`;
        const got = q.peek(n);
        sameBytes(got, model, 'peek()', Math.min(n, model.length));
        if (got.length > 0 && rnd() < 0.2) handed.push({ got, want: Buffer.from(got) });
      } else if (r < 0.6) {
        const n = size();
        op = `skip(${n})`;
        const k = Math.min(n, model.length);
        eq(q.skip(n), k, 'skip()');
        model = model.slice(k);
      } else if (r < 0.68) {
        const len = size();
        const off = int(100);
        const extra = int(3);
        op = `readInto(${off}, ${len})`;
        const target = rnd() < 0.5 ? Buffer.alloc(off + len + extra, 0xee) : new Uint8Array(off + len + extra).fill(0xee);
        const k = Math.min(len, model.length);
        eq(q.readInto(target, off, len), k, 'readInto()');
        sameBytes(target.subarray(off, off + k), model, 'readInto() bytes', k);
        for (let i = 0; i < off; i++) if (target[i] !== 0xee) fail('readInto() wrote before offset');
        for (let i = off + k; i < target.length; i++) if (target[i] !== 0xee) fail('readInto() wrote past its bytes');
        model = model.slice(k);
      } else if (r < 0.75) {
        const n = rnd() < 0.8 ? 1 : 1 + int(rnd() < 0.9 ? 16 : 9000);
        const data = randomBytes(n);
        op = `prepend(${n})`;
        q.prepend(data);
        model = Array.from(data).concat(model);
      } else if (r < 0.8) {
        const byte = rnd() < 0.5 ? 0x0a : int(256);
        const lim = rnd() < 0.5 ? undefined : size();
        op = `indexOf(${byte}, ${lim})`;
        const scope = model.slice(0, lim === undefined ? model.length : Math.min(lim, model.length));
        eq(lim === undefined ? q.indexOf(byte) : q.indexOf(byte, lim), scope.indexOf(byte), 'indexOf()');
      } else if (r < 0.84) {
        op = 'at()';
        if (model.length > 0) {
          for (let i = 0; i < 4; i++) {
            const at = int(model.length);
            eq(q.at(at), model[at], `at(${at})`);
          }
          eq(q.at(model.length - 1), model[model.length - 1], 'at(last)');
        }
      } else if (r < 0.9) {
        const choices = [0, 1, 7, 1000, 4096, 65536, 1 << 20, int(200000)];
        max = choices[int(choices.length)];
        op = `setReadAhead(${max})`;
        q.setReadAhead(max);
      } else if (r < 0.985) {
        // What #syncReadAhead does: hand the engine the current store when armed.
        op = 'setReadArea';
        if (max > 0 && q.store().length > 0) engineArea = q.store();
      } else {
        op = 'clear()';
        q.clear();
        model = [];
      }
      // A slide: same store, bytes kept, moved back to the front.
      if (sizeBefore > 0 && q.store() === storeBefore && q.start() === header && startBefore > header && !op.startsWith('prepend')) counts.slide++;
      check();
      if (handed.length > 8) handed.splice(0, handed.length - 8);
    }

    // Every path was taken, or the test proves little.
    expect(counts.grow).toBeGreaterThan(10);
    expect(counts.slide).toBeGreaterThan(10);
    expect(counts.giveBack).toBeGreaterThan(5);
    expect(counts.engineRead).toBeGreaterThan(100);
    expect(counts.engineSkipped).toBeGreaterThan(10);
  }, 60000);
});
