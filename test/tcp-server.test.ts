// QTcpServer against node:net clients and QTcpSocket clients on loopback.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { QTcpServer, QTcpSocket, QHostAddress, SocketState, SocketError } from '../lib';
import { binding, C, E } from '../lib/binding';
import { next, until, delay, hasIPv6, liveEngines, startPeer } from './helpers';

const servers: QTcpServer[] = [];
const clients: net.Socket[] = [];
const register = path.join(__dirname, 'fixtures/ts-register.js');
const childScript = path.join(__dirname, 'fixtures/server-child.ts');

function server(): QTcpServer {
  const s = new QTcpServer();
  servers.push(s);
  return s;
}

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host, () => resolve(c));
    c.on('error', reject);
    clients.push(c);
  });
}

/** Echo every byte each accepted socket receives. */
function echoAll(srv: QTcpServer): QTcpSocket[] {
  const taken: QTcpSocket[] = [];
  srv.newConnection.connect(() => {
    for (let s = srv.nextPendingConnection(); s !== null; s = srv.nextPendingConnection()) {
      const sock = s;
      taken.push(sock);
      sock.readyRead.connect(() => sock.write(sock.readAll()));
    }
  });
  return taken;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) s.close();
  await delay(5);
  expect(liveEngines()).toBe(0);
});

test('listen on 127.0.0.1: an accepted connection is a Connected QTcpSocket with both endpoints', async () => {
  const srv = server();
  expect(srv.isListening()).toBe(false);
  expect(srv.listen('127.0.0.1', 0)).toBe(true);
  expect(srv.isListening()).toBe(true);
  expect(srv.serverAddress().toString()).toBe('127.0.0.1');
  expect(srv.serverPort()).toBeGreaterThan(0);
  expect(srv.socketDescriptor()).toBeGreaterThan(2);
  const accepted = next(srv.newConnection);
  const c = await connect(srv.serverPort());
  await accepted;
  expect(srv.hasPendingConnections()).toBe(true);
  const s = srv.nextPendingConnection()!;
  expect(srv.hasPendingConnections()).toBe(false);
  expect(srv.nextPendingConnection()).toBeNull();
  expect(s.state()).toBe(SocketState.ConnectedState);
  expect(s.peerPort()).toBe(c.localPort);
  expect(s.peerAddress().toString()).toBe('127.0.0.1');
  expect(s.localPort()).toBe(srv.serverPort());
  c.write('hi');
  await until(() => s.bytesAvailable() === 2);
  expect(s.readAll().toString()).toBe('hi');
  s.abort();
});

test('QHostAddress.Any listens on both IPv4 and IPv6', async () => {
  if (!(await hasIPv6())) return;
  const srv = server();
  expect(srv.listen()).toBe(true);
  expect(srv.serverAddress().isEqual(new QHostAddress(QHostAddress.Any))).toBe(true);
  const taken = echoAll(srv);
  await connect(srv.serverPort(), '127.0.0.1');
  await connect(srv.serverPort(), '::1');
  await until(() => taken.length === 2);
  expect(taken.every((s) => s.peerAddress().isLoopback())).toBe(true);
  taken.forEach((s) => s.abort());
});

test('an IPv6 address listens on IPv6 only', async () => {
  if (!(await hasIPv6())) return;
  const srv = server();
  expect(srv.listen('::1', 0)).toBe(true);
  expect(srv.serverAddress().toString()).toBe('::1');
  await expect(connect(srv.serverPort(), '127.0.0.1')).rejects.toThrow(/ECONNREFUSED/);
});

test('200 clients connecting at once are all accepted and each echo round-trips', async () => {
  const srv = server();
  srv.listen('127.0.0.1', 0);
  const taken = echoAll(srv);
  let signals = 0;
  srv.newConnection.connect(() => signals++);
  const N = 200;
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      connect(srv.serverPort()).then(
        (c) =>
          new Promise<string>((resolve) => {
            let got = '';
            c.on('data', (d) => {
              got += d;
              if (got.length >= `msg-${i}`.length) resolve(got);
            });
            c.write(`msg-${i}`);
          }),
      ),
    ),
  );
  expect(results).toEqual(Array.from({ length: N }, (_, i) => `msg-${i}`));
  expect(taken.length).toBe(N);
  expect(signals).toBe(N); // one newConnection per accepted socket
  taken.forEach((s) => s.abort());
}, 30000);

