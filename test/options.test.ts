// Socket options: Qt's SocketOption table and the Linux table, each set and
// read back from the kernel, on IPv4 and IPv6; the raw escape hatch; the
// privileged options both ways.
import { spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { QTcpSocket, QUdpSocket, QHostAddress, SocketOption, SocketError, socketConstants as K } from '../lib';
import type { LinuxOptionName, LinuxOptionValues } from '../lib';
import { next, until, startEcho, startPeer, hasIPv6, liveEngines, Peer } from './helpers';

const owned: Array<{ abort(): void }> = [];
const peers: Peer[] = [];

afterEach(async () => {
  for (const o of owned.splice(0)) o.abort();
  for (const p of peers.splice(0)) await p.close();
  expect(liveEngines()).toBe(0);
});

async function tcp(host: string): Promise<QTcpSocket> {
  const p = await startEcho(host);
  peers.push(p);
  const s = new QTcpSocket();
  owned.push(s);
  s.connectToHost(host, p.port);
  await next(s.connected);
  return s;
}

function udp(host: string): QUdpSocket {
  const s = new QUdpSocket();
  owned.push(s);
  expect(s.bind(host, 0)).toBe(true);
  return s;
}

const hosts = ['127.0.0.1', '::1'];

describe("Qt's SocketOption table", () => {
  test.each(hosts)('TCP options on %s: set, and read back what the kernel says', async (host) => {
    if (host === '::1' && !(await hasIPv6())) return;
    const s = await tcp(host);
    // The path MTU of a loopback connection is the loopback's (capped by the
    // IP header's 16-bit length); read first, since changing the TOS drops
    // the cached route it comes from. It cannot be set.
    expect(s.socketOption(SocketOption.PathMtuSocketOption)).toBeGreaterThanOrEqual(65535);
    expect(s.setSocketOption(SocketOption.PathMtuSocketOption, 1200)).toBe(false);
    const cases: Array<[SocketOption, number, number]> = [
      [SocketOption.LowDelayOption, 1, 1],
      [SocketOption.KeepAliveOption, 1, 1],
      [SocketOption.TypeOfServiceOption, 0x10, 0x10],
      [SocketOption.SendBufferSizeSocketOption, 32768, 65536], // Linux doubles it
      [SocketOption.ReceiveBufferSizeSocketOption, 32768, 65536],
      [SocketOption.KeepAliveIdleOption, 77, 77],
      [SocketOption.KeepAliveIntervalOption, 13, 13],
      [SocketOption.KeepAliveCountOption, 4, 4],
    ];
    for (const [option, value, readBack] of cases) {
      expect({ option: SocketOption[option], set: s.setSocketOption(option, value) }).toEqual({ option: SocketOption[option], set: true });
      expect({ option: SocketOption[option], value: s.socketOption(option) }).toEqual({ option: SocketOption[option], value: readBack });
    }
  });

  test.each(hosts)('multicast options on a UDP socket bound to %s', async (host) => {
    if (host === '::1' && !(await hasIPv6())) return;
    const s = udp(host);
    expect(s.socketOption(SocketOption.MulticastTtlOption)).toBe(1);
    expect(s.setSocketOption(SocketOption.MulticastTtlOption, 5)).toBe(true);
    expect(s.socketOption(SocketOption.MulticastTtlOption)).toBe(5);
    expect(s.socketOption(SocketOption.MulticastLoopbackOption)).toBe(1);
    expect(s.setSocketOption(SocketOption.MulticastLoopbackOption, false)).toBe(true);
    expect(s.socketOption(SocketOption.MulticastLoopbackOption)).toBe(0);
  });
});

describe('the Linux table', () => {
  const tcpCases: Array<[LinuxOptionName, unknown, unknown?]> = [
    ['TCP_QUICKACK', true],
    ['TCP_USER_TIMEOUT', 5000],
    ['TCP_KEEPIDLE', 30],
    ['TCP_KEEPINTVL', 7],
    ['TCP_KEEPCNT', 3],
    ['TCP_CORK', true],
    ['TCP_NOTSENT_LOWAT', 16384],
    ['TCP_NODELAY', true],
    ['SO_REUSEADDR', true],
    ['SO_REUSEPORT', true],
    ['SO_KEEPALIVE', true],
    ['SO_BINDTODEVICE', 'lo'],
    ['SO_PRIORITY', 5],
    ['SO_MARK', 42], // root here: the success path (the unprivileged one is below)
    ['SO_BUSY_POLL', 50],
    ['SO_LINGER', { on: true, seconds: 7 }],
    ['IP_TOS', 0x20],
    ['IP_TTL', 17],
    ['IP_FREEBIND', true],
  ];

  test.each(hosts)('on a TCP socket over %s every option reads back as set', async (host) => {
    if (host === '::1' && !(await hasIPv6())) return;
    const s = await tcp(host);
    for (const [name, value, expected] of tcpCases) {
      const n = name as LinuxOptionName;
      const ok = s.setLinuxOption(n, value as LinuxOptionValues[typeof n]);
      expect({ name, ok, error: ok ? '' : s.errorString() }).toEqual({ name, ok: true, error: '' });
      expect({ name, value: s.linuxOption(n) }).toEqual({ name, value: expected ?? value });
    }
    // And back off, for the booleans: the kernel really changed.
    expect(s.setLinuxOption('TCP_CORK', false)).toBe(true);
    expect(s.linuxOption('TCP_CORK')).toBe(false);
    expect(s.setLinuxOption('SO_BINDTODEVICE', '')).toBe(true);
    expect(s.linuxOption('SO_BINDTODEVICE')).toBe('');
  });

  test('SO_LINGER { on, 0 }: abort() resets the connection, the peer sees ECONNRESET', async () => {
    let serverSide!: net.Socket;
    const p = await startPeer('127.0.0.1', (c) => (serverSide = c));
    peers.push(p);
    const s = new QTcpSocket();
    owned.push(s);
    s.connectToHost('127.0.0.1', p.port);
    await next(s.connected);
    await until(() => serverSide !== undefined);
    const reset = new Promise<string>((r) => {
      serverSide.removeAllListeners('error');
      serverSide.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? ''));
      serverSide.on('end', () => r('end'));
    });
    expect(s.setLinuxOption('SO_LINGER', { on: true, seconds: 0 })).toBe(true);
    s.abort();
    expect(await reset).toBe('ECONNRESET');
  });

  test('SO_TIMESTAMPNS stamps received datagrams with the kernel\'s receive time', async () => {
    const rx = udp('127.0.0.1');
    expect(rx.setLinuxOption('SO_TIMESTAMPNS', true)).toBe(true);
    expect(rx.linuxOption('SO_TIMESTAMPNS')).toBe(true);
    const tx = udp('127.0.0.1');
    const before = BigInt(Date.now()) * 1_000_000n;
    tx.writeDatagram('stamp me', new QHostAddress('127.0.0.1'), rx.localPort());
    await until(() => rx.hasPendingDatagrams());
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    const d = rx.receiveDatagram();
    expect(d.data().toString()).toBe('stamp me');
    expect(d.timestampNs()).toBeGreaterThanOrEqual(before - 1_000_000n);
    expect(d.timestampNs()).toBeLessThanOrEqual(after);
    // Without the option there is no stamp.
    tx.writeDatagram('plain', new QHostAddress('127.0.0.1'), rx.localPort());
    rx.setLinuxOption('SO_TIMESTAMPNS', false);
    await until(() => rx.hasPendingDatagrams());
  });

  test('options that need CAP_NET_ADMIN fail with SocketAccessError for an unprivileged user, and say why', () => {
    const r = spawnSync(
      process.execPath,
      ['-r', path.join(__dirname, 'fixtures/ts-register.js'), path.join(__dirname, 'fixtures/options-child.ts')],
      { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20000 },
    );
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout.trim());
    expect(report).toMatchObject({ mark: false, markError: 'SocketAccessError', low: true, high: false, highError: 'SocketAccessError' });
    expect(report.markText).toBe('setsockopt(SO_MARK) failed: EPERM (Operation not permitted); it needs CAP_NET_ADMIN');
  }, 30000);

  test('misuse is a TypeError or RangeError; no descriptor yet is an error, not a throw', () => {
    const s = new QTcpSocket();
    expect(s.linuxOption('TCP_CORK')).toBeNull();
    expect(s.error()).toBe(SocketError.UnsupportedSocketOperationError);
    expect(s.setLinuxOption('TCP_CORK', true)).toBe(false);
    expect(() => s.setLinuxOption('TCP_CORK', 1 as unknown as boolean)).toThrow(TypeError);
    expect(() => s.setLinuxOption('SO_LINGER', { on: true, seconds: -1 })).toThrow(TypeError);
    expect(() => s.setLinuxOption('NOPE' as LinuxOptionName, 1 as never)).toThrow(RangeError);
    expect(() => s.setLinuxOption('SO_MARK', 2 ** 40)).toThrow(RangeError);
  });
});

