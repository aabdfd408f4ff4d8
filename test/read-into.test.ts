// readInto() and skip() on real sockets over loopback, and the integrity of
// the stream read path: the read buffer is one reused store that the native
// engine reads into on its own at readiness (Engine.setReadArea), at the
// offset and up to the max held in the store's first two int32 words.
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as dgram from 'dgram';
import * as net from 'net';
import { QTcpSocket, QUdpSocket, SocketError, SocketState } from '../lib';
import type { ByteQueue } from '../lib/byte-queue';
import { next, until, delay, startPeer, startChildPeer, liveEngines, prng, Peer } from './helpers';

const KiB = 1024;
const MiB = 1024 * KiB;
/** lib/abstract-socket.ts READ_CHUNK: the read-ahead window without a read buffer limit. */
const READ_CHUNK = 64 * KiB;
/** lib/byte-queue.ts KEEP_STORE: a drained store larger than this is given back. */
const KEEP_STORE = 128 * KiB;

const sockets: Array<QTcpSocket | QUdpSocket> = [];
const peers: Peer[] = [];
const dgrams: dgram.Socket[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.abort();
  for (const p of peers.splice(0)) await p.close();
  for (const d of dgrams.splice(0)) d.close();
  for (const c of children.splice(0)) {
    c.kill();
    await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));
  }
  expect(liveEngines()).toBe(0);
});

// Global lookups are slow inside jest's vm context; the hot loops use these.
const { floor, min } = Math;


/** The socket's read buffer (protected in QIODevice). */
function readBuffer(s: QTcpSocket): ByteQueue {
  return (s as unknown as { _buffer: ByteQueue })._buffer;
}

/** The engine header of a store: [offset, max]. */
function words(store: Buffer): Int32Array {
  return new Int32Array(store.buffer, store.byteOffset, 2);
}

/** A connected QTcpSocket and the node:net socket at the other end. */
async function pair(readBufferSize = 0): Promise<{ s: QTcpSocket; c: net.Socket }> {
  const p = await startPeer('127.0.0.1');
  peers.push(p);
  const s = new QTcpSocket();
  sockets.push(s);
  if (readBufferSize > 0) s.setReadBufferSize(readBufferSize);
  s.connectToHost('127.0.0.1', p.port);
  const [, c] = await Promise.all([next(s.connected), p.nextConnection()]);
  return { s, c };
}

/** Writes `data` from the node:net side and waits until the QTcpSocket has buffered `total` bytes. */
async function deliver(s: QTcpSocket, c: net.Socket, data: Buffer | string, total: number): Promise<void> {
  c.write(data);
  await until(() => s.bytesAvailable() >= total, 5000, `${total} bytes buffered`);
  expect(s.bytesAvailable()).toBe(total);
}

