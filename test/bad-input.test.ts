// "Bad input gets a clear error and loses nothing" (SPEC.md, Non-negotiables):
// every misuse below must give false/-1 with the right SocketError and
// errorString(), or a TypeError/RangeError, and must change nothing else —
// not the socket, not its connection, not its buffers, and above all not a
// descriptor that belongs to somebody else.
import { execFileSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { QTcpSocket, QHostAddress, SocketState, SocketError, SocketOption, OpenMode, NetworkLayerProtocol } from '../lib';
import { createSocketPair, closeDescriptor } from '../lib';
import type { LookupFunction } from '../lib';
import { binding, C, E } from '../lib/binding';
import { Recorder, next, until, delay, startEcho, startPeer, liveEngines, fdOf, Peer } from './helpers';

const S = SocketState;
const UNSUPPORTED = SocketError.UnsupportedSocketOperationError;

// Qt's strings (lib/errors.ts Msg), spelled out so a change to them is seen here.
const INVALID_DESCRIPTOR = 'Invalid socket descriptor';
const NON_SOCKET = 'Operation on non-socket';
const NOT_SUPPORTED = 'Operation on socket is not supported';

// ---- fixtures ---------------------------------------------------------------

const sockets: QTcpSocket[] = [];
const cleanups: Array<() => void | Promise<void>> = [];
let peers: Peer[] = [];

/** A QTcpSocket with every one of its signals recorded. */
function watched(lookup?: LookupFunction): { s: QTcpSocket; rec: Recorder } {
  const s = new QTcpSocket(lookup ? { lookup } : {});
  sockets.push(s);
  const rec = new Recorder()
    .watch('stateChanged', s.stateChanged, (st) => SocketState[st])
    .watch('hostFound', s.hostFound)
    .watch('connected', s.connected)
    .watch('disconnected', s.disconnected)
    .watch('errorOccurred', s.errorOccurred, (e) => SocketError[e])
    .watch('proxyAuthenticationRequired', s.proxyAuthenticationRequired, (proxy, _auth) => String(proxy.type()))
    .watch('readyRead', s.readyRead)
    .watch('bytesWritten', s.bytesWritten)
    .watch('aboutToClose', s.aboutToClose)
    .watch('readChannelFinished', s.readChannelFinished);
  return { s, rec };
}

async function echo(): Promise<Peer> {
  const p = await startEcho();
  peers.push(p);
  return p;
}

/** A QTcpSocket connected to a fresh echo server. */
async function connectedToEcho(): Promise<{ s: QTcpSocket; rec: Recorder; p: Peer }> {
  const p = await echo();
  const { s, rec } = watched();
  s.connectToHost('127.0.0.1', p.port);
  await next(s.connected);
  await p.nextConnection();
  return { s, rec, p };
}

/** Sends `text` through an echo connection and waits for it to come back. */
async function roundTrip(s: QTcpSocket, text: string): Promise<string> {
  expect(s.write(text)).toBe(Buffer.byteLength(text));
  await until(() => s.bytesAvailable() >= Buffer.byteLength(text), 3000, `echo of ${text}`);
  return s.readAll().toString();
}

/** `p`'s value, or '<timeout>' after `ms`; the timer never outlives the answer. */
async function within(p: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('<timeout>'), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A sockaddr for the native engine: IPv4 127.0.0.1:port (the layout lib/sockaddr.ts uses). */
function v4(port: number): Uint8Array {
  const out = new Uint8Array(C.ADDR_SIZE);
  out[0] = 4;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  out.set([127, 0, 0, 1], 8);
  return out;
}

/**
 * A connected TCP descriptor that belongs to the test (made by a bare native
 * engine, then detached), with the node:net server end of its connection.
 * It is not registered with node's event loop, so a library that wrongly
 * adopts it cannot break node's own sockets.
 */
async function ownedConnection(): Promise<{ fd: number; server: net.Socket }> {
  const p = await startPeer();
  peers.push(p);
  const e = new binding.Engine(() => {});
  expect(e.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  expect([0, -E.EINPROGRESS]).toContain(e.connect(v4(p.port)));
  const server = await p.nextConnection();
  expect(e.poll(C.WRITABLE, 1000) & C.WRITABLE).toBeTruthy();
  expect(e.socketError()).toBe(0);
  const fd = e.detach();
  cleanups.push(() => fs.closeSync(fd));
  return { fd, server };
}

/** Whether bytes written to the raw descriptor `fd` still reach `server`. */
async function reaches(fd: number, server: net.Socket, text: string): Promise<boolean> {
  const got = new Promise<string>((resolve) => {
    let acc = '';
    const on = (d: Buffer) => {
      acc += d.toString();
      if (acc.length >= text.length) {
        server.off('data', on);
        resolve(acc);
      }
    };
    server.on('data', on);
  });
  expect(fs.writeSync(fd, text)).toBe(text.length);
  return (await within(got, 3000)) === text;
}

/** Whether `a` gets `text` when `b` sends it. */
async function carries(from: net.Socket, to: net.Socket, text: string): Promise<boolean> {
  const got = new Promise<string>((resolve) => {
    let acc = '';
    const on = (d: Buffer) => {
      acc += d.toString();
      if (acc.length >= text.length) {
        to.off('data', on);
        resolve(acc);
      }
    };
    to.on('data', on);
  });
  from.write(text);
  return (await within(got, 3000)) === text;
}

/** The kernel's view of a descriptor: its open flags and file position. */
function fdinfo(fd: number): string {
  const text = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return text
    .split('\n')
    .filter((l) => /^(pos|flags):/.test(l))
    .join(';');
}

function isOpenFd(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('EBADF');
    return false;
  }
}

function tmpPath(what: string): string {
  return path.join(os.tmpdir(), `qsocket-bad-input-${process.pid}-${what}-${Math.random().toString(36).slice(2)}`);
}

/** The descriptor under a node:dgram socket, without the deprecated `_handle` getter. */
function udpFd(sock: dgram.Socket): number {
  const state = Object.getOwnPropertySymbols(sock).find((k) => String(k) === 'Symbol(state symbol)');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fd = state ? (sock as any)[state]?.handle?.fd : undefined;
  if (typeof fd !== 'number' || fd < 0) throw new Error('dgram socket has no descriptor');
  return fd;
}

/**
 * Detaches the descriptor a socket wrongly adopted, so that it goes back to
 * its real owner open: a failing test must not also cause a double close.
 */
function giveBack(s: QTcpSocket): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const engine = (s as any)._engine();
  engine?.raw().detach();
  s.abort();
}

/** A descriptor number that is not open right now (opened, then closed). */
function closedFdNumber(): number {
  const fd = fs.openSync('/dev/null', 'r');
  fs.closeSync(fd);
  return fd;
}

let enginesBefore = 0;
beforeEach(() => {
  enginesBefore = liveEngines();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.abort();
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const p of peers.splice(0)) await p.close();
  expect(liveEngines()).toBe(0);
});

