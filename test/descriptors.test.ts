// Any socket descriptor: UNIX-domain stream and datagram sockets, the state
// the kernel reports, detaching, and passing descriptors with SCM_RIGHTS.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { QTcpSocket, QTcpServer, QUdpSocket, SocketState, SocketType, SocketError, OpenMode, createSocketPair, closeDescriptor } from '../lib';
import { binding, C, E } from '../lib/binding';
import { next, until, startEcho, startPeer, liveEngines, Peer } from './helpers';

const owned: Array<{ abort(): void } | { close(): void }> = [];
const peers: Peer[] = [];
function keep<T extends { abort(): void } | { close(): void }>(x: T): T {
  owned.push(x);
  return x;
}

afterEach(async () => {
  for (const o of owned.splice(0)) ('abort' in o ? o.abort() : o.close());
  for (const p of peers.splice(0)) await p.close();
  expect(liveEngines()).toBe(0);
});

/** A UNIX-domain listener made by a bare engine at `where` (a path, or '\0name' for the abstract namespace). */
function unixListener(where: string): number {
  const e = new binding.Engine(() => {});
  expect(e.open(C.AF_UNIX, C.SOCK_STREAM)).toBe(0);
  const a = new Uint8Array(C.ADDR_SIZE);
  const bytes = Buffer.from(where, 'utf8');
  a[0] = 1;
  new DataView(a.buffer).setUint32(4, bytes.length);
  a.set(bytes, 8);
  expect(e.bind(a)).toBe(0);
  expect(e.listen(8)).toBe(0);
  return e.detach();
}

test('a socketpair: UnknownSocketType, Connected, unnamed paths, data both ways', async () => {
  const [a, b] = createSocketPair();
  const x = keep(new QTcpSocket());
  const y = keep(new QTcpSocket());
  expect(x.setSocketDescriptor(a)).toBe(true);
  expect(y.setSocketDescriptor(b)).toBe(true);
  expect(x.socketType()).toBe(SocketType.UnknownSocketType);
  expect(x.state()).toBe(SocketState.ConnectedState);
  expect(x.localPath()).toBe('');
  expect(x.peerPath()).toBe('');
  expect(x.localAddress().isNull()).toBe(true);
  x.write('x to y');
  y.write('y to x');
  await until(() => x.bytesAvailable() === 6 && y.bytesAvailable() === 6);
  expect(y.readAll().toString()).toBe('x to y');
  expect(x.readAll().toString()).toBe('y to x');
});

test.each([
  ['a filesystem path', path.join(os.tmpdir(), `qsocket-${process.pid}.sock`), (p: string) => p],
  ['the abstract namespace', `\0qsocket-test-${process.pid}`, (p: string) => '@' + p.slice(1)],
])('a UNIX listener in %s: QTcpServer adopts it; addresses are reported as paths', async (_what, where, shown) => {
  if (!where.startsWith('\0')) fs.rmSync(where, { force: true });
  const server = keep(new QTcpServer());
  expect(server.setSocketDescriptor(unixListener(where))).toBe(true);
  expect(server.serverPath()).toBe(shown(where));
  const accepted = next(server.newConnection);
  // node:net cannot reach the abstract namespace (libuv measures the path
  // with strlen), so the client is a bare engine connected to the same address.
  const client = new binding.Engine(() => {});
  client.open(C.AF_UNIX, C.SOCK_STREAM);
  const a = new Uint8Array(C.ADDR_SIZE);
  const bytes = Buffer.from(where, 'utf8');
  a[0] = 1;
  new DataView(a.buffer).setUint32(4, bytes.length);
  a.set(bytes, 8);
  expect([0, -E.EINPROGRESS, -E.EAGAIN]).toContain(client.connect(a));
  await accepted;
  const s = keep(server.nextPendingConnection()!);
  expect(s.socketType()).toBe(SocketType.UnknownSocketType);
  expect(s.localPath()).toBe(shown(where));
  expect(s.peerPath()).toBe('');
  client.write(Buffer.from('over unix'), 0, 9);
  await until(() => s.bytesAvailable() === 9);
  expect(s.readAll().toString()).toBe('over unix');
  client.close();
  await next(s.disconnected);
  if (!where.startsWith('\0')) fs.rmSync(where, { force: true });
});