describe('QTcpSocket.readInto', () => {
  test('copies into a Buffer and a Uint8Array, at offset, at most length bytes', async () => {
    const { s, c } = await pair();
    const text = 'The quick brown fox jumps over the lazy dog';
    expect(s.readInto(Buffer.alloc(8))).toBe(0); // nothing buffered yet
    await deliver(s, c, text, 43);

    const a = Buffer.alloc(9, 0x2e);
    expect(s.readInto(a)).toBe(9); // default: the whole target from 0
    expect(a.toString()).toBe('The quick');

    const u = new Uint8Array(20).fill(0x2e);
    expect(s.readInto(u, 3, 6)).toBe(6);
    expect(Buffer.from(u).toString()).toBe('... brown...........');
    expect(s.bytesAvailable()).toBe(28);

    // An empty window reads nothing and consumes nothing.
    expect(s.readInto(u, 20)).toBe(0);
    expect(s.readInto(u, 5, 0)).toBe(0);
    expect(s.readInto(new Uint8Array(0))).toBe(0);
    expect(s.bytesAvailable()).toBe(28);

    // A view into a larger ArrayBuffer is written at its own position.
    const whole = new Uint8Array(64);
    const view = whole.subarray(32, 48);
    expect(s.readInto(view, 1, 5)).toBe(5);
    expect(Buffer.from(whole.subarray(33, 38)).toString()).toBe(' fox ');
    expect(whole.subarray(0, 33).every((x) => x === 0)).toBe(true);
    expect(whole.subarray(38).every((x) => x === 0)).toBe(true);

    // A window larger than what is buffered takes all of it, and only that.
    const rest = Buffer.alloc(100, 0x2e);
    expect(s.readInto(rest, 10)).toBe(23);
    expect(rest.subarray(10, 33).toString()).toBe('jumps over the lazy dog');
    expect(rest.subarray(0, 10).toString()).toBe('..........');
    expect(rest.subarray(33).every((x) => x === 0x2e)).toBe(true);
    expect(s.bytesAvailable()).toBe(0);
    expect(s.readInto(rest)).toBe(0);
    expect(s.state()).toBe(SocketState.ConnectedState);

    // More bytes after the buffer ran dry land where the next read finds them.
    await deliver(s, c, 'again', 5);
    expect(s.readInto(rest, 0, 5)).toBe(5);
    expect(rest.subarray(0, 5).toString()).toBe('again');
  }, 10000);

  test('-1 after close(), with the target untouched', async () => {
    const { s, c } = await pair();
    await deliver(s, c, 'pending bytes', 13);
    s.close();
    const t = Buffer.alloc(16, 0x2e);
    expect(s.readInto(t)).toBe(-1);
    expect(s.readInto(t, 4, 4)).toBe(-1);
    expect(t.toString()).toBe('.'.repeat(16));
    expect(s.skip(4)).toBe(-1);
  }, 10000);

  test('after the peer closed, what was buffered is still read exactly', async () => {
    const { s, c } = await pair();
    const data = crypto.randomBytes(3000);
    c.end(data);
    await next(s.disconnected, 5000);
    const t = Buffer.alloc(4000);
    expect(s.readInto(t, 1000, 1000)).toBe(1000);
    expect(s.readInto(t, 2000)).toBe(2000);
    expect(t.subarray(1000, 4000).equals(data)).toBe(true);
    expect(s.readInto(t)).toBe(s.isReadable() ? 0 : -1);
  }, 10000);

  test('the bytes are exactly what a node:net peer sent, in many small reads', async () => {
    const { s, c } = await pair();
    const data = crypto.randomBytes(200 * KiB);
    await deliver(s, c, data, data.length);
    const out = Buffer.alloc(data.length + 7);
    let at = 0;
    const rnd = prng(7);
    while (s.bytesAvailable() > 0) {
      const n = 1 + floor(rnd() * 3000);
      const k = s.readInto(out, at, min(n, out.length - at));
      expect(k).toBe(min(n, data.length - at));
      at += k;
    }
    expect(at).toBe(data.length);
    expect(out.subarray(0, at).equals(data)).toBe(true);
  }, 10000);
});

describe('QTcpSocket.skip', () => {
  test('partial and over-long; later reads continue after the skipped bytes', async () => {
    const { s, c } = await pair();
    expect(s.skip(10)).toBe(0); // nothing buffered
    await deliver(s, c, 'abcdefghij', 10);
    expect(s.skip(0)).toBe(0);
    expect(s.skip(3)).toBe(3);
    expect(s.read(2).toString()).toBe('de');
    expect(s.skip(1)).toBe(1);
    expect(s.peek(10).toString()).toBe('ghij');
    expect(s.skip(100)).toBe(4);
    expect(s.bytesAvailable()).toBe(0);
    expect(s.skip(5)).toBe(0);
    await deliver(s, c, 'xyz\nrest', 8);
    expect(s.skip(1)).toBe(1);
    expect(s.readLine().toString()).toBe('yz\n');
    expect(s.readAll().toString()).toBe('rest');
  }, 10000);

  test('under a bounded read buffer, skip() and readInto() make room and reading resumes', async () => {
    const { s, c } = await pair(4096);
    const data = crypto.randomBytes(256 * KiB);
    c.write(data);
    const got: Buffer[] = [];
    let total = 0;
    const t = Buffer.alloc(5000);
    let useSkip = true;
    while (total < data.length) {
      await until(() => s.bytesAvailable() === min(4096, data.length - total), 5000, 'a full read buffer');
      await delay(1);
      expect(s.bytesAvailable()).toBeLessThanOrEqual(4096);
      if (useSkip) {
        const p = s.peek(3000);
        expect(s.skip(3000)).toBe(p.length);
        got.push(p);
        total += p.length;
      } else {
        const k = s.readInto(t, 7, 2500);
        got.push(Buffer.from(t.subarray(7, 7 + k)));
        total += k;
      }
      useSkip = !useSkip;
    }
    expect(Buffer.concat(got).equals(data)).toBe(true);
  }, 20000);
});