test('a port in use: false, AddressInUseError, no signal', async () => {
  const a = server();
  expect(a.listen('127.0.0.1', 0)).toBe(true);
  const b = server();
  let errors = 0;
  b.acceptError.connect(() => errors++);
  expect(b.listen('127.0.0.1', a.serverPort())).toBe(false);
  expect(b.serverError()).toBe(SocketError.AddressInUseError);
  expect(b.errorString()).toBe('The bound address is already in use');
  expect(b.isListening()).toBe(false);
  expect(errors).toBe(0);
});

test('an address this machine does not have: SocketAddressNotAvailableError', () => {
  const s = server();
  expect(s.listen('192.0.2.1', 0)).toBe(false);
  expect(s.serverError()).toBe(SocketError.SocketAddressNotAvailableError);
});

test('a second listen is refused and the first keeps working', async () => {
  const srv = server();
  srv.listen('127.0.0.1', 0);
  const port = srv.serverPort();
  expect(srv.listen('127.0.0.1', 0)).toBe(false);
  expect(srv.serverError()).toBe(SocketError.OperationError);
  expect(srv.serverPort()).toBe(port);
  const accepted = next(srv.newConnection);
  await connect(port);
  await accepted;
});

test('a privileged port as an unprivileged user: SocketAccessError', async () => {
  const child = spawn(process.execPath, ['-r', register, childScript, 'privileged'], {
    uid: 65534,
    gid: 65534,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await new Promise((r) => child.on('exit', r));
  const report = JSON.parse(out.trim());
  expect(report).toEqual({ ok: false, error: SocketError.SocketAccessError, message: 'The address is protected' });
}, 20000);

test('accepting stops at maxPendingConnections and resumes in nextPendingConnection', async () => {
  const srv = server();
  srv.setMaxPendingConnections(2);
  expect(srv.maxPendingConnections()).toBe(2);
  srv.listen('127.0.0.1', 0);
  let signals = 0;
  srv.newConnection.connect(() => signals++);
  for (let i = 0; i < 5; i++) await connect(srv.serverPort());
  await delay(50);
  expect(signals).toBe(2);
  const first = srv.nextPendingConnection()!;
  await until(() => signals === 3);
  await delay(30);
  expect(signals).toBe(3);
  const rest: QTcpSocket[] = [first];
  while (rest.length < 5) {
    const s = srv.nextPendingConnection();
    if (s) rest.push(s);
    else await delay(5);
  }
  expect(signals).toBe(5);
  rest.forEach((s) => s.abort());
});

test('pauseAccepting leaves connections in the backlog; resumeAccepting takes them', async () => {
  const srv = server();
  srv.listen('127.0.0.1', 0);
  srv.pauseAccepting();
  let signals = 0;
  srv.newConnection.connect(() => signals++);
  await connect(srv.serverPort());
  await delay(50);
  expect(signals).toBe(0);
  srv.resumeAccepting();
  await until(() => signals === 1);
  srv.nextPendingConnection()!.abort();
});

test('close() stops listening and closes the connections nobody took', async () => {
  const srv = server();
  srv.listen('127.0.0.1', 0);
  const port = srv.serverPort();
  const accepted = next(srv.newConnection);
  const c = await connect(port);
  await accepted;
  const ended = new Promise((r) => c.once('close', r));
  srv.close();
  expect(srv.isListening()).toBe(false);
  expect(srv.hasPendingConnections()).toBe(false);
  expect(srv.socketDescriptor()).toBe(-1);
  await ended;
  await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
});

test('setSocketDescriptor adopts a listening descriptor and refuses one that is not', async () => {
  const raw = new binding.Engine(() => {});
  expect(raw.open(C.AF_INET, C.SOCK_STREAM)).toBe(0);
  const addr = new Uint8Array(C.ADDR_SIZE);
  addr[0] = 4;
  addr.set([127, 0, 0, 1], 8);
  expect(raw.bind(addr)).toBe(0);
  const notListening = raw.fd();
  const srv = server();
  expect(srv.setSocketDescriptor(notListening)).toBe(false);
  expect(srv.serverError()).toBe(SocketError.UnsupportedSocketOperationError);
  expect(fs.fstatSync(notListening).isSocket()).toBe(true); // untouched
  expect(raw.listen(8)).toBe(0);
  const fd = raw.detach();
  expect(srv.setSocketDescriptor(fd)).toBe(true);
  expect(srv.socketDescriptor()).toBe(fd);
  expect(srv.serverAddress().toString()).toBe('127.0.0.1');
  const accepted = next(srv.newConnection);
  await connect(srv.serverPort());
  await accepted;
  srv.nextPendingConnection()!.abort();
  expect(srv.setSocketDescriptor(-1)).toBe(false);
  expect(srv.isListening()).toBe(true);
});

test('a subclass can wrap each descriptor itself through incomingConnection', async () => {
  class Tagged extends QTcpServer {
    fds: number[] = [];
    protected override incomingConnection(fd: number): void {
      this.fds.push(fd);
      const s = new QTcpSocket();
      s.setSocketDescriptor(fd);
      s.setPeerName('tagged');
      this.addPendingConnection(s);
    }
  }
  const srv = new Tagged();
  servers.push(srv);
  srv.listen('127.0.0.1', 0);
  const accepted = next(srv.newConnection);
  await connect(srv.serverPort());
  await accepted;
  const s = srv.nextPendingConnection()!;
  expect(srv.fds).toEqual([s.socketDescriptor()]);
  expect(s.peerName()).toBe('tagged');
  s.abort();
});

test('a QTcpSocket client and a QTcpServer talk to each other', async () => {
  const srv = server();
  srv.listen('127.0.0.1', 0);
  echoAll(srv);
  const c = new QTcpSocket();
  c.connectToHost('127.0.0.1', srv.serverPort());
  await next(c.connected);
  c.write('round trip');
  await until(() => c.bytesAvailable() === 10);
  expect(c.readAll().toString()).toBe('round trip');
  c.abort();
});

test('out of descriptors: acceptError(SocketResourceError), no busy loop, and recovery', async () => {
  // A child with a hard limit of 64 descriptors (Node raises its soft limit to the hard one).
  const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" -r "${register}" "${childScript}" emfile`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const events: Array<Record<string, unknown>> = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      events.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  try {
    await until(() => events.some((e) => e.event === 'listening'), 15000, 'child to listen');
    const port = events.find((e) => e.event === 'listening')!.port as number;
    const N = 80;
    const socks: net.Socket[] = [];
    for (let i = 0; i < N; i++) socks.push(await connect(port));
    await until(() => events.some((e) => e.event === 'acceptError'), 10000, 'acceptError');
    expect(events.find((e) => e.event === 'acceptError')!.error).toBe('SocketResourceError');
    // While starved, the child must back off, not spin: measure its CPU time.
    const cpu = () => {
      const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
    };
    const t0 = cpu();
    await delay(1000);
    expect(cpu() - t0).toBeLessThan(30); // under 30% of one core
    child.stdin!.write('release\n');
    await until(() => events.filter((e) => e.event === 'accepted').some((e) => (e.accepted as number) === N), 15000, 'all accepted');
    // The last connections, accepted after recovery, still echo.
    const last = socks[N - 1];
    const reply = new Promise<string>((r) => last.once('data', (d) => r(d.toString())));
    last.write('alive');
    expect(await reply).toBe('alive');
  } finally {
    child.kill();
    await new Promise((r) => child.on('exit', r));
  }
}, 40000);
