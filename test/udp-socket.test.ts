// QUdpSocket on loopback, against itself and against node:dgram.
import * as crypto from 'crypto';
import * as dgram from 'dgram';
import { QUdpSocket, QHostAddress, QNetworkDatagram, SocketState, SocketError, BindFlag, SocketOption } from '../lib';
import { Recorder, next, until, delay, hasIPv6, liveEngines } from './helpers';

const sockets: QUdpSocket[] = [];
const peers: dgram.Socket[] = [];

function udp(): QUdpSocket {
  const s = new QUdpSocket();
  sockets.push(s);
  return s;
}

function dgramPeer(type: 'udp4' | 'udp6' = 'udp4', host = '127.0.0.1'): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const p = dgram.createSocket(type);
    peers.push(p);
    p.bind(0, host, () => resolve(p));
  });
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.abort();
  for (const p of peers.splice(0)) p.close();
  expect(liveEngines()).toBe(0);
});

test('bind enters BoundState once and reads the local endpoint from the kernel', () => {
  const s = udp();
  const rec = new Recorder().watch('stateChanged', s.stateChanged, (st) => SocketState[st]);
  expect(s.bind('127.0.0.1', 0)).toBe(true);
  expect(rec.events).toEqual(['stateChanged(BoundState)']);
  expect(s.state()).toBe(SocketState.BoundState);
  expect(s.localAddress().toString()).toBe('127.0.0.1');
  expect(s.localPort()).toBeGreaterThan(0);
  expect(s.socketType()).toBe(QUdpSocket.SocketType.UdpSocket);
  expect(s.bind('127.0.0.1', 0)).toBe(false); // already bound
  expect(s.error()).toBe(SocketError.OperationError);
});

test('a datagram from node:dgram arrives with its sender; a reply reaches node:dgram', async () => {
  const s = udp();
  s.bind('127.0.0.1', 0);
  const peer = await dgramPeer();
  peer.send('hello qsocket', s.localPort(), '127.0.0.1');
  await next(s.readyRead);
  expect(s.hasPendingDatagrams()).toBe(true);
  expect(s.pendingDatagramSize()).toBe(13);
  const d = s.readDatagram()!;
  expect(d.data.toString()).toBe('hello qsocket');
  expect(d.address.toString()).toBe('127.0.0.1');
  expect(d.port).toBe(peer.address().port);
  expect(s.hasPendingDatagrams()).toBe(false);
  expect(s.pendingDatagramSize()).toBe(-1);
  const reply = new Promise<Buffer>((r) => peer.once('message', r));
  let written = 0;
  s.bytesWritten.connect((n) => (written += n));
  expect(s.writeDatagram('hello dgram', d.address, d.port)).toBe(11);
  expect(written).toBe(11);
  expect((await reply).toString()).toBe('hello dgram');
});

test('writeDatagram on an unbound socket binds it first and emits bytesWritten', async () => {
  const peer = await dgramPeer();
  const got = new Promise<[Buffer, dgram.RemoteInfo]>((r) => peer.once('message', (m, i) => r([m, i])));
  const s = udp();
  const rec = new Recorder().watch('stateChanged', s.stateChanged, (st) => SocketState[st]).watch('bytesWritten', s.bytesWritten);
  expect(s.writeDatagram(Buffer.from('first'), new QHostAddress('127.0.0.1'), peer.address().port)).toBe(5);
  expect(rec.events).toEqual(['stateChanged(BoundState)', 'bytesWritten(5)']);
  expect(s.state()).toBe(SocketState.BoundState);
  const [msg, info] = await got;
  expect(msg.toString()).toBe('first');
  expect(info.port).toBe(s.localPort());
});

test('readyRead is not re-emitted while a datagram is unread, and comes again after a read', async () => {
  const s = udp();
  s.bind('127.0.0.1', 0);
  const peer = await dgramPeer();
  let ready = 0;
  s.readyRead.connect(() => ready++);
  peer.send('one', s.localPort(), '127.0.0.1');
  await until(() => ready === 1);
  peer.send('two', s.localPort(), '127.0.0.1');
  peer.send('three', s.localPort(), '127.0.0.1');
  await delay(50);
  expect(ready).toBe(1);
  expect(s.readDatagram()!.data.toString()).toBe('one');
  await until(() => ready === 2);
  const rest: string[] = [];
  while (s.hasPendingDatagrams()) rest.push(s.readDatagram()!.data.toString());
  expect(rest).toEqual(['two', 'three']);
});

