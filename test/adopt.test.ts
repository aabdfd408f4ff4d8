// setSocketDescriptor on descriptors made elsewhere: by a raw socket() call
// in another engine, and by node:net in a parent process.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { QTcpSocket, SocketState, OpenMode, SocketError } from '../lib';
import { binding, C, E } from '../lib/binding';
import { Recorder, next, until, startEcho, hasIPv6, liveEngines, Peer } from './helpers';

const stateName = (s: SocketState) => SocketState[s];
let peers: Peer[] = [];
const sockets: QTcpSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.abort();
  for (const p of peers.splice(0)) await p.close();
  expect(liveEngines()).toBe(0);
});

/** A TCP descriptor connected to host:port by a bare engine, then handed over: "a socket() made elsewhere". */
async function rawConnectedFd(host: string, port: number): Promise<number> {
  const v6 = host.includes(':');
  const e = new binding.Engine(() => {});
  expect(e.open(v6 ? C.AF_INET6 : C.AF_INET, C.SOCK_STREAM)).toBe(0);
  const addr = new Uint8Array(C.ADDR_SIZE);
  addr[0] = v6 ? 6 : 4;
  addr[2] = port >> 8;
  addr[3] = port & 0xff;
  if (v6) addr[23] = 1; // ::1
  else addr.set([127, 0, 0, 1], 8);
  const r = e.connect(addr);
  expect([0, -E.EINPROGRESS]).toContain(r);
  await until(() => e.poll(C.WRITABLE, 0) !== 0);
  expect(e.socketError()).toBe(0);
  return e.detach();
}

test.each(['127.0.0.1', '::1'])('a raw connected descriptor (%s) becomes a Connected QTcpSocket', async (host) => {
  if (host === '::1' && !(await hasIPv6())) return;
  const p = await startEcho(host);
  peers.push(p);
  const fd = await rawConnectedFd(host, p.port);
  const conn = await p.nextConnection();
  const s = new QTcpSocket();
  sockets.push(s);
  const rec = new Recorder().watch('stateChanged', s.stateChanged, stateName).watch('connected', s.connected);
  expect(s.setSocketDescriptor(fd)).toBe(true);
  expect(rec.events).toEqual(['stateChanged(ConnectedState)']);
  expect(s.state()).toBe(SocketState.ConnectedState);
  expect(s.socketDescriptor()).toBe(fd);
  expect(s.openMode()).toBe(OpenMode.ReadWrite);
  expect(s.peerPort()).toBe(p.port);
  expect(s.peerAddress().toString()).toBe(host);
  expect(s.localPort()).toBe(conn.remotePort);
  expect(s.localAddress().toString()).toBe(host);
  s.write('adopted');
  await until(() => s.bytesAvailable() === 7);
  expect(s.readAll().toString()).toBe('adopted');
  s.abort();
  expect(() => fs.fstatSync(fd)).toThrow(/EBADF/); // an adopted descriptor is the socket's to close
});

test('a descriptor made by node:net in a parent process, inherited by a child', async () => {
  const p = await startEcho();
  peers.push(p);
  const client = net.connect(p.port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  client.pause();
  const clientPort = client.localPort;
  const child = spawn(
    process.execPath,
    ['-r', path.join(__dirname, 'fixtures/ts-register.js'), path.join(__dirname, 'fixtures/adopt-child.ts')],
    { stdio: ['ignore', 'pipe', 'inherit', client] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  client.destroy();
  const report = JSON.parse(out.trim().split('\n').pop()!);
  expect(code).toBe(0);
  expect(report).toMatchObject({
    ok: true,
    state: SocketState.ConnectedState,
    states: [SocketState.ConnectedState],
    connectedEmitted: false,
    peerPort: p.port,
    localPort: clientPort,
    peer: '127.0.0.1',
    reply: 'from child\n',
  });
}, 20000);

test('the open mode is honoured: a ReadOnly socket refuses writes', async () => {
  const p = await startEcho();
  peers.push(p);
  const fd = await rawConnectedFd('127.0.0.1', p.port);
  const s = new QTcpSocket();
  sockets.push(s);
  expect(s.setSocketDescriptor(fd, SocketState.ConnectedState, OpenMode.ReadOnly)).toBe(true);
  expect(s.isReadable()).toBe(true);
  expect(s.isWritable()).toBe(false);
  expect(s.write('nope')).toBe(-1);
  expect(s.bytesToWrite()).toBe(0);
});

test('adopting replaces a live connection silently: no disconnected for the old one', async () => {
  const p = await startEcho();
  peers.push(p);
  const s = new QTcpSocket();
  sockets.push(s);
  s.connectToHost('127.0.0.1', p.port);
  await next(s.connected);
  const oldFd = s.socketDescriptor();
  const rec = new Recorder().watch('disconnected', s.disconnected).watch('stateChanged', s.stateChanged, stateName);
  const fd = await rawConnectedFd('127.0.0.1', p.port);
  expect(s.setSocketDescriptor(fd)).toBe(true);
  // Same state as before, so not even stateChanged (Qt emits it only on a change).
  expect(rec.events).toEqual([]);
  expect(s.socketDescriptor()).toBe(fd);
  expect(s.error()).toBe(SocketError.UnknownSocketError);
  if (oldFd !== fd) expect(() => fs.fstatSync(oldFd)).toThrow(/EBADF/);
  s.write('new');
  await until(() => s.bytesAvailable() === 3);
  expect(s.readAll().toString()).toBe('new');
});

test('an adopted socket sees the remote close like any other', async () => {
  const p = await startEcho();
  peers.push(p);
  const fd = await rawConnectedFd('127.0.0.1', p.port);
  const conn = await p.nextConnection();
  const s = new QTcpSocket();
  sockets.push(s);
  s.setSocketDescriptor(fd);
  conn.end();
  await next(s.disconnected);
  expect(s.error()).toBe(SocketError.RemoteHostClosedError);
  expect(s.socketDescriptor()).toBe(-1);
});