/**
 * Asserts the whole contract of a refused setSocketDescriptor on a socket
 * that was never connected: false, the error and text, Unconnected, no
 * descriptor, not open, no engine made, and no signal — not even later.
 */
async function expectRefused(fd: number, message: string): Promise<void> {
  const { s, rec } = watched();
  const info = fd >= 0 && isOpenFd(fd) ? fdinfo(fd) : null;
  expect(s.setSocketDescriptor(fd)).toBe(false);
  expect(s.error()).toBe(UNSUPPORTED);
  expect(s.errorString()).toBe(message);
  expect(s.state()).toBe(S.UnconnectedState);
  expect(s.socketDescriptor()).toBe(-1);
  expect(s.isValid()).toBe(false);
  expect(s.isOpen()).toBe(false);
  expect(s.openMode()).toBe(OpenMode.NotOpen);
  expect(s.peerPort()).toBe(0);
  expect(s.localPort()).toBe(0);
  expect(liveEngines()).toBe(enginesBefore);
  // The descriptor was not touched: same flags (O_NONBLOCK not forced on), same position.
  if (info !== null) expect(fdinfo(fd)).toBe(info);
  await delay(20);
  expect(rec.events).toEqual([]);
  // abort() of the untouched socket must not close the foreign descriptor either.
  s.abort();
  if (info !== null) expect(isOpenFd(fd)).toBe(true);
}

// ---- setSocketDescriptor ------------------------------------------------------