describe('bad input', () => {
  test('readInto: a non-Uint8Array target → TypeError; a bad offset or length → RangeError; nothing consumed', async () => {
    const { s, c } = await pair();
    await deliver(s, c, '0123456789', 10);
    const call = (...args: unknown[]) => () => (s.readInto as (...a: unknown[]) => number).apply(s, args);
    const targets: unknown[] = [
      'abcdefgh',
      [0, 0, 0, 0],
      null,
      undefined,
      new DataView(new ArrayBuffer(8)),
      new ArrayBuffer(8),
      new Uint16Array(4),
      new Int8Array(8),
      { length: 8 },
    ];
    for (const bad of targets) expect(call(bad)).toThrow(TypeError);
    const t = Buffer.alloc(8);
    for (const off of [-1, 1.5, NaN, 9, Infinity, -Infinity, '1', null, 2 ** 53]) {
      expect(call(t, off)).toThrow(RangeError);
      expect(call(t, off, 1)).toThrow(RangeError);
    }
    for (const len of [-1, 1.5, NaN, 9, Infinity, '2', null]) expect(call(t, 0, len)).toThrow(RangeError);
    expect(call(t, 4, 5)).toThrow(RangeError); // offset + length past the end
    expect(call(t, 8, 1)).toThrow(RangeError);
    expect(call(new Uint8Array(8), 3, 6)).toThrow(RangeError);
    // Nothing was consumed, nothing written.
    expect(s.bytesAvailable()).toBe(10);
    expect(t.every((x) => x === 0)).toBe(true);
    expect(s.peek(10).toString()).toBe('0123456789');
    // The edges that are valid.
    expect(s.readInto(t, 8)).toBe(0);
    expect(s.readInto(t, 4, 4)).toBe(4);
    expect(t.subarray(4).toString()).toBe('0123');
    expect(s.readInto(t, undefined, 2)).toBe(2);
    expect(t.subarray(0, 2).toString()).toBe('45');
    expect(s.bytesAvailable()).toBe(4);
  }, 10000);

  test('skip(-1 / 1.5 / NaN / ...) → RangeError, nothing consumed', async () => {
    const { s, c } = await pair();
    await deliver(s, c, 'abc', 3);
    for (const bad of [-1, 1.5, NaN, Infinity, -Infinity, '1', null, undefined]) {
      expect(() => (s.skip as (n: unknown) => number).call(s, bad)).toThrow(RangeError);
    }
    expect(s.bytesAvailable()).toBe(3);
    expect(s.readAll().toString()).toBe('abc');
  }, 10000);

  test('arguments are checked even when the socket is closed', () => {
    const s = new QTcpSocket();
    sockets.push(s);
    expect(() => (s.readInto as (t: unknown) => number).call(s, 'x')).toThrow(TypeError);
    expect(() => s.readInto(Buffer.alloc(2), 3)).toThrow(RangeError);
    expect(() => s.skip(-1)).toThrow(RangeError);
    expect(s.readInto(Buffer.alloc(2))).toBe(-1);
    expect(s.skip(1)).toBe(-1);
  });
});

/**
 * A node:net peer sends `total` pseudo-random bytes in uneven writes; the
 * QTcpSocket consumes them in its readyRead slot with a random mix of every
 * read call; the two sha256 must agree and the read buffer must respect its
 * limit inside the slots.
 */
