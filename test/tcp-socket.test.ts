// QTcpSocket against real node:net peers on 127.0.0.1 and ::1.
import * as crypto from 'crypto';
import * as net from 'net';
import { QTcpSocket, QHostAddress, SocketState, SocketError, SocketOption, OpenMode, setSlotErrorHandler } from '../lib';
import type { LookupFunction } from '../lib';
import { Recorder, next, until, delay, startEcho, startPeer, closedPort, hasIPv6, liveEngines, Peer } from './helpers';

const S = SocketState;
const stateName = (s: SocketState) => SocketState[s];
const errName = (e: SocketError) => SocketError[e];

/** A QTcpSocket whose signals are recorded, closed after the test. */
const sockets: QTcpSocket[] = [];
function socket(lookup?: LookupFunction): { s: QTcpSocket; rec: Recorder } {
  const s = new QTcpSocket(lookup ? { lookup } : {});
  sockets.push(s);
  const rec = new Recorder()
    .watch('stateChanged', s.stateChanged, stateName)
    .watch('hostFound', s.hostFound)
    .watch('connected', s.connected)
    .watch('disconnected', s.disconnected)
    .watch('errorOccurred', s.errorOccurred, errName)
    .watch('readChannelFinished', s.readChannelFinished)
    .watch('aboutToClose', s.aboutToClose);
  return { s, rec };
}

/** A resolver that answers from a table and never asks DNS. */
function table(entries: Record<string, string[]>): LookupFunction {
  return (host, _opts, cb) => {
    const list = entries[host];
    setImmediate(() => {
      if (!list) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        cb(err, []);
      } else {
        cb(null, list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
      }
    });
  };
}

let peers: Peer[] = [];
async function echo(host = '127.0.0.1') {
  const p = await startEcho(host);
  peers.push(p);
  return p;
}
async function peer(host = '127.0.0.1', onConn?: (c: net.Socket) => void) {
  const p = await startPeer(host, onConn);
  peers.push(p);
  return p;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.abort();
  for (const p of peers.splice(0)) await p.close();
  expect(liveEngines()).toBe(0);
});

