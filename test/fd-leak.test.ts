// "No fd leaks" (SPEC.md, Non-negotiables): every descriptor the library
// opens or adopts is closed exactly once. Thousands of sockets go through
// every way a connection ends, and the process's count of open descriptors
// must come back to where it started.
import * as fs from 'fs';
import * as net from 'net';
import * as v8 from 'v8';
import * as vm from 'vm';
import { QTcpSocket, SocketState, SocketError } from '../lib';
import { binding, C, E } from '../lib/binding';
import { openFds, liveEngines, until, delay, closedPort, next } from './helpers';

const S = SocketState;
const info = new Int32Array(5);

/** Whether `fd` is open now (fstat; anything but EBADF is a test failure). */
function isOpenFd(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBADF') throw err;
    return false;
  }
}

/** A node:net server that counts its live (not yet closed) connections. */
interface Server {
  port: number;
  accepted: number;
  live(): number;
  destroyAll(): void;
  close(): Promise<void>;
}

async function serve(onConn: (c: net.Socket) => void): Promise<Server> {
  const conns = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((c) => {
    accepted++;
    conns.add(c);
    c.on('error', () => {});
    c.on('close', () => conns.delete(c));
    onConn(c);
  });
  server.maxConnections = 10000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    live: () => conns.size,
    destroyAll: () => {
      for (const c of conns) c.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A sockaddr for the native engine: IPv4 127.0.0.1:port. */
function v4(port: number): Uint8Array {
  const out = new Uint8Array(C.ADDR_SIZE);
  out[0] = 4;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set([127, 0, 0, 1], 8);
  return out;
}

/**
 * A connected descriptor made outside QTcpSocket: a bare native engine
 * connects, the test waits for it without blocking the loop (the server runs
 * in this process), then detaches it.
 */
async function connectedFd(port: number): Promise<number> {
  const e = new binding.Engine(() => {});
  expect(e.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  const r = e.connect(v4(port));
  expect([0, -E.EINPROGRESS]).toContain(r);
  const end = Date.now() + 5000;
  while ((e.poll(C.WRITABLE, 0) & C.WRITABLE) === 0) {
    if (Date.now() > end) throw new Error('connect did not finish');
    await delay(1);
  }
  expect(e.socketError()).toBe(0);
  const fd = e.detach();
  expect(fd).toBeGreaterThan(2);
  expect(e.fd()).toBe(-1);
  return fd;
}

let echo: Server;
let hangup: Server;
let refusedPort: number;

beforeAll(async () => {
  echo = await serve((c) => c.pipe(c));
  hangup = await serve((c) => c.end());
  refusedPort = await closedPort();
});

afterAll(async () => {
  await echo.close();
  await hangup.close();
});

afterEach(() => {
  expect(liveEngines()).toBe(0);
});

// ---- the five ways a socket's life ends ----------------------------------------

/** Connects to the echo server, checks the connection carries a byte, aborts. */
async function connectThenAbort(): Promise<void> {
  const s = new QTcpSocket();
  s.connectToHost('127.0.0.1', echo.port);
  await next(s.connected);
  expect(s.write('x')).toBe(1);
  await next(s.readyRead);
  expect(s.readAll().toString()).toBe('x');
  const fd = s.socketDescriptor();
  expect(fd).toBeGreaterThan(2);
  s.abort();
  expect(s.state()).toBe(S.UnconnectedState);
  expect(s.socketDescriptor()).toBe(-1);
  expect(isOpenFd(fd)).toBe(false); // closed by abort(), at once
}

/** Adopts a connected descriptor made elsewhere, then aborts. */
async function adoptThenAbort(): Promise<void> {
  const fd = await connectedFd(echo.port);
  const s = new QTcpSocket();
  expect(s.setSocketDescriptor(fd)).toBe(true);
  expect(s.socketDescriptor()).toBe(fd);
  expect(s.state()).toBe(S.ConnectedState);
  expect(s.peerPort()).toBe(echo.port);
  s.abort();
  expect(s.socketDescriptor()).toBe(-1);
  expect(isOpenFd(fd)).toBe(false); // an adopted descriptor is closed by abort()
}

/** Connects to a port nobody listens on. */
async function refused(): Promise<void> {
  const s = new QTcpSocket();
  const err = next(s.errorOccurred);
  s.connectToHost('127.0.0.1', refusedPort);
  expect(await err).toEqual([SocketError.ConnectionRefusedError]);
  expect(s.state()).toBe(S.UnconnectedState);
  expect(s.socketDescriptor()).toBe(-1);
}

/** Connects to a server that hangs up at once. */
async function peerDisconnects(): Promise<void> {
  const s = new QTcpSocket();
  const gone = next(s.disconnected);
  s.connectToHost('127.0.0.1', hangup.port);
  await gone;
  expect(s.error()).toBe(SocketError.RemoteHostClosedError);
  expect(s.state()).toBe(S.UnconnectedState);
  expect(s.socketDescriptor()).toBe(-1);
}

/**
 * Connects and is then only dropped: no abort, no close. `keep` holds half of
 * them (aborted at the end); the other half is forgotten entirely, and is
 * closed only when the server hangs up on it.
 */
async function connectThenDrop(keep: QTcpSocket[] | null): Promise<void> {
  const s = new QTcpSocket();
  s.connectToHost('127.0.0.1', echo.port);
  await next(s.connected);
  expect(s.socketDescriptor()).toBeGreaterThan(2);
  if (keep) keep.push(s);
}

/** One batch: `each` sockets of every kind, all in parallel. */
async function batch(each: number, kept: QTcpSocket[]): Promise<void> {
  const work: Array<Promise<void>> = [];
  for (let i = 0; i < each; i++) {
    work.push(connectThenAbort(), adoptThenAbort(), refused(), peerDisconnects());
    work.push(connectThenDrop(i % 2 === 0 ? kept : null));
  }
  await Promise.all(work);
}

/** Waits until the servers hold exactly `alive` connections (their other ends closed). */
async function settle(alive: number): Promise<void> {
  await until(() => echo.live() === alive && hangup.live() === 0, 10000, `servers down to ${alive} connections`);
}

test('2,000 sockets (connect, adopt, refuse, peer close, drop) leave the descriptor count where it started', async () => {
  const KINDS = 5;
  const EACH = 20; // per kind per batch: 100 sockets in flight at once
  const BATCHES = 20; // 20 × 100 = 2,000 sockets

  // Warm-up: one socket of every kind, so that whatever node, jest or the
  // addon open once (and keep) is open before the baseline is taken.
  const warm: QTcpSocket[] = [];
  await Promise.all([connectThenAbort(), adoptThenAbort(), refused(), peerDisconnects(), connectThenDrop(warm), connectThenDrop(null)]);
  expect(warm.length).toBe(1);
  for (const s of warm) s.abort();
  await settle(1); // the forgotten warm-up socket is still connected
  echo.destroyAll();
  await settle(0);
  await until(() => liveEngines() === 0, 5000, 'the forgotten warm-up socket to close');
  const baseline = openFds();
  const acceptedBefore = echo.accepted + hangup.accepted;

  const kept: QTcpSocket[] = [];
  let forgotten = 0;
  for (let b = 0; b < BATCHES; b++) {
    await batch(EACH, kept);
    forgotten += EACH / 2;
    // Every socket that ended is closed already: what is open is exactly the
    // dropped sockets (one descriptor here, one in the echo server each).
    const alive = kept.length + forgotten;
    await settle(alive);
    expect(liveEngines()).toBe(alive);
    expect(openFds()).toBe(baseline + 2 * alive);
  }
  expect(kept.length).toBe((BATCHES * EACH) / 2);
  // Connections made: every kind but the refused one reached a server.
  expect(echo.accepted + hangup.accepted - acceptedBefore).toBe(BATCHES * EACH * (KINDS - 1));

  // The dropped sockets stayed alive and connected while they were polled.
  for (const s of kept) expect(s.state()).toBe(S.ConnectedState);
  for (const s of kept) s.abort();
  await settle(forgotten);
  expect(liveEngines()).toBe(forgotten);
  // The forgotten ones have no reference left in the test: the peer's close
  // alone must get their descriptors closed.
  echo.destroyAll();
  await settle(0);
  await until(() => liveEngines() === 0, 5000, 'forgotten sockets to see the remote close');
  await until(() => openFds() <= baseline, 5000, 'descriptors back to the baseline');
  expect(openFds()).toBe(baseline);
  expect(liveEngines()).toBe(0);
}, 30000);

test('200 adopted then aborted sockets close each descriptor exactly once', async () => {
  const before = openFds();
  const fds: number[] = [];
  for (let b = 0; b < 2; b++) fds.push(...(await Promise.all(Array.from({ length: 100 }, () => connectedFd(echo.port)))));
  expect(new Set(fds).size).toBe(200);
  await until(() => echo.live() === 200, 5000, 'the echo server to accept 200');

  const sockets = fds.map((fd) => {
    const s = new QTcpSocket();
    expect(s.setSocketDescriptor(fd)).toBe(true);
    expect(s.socketDescriptor()).toBe(fd);
    return s;
  });
  expect(liveEngines()).toBe(200);

  // Abort them all, then look at every old number before anything else can
  // run (no await in between): each one must be closed.
  for (const s of sockets) s.abort();
  const stillOpen = fds.filter((fd) => isOpenFd(fd));
  expect(stillOpen).toEqual([]);
  for (const fd of fds) expect(binding.describe(fd, info)).toBe(-E.EBADF);
  expect(liveEngines()).toBe(0);

  // The numbers are free again: new descriptors take them. A second abort or
  // close of a dead socket, and the garbage collection of all 200 sockets and
  // their engines, must not close those new owners' descriptors.
  const mine: number[] = [];
  for (let i = 0; i < 200; i++) mine.push(fs.openSync('/dev/null', 'r'));
  const reused = mine.filter((fd) => fds.includes(fd));
  expect(reused.length).toBeGreaterThan(0);
  try {
    for (const s of sockets) {
      s.abort();
      s.close();
      s.disconnectFromHost();
      expect(s.socketDescriptor()).toBe(-1);
    }
    expect(mine.filter((fd) => !isOpenFd(fd))).toEqual([]);

    sockets.length = 0;
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) {
      gc();
      await delay(10);
    }
    expect(mine.filter((fd) => !isOpenFd(fd))).toEqual([]);
    for (const fd of mine) expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true);
  } finally {
    for (const fd of mine) fs.closeSync(fd);
  }

  await settle(0);
  await until(() => openFds() <= before, 5000, 'descriptors back to the count before the test');
  expect(openFds()).toBe(before);
});