async function integrity(readBufferSize: number, total: number, seed: number): Promise<void> {
  const { s, c } = await pair(readBufferSize);
  const sendRnd = prng(seed);
  const readRnd = prng(seed ^ 0x9e3779b9);
  const int = (r: () => number, n: number) => floor(r() * n);

  // The sender.
  const sent = crypto.createHash('sha256');
  let sentBytes = 0;
  const pump = () => {
    while (sentBytes < total) {
      const r = sendRnd();
      let n: number;
      if (r < 0.04) {
        // A run of 1-byte writes.
        for (let i = 0; i < 20 && sentBytes < total; i++) {
          const one = crypto.randomBytes(1);
          sent.update(one);
          sentBytes++;
          c.write(one);
        }
        continue;
      } else if (r < 0.15) n = 1;
      else if (r < 0.35) n = 100 * KiB;
      else if (r < 0.5) n = 1 + int(sendRnd, 100);
      else n = 1 + int(sendRnd, 64 * KiB);
      n = min(n, total - sentBytes);
      const buf = crypto.randomBytes(n);
      sent.update(buf);
      sentBytes += n;
      if (!c.write(buf)) {
        c.once('drain', pump);
        return;
      }
      // Often let the loop turn, so the bytes come in many readiness events
      // that find the reader's buffer in every state.
      if (sendRnd() < 0.6) {
        setImmediate(pump);
        return;
      }
    }
    c.end();
  };

  // The reader.
  const got = crypto.createHash('sha256');
  let gotBytes = 0;
  let maxSeen = 0;
  let slots = 0;
  const problems: string[] = [];
  const problem = (what: string) => {
    if (problems.length < 20) problems.push(`after ${gotBytes} bytes: ${what}`);
  };
  const take = (d: Uint8Array) => {
    got.update(d);
    gotBytes += d.length;
  };
  const watch = (where: string) => {
    const a = s.bytesAvailable();
    if (a > maxSeen) maxSeen = a;
    if (readBufferSize > 0 && a > readBufferSize + 1) problem(`bytesAvailable ${a} > ${readBufferSize} + 1 (${where})`);
  };
  const targets = [Buffer.alloc(150 * KiB), new Uint8Array(150 * KiB)];
  const size = (avail: number) => {
    const r = readRnd();
    if (r < 0.15) return 1;
    if (r < 0.35) return 1 + int(readRnd, 512);
    if (r < 0.6) return 1 + int(readRnd, avail);
    if (r < 0.75) return avail;
    if (r < 0.85) return avail + 1 + int(readRnd, 100);
    return 1 + int(readRnd, 100 * KiB);
  };
  s.readyRead.connect(() => {
    slots++;
    watch('slot entry');
    let consumed = false;
    for (let ops = 0; ops < 200; ops++) {
      const avail = s.bytesAvailable();
      if (avail === 0) break;
      // Sometimes leave bytes for a later event (only once something was
      // read, so a bounded buffer always makes progress).
      if (consumed && readRnd() < 0.08) break;
      const n = size(avail);
      const want = min(n, avail);
      const r = readRnd();
      if (r < 0.22) {
        const d = s.read(n);
        if (d.length !== want) problem(`read(${n}) gave ${d.length}, want ${want}`);
        take(d);
      } else if (r < 0.47) {
        const t = targets[int(readRnd, 2)];
        const off = int(readRnd, 1000);
        const len = min(n, t.length - off - 1);
        const before = off > 0 ? t[off - 1] : -1;
        const fence = int(readRnd, 256);
        t[off + len] = fence;
        const k = s.readInto(t, off, len);
        if (k !== min(len, avail)) problem(`readInto(${off}, ${len}) gave ${k}, want ${min(len, avail)}`);
        if (k < 0) break;
        if (off > 0 && t[off - 1] !== before) problem('readInto wrote before its offset');
        if (t[off + len] !== fence) problem('readInto wrote past its length');
        take(t.subarray(off, off + k));
      } else if (r < 0.62) {
        const p = s.peek(n);
        const k = s.skip(n);
        if (p.length !== want || k !== want) problem(`peek/skip(${n}) gave ${p.length}/${k}, want ${want}`);
        take(p);
      } else if (r < 0.72) {
        const limit = readRnd() < 0.5 ? 0 : n;
        const line = s.readLine(limit);
        const nl = line.indexOf(0x0a);
        if (nl !== -1 && nl !== line.length - 1) problem('readLine went past a newline');
        if (nl === -1 && line.length !== min(limit === 0 ? avail : limit, avail)) {
          problem(`readLine(${limit}) without a newline gave ${line.length} of ${avail}`);
        }
        take(line);
      } else if (r < 0.95) {
        const ch = s.getChar();
        if (ch === null) {
          problem('getChar gave null with bytes available');
          break;
        }
        s.ungetChar(ch);
        watch('after ungetChar');
        if (s.bytesAvailable() !== avail) problem(`getChar+ungetChar changed bytesAvailable ${avail} → ${s.bytesAvailable()}`);
        if (readRnd() < 0.5) {
          const again = s.getChar();
          if (again !== ch) problem(`getChar after ungetChar gave ${again}, want ${ch}`);
          take(Uint8Array.of(ch));
        } else {
          continue; // nothing consumed
        }
      } else {
        const d = s.readAll();
        if (d.length !== avail) problem(`readAll gave ${d.length} of ${avail}`);
        take(d);
      }
      consumed = true;
      watch('after a read');
    }
  });

  const done = next(s.disconnected, 60000);
  pump();
  await done;
  // Qt keeps the buffer readable after the peer closed.
  take(s.readAll());
  expect(problems).toEqual([]);
  expect(sentBytes).toBe(total);
  expect(gotBytes).toBe(total);
  expect(got.digest('hex')).toBe(sent.digest('hex'));
  expect(slots).toBeGreaterThan(total > MiB ? 200 : 1000);
  if (readBufferSize > 0) expect(maxSeen).toBeLessThanOrEqual(readBufferSize + 1);
}