describe('connecting', () => {
  test.each(['127.0.0.1', '::1'])('to the IP literal %s: HostLookup before return, then Connecting, hostFound, Connected, connected', async (host) => {
    if (host === '::1' && !(await hasIPv6())) return;
    const p = await echo(host);
    const { s, rec } = socket();
    s.connectToHost(host, p.port);
    expect(rec.events[0]).toBe('stateChanged(HostLookupState)');
    await next(s.connected);
    expect(rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(ConnectingState)',
      'hostFound',
      'stateChanged(ConnectedState)',
      'connected',
    ]);
    expect(s.state()).toBe(S.ConnectedState);
    expect(s.peerPort()).toBe(p.port);
    expect(s.peerAddress().toString()).toBe(host);
    expect(s.peerName()).toBe(host);
    expect(s.localAddress().toString()).toBe(host);
    const conn = await p.nextConnection();
    expect(s.localPort()).toBe(conn.remotePort);
    expect(s.socketDescriptor()).toBeGreaterThan(2);
    expect(s.isValid()).toBe(true);
    expect(s.error()).toBe(SocketError.UnknownSocketError);
  });

  test('by name: the call returns in HostLookupState and the rest follows the lookup', async () => {
    const p = await echo();
    const { s, rec } = socket(table({ 'peer.test': ['127.0.0.1'] }));
    s.connectToHost('peer.test', p.port);
    expect(rec.events).toEqual(['stateChanged(HostLookupState)']);
    expect(s.state()).toBe(S.HostLookupState);
    await next(s.connected);
    expect(rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(ConnectingState)',
      'hostFound',
      'stateChanged(ConnectedState)',
      'connected',
    ]);
    expect(s.peerName()).toBe('peer.test');
    expect(s.peerAddress().toString()).toBe('127.0.0.1');
  });

  test('by "localhost" through the system resolver (answered from /etc/hosts)', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('localhost', p.port, OpenMode.ReadWrite, QTcpSocket.NetworkLayerProtocol.IPv4Protocol);
    await next(s.connected);
    expect(s.peerAddress().isLoopback()).toBe(true);
  });

  test('by QHostAddress', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost(new QHostAddress(QHostAddress.SpecialAddress.LocalHost), p.port);
    await next(s.connected);
    expect(s.peerAddress().isEqual(new QHostAddress('127.0.0.1'))).toBe(true);
  });

  test('every resolved address is tried in turn', async () => {
    const p = await echo('127.0.0.1'); // nothing listens on 127.0.0.2 at this port
    const { s, rec } = socket(table({ 'multi.test': ['127.0.0.2', '127.0.0.1'] }));
    s.connectToHost('multi.test', p.port);
    await next(s.connected);
    expect(s.peerAddress().toString()).toBe('127.0.0.1');
    expect(rec.count('errorOccurred')).toBe(0);
    expect(rec.count('hostFound')).toBe(1);
  });

  test('ConnectionRefusedError: already Unconnected when errorOccurred fires', async () => {
    const port = await closedPort();
    const { s, rec } = socket();
    let stateAtError = -99;
    s.errorOccurred.connect(() => (stateAtError = s.state()));
    s.connectToHost('127.0.0.1', port);
    await next(s.errorOccurred);
    expect(stateAtError).toBe(S.UnconnectedState);
    expect(rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(ConnectingState)',
      'hostFound',
      'stateChanged(UnconnectedState)',
      'errorOccurred(ConnectionRefusedError)',
    ]);
    expect(s.error()).toBe(SocketError.ConnectionRefusedError);
    expect(s.errorString()).toBe('Connection refused');
    expect(s.socketDescriptor()).toBe(-1);
  });

  test('refused on every address of a name: all are tried, then one error', async () => {
    const port = await closedPort();
    const tried: string[] = [];
    const { s, rec } = socket(table({ 'dead.test': ['127.0.0.3', '127.0.0.4', '127.0.0.1'] }));
    s.stateChanged.connect((st) => st === S.ConnectingState && tried.push('c'));
    s.connectToHost('dead.test', port);
    await next(s.errorOccurred);
    expect(s.error()).toBe(SocketError.ConnectionRefusedError);
    expect(rec.count('errorOccurred')).toBe(1);
    expect(rec.count('hostFound')).toBe(1);
  });

  test.each([
    ['ENOTFOUND from the resolver', table({})],
    ['an empty answer', ((_h, _o, cb) => setImmediate(() => cb(null, []))) as LookupFunction],
    ['a resolver that throws', (() => {
      throw new Error('resolver exploded');
    }) as LookupFunction],
  ])('HostNotFoundError for %s', async (_what, lookup) => {
    const { s, rec } = socket(lookup);
    s.connectToHost('nowhere.invalid', 80);
    await next(s.errorOccurred);
    expect(rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(UnconnectedState)',
      'errorOccurred(HostNotFoundError)',
    ]);
    expect(s.errorString()).toBe('Host not found');
  });

  test('connectToHost while connected is an OperationError and leaves the connection alone', async () => {
    const p = await echo();
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    s.connectToHost('127.0.0.1', p.port);
    expect(s.error()).toBe(SocketError.OperationError);
    expect(rec.count('errorOccurred(OperationError)')).toBe(1);
    expect(s.state()).toBe(S.ConnectedState);
    s.write('still here');
    await until(() => s.bytesAvailable() >= 10);
    expect(s.readAll().toString()).toBe('still here');
  });

  test('connectToHost resets error() to UnknownSocketError', async () => {
    const port = await closedPort();
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', port);
    await next(s.errorOccurred);
    expect(s.error()).toBe(SocketError.ConnectionRefusedError);
    s.connectToHost('127.0.0.1', p.port);
    expect(s.error()).toBe(SocketError.UnknownSocketError);
    expect(s.errorString()).toBe('Unknown error');
    await next(s.connected);
  });

  test('a fresh socket: Unconnected, Unknown error, no descriptor', () => {
    const s = new QTcpSocket();
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.error()).toBe(SocketError.UnknownSocketError);
    expect(s.errorString()).toBe('Unknown error');
    expect(s.socketDescriptor()).toBe(-1);
    expect(s.socketType()).toBe(QTcpSocket.SocketType.TcpSocket);
    expect(s.isValid()).toBe(false);
    expect(s.isOpen()).toBe(false);
    expect(s.localPort()).toBe(0);
    expect(s.peerAddress().isNull()).toBe(true);
  });
});