describe('setSocketDescriptor refuses a descriptor it cannot use, and leaves it as it was', () => {
  test('-1: Invalid socket descriptor', async () => {
    await expectRefused(-1, INVALID_DESCRIPTOR);
  });

  test('a closed descriptor: Invalid socket descriptor, and nothing is opened under its number', async () => {
    const fd = closedFdNumber();
    expect(isOpenFd(fd)).toBe(false);
    await expectRefused(fd, INVALID_DESCRIPTOR);
    expect(binding.describe(fd, new Int32Array(5))).toBe(-E.EBADF);
  });

  test('a number no descriptor can have (2^31 - 1): Invalid socket descriptor', async () => {
    await expectRefused(2 ** 31 - 1, INVALID_DESCRIPTOR);
  });

  test('a regular file: Operation on non-socket; the file stays open, readable and writable', async () => {
    const file = tmpPath('file');
    const fd = fs.openSync(file, 'w+');
    cleanups.push(() => {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    });
    fs.writeSync(fd, 'before', 0);
    await expectRefused(fd, NON_SOCKET);
    expect(isOpenFd(fd)).toBe(true);
    expect(fs.fstatSync(fd).isFile()).toBe(true);
    expect(fs.writeSync(fd, '+after', 6)).toBe(6);
    const back = Buffer.alloc(32);
    expect(fs.readSync(fd, back, 0, 32, 0)).toBe(12);
    expect(back.subarray(0, 12).toString()).toBe('before+after');
  });

  test('a character device (/dev/null): Operation on non-socket; still open and writable', async () => {
    const fd = fs.openSync('/dev/null', 'r+');
    cleanups.push(() => fs.closeSync(fd));
    await expectRefused(fd, NON_SOCKET);
    expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true);
    expect(fs.writeSync(fd, 'discarded')).toBe(9);
  });

  test('a pipe (a FIFO from mkfifo): Operation on non-socket; still open, bytes still flow through it', async () => {
    const fifo = tmpPath('fifo');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR on a FIFO does not wait for a partner on Linux: one descriptor holds both ends.
    const fd = fs.openSync(fifo, 'r+');
    cleanups.push(() => {
      fs.closeSync(fd);
      fs.unlinkSync(fifo);
    });
    await expectRefused(fd, NON_SOCKET);
    expect(fs.fstatSync(fd).isFIFO()).toBe(true);
    expect(fs.writeSync(fd, 'through')).toBe(7);
    const back = Buffer.alloc(7);
    expect(fs.readSync(fd, back, 0, 7, null)).toBe(7);
    expect(back.toString()).toBe('through');
  });

  test('a UNIX-domain datagram socket: refused as not a stream socket, and left open', async () => {
    // UNIX stream sockets are welcome (see descriptors.test.ts); a datagram
    // one is not a QTcpSocket's to take.
    const [a, b] = createSocketPair(true);
    cleanups.push(async () => {
      closeDescriptor(a);
      closeDescriptor(b);
    });
    await expectRefused(a, `${NOT_SUPPORTED}: not a stream socket`);
    expect(fs.fstatSync(a).isSocket()).toBe(true);
  });

  test('a UDP socket: refused as not a stream socket, without taking it; node:dgram keeps receiving', async () => {
    const udp = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => udp.close(() => r())));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const fd = udpFd(udp);
    await expectRefused(fd, `${NOT_SUPPORTED}: not a stream socket`);
    const got = new Promise<string>((r) => udp.once('message', (m) => r(m.toString())));
    const sender = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => sender.close(() => r())));
    sender.send('still mine', udp.address().port, '127.0.0.1');
    expect(await within(got, 3000)).toBe('still mine');
  });

  test('a listening TCP socket (a node:net server): refused; the server keeps accepting', async () => {
    const p = await startPeer();
    peers.push(p);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const fd = (p.server as any)._handle.fd as number;
    expect(fd).toBeGreaterThan(2);
    await expectRefused(fd, `${NOT_SUPPORTED}: the descriptor is a listening socket`);
    const client = net.connect(p.port, '127.0.0.1');
    cleanups.push(() => void client.destroy());
    const conn = await p.nextConnection();
    expect(await carries(client, conn, 'accepted')).toBe(true);
  });

  test('an unconnected TCP socket adopted as Connected: refused as not connected, left open', async () => {
    const e = new binding.Engine(() => {});
    expect(e.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
    const fd = e.detach();
    expect(fd).toBeGreaterThan(2);
    cleanups.push(() => fs.closeSync(fd));
    await expectRefused(fd, `${NOT_SUPPORTED}: the descriptor is not connected`);
    const info = new Int32Array(5);
    expect(binding.describe(fd, info)).toBe(0);
    expect(info[0]).toBe(C.SOCK_STREAM);
  });

  // The descriptor crosses into C++ as an int32 (Napi Int32Value, native/engine.cc
  // ArgInt), which wraps modulo 2^32: 2^32 + fd arrives as fd. A number that is
  // not a descriptor must never adopt a different descriptor that happens to be open.
  test('2^32 + an open descriptor is not that descriptor: Invalid socket descriptor, the real one untouched', async () => {
    const { fd, server } = await ownedConnection();
    const { s, rec } = watched();
    const result = s.setSocketDescriptor(2 ** 32 + fd);
    const adopted = s.socketDescriptor();
    // Should the socket have taken the descriptor, give it back before
    // asserting, so that the failure is reported and nothing is closed twice.
    if (adopted !== -1) giveBack(s);
    expect({ result, adopted }).toEqual({ result: false, adopted: -1 });
    expect(s.error()).toBe(UNSUPPORTED);
    expect(s.errorString()).toBe(INVALID_DESCRIPTOR);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(rec.events).toEqual([]);
    expect(await reaches(fd, server, 'mine')).toBe(true);
  });
});