test('a UNIX datagram socketpair in QUdpSocket: Connected by the kernel\'s word, one datagram each way', async () => {
  const [a, b] = createSocketPair(true);
  const x = keep(new QUdpSocket());
  const y = keep(new QUdpSocket());
  expect(x.setSocketDescriptor(a, SocketState.BoundState)).toBe(true);
  expect(x.state()).toBe(SocketState.ConnectedState); // corrected: the kernel says it has a peer
  expect(y.setSocketDescriptor(b)).toBe(true);
  expect(x.socketType()).toBe(SocketType.UnknownSocketType);
  expect(x.write('dgram one')).toBe(9);
  await until(() => y.hasPendingDatagrams());
  expect(y.read(100).toString()).toBe('dgram one');
});

test('the kernel wins: a connected TCP descriptor asked for as Bound is adopted as Connected', async () => {
  const p = await startEcho();
  peers.push(p);
  const c = keep(new QTcpSocket());
  c.connectToHost('127.0.0.1', p.port);
  await next(c.connected);
  const fd = c.detachSocketDescriptor();
  expect(fd).toBeGreaterThan(2);
  const s = keep(new QTcpSocket());
  expect(s.setSocketDescriptor(fd, SocketState.BoundState)).toBe(true);
  expect(s.state()).toBe(SocketState.ConnectedState);
  expect(s.setSocketDescriptor(fd, SocketState.ListeningState)).toBe(false);
  expect(s.error()).toBe(SocketError.UnsupportedSocketOperationError);
});

test('a descriptor whose connect is still in progress, adopted in ConnectingState, becomes Connected with connected', async () => {
  const p = await startEcho();
  peers.push(p);
  const e = new binding.Engine(() => {});
  e.open(C.AF_INET, C.SOCK_STREAM);
  const a = new Uint8Array(C.ADDR_SIZE);
  a[0] = 4;
  a[2] = p.port >> 8;
  a[3] = p.port & 0xff;
  a.set([127, 0, 0, 1], 8);
  const r = e.connect(a);
  expect([0, -E.EINPROGRESS]).toContain(r);
  const fd = e.detach();
  const s = keep(new QTcpSocket());
  expect(s.setSocketDescriptor(fd, SocketState.ConnectingState)).toBe(true);
  if (s.state() !== SocketState.ConnectedState) await next(s.connected);
  s.write('late');
  await until(() => s.bytesAvailable() === 4);
  expect(s.readAll().toString()).toBe('late');
});

test('detachSocketDescriptor gives the descriptor back open; the socket is Unconnected without disconnected', async () => {
  const p = await startEcho();
  peers.push(p);
  const s = keep(new QTcpSocket());
  s.connectToHost('127.0.0.1', p.port);
  await next(s.connected);
  let disconnected = 0;
  s.disconnected.connect(() => disconnected++);
  s.write('before');
  await until(() => s.bytesAvailable() === 6);
  const fd = s.detachSocketDescriptor();
  expect(s.state()).toBe(SocketState.UnconnectedState);
  expect(s.socketDescriptor()).toBe(-1);
  expect(s.readAll().toString()).toBe('before');
  expect(disconnected).toBe(0);
  expect(fs.fstatSync(fd).isSocket()).toBe(true);
  expect(s.detachSocketDescriptor()).toBe(-1);
  const t = keep(new QTcpSocket());
  expect(t.setSocketDescriptor(fd)).toBe(true);
  t.write('after');
  await until(() => t.bytesAvailable() === 5);
  expect(t.readAll().toString()).toBe('after');
});

test('detach refuses while output is buffered', async () => {
  const server = keep(new QTcpServer());
  server.listen('127.0.0.1', 0);
  const s = keep(new QTcpSocket());
  s.connectToHost('127.0.0.1', server.serverPort());
  await next(s.connected);
  s.write(Buffer.alloc(32 << 20)); // more than the kernel takes while nobody reads
  expect(s.detachSocketDescriptor()).toBe(-1);
  expect(s.error()).toBe(SocketError.OperationError);
  expect(s.state()).toBe(SocketState.ConnectedState);
});