describe('remote close', () => {
  test('RemoteHostClosedError while Connected, then Closing, Unconnected, readChannelFinished, disconnected; data stays readable', async () => {
    const p = await peer('127.0.0.1', (c) => c.end('last words'));
    const { s, rec } = socket();
    let stateAtError = -99;
    s.errorOccurred.connect(() => (stateAtError = s.state()));
    s.connectToHost('127.0.0.1', p.port);
    await next(s.disconnected);
    expect(stateAtError).toBe(S.ConnectedState);
    const tail = rec.events.slice(rec.events.indexOf('errorOccurred(RemoteHostClosedError)'));
    expect(tail).toEqual([
      'errorOccurred(RemoteHostClosedError)',
      'stateChanged(ClosingState)',
      'stateChanged(UnconnectedState)',
      'readChannelFinished',
      'disconnected',
    ]);
    expect(s.errorString()).toBe('The remote host closed the connection');
    // Qt rule 7: endpoints reset, descriptor gone, buffered data readable.
    expect(s.localPort()).toBe(0);
    expect(s.peerPort()).toBe(0);
    expect(s.peerAddress().isNull()).toBe(true);
    expect(s.localAddress().isNull()).toBe(true);
    expect(s.socketDescriptor()).toBe(-1);
    expect(s.readAll().toString()).toBe('last words');
    expect(s.write('x')).toBe(-1);
  });

  test('a reset (ECONNRESET) counts as a remote close', async () => {
    const p = await peer();
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const conn = await p.nextConnection();
    conn.resetAndDestroy();
    await next(s.disconnected);
    expect(rec.count('errorOccurred(RemoteHostClosedError)')).toBe(1);
    expect(s.state()).toBe(S.UnconnectedState);
  });
});

describe('reading', () => {
  async function connectedWith(data: string) {
    const p = await peer('127.0.0.1', (c) => c.write(data));
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    await until(() => s.bytesAvailable() >= data.length);
    return s;
  }

  test('read, peek, readLine, canReadLine, getChar, ungetChar, bytesAvailable, atEnd', async () => {
    const s = await connectedWith('line one\nline two\nrest');
    expect(s.bytesAvailable()).toBe(22);
    expect(s.canReadLine()).toBe(true);
    expect(s.peek(4).toString()).toBe('line');
    expect(s.bytesAvailable()).toBe(22);
    expect(s.readLine().toString()).toBe('line one\n');
    expect(s.readLine(5).toString()).toBe('line ');
    expect(s.readLine().toString()).toBe('two\n');
    expect(s.canReadLine()).toBe(false);
    expect(s.getChar()).toBe('r'.charCodeAt(0));
    s.ungetChar('R');
    expect(s.read(2).toString()).toBe('Re');
    expect(s.atEnd()).toBe(false);
    expect(s.readAll().toString()).toBe('st');
    expect(s.atEnd()).toBe(true);
    expect(s.getChar()).toBeNull();
    expect(s.read(10).length).toBe(0);
  });

  test('readyRead is emitted for new data and not re-entered from its own slot', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    let depth = 0;
    let maxDepth = 0;
    let calls = 0;
    s.readyRead.connect(() => {
      calls++;
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      s.flush();
      depth--;
    });
    s.write('abc');
    await until(() => s.bytesAvailable() === 3);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(maxDepth).toBe(1);
  });
});

