import { RingBuffer } from '../lib/ring-buffer';

const b = (s: string) => Buffer.from(s);

describe('RingBuffer', () => {
  test('reads across chunk boundaries in order', () => {
    const r = new RingBuffer();
    r.append(b('hel'));
    r.append(b('lo '));
    r.append(b('world'));
    expect(r.size()).toBe(11);
    expect(r.read(4).toString()).toBe('hell');
    expect(r.read(5).toString()).toBe('o wor');
    expect(r.size()).toBe(2);
    expect(r.read(100).toString()).toBe('ld');
    expect(r.isEmpty()).toBe(true);
    expect(r.read(1).length).toBe(0);
  });

  test('peek does not consume; skip drops', () => {
    const r = new RingBuffer();
    r.append(b('abc'));
    r.append(b('def'));
    expect(r.peek(4).toString()).toBe('abcd');
    expect(r.size()).toBe(6);
    expect(r.skip(2)).toBe(2);
    expect(r.peek(10).toString()).toBe('cdef');
    expect(r.skip(10)).toBe(4);
    expect(r.size()).toBe(0);
  });

  test('indexOf finds a byte across chunks and honours the limit', () => {
    const r = new RingBuffer();
    r.append(b('ab'));
    r.append(b('c\nd'));
    r.read(1);
    expect(r.indexOf(0x0a)).toBe(2);
    expect(r.indexOf(0x0a, 2)).toBe(-1);
    expect(r.indexOf(0x0a, 3)).toBe(2);
    expect(r.indexOf(0x7a)).toBe(-1);
  });

  test('prepend puts bytes back in front, also after a partial read', () => {
    const r = new RingBuffer();
    r.append(b('xyz'));
    r.read(1);
    r.prepend(b('Q'));
    expect(r.read(10).toString()).toBe('Qyz');
  });

  test('chunks/firstOffset describe what is left for writev', () => {
    const r = new RingBuffer();
    r.append(b('1234'));
    r.append(b('56'));
    r.skip(3);
    expect(r.firstOffset()).toBe(3);
    expect(Buffer.concat(r.chunks()).subarray(r.firstOffset()).toString()).toBe('456');
  });

  test('empty appends are ignored and clear empties', () => {
    const r = new RingBuffer();
    r.append(Buffer.alloc(0));
    expect(r.chunks().length).toBe(0);
    r.append(b('a'));
    r.clear();
    expect(r.size()).toBe(0);
    expect(r.peek(1).length).toBe(0);
  });
});
