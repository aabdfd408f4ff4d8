// The native engine alone, the way Qt's tst_platformsocketengine tests its
// engine: each call is one system call returning a result or -errno.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { binding, C, E } from '../../lib/binding';
import { startEcho, startPeer, closedPort } from '../helpers';

const noop = (_events: number, _status: number) => {};

function v4(port: number, a = [127, 0, 0, 1]): Uint8Array {
  const out = new Uint8Array(C.ADDR_SIZE);
  out[0] = 4;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set(a, 8);
  return out;
}

/** Waits for readiness without blocking the thread, so peers in this process keep running. */
async function ready(e: InstanceType<typeof binding.Engine>, events: number, ms = 2000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const r = e.poll(events, 0);
    if (r !== 0 || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 1));
  }
}

function portOf(addr: Uint8Array): number {
  return (addr[2] << 8) | addr[3];
}

/** Connects a fresh engine to 127.0.0.1:port with blocking polls. */
function connectEngine(port: number, onNotify: (events: number, status: number, ahead: number) => void = noop) {
  const e = new binding.Engine(onNotify);
  expect(e.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  const r = e.connect(v4(port));
  expect([0, -E.EINPROGRESS]).toContain(r);
  expect(e.poll(C.WRITABLE, 2000) & C.WRITABLE).toBeTruthy();
  expect(e.socketError()).toBe(0);
  return e;
}

afterEach(() => {
  expect(binding.liveEngines()).toBe(0);
});

/** The name of what `f` throws. Errors made in C++ belong to Node's realm, not jest's sandbox: match by name. */
function nameOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

test('constants and errno names come from the OS', () => {
  expect(C.AF_INET).toBeGreaterThan(0);
  expect(C.SOCK_STREAM).toBeGreaterThan(0);
  expect(E.EAGAIN).toBeGreaterThan(0);
  expect(E.ECONNREFUSED).toBeGreaterThan(0);
  expect(binding.strerror(E.ECONNREFUSED)).toMatch(/refused/i);
  expect(C.ADDR_SIZE).toBeGreaterThanOrEqual(116);
});

test('open makes a non-blocking close-on-exec socket; close closes it once', () => {
  const e = new binding.Engine(noop);
  expect(e.fd()).toBe(-1);
  expect(e.open(C.AF_INET6, C.SOCK_STREAM)).toBe(0);
  const fd = e.fd();
  expect(fd).toBeGreaterThan(2);
  const info = new Int32Array(5);
  expect(binding.describe(fd, info)).toBe(0);
  expect(info[0]).toBe(C.SOCK_STREAM);
  expect(info[1]).toBe(C.AF_INET6);
  // A blocking socket would hang here; a non-blocking one says EAGAIN at once.
  const buf = new Uint8Array(8);
  expect(e.read(buf, 0, 8)).toBeLessThan(0);
  const flags = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const f = parseInt(/flags:\s*(\d+)/.exec(flags)![1], 8);
  expect(f & 0o4000).toBeTruthy(); // O_NONBLOCK
  expect(f & 0o2000000).toBeTruthy(); // O_CLOEXEC
  expect(e.close()).toBe(0);
  expect(e.fd()).toBe(-1);
  expect(e.close()).toBe(0); // the second close is a no-op, never a close(-1) or a double close
  expect(binding.describe(fd, info)).toBe(-E.EBADF);
});

test('connect, send and recv against a node:net echo server', async () => {
  const peer = await startEcho();
  try {
    const e = connectEngine(peer.port);
    const local = new Uint8Array(C.ADDR_SIZE);
    const remote = new Uint8Array(C.ADDR_SIZE);
    expect(e.localAddress(local)).toBe(0);
    expect(e.peerAddress(remote)).toBe(0);
    expect(local[0]).toBe(4);
    expect(portOf(remote)).toBe(peer.port);
    expect(Array.from(remote.subarray(8, 12))).toEqual([127, 0, 0, 1]);
    expect(e.write(Buffer.from('xxhello'), 2, 5)).toBe(5);
    expect(e.write(Buffer.from('abcd'), 1, 3)).toBe(3);
    const buf = Buffer.alloc(64);
    let got = '';
    while (got.length < 8) {
      expect((await ready(e, C.READABLE)) & C.READABLE).toBeTruthy();
      const n = e.read(buf, 0, buf.length);
      expect(n).toBeGreaterThan(0);
      got += buf.toString('latin1', 0, n);
    }
    expect(got).toBe('hellobcd');
    expect(e.close()).toBe(0);
  } finally {
    await peer.close();
  }
});

test('a refused connect reports ECONNREFUSED through SO_ERROR or at once', async () => {
  const port = await closedPort();
  const e = new binding.Engine(noop);
  expect(e.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  const r = e.connect(v4(port));
  if (r === -E.EINPROGRESS) {
    expect(e.poll(C.WRITABLE, 2000)).not.toBe(0);
    expect(e.socketError()).toBe(E.ECONNREFUSED);
  } else {
    expect(r).toBe(-E.ECONNREFUSED);
  }
  e.close();
});

test('send to a closed peer gives EPIPE or ECONNRESET, never SIGPIPE', async () => {
  const peer = await startPeer();
  const e = connectEngine(peer.port);
  const conn = await peer.nextConnection();
  conn.destroy();
  await peer.close();
  const chunk = Buffer.alloc(65536);
  let r = 0;
  for (let i = 0; i < 200 && r >= 0; i++) {
    r = e.write(chunk, 0, chunk.length);
    if (r >= 0) await new Promise((res) => setTimeout(res, 5));
  }
  expect([-E.EPIPE, -E.ECONNRESET]).toContain(r);
  e.close();
});

test('the uv_poll readiness callback fires for readable and stops with setNotify(0)', async () => {
  const peer = await startEcho();
  try {
    const events: number[] = [];
    let resolve!: () => void;
    const got = new Promise<void>((r) => (resolve = r));
    const e = connectEngine(peer.port, (ev, status) => {
      expect(status).toBe(0);
      events.push(ev);
      resolve();
    });
    expect(e.setNotify(C.READABLE)).toBe(0);
    e.write(Buffer.from('ping'), 0, 4);
    await got;
    expect(events[0] & C.READABLE).toBeTruthy();
    expect(e.setNotify(0)).toBe(0);
    const n = events.length;
    await new Promise((r) => setTimeout(r, 30)); // data still unread: a live poll would fire again
    expect(events.length).toBe(n);
    e.close();
  } finally {
    await peer.close();
  }
});

test('poll() times out after about the requested time and reports 0', async () => {
  const peer = await startPeer();
  try {
    const e = connectEngine(peer.port);
    const t0 = process.hrtime.bigint();
    expect(e.poll(C.READABLE, 50)).toBe(0);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(49);
    expect(ms).toBeLessThan(300);
    e.close();
  } finally {
    await peer.close();
  }
});

test('bind, listen and accept give a non-blocking connected descriptor', async () => {
  const server = new binding.Engine(noop);
  expect(server.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  expect(server.setOption(C.SOL_SOCKET, C.SO_REUSEADDR, 1)).toBe(0);
  expect(server.bind(v4(0))).toBe(0);
  expect(server.listen(16)).toBe(0);
  const me = new Uint8Array(C.ADDR_SIZE);
  server.localAddress(me);
  const client = net.connect(portOf(me), '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  expect((await ready(server, C.READABLE)) & C.READABLE).toBeTruthy();
  const peerAddr = new Uint8Array(C.ADDR_SIZE);
  const fd = server.accept(peerAddr);
  expect(fd).toBeGreaterThan(2);
  expect(portOf(peerAddr)).toBe(client.localPort);
  const info = new Int32Array(5);
  expect(binding.describe(fd, info)).toBe(0);
  expect(info[4]).toBe(1); // connected
  const adopted = new binding.Engine(noop);
  expect(adopted.adopt(fd)).toBe(0);
  expect(server.accept()).toBe(-E.EAGAIN);
  adopted.close();
  server.close();
  client.destroy();
});

test('describe refuses what is not a socket and changes nothing', () => {
  const info = new Int32Array(5);
  const file = path.join(os.tmpdir(), `qsocket-engine-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  try {
    expect(binding.describe(fd, info)).toBe(-E.ENOTSOCK);
    expect(binding.describe(-1, info)).toBe(-E.EBADF);
  } finally {
    fs.closeSync(fd); // still open: describe did not close it
    fs.unlinkSync(file);
  }
});

test('integer options round-trip through getsockopt', () => {
  const e = new binding.Engine(noop);
  e.open(C.AF_INET, C.SOCK_STREAM);
  const out = new Int32Array(1);
  expect(e.setOption(C.IPPROTO_TCP, C.TCP_NODELAY, 1)).toBe(0);
  expect(e.getOption(C.IPPROTO_TCP, C.TCP_NODELAY, out)).toBe(0);
  expect(out[0]).toBe(1);
  expect(e.getOption(C.SOL_SOCKET, 0x7fff, out)).toBe(-E.ENOPROTOOPT);
  e.close();
});

test('misuse from lib/ is a TypeError or RangeError, not a crash', () => {
  const e = new binding.Engine(noop);
  e.open(C.AF_INET, C.SOCK_STREAM);
  expect(nameOf(() => e.read(Buffer.alloc(4), 2, 8))).toBe('RangeError');
  expect(nameOf(() => e.read('x' as unknown as Uint8Array, 0, 1))).toBe('TypeError');
  expect(nameOf(() => e.bind(new Uint8Array(4)))).toBe('RangeError');
  expect(nameOf(() => new binding.Engine(42 as unknown as () => void))).toBe('TypeError');
  e.close();
  expect(() => e.read(Buffer.alloc(4), 0, 4)).toThrow(/no descriptor/);
});

test('the read area: an armed event carries its own recv at [offset, max]; max 0 or a stale area means none', async () => {
  const peer = await startEcho();
  try {
    const results: number[] = [];
    let wake!: () => void;
    let next = new Promise<void>((r) => (wake = r));
    const e = connectEngine(peer.port, (_ev, status, ahead) => {
      expect(status).toBe(0);
      results.push(ahead);
      wake();
    });
    const area = new Uint8Array(new ArrayBuffer(8 + 16));
    const ctl = new Int32Array(area.buffer, 0, 2);
    ctl[0] = 8 + 3; // offset: three bytes into the data
    ctl[1] = 4; // at most 4 bytes
    expect(e.setReadArea(area)).toBe(0);
    expect(e.setNotify(C.READABLE)).toBe(0);
    e.write(Buffer.from('hello!'), 0, 6);
    await next;
    expect(results[0]).toBe(4); // cut to max
    expect(Buffer.from(area.subarray(11, 15)).toString()).toBe('hell');
    // Disarmed: the event comes without a read, and the rest stays in the kernel.
    ctl[1] = 0;
    next = new Promise<void>((r) => (wake = r));
    await next;
    expect(results[results.length - 1]).toBe(C.NOT_READ);
    const rest = Buffer.alloc(8);
    expect(e.read(rest, 0, 8)).toBe(2);
    expect(rest.subarray(0, 2).toString()).toBe('o!');
    // An offset outside the area is never used.
    ctl[0] = 1000;
    ctl[1] = 4;
    e.write(Buffer.from('x'), 0, 1);
    next = new Promise<void>((r) => (wake = r));
    await next;
    expect(results[results.length - 1]).toBe(C.NOT_READ);
    expect(e.setReadArea(null)).toBe(0);
    e.close();
  } finally {
    await peer.close();
  }
});

test('setReadArea, setRecvArrays and setNotifyHandler refuse what they cannot use', () => {
  const e = new binding.Engine(noop);
  expect(nameOf(() => e.setReadArea(new Uint8Array(4)))).toBe('RangeError'); // no room for the header
  expect(nameOf(() => e.setReadArea(new Int32Array(4) as unknown as Uint8Array))).toBe('TypeError');
  expect(nameOf(() => e.setReadArea('area' as unknown as Uint8Array))).toBe('TypeError');
  const ok = [new Uint8Array(400), 100, new Int32Array(8), new Uint8Array(4 * C.ADDR_SIZE), new Uint8Array(4 * C.ADDR_SIZE), 7] as const;
  type Args = Parameters<typeof binding.setRecvArrays>;
  const bad = (i: number, v: unknown) => {
    const args = [...ok] as unknown[];
    args[i] = v;
    return nameOf(() => binding.setRecvArrays(...(args as Args)));
  };
  expect(bad(0, new Int32Array(100))).toBe('TypeError');
  expect(bad(1, 0)).toBe('RangeError');
  expect(bad(2, new Uint8Array(32))).toBe('TypeError');
  expect(bad(5, 'me')).toBe('TypeError');
  expect(nameOf(() => binding.setNotifyHandler(42 as unknown as () => void))).toBe('TypeError');
  e.close();
});

test('recvMany answers NOT_READ to a caller whose arrays are not the registered ones', async () => {
  const a = new binding.Engine(noop);
  const b = new binding.Engine(noop);
  try {
    expect(a.open(C.AF_INET, C.SOCK_DGRAM)).toBe(0);
    expect(b.open(C.AF_INET, C.SOCK_DGRAM)).toBe(0);
    expect(a.bind(v4(0))).toBe(0);
    const addr = new Uint8Array(C.ADDR_SIZE);
    expect(a.localAddress(addr)).toBe(0);
    const slab = new Uint8Array(4 * 100);
    const meta = new Int32Array(16);
    const senders = new Uint8Array(4 * C.ADDR_SIZE);
    const dsts = new Uint8Array(4 * C.ADDR_SIZE);
    // The batch is the least that every array holds: 4 slots of 100, 4 metas, 4 addresses.
    expect(binding.setRecvArrays(slab, 100, meta, senders, dsts, 1234)).toBe(4);
    expect(b.sendTo(Buffer.from('one'), 0, 3, addr)).toBe(3);
    expect(b.sendTo(Buffer.from('two!'), 0, 4, addr)).toBe(4);
    expect((await ready(a, C.READABLE)) & C.READABLE).toBeTruthy();
    expect(a.recvMany(999)).toBe(C.NOT_READ); // someone else's registration: nothing taken
    expect(a.recvMany(1234)).toBe(2);
    expect([meta[0], meta[4]]).toEqual([3, 4]);
    expect(Buffer.from(slab.subarray(0, 7)).toString()).toBe('onetwo!'); // packed
  } finally {
    a.close();
    b.close();
  }
});