describe('writing', () => {
  test('write returns the full length while connecting, bytesToWrite shows it, bytesWritten follows the send', async () => {
    const p = await echo();
    const { s } = socket();
    const written: number[] = [];
    s.bytesWritten.connect((n) => written.push(n));
    s.connectToHost('127.0.0.1', p.port);
    expect(s.write('hello ')).toBe(6);
    expect(s.write(Buffer.from('world'))).toBe(5);
    expect(s.write(new Uint8Array([0x21]))).toBe(1);
    expect(s.bytesToWrite()).toBe(12);
    await next(s.connected);
    await until(() => s.bytesAvailable() >= 12);
    expect(s.readAll().toString()).toBe('hello world!');
    expect(written.reduce((a, b) => a + b, 0)).toBe(12);
    expect(s.bytesToWrite()).toBe(0);
  });

  test('writes in one task leave together when the task ends, in one bytesWritten', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const written: number[] = [];
    s.bytesWritten.connect((n) => written.push(n));
    s.write('a');
    s.write('b');
    s.write('c');
    expect(s.bytesToWrite()).toBe(3);
    await Promise.resolve();
    expect(s.bytesToWrite()).toBe(0);
    expect(written).toEqual([3]);
  });

  test('flush() sends at once and reports whether anything went out', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    expect(s.flush()).toBe(false);
    s.write('now');
    expect(s.flush()).toBe(true);
    expect(s.bytesToWrite()).toBe(0);
  });

  test('a mutation of the written Buffer after write() does not change what is sent', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const data = Buffer.from('abcd');
    s.write(data);
    data.fill(0x7a);
    await until(() => s.bytesAvailable() === 4);
    expect(s.readAll().toString()).toBe('abcd');
  });
});