test('a short read discards the rest of the datagram; reading with none queued is a TemporaryError', async () => {
  const s = udp();
  s.bind('127.0.0.1', 0);
  const peer = await dgramPeer();
  peer.send('0123456789', s.localPort(), '127.0.0.1');
  peer.send('next', s.localPort(), '127.0.0.1');
  await until(() => s.hasPendingDatagrams());
  expect(s.readDatagram(4)!.data.toString()).toBe('0123');
  await until(() => s.hasPendingDatagrams());
  expect(s.readDatagram()!.data.toString()).toBe('next');
  expect(s.readDatagram()).toBeNull();
  expect(s.error()).toBe(SocketError.TemporaryError);
  expect(s.errorString()).toBe('No datagram available for reading');
});

test('receiveDatagram reports destination address, port and hop limit', async () => {
  const s = udp();
  s.bind(QHostAddress.AnyIPv4, 0);
  const peer = await dgramPeer();
  peer.send('where to', s.localPort(), '127.0.0.1');
  await next(s.readyRead);
  const d = s.receiveDatagram();
  expect(d.isValid()).toBe(true);
  expect(d.data().toString()).toBe('where to');
  expect(d.senderAddress().toString()).toBe('127.0.0.1');
  expect(d.senderPort()).toBe(peer.address().port);
  expect(d.destinationAddress().toString()).toBe('127.0.0.1');
  expect(d.destinationPort()).toBe(s.localPort());
  expect(d.hopLimit()).toBe(64); // Linux's default TTL for unicast
  expect(s.receiveDatagram().isValid()).toBe(false);
});

test('a 65,507-byte datagram round-trips on IPv4; one byte more is DatagramTooLargeError and the socket stays usable', async () => {
  const a = udp();
  const b = udp();
  a.bind('127.0.0.1', 0);
  b.bind('127.0.0.1', 0);
  for (const s of [a, b]) {
    s.setSocketOption(SocketOption.SendBufferSizeSocketOption, 1 << 20);
    s.setSocketOption(SocketOption.ReceiveBufferSizeSocketOption, 1 << 20);
  }
  const big = crypto.randomBytes(65507);
  expect(a.writeDatagram(big, new QHostAddress('127.0.0.1'), b.localPort())).toBe(65507);
  await until(() => b.hasPendingDatagrams());
  expect(b.pendingDatagramSize()).toBe(65507);
  expect(b.readDatagram()!.data.equals(big)).toBe(true);
  const errors: SocketError[] = [];
  a.errorOccurred.connect((e) => errors.push(e));
  expect(a.writeDatagram(Buffer.alloc(65508), new QHostAddress('127.0.0.1'), b.localPort())).toBe(-1);
  expect(a.error()).toBe(SocketError.DatagramTooLargeError);
  expect(a.errorString()).toBe('Datagram was too large to send');
  expect(errors).toEqual([SocketError.DatagramTooLargeError]);
  expect(a.state()).toBe(SocketState.BoundState);
  expect(a.writeDatagram('still fine', new QHostAddress('127.0.0.1'), b.localPort())).toBe(10);
  await until(() => b.hasPendingDatagrams());
  expect(b.readDatagram()!.data.toString()).toBe('still fine');
});

test('IPv6 loopback, and a dual-stack Any socket that talks to IPv4', async () => {
  if (!(await hasIPv6())) return;
  const v6 = udp();
  expect(v6.bind('::1', 0)).toBe(true);
  const dual = udp();
  expect(dual.bind(QHostAddress.Any, 0)).toBe(true);
  expect(dual.writeDatagram('to v6', new QHostAddress('::1'), v6.localPort())).toBe(5);
  await until(() => v6.hasPendingDatagrams());
  const d = v6.readDatagram()!;
  expect(d.data.toString()).toBe('to v6');
  expect(d.address.toString()).toBe('::1');
  const peer = await dgramPeer('udp4');
  const got = new Promise<Buffer>((r) => peer.once('message', r));
  expect(dual.writeDatagram('to v4', new QHostAddress('127.0.0.1'), peer.address().port)).toBe(5);
  expect((await got).toString()).toBe('to v4');
});

test('connected mode: connectToHost, then write and read one datagram each', async () => {
  const peer = await dgramPeer();
  peer.on('message', (m, info) => peer.send(Buffer.concat([Buffer.from('re: '), m]), info.port, info.address));
  const s = udp();
  const rec = new Recorder().watch('stateChanged', s.stateChanged, (st) => SocketState[st]).watch('connected', s.connected);
  s.connectToHost('127.0.0.1', peer.address().port);
  await next(s.connected);
  expect(rec.events).toEqual([
    'stateChanged(HostLookupState)',
    'stateChanged(ConnectingState)',
    'stateChanged(ConnectedState)',
    'connected',
  ]);
  expect(s.peerPort()).toBe(peer.address().port);
  expect(s.write('ping')).toBe(4);
  await next(s.readyRead);
  expect(s.bytesAvailable()).toBe(8);
  expect(s.read(100).toString()).toBe('re: ping');
});