describe('a connected socket given a bad descriptor keeps its connection', () => {
  test('-1, a closed descriptor, a file, a UDP and a listening socket: false each time, still Connected, still echoes, unread data kept', async () => {
    const { s, rec, p } = await connectedToEcho();
    const fdBefore = s.socketDescriptor();
    const localPort = s.localPort();
    // Leave bytes unread in the read buffer: they must survive the failed adoptions.
    expect(await roundTrip(s, 'warm')).toBe('warm');
    s.write('unread');
    await until(() => s.bytesAvailable() === 6);

    const file = tmpPath('file');
    const fileFd = fs.openSync(file, 'w+');
    cleanups.push(() => {
      fs.closeSync(fileFd);
      fs.unlinkSync(file);
    });
    const udp = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => udp.close(() => r())));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const listenFd = (p.server as any)._handle.fd as number;

    const start = rec.events.length;
    const cases: Array<[number, string]> = [
      [-1, INVALID_DESCRIPTOR],
      [closedFdNumber(), INVALID_DESCRIPTOR],
      [fileFd, NON_SOCKET],
      [udpFd(udp), `${NOT_SUPPORTED}: not a stream socket`],
      [listenFd, `${NOT_SUPPORTED}: the descriptor is a listening socket`],
    ];
    for (const [fd, message] of cases) {
      expect(s.setSocketDescriptor(fd)).toBe(false);
      expect(s.error()).toBe(UNSUPPORTED);
      expect(s.errorString()).toBe(message);
      expect(s.state()).toBe(S.ConnectedState);
      expect(s.socketDescriptor()).toBe(fdBefore);
      expect(s.isValid()).toBe(true);
      expect(s.openMode()).toBe(OpenMode.ReadWrite);
      expect(s.localPort()).toBe(localPort);
      expect(s.peerPort()).toBe(p.port);
      expect(s.bytesAvailable()).toBe(6);
    }
    expect(rec.events.slice(start)).toEqual([]);
    expect(s.readAll().toString()).toBe('unread');
    expect(await roundTrip(s, 'still here')).toBe('still here');
    expect(rec.count('disconnected')).toBe(0);
    expect(isOpenFd(fileFd)).toBe(true);
    expect(isOpenFd(listenFd)).toBe(true);
  });
});

// ---- misuse of the API: TypeError / RangeError ---------------------------------