describe('integrity through the native read-ahead', () => {
  test('32 MiB in uneven writes, no read buffer limit, a random mix of reads', () => integrity(0, 32 * MiB, 1), 30000);
  test('32 MiB through setReadBufferSize(1000)', () => integrity(1000, 32 * MiB, 2), 30000);
  test('256 KiB through setReadBufferSize(1)', () => integrity(1, 256 * KiB, 3), 30000);

  test('toggling descriptor passing mid-stream (engine read-ahead off and on) loses no byte', async () => {
    const { s, c } = await pair();
    const data = crypto.randomBytes(4 * MiB);
    const got: Buffer[] = [];
    let count = 0;
    let on = false;
    let slots = 0;
    s.readyRead.connect(() => {
      slots++;
      const d = s.read(1 + floor(Math.random() * 200 * KiB));
      got.push(d);
      count += d.length;
      on = !on;
      s.setDescriptorPassing(on);
    });
    const done = next(s.disconnected, 20000);
    // In many small pieces, a loop turn apart, for many readiness events.
    let at = 0;
    const pump = () => {
      if (at >= data.length) {
        c.end();
        return;
      }
      const n = 1 + floor(Math.random() * 32 * KiB);
      c.write(data.subarray(at, at + n));
      at += n;
      if (c.writableLength > MiB) c.once('drain', pump);
      else setImmediate(pump);
    };
    pump();
    await done;
    got.push(s.readAll());
    expect(slots).toBeGreaterThan(100);
    expect(Buffer.concat(got).equals(data)).toBe(true);
  }, 30000);
});

const childPeer = (...args: string[]) => startChildPeer(children, ...args);

describe('blocking and event-driven reads on the same store', () => {
  test.each([0, 1000])('waitForReadyRead (recv into the store) interleaved with readiness events (read-ahead), read buffer size %i', async (limit) => {
    const total = 8 * MiB;
    const p = await childPeer('source', String(total));
    const s = new QTcpSocket();
    sockets.push(s);
    if (limit > 0) s.setReadBufferSize(limit);
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const rnd = prng(limit + 21);
    const h = crypto.createHash('sha256');
    let count = 0;
    let blocking = 0;
    let evented = 0;
    const t = new Uint8Array(100 * KiB);
    const consume = () => {
      let first = true;
      while (s.bytesAvailable() > 0 && (first || rnd() < 0.7)) {
        first = false;
        const n = 1 + floor(rnd() * 80 * KiB);
        const r = rnd();
        if (r < 0.4) {
          const k = s.readInto(t, 0, n);
          h.update(t.subarray(0, k));
          count += k;
        } else if (r < 0.7) {
          const d = s.peek(n);
          expect(s.skip(n)).toBe(d.length);
          h.update(d);
          count += d.length;
        } else {
          const d = s.read(n);
          h.update(d);
          count += d.length;
        }
        if (limit > 0) expect(s.bytesAvailable()).toBeLessThanOrEqual(limit);
      }
    };
    while (s.state() === SocketState.ConnectedState) {
      if (rnd() < 0.5) {
        if (s.waitForReadyRead(5000)) blocking++;
      } else {
        const got = await Promise.race([next(s.readyRead, 5000).then(() => true), next(s.disconnected, 5000).then(() => false)]);
        if (got) evented++;
      }
      consume();
    }
    while (s.bytesAvailable() > 0) consume();
    const { sha256 } = await p.line();
    expect(count).toBe(total);
    expect(h.digest('hex')).toBe(sha256);
    expect(blocking).toBeGreaterThanOrEqual(2);
    expect(evented).toBeGreaterThanOrEqual(2);
  }, 30000);
});

