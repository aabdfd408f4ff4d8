// QUdpSocket through a real SOCKS5 proxy (dante): UDP ASSOCIATE, the relay,
// and the framing of every datagram both ways.
import * as dgram from 'dgram';
import { QUdpSocket, QHostAddress, QNetworkProxy, SocketError, SocketState } from '../lib';
import { startDante, Dante } from './fixtures/dante';
import { until, liveEngines } from './helpers';

let dante: Dante;
let echo: dgram.Socket;
const sockets: QUdpSocket[] = [];

beforeAll(async () => {
  dante = await startDante();
  echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
}, 20000);

afterAll(async () => {
  // Either may be missing when beforeAll failed (danted not installed): that failure is the report.
  echo?.close();
  await dante?.stop();
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.abort();
  expect(liveEngines()).toBe(0);
});

function proxied(port = dante.port): QUdpSocket {
  const s = new QUdpSocket();
  sockets.push(s);
  s.setProxy(new QNetworkProxy(QNetworkProxy.Socks5Proxy, '127.0.0.1', port));
  return s;
}

test('datagrams go out through the relay and the replies come back with the real sender', async () => {
  const s = proxied();
  const seen: Array<[string, number]> = [];
  echo.on('message', (_m, r) => seen.push([r.address, r.port]));
  expect(s.bind(QHostAddress.AnyIPv4, 0)).toBe(true);
  expect(s.state()).toBe(SocketState.BoundState);
  const dest = new QHostAddress('127.0.0.1');
  for (let i = 0; i < 5; i++) expect(s.writeDatagram(`hello ${i}`, dest, echo.address().port)).toBe(7);
  const got: string[] = [];
  await until(() => {
    while (s.hasPendingDatagrams()) {
      const d = s.readDatagram()!;
      expect(d.address.toString()).toBe('127.0.0.1');
      expect(d.port).toBe(echo.address().port); // the destination's port, not the relay's
      got.push(d.data.toString());
    }
    return got.length === 5;
  }, 10000);
  expect(got.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `echo:hello ${i}`));
  // The echo server saw the relay, not this socket.
  expect(seen.every(([, port]) => port !== s.localPort())).toBe(true);
});

test('writeDatagrams frames each datagram of a batch', async () => {
  const s = proxied();
  expect(s.bind(QHostAddress.AnyIPv4, 0)).toBe(true);
  const batch = Array.from({ length: 20 }, (_, i) => ({ data: `b${i}`, address: '127.0.0.1', port: echo.address().port }));
  expect(s.writeDatagrams(batch)).toBe(20);
  const got = new Set<string>();
  await until(() => {
    while (s.hasPendingDatagrams()) got.add(s.readDatagram()!.data.toString());
    return got.size === 20;
  }, 10000);
  expect([...got].sort()).toEqual(batch.map((b) => `echo:${b.data}`).sort());
});

test('no proxy listening: bind fails with ProxyConnectionRefusedError', async () => {
  const gone = await new Promise<number>((resolve) => {
    const t = dgram.createSocket('udp4');
    t.bind(0, '127.0.0.1', () => {
      const p = t.address().port;
      t.close(() => resolve(p));
    });
  });
  const s = proxied(gone);
  const errors: SocketError[] = [];
  s.errorOccurred.connect((e) => errors.push(e));
  expect(s.bind(QHostAddress.AnyIPv4, 0)).toBe(false);
  expect(errors).toEqual([SocketError.ProxyConnectionRefusedError]);
  expect(s.state()).toBe(SocketState.UnconnectedState);
});

test('an HTTP proxy cannot carry datagrams', () => {
  const s = new QUdpSocket();
  sockets.push(s);
  s.setProxy(new QNetworkProxy(QNetworkProxy.HttpProxy, '127.0.0.1', 3128));
  expect(s.bind(QHostAddress.AnyIPv4, 0)).toBe(false);
  expect(s.error()).toBe(SocketError.UnsupportedSocketOperationError);
});