describe('setSocketDescriptor argument misuse throws and adopts nothing', () => {
  test.each([['3'], [1.5], [NaN], [Infinity], [null], [undefined]])('descriptor %p → TypeError', (bad) => {
    const { s, rec } = watched();
    expect(() => s.setSocketDescriptor(bad as unknown as number)).toThrow(TypeError);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.socketDescriptor()).toBe(-1);
    expect(s.error()).toBe(SocketError.UnknownSocketError);
    expect(rec.events).toEqual([]);
  });

  test.each([[7], [-1], [99], [1.5], [NaN]])('state %p → RangeError, even with a good descriptor, which stays its owner\'s', async (state) => {
    const { fd, server } = await ownedConnection();
    const info = fdinfo(fd);
    const { s, rec } = watched();
    expect(() => s.setSocketDescriptor(fd, state as SocketState)).toThrow(RangeError);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.socketDescriptor()).toBe(-1);
    expect(s.isOpen()).toBe(false);
    expect(liveEngines()).toBe(enginesBefore);
    expect(fdinfo(fd)).toBe(info);
    s.abort();
    expect(rec.events).toEqual([]);
    expect(await reaches(fd, server, 'untouched')).toBe(true);
  });

  // SocketState['3'] and SocketState['ConnectedState'] are defined (the enum's
  // reverse and forward maps), so a lookup in the enum object alone lets
  // strings through as a state.
  test.each([['3'], ['ConnectedState']])('state %p (a string) → TypeError or RangeError, and the descriptor is not taken', async (state) => {
    const { fd, server } = await ownedConnection();
    const { s, rec } = watched();
    let thrown: unknown = null;
    let result: boolean | undefined;
    try {
      result = s.setSocketDescriptor(fd, state as unknown as SocketState);
    } catch (err) {
      thrown = err;
    }
    const adopted = s.socketDescriptor();
    const stateAfter = s.state();
    if (adopted !== -1) giveBack(s);
    expect({ result, adopted, stateAfter }).toEqual({ result: undefined, adopted: -1, stateAfter: S.UnconnectedState });
    expect(thrown instanceof TypeError || thrown instanceof RangeError).toBe(true);
    expect(rec.events).toEqual([]);
    expect(await reaches(fd, server, 'untouched')).toBe(true);
  });
});

describe('connectToHost argument misuse', () => {
  test.each([[-1], [65536], [1.5], [NaN], ['80'], [Infinity], [null]])('port %p → RangeError, Unconnected, no signal', async (port) => {
    const { s, rec } = watched();
    expect(() => s.connectToHost('127.0.0.1', port as unknown as number)).toThrow(RangeError);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.isOpen()).toBe(false);
    expect(s.socketDescriptor()).toBe(-1);
    expect(s.peerName()).toBe('');
    expect(liveEngines()).toBe(enginesBefore);
    await delay(20);
    expect(rec.events).toEqual([]);
  });

  test.each([[42], [null], [undefined], [{}]])('host %p → TypeError, Unconnected, no signal, no lookup', async (host) => {
    const asked: string[] = [];
    const { s, rec } = watched((h, _o, cb) => {
      asked.push(h);
      setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }]));
    });
    expect(() => s.connectToHost(host as unknown as string, 80)).toThrow(TypeError);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.isOpen()).toBe(false);
    expect(s.socketDescriptor()).toBe(-1);
    await delay(20);
    expect(asked).toEqual([]);
    expect(rec.events).toEqual([]);
  });

  test('a bad port on a connected socket throws and leaves the connection alone', async () => {
    const { s, rec } = await connectedToEcho();
    const start = rec.events.length;
    expect(() => s.connectToHost('127.0.0.1', 70000)).toThrow(RangeError);
    expect(s.state()).toBe(S.ConnectedState);
    expect(rec.events.slice(start)).toEqual([]);
    expect(await roundTrip(s, 'alive')).toBe('alive');
  });
});

