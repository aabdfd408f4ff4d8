// The synchronous waits. A blocking wait freezes this thread's event loop, so
// every peer that must answer runs in a process of its own (fixtures/peer.js).
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import { QTcpSocket, QTcpServer, QUdpSocket, QHostAddress, SocketState, SocketError } from '../lib';
import type { LookupSyncFunction } from '../lib';
import { binding, C } from '../lib/binding';
import { Recorder, next, until, liveEngines, startChildPeer } from './helpers';
import type { ChildPeer } from './helpers';

const children: ChildProcess[] = [];
const sockets: Array<{ abort(): void } | { close(): void }> = [];

const peer = (...args: string[]): Promise<ChildPeer> => startChildPeer(children, ...args);

function tcp(opts: ConstructorParameters<typeof QTcpSocket>[0] = {}): QTcpSocket {
  const s = new QTcpSocket(opts);
  sockets.push(s);
  return s;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

const stateName = (s: SocketState) => SocketState[s];

afterEach(async () => {
  for (const s of sockets.splice(0)) ('abort' in s ? s.abort() : s.close());
  for (const c of children.splice(0)) {
    c.kill();
    await new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));
  }
  expect(liveEngines()).toBe(0);
});

/** A listening socket whose accept queue is full, so a further connect never completes. */
function blackhole(): { port: number; close(): void } {
  const l = new binding.Engine(() => {});
  l.open(C.AF_INET, C.SOCK_STREAM);
  const a = new Uint8Array(C.ADDR_SIZE);
  a[0] = 4;
  a.set([127, 0, 0, 1], 8);
  l.bind(a);
  l.listen(0);
  l.localAddress(a);
  const port = (a[2] << 8) | a[3];
  const fillers: Array<InstanceType<typeof binding.Engine>> = [];
  // Fill the accept queue (backlog 0 holds one) and the SYN queue behind it.
  for (let i = 0; i < 4; i++) {
    const f = new binding.Engine(() => {});
    f.open(C.AF_INET, C.SOCK_STREAM);
    f.connect(a);
    fillers.push(f);
  }
  return {
    port,
    close() {
      fillers.forEach((f) => f.close());
      l.close();
    },
  };
}