describe('the read store: growth past 128 KiB, give-back, reuse', () => {
  test('a burst the reader does not read grows the store; reading it all gives the store back; more data arrives intact', async () => {
    const { s, c } = await pair();
    const q = readBuffer(s);
    const rnd = prng(11);
    const gone: Array<{ store: Buffer; snapshot: Buffer }> = [];
    for (const size of [600 * KiB, 200 * KiB, 3 * MiB + 17]) {
      const data = crypto.randomBytes(size);
      await deliver(s, c, data, size);
      const store = q.store();
      expect(store.length).toBeGreaterThan(KEEP_STORE);
      expect(words(store)[0]).toBe(q.end());
      expect(words(store)[1]).toBe(READ_CHUNK); // armed
      const out = Buffer.alloc(size);
      let at = 0;
      while (s.bytesAvailable() > 0) {
        const n = 1 + floor(rnd() * 150 * KiB);
        const r = rnd();
        if (r < 0.4) at += s.readInto(out, at, min(n, size - at));
        else if (r < 0.7) {
          const d = s.read(n);
          d.copy(out, at);
          at += d.length;
        } else {
          const d = s.peek(n);
          expect(s.skip(n)).toBe(d.length);
          d.copy(out, at);
          at += d.length;
        }
      }
      expect(at).toBe(size);
      expect(out.equals(data)).toBe(true);
      // Drained: the big store is given back and disarmed.
      expect(q.store().length).toBe(0);
      expect(words(store)[1]).toBe(0);
      gone.push({ store, snapshot: Buffer.from(store) });
      // Small traffic afterwards uses a new store; the old ones are never written again.
      for (const n of [1, 1000, 70 * KiB]) {
        const more = crypto.randomBytes(n);
        await deliver(s, c, more, n);
        expect(q.store()).not.toBe(store);
        expect(s.readAll().equals(more)).toBe(true);
      }
      for (const g of gone) expect(g.store.equals(g.snapshot)).toBe(true);
    }
  }, 20000);

  test('reading part of a burst while more keeps arriving (the store grows under the engine) keeps every byte', async () => {
    const { s, c } = await pair();
    const data = crypto.randomBytes(6 * MiB);
    const parts: Buffer[] = [];
    // Read little per event, so the buffer grows while the engine keeps reading into it.
    s.readyRead.connect(() => parts.push(s.read(8 * KiB)));
    const done = next(s.disconnected, 20000);
    c.end(data);
    await done;
    expect(readBuffer(s).store().length).toBeGreaterThan(KEEP_STORE);
    parts.push(s.readAll());
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  }, 30000);
});

describe('a socket used for a second connection', () => {
  test('the kept store becomes the new engine\'s read area; bytes intact on both connections', async () => {
    const p = await startPeer('127.0.0.1');
    peers.push(p);
    const s = new QTcpSocket();
    sockets.push(s);
    for (let round = 0; round < 3; round++) {
      s.connectToHost('127.0.0.1', p.port);
      const [, c] = await Promise.all([next(s.connected), p.nextConnection()]);
      for (const n of [1000, 50 * KiB, 3]) {
        const data = crypto.randomBytes(n);
        await deliver(s, c, data, n);
        expect(words(readBuffer(s).store())[1]).toBe(READ_CHUNK);
        const out = Buffer.alloc(n);
        expect(s.readInto(out)).toBe(n);
        expect(out.equals(data)).toBe(true);
      }
      // Bytes left unread when the connection ends are dropped with it.
      await deliver(s, c, 'left over', 9);
      if (round === 1) {
        s.abort();
      } else {
        s.disconnectFromHost();
        if (s.state() !== SocketState.UnconnectedState) await next(s.disconnected);
        s.close();
      }
      expect(s.bytesAvailable()).toBe(0);
    }
  }, 10000);
});