describe('write on a socket that cannot send', () => {
  test('never connected: -1 and "device not open", nothing buffered, no signal', () => {
    const { s, rec } = watched();
    expect(s.write('lost?')).toBe(-1);
    expect(s.errorString()).toBe('device not open');
    expect(s.bytesToWrite()).toBe(0);
    expect(s.putChar('x')).toBe(false);
    expect(s.bytesToWrite()).toBe(0);
    expect(rec.events).toEqual([]);
  });

  test('after close(): -1 and "device not open"', async () => {
    const { s } = await connectedToEcho();
    s.close();
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.write('too late')).toBe(-1);
    expect(s.errorString()).toBe('device not open');
    expect(s.bytesToWrite()).toBe(0);
  });

  test('after a remote close (still open, Unconnected): -1 and "Socket is not connected"; received data still readable', async () => {
    const p = await startPeer('127.0.0.1', (c) => c.end('bye'));
    peers.push(p);
    const { s } = watched();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.disconnected);
    expect(s.isOpen()).toBe(true);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.write('anyone?')).toBe(-1);
    expect(s.errorString()).toBe('Socket is not connected');
    expect(s.bytesToWrite()).toBe(0);
    expect(s.readAll().toString()).toBe('bye');
  });

  // Qt 6 QAbstractSocket::writeData: `d->setError(UnknownSocketError, tr("Socket is
  // not connected")); return -1;` — the code is UnknownSocketError, not OperationError.
  test('after a remote close: error() is Qt\'s UnknownSocketError', async () => {
    const p = await startPeer('127.0.0.1', (c) => c.end());
    peers.push(p);
    const { s } = watched();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.disconnected);
    expect(s.error()).toBe(SocketError.RemoteHostClosedError);
    expect(s.write('anyone?')).toBe(-1);
    expect(SocketError[s.error()]).toBe(SocketError[SocketError.UnknownSocketError]);
  });

  test.each([[42], [{}], [null], [undefined], [[1, 2, 3]], [true]])('write(%p) → TypeError, nothing sent, the socket unharmed', async (bad) => {
    const { s, rec } = await connectedToEcho();
    const start = rec.events.length;
    expect(() => s.write(bad as unknown as string)).toThrow(TypeError);
    expect(s.bytesToWrite()).toBe(0);
    expect(s.state()).toBe(S.ConnectedState);
    await delay(20);
    expect(rec.events.slice(start)).toEqual([]);
    expect(s.bytesAvailable()).toBe(0);
    expect(await roundTrip(s, 'ok')).toBe('ok');
  });

  test('write(42) on a never-connected socket is a TypeError too (validation does not depend on state)', () => {
    const { s } = watched();
    expect(() => s.write(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('read-side misuse', () => {
  test('read(-1), read(1.5), peek(-2), readLine(-1) → RangeError; the buffer is untouched; read(0) → empty Buffer', async () => {
    const { s } = await connectedToEcho();
    s.write('line\nrest');
    await until(() => s.bytesAvailable() === 9);
    expect(() => s.read(-1)).toThrow(RangeError);
    expect(() => s.read(1.5)).toThrow(RangeError);
    expect(() => s.read(NaN)).toThrow(RangeError);
    expect(() => s.read('4' as unknown as number)).toThrow(RangeError);
    expect(() => s.peek(-2)).toThrow(RangeError);
    expect(() => s.readLine(-1)).toThrow(RangeError);
    expect(() => s.readLine(2.5)).toThrow(RangeError);
    expect(s.bytesAvailable()).toBe(9);
    const none = s.read(0);
    expect(Buffer.isBuffer(none)).toBe(true);
    expect(none.length).toBe(0);
    expect(s.bytesAvailable()).toBe(9);
    expect(s.readAll().toString()).toBe('line\nrest');
  });

  test('the same misuse on a socket that was never opened is still a RangeError', () => {
    const { s } = watched();
    expect(() => s.read(-1)).toThrow(RangeError);
    expect(() => s.peek(-2)).toThrow(RangeError);
    expect(() => s.readLine(-1)).toThrow(RangeError);
    const none = s.read(0);
    expect(Buffer.isBuffer(none)).toBe(true);
    expect(none.length).toBe(0);
  });

  test('ungetChar/putChar with several characters, a non-byte character or 300 → RangeError; nothing changes', async () => {
    const { s, p } = await connectedToEcho();
    s.write('ab');
    await until(() => s.bytesAvailable() === 2);
    const conn = p.conns[0];
    let serverGot = 0;
    conn.on('data', (d) => (serverGot += d.length));
    for (const bad of ['xy', '', '€', 300, -129, 1.5]) {
      expect(() => s.ungetChar(bad as string)).toThrow(RangeError);
      expect(() => s.putChar(bad as string)).toThrow(RangeError);
    }
    expect(s.bytesAvailable()).toBe(2);
    expect(s.bytesToWrite()).toBe(0);
    await delay(30);
    expect(serverGot).toBe(0);
    expect(s.readAll().toString()).toBe('ab');
  });

  // putChar validates first and throws on any socket; ungetChar returns before
  // validating when the device is not readable (lib/io-device.ts ungetChar).
  test('ungetChar("xy") and ungetChar(300) on a never-opened socket are RangeErrors too, like putChar', () => {
    const { s } = watched();
    expect(() => s.putChar('xy')).toThrow(RangeError);
    expect(() => s.putChar(300)).toThrow(RangeError);
    expect(() => s.ungetChar('xy')).toThrow(RangeError);
    expect(() => s.ungetChar(300)).toThrow(RangeError);
  });
});

describe('buffer and option misuse', () => {
  test('setReadBufferSize(-1 / 1.5 / NaN) → RangeError, the old limit stays', () => {
    const { s } = watched();
    s.setReadBufferSize(4096);
    for (const bad of [-1, 1.5, NaN, '10']) {
      expect(() => s.setReadBufferSize(bad as number)).toThrow(RangeError);
      expect(s.readBufferSize()).toBe(4096);
    }
  });

  test('setSocketOption(999, 1) → RangeError; setSocketOption(LowDelayOption, "yes") → TypeError; the kernel value stays', async () => {
    const { s } = await connectedToEcho();
    expect(s.socketOption(SocketOption.LowDelayOption)).toBe(0);
    expect(() => s.setSocketOption(999 as SocketOption, 1)).toThrow(RangeError);
    expect(() => s.setSocketOption(-2 as SocketOption, 1)).toThrow(RangeError);
    expect(() => s.socketOption(999 as SocketOption)).toThrow(RangeError);
    expect(() => s.setSocketOption(SocketOption.LowDelayOption, 'yes' as unknown as number)).toThrow(TypeError);
    expect(() => s.setSocketOption(SocketOption.LowDelayOption, 1.5)).toThrow(TypeError);
    expect(() => s.setSocketOption(SocketOption.LowDelayOption, null as unknown as number)).toThrow(TypeError);
    expect(s.socketOption(SocketOption.LowDelayOption)).toBe(0);
    expect(await roundTrip(s, 'opts')).toBe('opts');
  });

  test('the same option misuse before a descriptor exists keeps nothing pending', () => {
    const { s } = watched();
    expect(() => s.setSocketOption(999 as SocketOption, 1)).toThrow(RangeError);
    expect(() => s.setSocketOption(SocketOption.LowDelayOption, 'yes' as unknown as number)).toThrow(TypeError);
    expect(s.socketOption(SocketOption.LowDelayOption)).toBe(-1);
  });
});

describe('unparsable addresses', () => {
  test.each([['999.1.1.1'], ['::g'], [''], ['1.2.3.999'], ['256.0.0.1'], ['1.2.3.4.5'], ['1::2::3'], ['12345::'], ['1.2.3.4:80']])(
    'new QHostAddress(%p) is null and does not throw',
    (text) => {
      let a: QHostAddress | undefined;
      expect(() => (a = new QHostAddress(text))).not.toThrow();
      expect(a!.isNull()).toBe(true);
      expect(a!.protocol()).toBe(NetworkLayerProtocol.UnknownNetworkLayerProtocol);
    },
  );

  test('connectToHost("1.2.3.999") is a host name: the lookup is asked, then HostNotFoundError — never a throw', async () => {
    const asked: string[] = [];
    const lookup: LookupFunction = (host, _opts, cb) => {
      asked.push(host);
      setImmediate(() => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []));
    };
    const { s, rec } = watched(lookup);
    expect(() => s.connectToHost('1.2.3.999', 80)).not.toThrow();
    expect(s.state()).toBe(S.HostLookupState);
    await next(s.errorOccurred);
    expect(asked).toEqual(['1.2.3.999']);
    expect(rec.events).toEqual(['stateChanged(HostLookupState)', 'stateChanged(UnconnectedState)', 'errorOccurred(HostNotFoundError)']);
    expect(s.error()).toBe(SocketError.HostNotFoundError);
    expect(s.errorString()).toBe('Host not found');
    expect(s.socketDescriptor()).toBe(-1);
  });
});