describe('waitForConnected', () => {
  test('to an IP literal: true, with every signal emitted once inside the call, in Qt\'s order', async () => {
    const p = await peer('echo');
    const s = tcp();
    const rec = new Recorder()
      .watch('stateChanged', s.stateChanged, stateName)
      .watch('hostFound', s.hostFound)
      .watch('connected', s.connected);
    s.connectToHost('127.0.0.1', p.port);
    expect(s.waitForConnected(5000)).toBe(true);
    expect(rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(ConnectingState)',
      'hostFound',
      'stateChanged(ConnectedState)',
      'connected',
    ]);
    expect(s.peerPort()).toBe(p.port);
    expect(s.waitForConnected(0)).toBe(true); // already connected
  });

  test('from HostLookupState: "localhost" through the native resolver (/etc/hosts)', async () => {
    const p = await peer('echo');
    const s = tcp();
    s.connectToHost('localhost', p.port, undefined, QTcpSocket.NetworkLayerProtocol.IPv4Protocol);
    expect(s.state()).toBe(SocketState.HostLookupState);
    expect(s.waitForConnected(5000)).toBe(true);
    expect(s.peerAddress().toString()).toBe('127.0.0.1');
  });

  test('from HostLookupState with a synchronous lookup hook; every address tried', async () => {
    const p = await peer('echo');
    const asked: string[] = [];
    const lookupSync: LookupSyncFunction = (name) => {
      asked.push(name);
      return [
        { address: '127.0.0.9', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ];
    };
    const s = tcp({ lookupSync, lookup: (_n, _o, cb) => setTimeout(() => cb(null, []), 10000) });
    s.connectToHost('svc.test', p.port);
    expect(s.waitForConnected(5000)).toBe(true);
    expect(asked).toEqual(['svc.test']);
    expect(s.peerAddress().toString()).toBe('127.0.0.1');
  });

  test('a name that does not resolve: false with HostNotFoundError', () => {
    const s = tcp({
      lookupSync: () => {
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    const errors: SocketError[] = [];
    s.errorOccurred.connect((e) => errors.push(e));
    s.connectToHost('nowhere.test', 80);
    expect(s.waitForConnected(1000)).toBe(false);
    expect(errors).toEqual([SocketError.HostNotFoundError]);
    expect(s.state()).toBe(SocketState.UnconnectedState);
  });

  test('refused: false, ConnectionRefusedError emitted inside the call', async () => {
    const p = await peer('silent');
    p.proc.kill();
    await new Promise((r) => p.proc.once('exit', r));
    const s = tcp();
    const errors: SocketError[] = [];
    s.errorOccurred.connect((e) => errors.push(e));
    s.connectToHost('127.0.0.1', p.port);
    expect(s.waitForConnected(2000)).toBe(false);
    expect(errors).toEqual([SocketError.ConnectionRefusedError]);
  });

  test('time-out: SocketTimeoutError, back to Unconnected, no errorOccurred, on time', () => {
    const hole = blackhole();
    try {
      const s = tcp();
      const rec = new Recorder().watch('stateChanged', s.stateChanged, stateName).watch('errorOccurred', s.errorOccurred);
      s.connectToHost('127.0.0.1', hole.port);
      const [ok, ms] = timed(() => s.waitForConnected(300));
      expect(ok).toBe(false);
      expect(ms).toBeGreaterThanOrEqual(299);
      expect(ms).toBeLessThan(300 + 250);
      expect(s.error()).toBe(SocketError.SocketTimeoutError);
      expect(s.errorString()).toBe('Socket operation timed out');
      expect(s.state()).toBe(SocketState.UnconnectedState);
      expect(s.socketDescriptor()).toBe(-1);
      expect(rec.count('errorOccurred')).toBe(0);
      expect(rec.events.slice(-1)).toEqual(['stateChanged(UnconnectedState)']);
    } finally {
      hole.close();
    }
  });

  test('the time-out covers the whole call: a slow lookup and a slow slot eat into it', () => {
    const hole = blackhole();
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    try {
      const s = tcp({
        lookupSync: () => {
          busy(100);
          return [{ address: '127.0.0.1', family: 4 }];
        },
      });
      s.hostFound.connect(() => busy(100)); // emitted inside the wait
      s.connectToHost('hole.test', hole.port);
      const [ok, ms] = timed(() => s.waitForConnected(300));
      expect(ok).toBe(false);
      expect(s.error()).toBe(SocketError.SocketTimeoutError);
      expect(ms).toBeGreaterThanOrEqual(299);
      expect(ms).toBeLessThan(300 + 250);
    } finally {
      hole.close();
    }
  });

  test('false at once when Unconnected; 0 only looks', () => {
    const s = tcp();
    const [ok, ms] = timed(() => s.waitForConnected(5000));
    expect(ok).toBe(false);
    expect(ms).toBeLessThan(50);
    expect(() => s.waitForConnected(-2)).toThrow(RangeError);
    expect(() => s.waitForConnected(1.5)).toThrow(RangeError);
  });
});

describe('waitForReadyRead', () => {
  test('true when data arrived, readyRead emitted once inside; then the event loop path still works', async () => {
    const p = await peer('echo');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    expect(s.waitForConnected(5000)).toBe(true);
    let ready = 0;
    s.readyRead.connect(() => ready++);
    s.write('ping');
    expect(s.bytesToWrite()).toBe(4);
    expect(s.waitForReadyRead(5000)).toBe(true); // the write went out inside the wait
    expect(ready).toBe(1);
    await until(() => s.bytesAvailable() === 4, 2000).catch(() => undefined);
    while (s.bytesAvailable() < 4) expect(s.waitForReadyRead(2000)).toBe(true);
    expect(s.readAll().toString()).toBe('ping');
    // Mixing: the same socket, now event-driven again.
    s.write('pong');
    await next(s.readyRead);
    await until(() => s.bytesAvailable() === 4);
    expect(s.readAll().toString()).toBe('pong');
  });

  test('time-out: SocketTimeoutError emitted, the connection kept and still usable', async () => {
    const p = await peer('echo');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    const errors: SocketError[] = [];
    s.errorOccurred.connect((e) => errors.push(e));
    const [ok, ms] = timed(() => s.waitForReadyRead(200));
    expect(ok).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(199);
    expect(ms).toBeLessThan(200 + 250);
    expect(errors).toEqual([SocketError.SocketTimeoutError]);
    expect(s.state()).toBe(SocketState.ConnectedState);
    s.write('again');
    expect(s.waitForReadyRead(5000)).toBe(true);
    expect(s.readAll().toString()).toBe('again');
  });

  test('false when the peer closes, with the remote-close signals emitted inside', async () => {
    const p = await peer('source', '10');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    const rec = new Recorder().watch('errorOccurred', s.errorOccurred).watch('disconnected', s.disconnected);
    let got = 0;
    while (s.waitForReadyRead(5000)) got = s.bytesAvailable();
    expect(got + s.bytesAvailable()).toBeGreaterThanOrEqual(10);
    expect(rec.events).toEqual([`errorOccurred(${SocketError.RemoteHostClosedError})`, 'disconnected']);
    expect(s.state()).toBe(SocketState.UnconnectedState);
    expect(s.waitForReadyRead(1000)).toBe(false); // Unconnected: at once
  });

  test('busy-polling: data is seen while spinning, and the time-out still holds', async () => {
    const p = await peer('echo');
    const s = tcp();
    s.setBusyPollBudget(2000);
    expect(s.busyPollBudget()).toBe(2000);
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    for (let i = 0; i < 50; i++) {
      s.write('x');
      expect(s.waitForReadyRead(5000)).toBe(true);
      expect(s.readAll().toString()).toBe('x');
    }
    s.setBusyPollBudget(1_000_000); // a spin longer than the wait
    const [ok, ms] = timed(() => s.waitForReadyRead(100));
    expect(ok).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(99);
    expect(ms).toBeLessThan(100 + 250);
    expect(() => s.setBusyPollBudget(-1)).toThrow(RangeError);
  });

  test('-1 waits without a limit; UDP works too', async () => {
    const p = await peer('udp-echo');
    const u = new QUdpSocket();
    sockets.push(u);
    u.bind('127.0.0.1', 0);
    u.writeDatagram('dgram', new QHostAddress('127.0.0.1'), p.port);
    expect(u.waitForReadyRead(-1)).toBe(true);
    expect(u.readDatagram()!.data.toString()).toBe('dgram');
  });
});

describe('waitForBytesWritten and waitForDisconnected', () => {
  test('false at once with nothing buffered; true once a chunk went out', async () => {
    const p = await peer('sink');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    expect(s.waitForBytesWritten(1000)).toBe(false);
    const written: number[] = [];
    s.bytesWritten.connect((n) => written.push(n));
    s.write(Buffer.alloc(1000, 7));
    expect(s.waitForBytesWritten(5000)).toBe(true);
    expect(written).toEqual([1000]);
    expect(s.bytesToWrite()).toBe(0);
  });

  test('time-out when the peer stops reading: SocketTimeoutError, connection kept', async () => {
    const p = await peer('silent');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    s.write(Buffer.alloc(64 << 20));
    let ok = true;
    let ms = 0;
    for (let i = 0; i < 200 && ok; i++) [ok, ms] = timed(() => s.waitForBytesWritten(200));
    expect(ok).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(199);
    expect(ms).toBeLessThan(200 + 250);
    expect(s.error()).toBe(SocketError.SocketTimeoutError);
    expect(s.state()).toBe(SocketState.ConnectedState);
    expect(s.bytesToWrite()).toBeGreaterThan(0);
  });

  test('waitForDisconnected after disconnectFromHost drains the buffer first', async () => {
    const p = await peer('sink');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    const data = crypto.randomBytes(4 << 20);
    s.write(data);
    s.disconnectFromHost();
    expect(s.state()).toBe(SocketState.ClosingState);
    const rec = new Recorder().watch('disconnected', s.disconnected);
    expect(s.waitForDisconnected(10000)).toBe(true);
    expect(rec.events).toEqual(['disconnected']);
    expect(s.state()).toBe(SocketState.UnconnectedState);
    const report = await p.line();
    expect(report).toEqual({ bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') });
    expect(s.waitForDisconnected(1000)).toBe(false); // already Unconnected
  });

  test('waitForDisconnected times out while the peer keeps the connection', async () => {
    const p = await peer('silent');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    s.waitForConnected(5000);
    const [ok, ms] = timed(() => s.waitForDisconnected(150));
    expect(ok).toBe(false);
    expect(ms).toBeLessThan(150 + 250);
    expect(s.error()).toBe(SocketError.SocketTimeoutError);
    expect(s.state()).toBe(SocketState.ConnectedState);
  });
});

describe('100 MiB with blocking calls only', () => {
  const total = 100 * 1024 * 1024;

  test('download: waitForReadyRead until the peer closes, hash intact', async () => {
    const p = await peer('source', String(total));
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    expect(s.waitForConnected(5000)).toBe(true);
    const h = crypto.createHash('sha256');
    let bytes = 0;
    while (s.waitForReadyRead(10000)) {
      const d = s.readAll();
      bytes += d.length;
      h.update(d);
    }
    const rest = s.readAll();
    bytes += rest.length;
    h.update(rest);
    expect(s.error()).toBe(SocketError.RemoteHostClosedError);
    expect(bytes).toBe(total);
    const report = await p.line();
    expect(h.digest('hex')).toBe(report.sha256);
  }, 60000);

  test('upload: write plus waitForBytesWritten, then waitForDisconnected; hash intact', async () => {
    const p = await peer('sink');
    const s = tcp();
    s.connectToHost('127.0.0.1', p.port);
    expect(s.waitForConnected(5000)).toBe(true);
    const h = crypto.createHash('sha256');
    const chunk = crypto.randomBytes(1 << 20);
    for (let sent = 0; sent < total; sent += chunk.length) {
      s.write(chunk);
      h.update(chunk);
      while (s.bytesToWrite() > 4 << 20) expect(s.waitForBytesWritten(10000)).toBe(true);
    }
    s.disconnectFromHost();
    expect(s.waitForDisconnected(30000)).toBe(true);
    expect(await p.line()).toEqual({ bytes: total, sha256: h.digest('hex') });
  }, 60000);
});

describe('QTcpServer.waitForNewConnection', () => {
  test('true with newConnection emitted inside; a time-out sets timedOut', async () => {
    const server = new QTcpServer();
    sockets.push(server);
    server.listen('127.0.0.1', 0);
    const t = { value: true };
    const [idle, ms] = timed(() => server.waitForNewConnection(100, t));
    expect(idle).toBe(false);
    expect(t.value).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(99);
    expect(server.waitForNewConnection(0)).toBe(false);
    await peer('later', '100', String(server.serverPort()));
    let signals = 0;
    server.newConnection.connect(() => signals++);
    expect(server.waitForNewConnection(5000, t)).toBe(true);
    expect(t.value).toBe(false);
    expect(signals).toBe(1);
    const s = server.nextPendingConnection()!;
    sockets.push(s);
    expect(s.waitForReadyRead(5000)).toBe(true);
    expect(s.readAll().toString()).toBe('hello');
  });
});
