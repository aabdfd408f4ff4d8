// WriteRing: the circular store behind a stream socket's write buffer.
import { WriteRing } from '../lib/write-ring';
import { prng } from './helpers';

/** Drains `r` the way the socket's flush does: contiguous runs from head(), `take` bytes at most per send. */
function drain(r: WriteRing, take = Infinity): Buffer {
  const out: Buffer[] = [];
  while (!r.isEmpty()) {
    const n = Math.min(r.contiguous(), take);
    out.push(Buffer.from(r.store().subarray(r.head(), r.head() + n)));
    r.skip(n);
  }
  return Buffer.concat(out);
}

describe('WriteRing', () => {
  test('keeps bytes in order across the wrap-around and growth', () => {
    const r = new WriteRing();
    r.append(Buffer.alloc(3000, 1));
    expect(r.size()).toBe(3000);
    // Send most of it, then append past the end of the 4 KiB store: the ring wraps.
    r.skip(2500);
    r.append(Buffer.alloc(3000, 2));
    expect(r.store().length).toBe(4096); // no growth: 3,500 bytes fit the first store
    expect(r.contiguous()).toBeLessThan(r.size()); // wrapped: two runs
    const out = drain(r);
    expect(out.length).toBe(3500);
    expect(out.subarray(0, 500).every((b) => b === 1)).toBe(true);
    expect(out.subarray(500).every((b) => b === 2)).toBe(true);
    // Growth while wrapped keeps the order.
    r.append(Buffer.alloc(3000, 3));
    r.skip(2800);
    r.append(Buffer.alloc(3000, 4));
    r.append(Buffer.alloc(10000, 5));
    const grown = drain(r, 700);
    expect(grown.length).toBe(200 + 3000 + 10000);
    expect(grown.subarray(0, 200).every((b) => b === 3)).toBe(true);
    expect(grown.subarray(200, 3200).every((b) => b === 4)).toBe(true);
    expect(grown.subarray(3200).every((b) => b === 5)).toBe(true);
  });

  test('copies what it is given: the caller may reuse its buffer at once', () => {
    const r = new WriteRing();
    const mine = Buffer.from('abc');
    r.append(mine);
    mine.write('xyz');
    expect(drain(r).toString()).toBe('abc');
  });

  test('a drained store is kept up to 128 KiB and given back above', () => {
    const r = new WriteRing();
    r.append(Buffer.alloc(100));
    const small = r.store();
    r.clear();
    expect(r.store()).toBe(small);
    r.append(Buffer.alloc(200 * 1024));
    r.clear();
    expect(r.store().length).toBe(0);
    expect(r.size()).toBe(0);
    r.append(Buffer.alloc(0));
    expect(r.isEmpty()).toBe(true);
  });

  test('random appends and partial sends match a plain byte model (20,000 steps)', () => {
    const rnd = prng(42);
    const r = new WriteRing();
    let model: number[] = [];
    let next = 0;
    for (let step = 0; step < 20000; step++) {
      if (rnd() < 0.55) {
        const n = Math.floor(rnd() < 0.1 ? rnd() * 20000 : rnd() * 300);
        const data = Buffer.alloc(n);
        for (let i = 0; i < n; i++) data[i] = next++ & 0xff;
        r.append(data);
        for (const b of data) model.push(b);
      } else if (!r.isEmpty()) {
        const n = 1 + Math.floor(rnd() * r.contiguous());
        const sent = r.store().subarray(r.head(), r.head() + n);
        for (let i = 0; i < n; i++) if (sent[i] !== model[i]) throw new Error(`step ${step}: byte ${i} differs`);
        r.skip(n);
        model = model.slice(n);
      }
      expect(r.size()).toBe(model.length);
    }
    expect([...drain(r)]).toEqual(model);
  });
});