function python(args: string[], fd: number) {
  const child = spawn('python3', [path.join(__dirname, 'fixtures/fdpass.py'), ...args], { stdio: ['ignore', 'pipe', 'inherit', fd] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const line = () => until(() => out.includes('\n'), 10000, 'python').then(() => JSON.parse(out.split('\n')[0]));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return { child, line, exited };
}

test('SCM_RIGHTS out: a live TCP connection handed to another process keeps working there', async () => {
  const p = await startEcho();
  peers.push(p);
  const [mine, theirs] = createSocketPair();
  const chan = keep(new QTcpSocket());
  expect(chan.setSocketDescriptor(mine)).toBe(true);
  const py = python(['receive'], theirs);
  closeDescriptor(theirs); // the child has its own copy now
  const conn = keep(new QTcpSocket());
  conn.connectToHost('127.0.0.1', p.port);
  await next(conn.connected);
  expect(chan.sendDescriptors([conn.socketDescriptor()], 'have a socket')).toBe(true);
  // Hand over, then let go: the connection lives on in the other process's
  // copy (closing ours does not end it), and we no longer read its bytes.
  conn.abort();
  expect(await py.line()).toEqual({ message: 'have a socket', fds: 1, echo: 'via python', type: true });
  expect(await py.exited).toBe(0);
});

test('SCM_RIGHTS in: a descriptor received from another process is wrapped and used', async () => {
  const p = await startEcho();
  peers.push(p);
  const [mine, theirs] = createSocketPair();
  const chan = keep(new QTcpSocket());
  chan.setSocketDescriptor(mine);
  chan.setDescriptorPassing(true);
  const got = next(chan.descriptorsReceived, 10000);
  const py = python(['send', String(p.port)], theirs);
  closeDescriptor(theirs);
  const [fds] = await got;
  expect(fds.length).toBe(1);
  await until(() => chan.bytesAvailable() === 7);
  expect(chan.readAll().toString()).toBe('take it');
  const s = keep(new QTcpSocket());
  expect(s.setSocketDescriptor(fds[0])).toBe(true);
  expect(s.peerPort()).toBe(p.port);
  s.write('passed along');
  await until(() => s.bytesAvailable() === 12);
  expect(s.readAll().toString()).toBe('passed along');
  chan.write('done');
  expect(await py.exited).toBe(0);
});

test('descriptors nobody takes are closed, not leaked', async () => {
  const [a, b] = createSocketPair();
  const rx = keep(new QTcpSocket());
  rx.setSocketDescriptor(a);
  rx.setDescriptorPassing(true);
  const tx = keep(new QTcpSocket());
  tx.setSocketDescriptor(b);
  const [p1, p2] = createSocketPair();
  const before = fs.readdirSync('/proc/self/fd').length;
  expect(tx.sendDescriptors([p1, p2], 'xy')).toBe(true);
  await until(() => rx.bytesAvailable() === 2);
  expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
  expect(closeDescriptor(p1)).toBe(true);
  expect(closeDescriptor(p2)).toBe(true);
  expect(closeDescriptor(p2)).toBe(false);
  expect(() => tx.sendDescriptors([], 'x')).toThrow(RangeError);
  expect(() => tx.sendDescriptors([-1])).toThrow(TypeError);
});

test('ReadOnly with shutdownUnusedDirection: the peer sees the end of our direction; without it, nothing changes', async () => {
  const [a, b] = createSocketPair();
  const [c, d] = createSocketPair();
  const reader = keep(new QTcpSocket());
  const peerOfReader = keep(new QTcpSocket());
  const plain = keep(new QTcpSocket());
  const peerOfPlain = keep(new QTcpSocket());
  expect(reader.setSocketDescriptor(a, SocketState.ConnectedState, OpenMode.ReadOnly, { shutdownUnusedDirection: true })).toBe(true);
  expect(peerOfReader.setSocketDescriptor(b)).toBe(true);
  expect(plain.setSocketDescriptor(c, SocketState.ConnectedState, OpenMode.ReadOnly)).toBe(true);
  expect(peerOfPlain.setSocketDescriptor(d)).toBe(true);
  // Written before the peer notices our FIN (it then closes, as Qt does on
  // the end of its read channel): the read direction still carries it.
  peerOfReader.write('still readable');
  await next(peerOfReader.readChannelFinished); // the FIN of SHUT_WR
  expect(reader.write('x')).toBe(-1);
  await new Promise((r) => setTimeout(r, 30));
  expect(peerOfPlain.state()).toBe(SocketState.ConnectedState);
  await until(() => reader.bytesAvailable() === 14);
  expect(reader.readAll().toString()).toBe('still readable');
});

test('socketDescriptor() can be handed to a child process with spawn stdio, and works there', async () => {
  const received: Buffer[] = [];
  const p = await startPeer('127.0.0.1', (c) => c.on('data', (d) => received.push(d)));
  peers.push(p);
  const s = keep(new QTcpSocket());
  s.connectToHost('127.0.0.1', p.port);
  await next(s.connected);
  const r = spawnSync('sh', ['-c', 'printf "from the child" >&3'], { stdio: ['ignore', 'ignore', 'inherit', s.socketDescriptor()] });
  expect(r.status).toBe(0);
  await until(() => Buffer.concat(received).toString() === 'from the child');
  expect(s.state()).toBe(SocketState.ConnectedState); // ours is still open and usable
});