describe('read(), readAll(), peek(), readLine() return copies', () => {
  test('Buffers handed out do not change when more data arrives into the reused store', async () => {
    const { s, c } = await pair();
    await deliver(s, c, 'line1\n' + 'A'.repeat(1000), 1006);
    const p = s.peek(6);
    const l = s.readLine();
    const r = s.read(100);
    const a = s.readAll();
    expect(p.toString()).toBe('line1\n');
    expect(l.toString()).toBe('line1\n');
    expect(r.toString()).toBe('A'.repeat(100));
    expect(a.toString()).toBe('A'.repeat(900));
    const store = readBuffer(s).store();
    for (const x of [p, l, r, a]) expect(x.buffer).not.toBe(store.buffer);
    // The drained store is kept and refilled from its front.
    await deliver(s, c, 'B'.repeat(3000), 3000);
    expect(readBuffer(s).store()).toBe(store);
    const p2 = s.peek(10);
    expect(p.toString()).toBe('line1\n');
    expect(l.toString()).toBe('line1\n');
    expect(r.toString()).toBe('A'.repeat(100));
    expect(a.toString()).toBe('A'.repeat(900));
    // Writing into what was handed out does not change the socket's bytes.
    p2.fill(0x43);
    expect(s.peek(10).toString()).toBe('B'.repeat(10));
    expect(s.readAll().toString()).toBe('B'.repeat(3000));
  }, 10000);
});

describe('the read-ahead window follows the read buffer', () => {
  test('the header words track end() and the room left under the limit', async () => {
    const { s, c } = await pair(1000);
    await deliver(s, c, Buffer.alloc(300, 1), 300);
    const q = readBuffer(s);
    const w = words(q.store());
    const check = (max: number) => {
      expect(w[0]).toBe(q.end());
      expect(w[1]).toBe(max);
    };
    check(700);
    s.read(100);
    check(800);
    expect(s.skip(50)).toBe(50);
    check(850);
    expect(s.readInto(Buffer.alloc(50))).toBe(50);
    check(900);
    const ch = s.getChar()!;
    check(901);
    s.ungetChar(ch);
    check(900);
    s.readLine(10);
    check(910);
    s.setReadBufferSize(0);
    check(READ_CHUNK);
    s.setReadBufferSize(200); // 90 buffered
    check(110);
    s.setReadBufferSize(50); // fewer than buffered: the engine must not read
    check(0);
    s.setReadBufferSize(0);
    check(READ_CHUNK);
    s.setDescriptorPassing(true); // the engine's reads would drop descriptors
    check(0);
    s.setDescriptorPassing(false);
    check(READ_CHUNK);
    expect(s.readAll().length).toBe(90);
  }, 10000);
});