describe('large writes', () => {
  test('a large write goes out at once, what the kernel leaves is copied, bytesWritten comes after the task', async () => {
    const received: Buffer[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    const p = await peer('127.0.0.1', (c) => {
      c.on('data', (d) => received.push(d));
      c.on('end', () => ended());
    });
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const data = crypto.randomBytes(8 * 1024 * 1024);
    const expected = crypto.createHash('sha256').update(data).digest('hex');
    const written: number[] = [];
    s.bytesWritten.connect((n) => written.push(n));
    expect(s.write(data)).toBe(data.length);
    expect(written).toEqual([]); // never inside write()
    expect(s.bytesToWrite()).toBeLessThan(data.length); // the kernel took some at once
    data.fill(0); // the caller reuses its buffer: what was not yet sent was copied
    s.disconnectFromHost();
    await next(s.disconnected, 20000);
    await done;
    expect(crypto.createHash('sha256').update(Buffer.concat(received)).digest('hex')).toBe(expected);
    expect(written.reduce((a, b) => a + b, 0)).toBe(8 * 1024 * 1024);
  });
});

describe('closing', () => {
  test('disconnectFromHost writes all pending data first, in ClosingState meanwhile', async () => {
    const size = 8 * 1024 * 1024;
    const payload = crypto.randomBytes(size);
    const received: Buffer[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    const p = await peer('127.0.0.1', (c) => {
      c.on('data', (d) => received.push(d));
      c.on('end', () => ended());
    });
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    s.write(payload);
    s.disconnectFromHost();
    expect(s.state()).toBe(S.ClosingState);
    await next(s.disconnected, 20000);
    await done;
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    expect(rec.events.slice(-4)).toEqual([
      'stateChanged(ClosingState)',
      'stateChanged(UnconnectedState)',
      'readChannelFinished',
      'disconnected',
    ]);
  });

  test('disconnectFromHost while connecting waits for the connection first', async () => {
    const p = await echo();
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    s.write('queued');
    s.disconnectFromHost();
    expect(s.state()).toBe(S.ConnectingState);
    await next(s.disconnected);
    expect(rec.count('connected')).toBe(1);
    const conn = p.conns[0];
    expect(conn).toBeDefined();
  });

  test('abort() discards pending output and is Unconnected at once', async () => {
    const received: Buffer[] = [];
    const p = await peer('127.0.0.1', (c) => c.on('data', (d) => received.push(d)));
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    s.write('never sent');
    s.abort();
    expect(s.state()).toBe(S.UnconnectedState);
    expect(s.bytesToWrite()).toBe(0);
    expect(s.socketDescriptor()).toBe(-1);
    expect(rec.count('disconnected')).toBe(1);
    await delay(50);
    expect(Buffer.concat(received).length).toBe(0);
  });

  test('abort() while connecting: Unconnected, no disconnected', async () => {
    const p = await echo();
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    s.abort();
    expect(s.state()).toBe(S.UnconnectedState);
    expect(rec.count('disconnected')).toBe(0);
    await delay(30);
    expect(rec.count('connected')).toBe(0);
  });

  test('abort() during a name lookup forgets the lookup', async () => {
    const { s, rec } = socket(table({ 'slow.test': ['127.0.0.1'] }));
    s.connectToHost('slow.test', 9);
    s.abort();
    await delay(30);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(rec.count('hostFound')).toBe(0);
  });

  test('close() emits aboutToClose, drops the read buffer, and still sends pending writes', async () => {
    const received: Buffer[] = [];
    let ended!: () => void;
    const done = new Promise<void>((r) => (ended = r));
    const p = await peer('127.0.0.1', (c) => {
      c.write('unread');
      c.on('data', (d) => received.push(d));
      c.on('end', () => ended());
    });
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    await until(() => s.bytesAvailable() === 6);
    s.write('goodbye');
    s.close();
    expect(rec.count('aboutToClose')).toBe(1);
    expect(s.isOpen()).toBe(false);
    expect(s.bytesAvailable()).toBe(0);
    await done;
    expect(Buffer.concat(received).toString()).toBe('goodbye');
    await until(() => s.state() === S.UnconnectedState);
  });
});

describe('bounded read buffer', () => {
  test('bytesAvailable never exceeds the bound and the peer backs up', async () => {
    let server!: net.Socket;
    const p = await peer('127.0.0.1', (c) => (server = c));
    const { s } = socket();
    s.setReadBufferSize(4096);
    expect(s.readBufferSize()).toBe(4096);
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    await until(() => server !== undefined);
    let max = 0;
    s.readyRead.connect(() => (max = Math.max(max, s.bytesAvailable())));
    const chunk = Buffer.alloc(64 * 1024, 1);
    // Write until node:net's own buffer holds data the kernel would not take.
    for (let i = 0; i < 400 && server.writableLength < 1024 * 1024; i++) server.write(chunk);
    await delay(100);
    expect(s.bytesAvailable()).toBe(4096);
    expect(max).toBeLessThanOrEqual(4096);
    expect(server.writableLength).toBeGreaterThan(0);
    // Raising the limit (0 = none) resumes reading.
    s.setReadBufferSize(0);
    await until(() => s.bytesAvailable() > 4096);
  });

  test('64 MiB through a 4 KiB bound arrives complete and intact', async () => {
    const total = 64 * 1024 * 1024;
    const sent = crypto.createHash('sha256');
    const p = await peer('127.0.0.1', (c) => {
      let left = total;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, 256 * 1024);
          const buf = crypto.randomBytes(n);
          sent.update(buf);
          left -= n;
          if (!c.write(buf)) {
            c.once('drain', pump);
            return;
          }
        }
        c.end();
      };
      pump();
    });
    const { s } = socket();
    s.setReadBufferSize(4096);
    const got = crypto.createHash('sha256');
    let count = 0;
    let max = 0;
    s.readyRead.connect(() => {
      max = Math.max(max, s.bytesAvailable());
      const d = s.readAll();
      count += d.length;
      got.update(d);
    });
    s.connectToHost('127.0.0.1', p.port);
    await next(s.disconnected, 60000);
    const rest = s.readAll();
    count += rest.length;
    got.update(rest);
    expect(count).toBe(total);
    expect(max).toBeLessThanOrEqual(4096);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
  }, 90000);
});