test('connected mode: ICMP port unreachable surfaces as ConnectionRefusedError on the next operation', async () => {
  const gone = await dgramPeer();
  const port = gone.address().port;
  gone.close();
  peers.splice(peers.indexOf(gone), 1);
  const s = udp();
  s.connectToHost('127.0.0.1', port);
  await next(s.connected);
  const err = next(s.errorOccurred);
  s.write('anyone?');
  const [e] = await err;
  expect(e).toBe(SocketError.ConnectionRefusedError);
  expect(s.errorString()).toBe('Connection refused');
  expect(s.state()).toBe(SocketState.ConnectedState); // a datagram socket survives it
});

test('ShareAddress lets two sockets bind one port; the default does not', () => {
  const a = udp();
  expect(a.bind('127.0.0.1', 0, BindFlag.ShareAddress)).toBe(true);
  const b = udp();
  expect(b.bind('127.0.0.1', a.localPort(), BindFlag.ShareAddress)).toBe(true);
  const c = udp();
  expect(c.bind('127.0.0.1', a.localPort())).toBe(false);
  expect(c.error()).toBe(SocketError.AddressInUseError);
  expect(c.state()).toBe(SocketState.UnconnectedState);
});

test('writeDatagrams sends a batch with one bytesWritten', async () => {
  const s = udp();
  const r = udp();
  r.bind('127.0.0.1', 0);
  s.bind('127.0.0.1', 0);
  const written: number[] = [];
  s.bytesWritten.connect((n) => written.push(n));
  const batch = Array.from({ length: 150 }, (_, i) => ({ data: `d${i}`, address: '127.0.0.1', port: r.localPort() }));
  expect(s.writeDatagrams(batch)).toBe(150);
  expect(written).toEqual([batch.reduce((a, d) => a + d.data.length, 0)]);
  const got: string[] = [];
  await until(() => {
    while (r.hasPendingDatagrams()) got.push(r.readDatagram()!.data.toString());
    return got.length === 150;
  });
  expect(got).toEqual(batch.map((d) => d.data));
});

test('100,000 small datagrams at a bounded rate arrive uncorrupted, in order, without duplicates', async () => {
  const rx = udp();
  rx.bind('127.0.0.1', 0);
  rx.setSocketOption(SocketOption.ReceiveBufferSizeSocketOption, 4 << 20);
  const tx = udp();
  tx.bind('127.0.0.1', 0);
  const N = 100_000;
  const seen = new Uint8Array(N);
  let received = 0;
  let corrupt = 0;
  let outOfOrder = 0;
  let last = -1;
  rx.readyRead.connect(() => {
    for (let d = rx.readDatagram(); d !== null; d = rx.hasPendingDatagrams() ? rx.readDatagram() : null) {
      const seq = d.data.readUInt32BE(0);
      const sum = crypto.createHash('md5').update(d.data.subarray(0, 28)).digest().readUInt32BE(0);
      if (d.data.length !== 32 || seq >= N || sum !== d.data.readUInt32BE(28)) {
        corrupt++;
        continue;
      }
      if (seen[seq]) corrupt++;
      seen[seq] = 1;
      if (seq < last) outOfOrder++;
      last = seq;
      received++;
    }
  });
  const dest = new QHostAddress('127.0.0.1');
  const make = (seq: number) => {
    const b = crypto.randomBytes(32);
    b.writeUInt32BE(seq, 0);
    b.writeUInt32BE(crypto.createHash('md5').update(b.subarray(0, 28)).digest().readUInt32BE(0), 28);
    return b;
  };
  // 1,000 datagrams per batch, then yield to the loop so the reader keeps up.
  for (let seq = 0; seq < N; seq += 1000) {
    const batch = Array.from({ length: 1000 }, (_, i) => ({ data: make(seq + i), address: dest, port: rx.localPort() }));
    let sent = 0;
    while (sent < batch.length) {
      const n = tx.writeDatagrams(batch.slice(sent));
      sent += n;
      if (sent < batch.length) await delay(1);
    }
    await new Promise((r) => setImmediate(r));
  }
  await until(() => received === N, 5000).catch(() => undefined);
  const lost = N - received;
  console.log(`UDP 100k: received ${received}, lost ${lost} (${((lost / N) * 100).toFixed(2)}%)`);
  expect(corrupt).toBe(0);
  expect(outOfOrder).toBe(0); // loopback never reorders
  expect(received).toBeGreaterThan(N * 0.9);
}, 60000);

test('QNetworkDatagram can be written as it is', async () => {
  const r = udp();
  r.bind('127.0.0.1', 0);
  const s = udp();
  expect(s.writeDatagram(new QNetworkDatagram('as datagram', new QHostAddress('127.0.0.1'), r.localPort()))).toBe(11);
  await until(() => r.hasPendingDatagrams());
  expect(r.receiveDatagram().data().toString()).toBe('as datagram');
});