describe('QUdpSocket in connected mode', () => {
  function dgramPeer(): Promise<dgram.Socket> {
    return new Promise((resolve) => {
      const p = dgram.createSocket('udp4');
      dgrams.push(p);
      p.bind(0, '127.0.0.1', () => resolve(p));
    });
  }

  async function connectedUdp(port: number): Promise<QUdpSocket> {
    const s = new QUdpSocket();
    sockets.push(s);
    s.connectToHost('127.0.0.1', port);
    await next(s.connected);
    return s;
  }

  const send = (p: dgram.Socket, data: Buffer, port: number) =>
    new Promise<void>((resolve, reject) => p.send(data, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));

  test('readInto cuts a datagram to the window and discards its rest; skip discards exactly one', async () => {
    const peer = await dgramPeer();
    const s = await connectedUdp(peer.address().port);
    const port = s.localPort();
    const d1 = crypto.randomBytes(100);
    const d2 = crypto.randomBytes(30);
    const d3 = crypto.randomBytes(50);
    const d4 = crypto.randomBytes(7);
    const d5 = crypto.randomBytes(20);
    for (const d of [d1, d2, d3, d4, d5]) await send(peer, d, port);
    await until(() => s.hasPendingDatagrams(), 5000, 'a datagram');

    const t = Buffer.alloc(64, 0x2e);
    expect(s.readInto(t, 4, 40)).toBe(40);
    expect(t.subarray(4, 44).equals(d1.subarray(0, 40))).toBe(true);
    expect(t.subarray(0, 4).toString()).toBe('....');
    expect(t.subarray(44).every((x) => x === 0x2e)).toBe(true);
    // The other 60 bytes of d1 are gone: the next read is d2.
    expect(s.pendingDatagramSize()).toBe(30);
    const u = new Uint8Array(64);
    expect(s.readInto(u)).toBe(30);
    expect(Buffer.from(u.subarray(0, 30)).equals(d2)).toBe(true);
    expect(s.skip(10)).toBe(10); // all of d3 is discarded, 10 reported
    expect(s.pendingDatagramSize()).toBe(7);
    expect(s.skip(1000)).toBe(7); // d4
    expect(s.readInto(t, 0, 64)).toBe(20);
    expect(t.subarray(0, 20).equals(d5)).toBe(true);

    // None left.
    expect(s.readInto(t)).toBe(-1);
    expect(s.error()).toBe(SocketError.TemporaryError);
    expect(s.skip(5)).toBe(0);
    expect(s.state()).toBe(SocketState.ConnectedState);

    // Bad input throws and consumes nothing.
    const d6 = crypto.randomBytes(12);
    await send(peer, d6, port);
    await until(() => s.hasPendingDatagrams(), 5000, 'a datagram');
    expect(() => (s.readInto as (x: unknown) => number).call(s, 'x')).toThrow(TypeError);
    expect(() => (s.readInto as (x: unknown) => number).call(s, new DataView(new ArrayBuffer(4)))).toThrow(TypeError);
    expect(() => s.readInto(t, -1)).toThrow(RangeError);
    expect(() => s.readInto(t, 65)).toThrow(RangeError);
    expect(() => s.readInto(t, 60, 5)).toThrow(RangeError);
    expect(() => s.readInto(t, 0, 1.5)).toThrow(RangeError);
    expect(() => s.skip(-1)).toThrow(RangeError);
    expect(() => s.skip(NaN)).toThrow(RangeError);
    expect(s.pendingDatagramSize()).toBe(12);
    expect(s.readInto(t, 1)).toBe(12);
    expect(t.subarray(1, 13).equals(d6)).toBe(true);

    s.close();
    expect(s.readInto(t)).toBe(-1);
    expect(s.skip(1)).toBe(-1);
  }, 10000);

  test('from a second QUdpSocket: readInto in readyRead gets each datagram in order, cut to the window', async () => {
    const tx = new QUdpSocket();
    sockets.push(tx);
    expect(tx.bind('127.0.0.1', 0)).toBe(true);
    const s = await connectedUdp(tx.localPort());
    const sizes = [1, 40, 41, 100, 1200, 39, 2, 600, 40, 1];
    const sent = sizes.map((n) => crypto.randomBytes(n));
    const window = 40;
    const got: Buffer[] = [];
    const results: number[] = [];
    const t = Buffer.alloc(window + 10);
    s.readyRead.connect(() => {
      for (;;) {
        const k = s.readInto(t, 5, window);
        if (k < 0) break;
        results.push(k);
        got.push(Buffer.from(t.subarray(5, 5 + k)));
      }
    });
    for (const d of sent) expect(tx.writeDatagram(d, '127.0.0.1', s.localPort())).toBe(d.length);
    await until(() => got.length === sent.length, 5000, 'every datagram');
    expect(results).toEqual(sizes.map((n) => min(n, window)));
    got.forEach((g, i) => expect(g.equals(sent[i].subarray(0, window))).toBe(true));
    expect(s.error()).toBe(SocketError.TemporaryError);
  }, 10000);
});