describe('robustness', () => {
  test('a throwing slot leaves the socket consistent and the other slots run', async () => {
    const errors: unknown[] = [];
    const previous = setSlotErrorHandler((e) => errors.push(e));
    try {
      const p = await echo();
      const { s } = socket();
      s.connected.connect(() => {
        throw new Error('in connected');
      });
      let readyCount = 0;
      s.readyRead.connect(() => {
        throw new Error('in readyRead');
      });
      s.readyRead.connect(() => readyCount++);
      s.connectToHost('127.0.0.1', p.port);
      await until(() => s.state() === S.ConnectedState);
      s.write('ping');
      await until(() => s.bytesAvailable() === 4);
      expect(readyCount).toBeGreaterThanOrEqual(1);
      expect(s.readAll().toString()).toBe('ping');
      s.write('pong');
      await until(() => s.bytesAvailable() === 4);
      expect(s.readAll().toString()).toBe('pong');
      expect((errors as Error[]).map((e) => e.message)).toContain('in connected');
      expect((errors as Error[]).map((e) => e.message)).toContain('in readyRead');
    } finally {
      setSlotErrorHandler(previous);
    }
  });

  test('a slot may abort() inside readyRead', async () => {
    const p = await echo();
    const { s, rec } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    s.readyRead.connect(() => s.abort());
    s.write('x');
    await next(s.disconnected);
    expect(s.state()).toBe(S.UnconnectedState);
    expect(rec.count('disconnected')).toBe(1);
  });

  test('a slot may reconnect inside disconnected', async () => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const reconnect = () => s.connectToHost('127.0.0.1', p.port);
    s.disconnected.connect(reconnect);
    s.disconnectFromHost();
    await next(s.connected);
    s.disconnected.disconnect(reconnect);
    expect(s.peerPort()).toBe(p.port);
    expect(s.state()).toBe(S.ConnectedState);
  });
});

describe('subclass setters and options', () => {
  test('setLocal*/setPeer*/setSocketError/setSocketState set without signals', () => {
    const { s, rec } = socket();
    s.setLocalAddress(new QHostAddress('10.1.2.3'));
    s.setLocalPort(1234);
    s.setPeerAddress(new QHostAddress('::1'));
    s.setPeerPort(4321);
    s.setPeerName('example.test');
    s.setSocketError(SocketError.NetworkError);
    s.setSocketState(S.BoundState);
    expect(s.localAddress().toString()).toBe('10.1.2.3');
    expect(s.localPort()).toBe(1234);
    expect(s.peerAddress().toString()).toBe('::1');
    expect(s.peerPort()).toBe(4321);
    expect(s.peerName()).toBe('example.test');
    expect(s.error()).toBe(SocketError.NetworkError);
    expect(s.state()).toBe(S.BoundState);
    expect(rec.events).toEqual([]);
    expect(() => s.setLocalPort(70000)).toThrow(RangeError);
    s.setSocketState(S.UnconnectedState);
  });

  test.each([
    [SocketOption.LowDelayOption, 1],
    [SocketOption.KeepAliveOption, 1],
    [SocketOption.SendBufferSizeSocketOption, 65536],
    [SocketOption.ReceiveBufferSizeSocketOption, 65536],
  ])('option %s round-trips through socketOption', async (option, value) => {
    const p = await echo();
    const { s } = socket();
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    const before = s.socketOption(option);
    expect(s.setSocketOption(option, value)).toBe(true);
    const after = s.socketOption(option);
    if (option === SocketOption.SendBufferSizeSocketOption || option === SocketOption.ReceiveBufferSizeSocketOption) {
      // Linux doubles the value for its own bookkeeping and reports that.
      expect(after).toBe(value * 2);
    } else {
      expect(before).toBe(0);
      expect(after).toBe(value);
    }
    expect(s.setSocketOption(option, 0)).toBe(true);
    if (option === SocketOption.LowDelayOption || option === SocketOption.KeepAliveOption) expect(s.socketOption(option)).toBe(0);
  });

  test('an option set during the lookup is applied once the descriptor exists', async () => {
    const p = await echo();
    const { s } = socket(table({ 'opt.test': ['127.0.0.1'] }));
    s.connectToHost('opt.test', p.port);
    s.setSocketOption(SocketOption.LowDelayOption, 1);
    expect(s.socketOption(SocketOption.LowDelayOption)).toBe(1);
    await next(s.connected);
    expect(s.socketOption(SocketOption.LowDelayOption)).toBe(1);
  });
});