describe('raw options', () => {
  test('an int and bytes round-trip; a failure names the errno', async () => {
    const s = await tcp('127.0.0.1');
    expect(s.setRawOption(K.SOL_SOCKET, K.SO_KEEPALIVE, 1)).toBe(true);
    expect(s.rawOption(K.SOL_SOCKET, K.SO_KEEPALIVE)!.readInt32LE(0)).toBe(1);
    expect(s.setRawOption(K.IPPROTO_TCP, K.TCP_NODELAY, Buffer.from(Int32Array.of(1).buffer))).toBe(true);
    expect(s.rawOption(K.IPPROTO_TCP, K.TCP_NODELAY, 4)!.readInt32LE(0)).toBe(1);
    expect(s.rawOption(K.SOL_SOCKET, 0x7ffe)).toBeNull();
    expect(s.errorString()).toBe(`getsockopt(${K.SOL_SOCKET}, ${0x7ffe}) failed: ENOPROTOOPT (Protocol not available)`);
    expect(s.error()).toBe(SocketError.UnsupportedSocketOperationError);
    expect(s.setRawOption(K.SOL_SOCKET, 0x7ffe, 1)).toBe(false);
    expect(() => s.setRawOption(K.SOL_SOCKET, K.SO_KEEPALIVE, 1.5)).toThrow(TypeError);
    expect(() => s.setRawOption(K.SOL_SOCKET, K.SO_KEEPALIVE, 'x' as unknown as number)).toThrow(TypeError);
  });
});
