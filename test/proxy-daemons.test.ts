// TCP through real proxy daemons, each started here on loopback (free ports,
// configs in temp dirs, stopped by PID in afterAll): dante and microsocks for
// SOCKS5 (no auth; RFC 1929 username/password), tinyproxy and squid for HTTP
// CONNECT (no auth; Basic). The destination is a node:net echo server on
// 127.0.0.1 / ::1. Proxies get only IP literals, `localhost` (in /etc/hosts)
// or a name from squid's own hosts_file: no DNS query leaves the machine.
//
// Every successful case checks the same things (expectTunnel): ConnectingState
// while negotiating, `connected` once the tunnel is up and not before,
// peerName()/peerPort() = the destination, 384 KB echoed intact both ways
// (sha256), and a close through the proxy ending in disconnected.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { ProxyType, QAuthenticator, QHostAddress, QNetworkProxy, QTcpSocket, SocketError, SocketState } from '../lib';
import { Peer, hasIPv6, liveEngines, startEcho, until } from './helpers';
import {
  Daemon,
  PROXY_PASS,
  PROXY_USER,
  SQUID_ONLY_NAME,
  SYSTEM_PASS,
  SYSTEM_USER,
  Squid,
  SystemUser,
  ensureSystemUser,
  removeSystemUser,
  startDante,
  which,
  startMicrosocks,
  startSquid,
  startTinyproxy,
  stopAll,
} from './fixtures/proxy-daemons';
import {
  CONNECT_EVENTS,
  Probe,
  abortProbes,
  connectOutcome,
  echoRoundTrip,
  errName,
  netClosed,
  probeSocket,
  sha256,
} from './fixtures/proxy-tools';

const { Socks5Proxy, HttpProxy } = QNetworkProxy;

/**
 * Why dante's username/password cases cannot run here, decided when the
 * file loads (PEERS.md 1.2: they need root and useradd/chpasswd), or null.
 * When they cannot, jest reports them as skipped and says why.
 */
const userSkipReason: string | null =
  typeof process.getuid === 'function' && process.getuid() !== 0
    ? `useradd needs root to create ${SYSTEM_USER}`
    : which('useradd') === null || which('chpasswd') === null
      ? 'useradd/chpasswd are not installed (package passwd)'
      : null;
if (userSkipReason !== null) console.warn(`proxy-daemons: dante username/password cases SKIPPED: ${userSkipReason}`);
const ECHO_BYTES = 384 * 1024;
const T = 20000; // per-test bound

// ---- the daemons and the destinations ------------------------------------------

const daemons: Daemon[] = [];
let dante: Daemon;
let danteAuth: Daemon | null = null;
let microsocks: Daemon;
let microsocksAuth: Daemon;
let tinyproxy: Daemon;
let tinyproxyAuth: Daemon;
let squid: Squid;
let systemUser: SystemUser = { ok: false, why: 'not tried' };

let echo4: Peer;
let echo6: Peer | null = null;
/** An echo listening on 127.0.0.1 and ::1 on the same port, for `localhost` (whichever address a proxy picks). */
let echoLocal: Peer & { conns6: net.Socket[] };

async function dualEcho(): Promise<Peer & { conns6: net.Socket[] }> {
  for (let i = 0; i < 50; i++) {
    const p4 = await startEcho('127.0.0.1');
    const conns6: net.Socket[] = [];
    const s6 = net.createServer((c) => {
      conns6.push(c);
      c.on('error', () => {});
      c.pipe(c);
    });
    const ok = await new Promise<boolean>((resolve) => {
      s6.once('error', () => resolve(false));
      s6.listen(p4.port, '::1', () => resolve(true));
    });
    if (ok) {
      const close4 = p4.close.bind(p4);
      return Object.assign(p4, {
        conns6,
        close: async () => {
          for (const c of conns6) c.destroy();
          await Promise.all([close4(), new Promise<void>((r) => s6.close(() => r()))]);
        },
      });
    }
    await p4.close();
  }
  throw new Error('no port free on both 127.0.0.1 and ::1');
}

/** Starts `start()` and records the daemon for afterAll even when another start fails. */
async function track<D extends Daemon>(start: () => Promise<D>): Promise<D> {
  const d = await start();
  daemons.push(d);
  return d;
}

beforeAll(async () => {
  if (userSkipReason === null) {
    systemUser = ensureSystemUser();
    if (!systemUser.ok) console.warn(`proxy-daemons: cannot set up the system user ${SYSTEM_USER}: ${systemUser.why} (the dante username cases fail)`);
  }
  const started = await Promise.allSettled([
    track(() => startDante({ auth: false })).then((d) => (dante = d)),
    systemUser.ok ? track(() => startDante({ auth: true })).then((d) => (danteAuth = d)) : Promise.resolve(null),
    track(() => startMicrosocks({ auth: false })).then((d) => (microsocks = d)),
    track(() => startMicrosocks({ auth: true })).then((d) => (microsocksAuth = d)),
    track(() => startTinyproxy({ auth: false })).then((d) => (tinyproxy = d)),
    track(() => startTinyproxy({ auth: true })).then((d) => (tinyproxyAuth = d)),
    track(() => startSquid()).then((d) => (squid = d)),
  ]);
  echo4 = await startEcho('127.0.0.1');
  if (await hasIPv6()) echo6 = await startEcho('::1');
  else console.warn('proxy-daemons: ::1 cannot be bound here: the IPv6 destination cases FAIL');
  echoLocal = await dualEcho();
  const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw new Error(failed.map((f) => String(f.reason?.message ?? f.reason)).join('\n'));
}, 30000);

afterAll(async () => {
  abortProbes();
  await stopAll(daemons);
  if (systemUser.ok && systemUser.created) removeSystemUser();
  await Promise.all([echo4?.close(), echo6?.close(), echoLocal?.close()]);
}, 30000);

// Engines alive before each test: a test that leaks one fails itself, not the ones after it.
let enginesBefore = 0;
beforeEach(() => {
  enginesBefore = liveEngines();
});

afterEach(() => {
  abortProbes();
  expect(liveEngines()).toBe(enginesBefore);
});

// ---- what every successful tunnel must show --------------------------------------

interface Dest {
  host: string;
  port: number;
  peer: Peer;
}

const dest4 = (): Dest => ({ host: '127.0.0.1', port: echo4.port, peer: echo4 });
const dest6 = (): Dest => ({ host: '::1', port: echo6!.port, peer: echo6! });
const destLocal = (): Dest => ({ host: 'localhost', port: echoLocal.port, peer: echoLocal });

/** The destination-side connections of a peer (both families for the dual echo). */
function conns(peer: Peer): net.Socket[] {
  const six = (peer as Partial<typeof echoLocal>).conns6 ?? [];
  return [...peer.conns, ...six];
}

/**
 * Connects `probe` to `dest` through `proxy` and checks the whole life of the
 * tunnel. `close` says who ends it: the client (disconnectFromHost) or the
 * destination (which closes its side; the proxy passes it on).
 */
async function expectTunnel(probe: Probe, proxy: QNetworkProxy, dest: Dest, close: 'client' | 'server'): Promise<void> {
  const { s, rec } = probe;
  const known = new Set(conns(dest.peer));
  const before = known.size;
  const outcome = await connectOutcome(s, dest.host, dest.port);
  expect(outcome === 'connected' ? outcome : `${errName(outcome)}: ${s.errorString()}`).toBe('connected');

  // The life so far, in Qt's order; connected exactly once, after the tunnel.
  expect(rec.events.filter((e) => !e.startsWith('proxyAuthenticationRequired'))).toEqual(CONNECT_EVENTS);
  expect(probe.negotiation.length).toBeGreaterThan(0);
  for (const at of probe.negotiation) expect(at).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
  expect(probe.atTunnelUp).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
  expect(s.state()).toBe(SocketState.ConnectedState);

  // The peer is the destination, not the proxy.
  expect(s.peerName()).toBe(dest.host);
  expect(s.peerPort()).toBe(dest.port);
  expect(s.peerPort()).not.toBe(proxy.port());
  const literal = new QHostAddress(dest.host);
  if (!literal.isNull()) expect(s.peerAddress().toString()).toBe(literal.toString());
  else expect(s.peerAddress().isNull()).toBe(true); // only the proxy knows what the name resolved to
  // The proxy was given as an IP literal and resolves the destination itself:
  // the socket looked nothing up.
  expect(probe.lookups).toEqual([]);

  // The destination has the proxy's connection (exactly one new one).
  await until(() => conns(dest.peer).length > before, 5000, 'the destination to accept the proxy’s connection');
  expect(conns(dest.peer).length).toBe(before + 1);
  const destConn = conns(dest.peer).find((c) => !known.has(c))!;

  // Data both ways, intact.
  const rt = await echoRoundTrip(s, ECHO_BYTES);
  expect(rt.bytes).toBe(ECHO_BYTES);
  expect(rt.received).toBe(rt.sent);

  const mark = rec.events.length;
  if (close === 'client') {
    s.disconnectFromHost();
    if (s.state() !== SocketState.UnconnectedState) await s.disconnected.wait(5000);
    expect(rec.events.slice(mark)).toEqual(['stateChanged(ClosingState)', 'stateChanged(UnconnectedState)', 'disconnected']);
    // The proxy passes the close on: the destination's connection ends too.
    expect(await netClosed(destConn)).toBe(true);
  } else {
    destConn.end();
    if (s.state() !== SocketState.UnconnectedState) await s.disconnected.wait(5000);
    expect(rec.events.slice(mark)).toEqual([
      'errorOccurred(RemoteHostClosedError)',
      'stateChanged(ClosingState)',
      'stateChanged(UnconnectedState)',
      'disconnected',
    ]);
  }
  expect(s.state()).toBe(SocketState.UnconnectedState);
  expect(rec.count('connected')).toBe(1);
}

/** Expects the connect to fail with `error`, never having been connected. */
async function expectFailure(probe: Probe, dest: Dest, error: SocketError): Promise<void> {
  const outcome = await connectOutcome(probe.s, dest.host, dest.port);
  expect(typeof outcome === 'string' ? outcome : errName(outcome)).toBe(errName(error));
  expect(probe.s.state()).toBe(SocketState.UnconnectedState);
  expect(probe.rec.count('connected')).toBe(0);
  expect(probe.rec.count('errorOccurred')).toBe(1);
  expect(probe.rec.events[probe.rec.events.length - 2]).toBe('stateChanged(UnconnectedState)');
}

/** Fails a case that needs ::1 with the reason when ::1 cannot be bound (a pass would claim IPv6 works). */
function needsIPv6(): void {
  if (echo6 === null) throw new Error('::1 cannot be bound on this machine: the IPv6 case cannot run (loopback needs an IPv6 address)');
}

// ---- SOCKS5 without authentication -------------------------------------------------

describe.each([
  ['dante', () => dante],
  ['microsocks', () => microsocks],
])('SOCKS5 without authentication (%s)', (name, daemon) => {
  const proxy = () => new QNetworkProxy(Socks5Proxy, '127.0.0.1', daemon().port);

  test(`CONNECT to 127.0.0.1 (ATYP 1); the client closes`, async () => {
    const p = proxy();
    await expectTunnel(probeSocket(p), p, dest4(), 'client');
  }, T);

  test(`CONNECT to ::1 (ATYP 4); the destination closes`, async () => {
    needsIPv6();
    const p = proxy();
    await expectTunnel(probeSocket(p), p, dest6(), 'server');
  }, T);

  test(`CONNECT by the name "localhost" (ATYP 3): the proxy resolves it, no local lookup`, async () => {
    const p = proxy();
    const probe = probeSocket(p);
    await expectTunnel(probe, p, destLocal(), 'client');
    expect(probe.lookups).toEqual([]);
  }, T);

  test('no-auth negotiation is greeting + request: two messages', async () => {
    const p = proxy();
    const probe = probeSocket(p);
    await expectTunnel(probe, p, dest4(), 'server');
    expect(probe.negotiation.length).toBe(2);
    expect(probe.authAsks).toEqual([]);
  }, T);

  if (name === 'dante') {
    test('dante reached on ::1, to an IPv4 destination', async () => {
      needsIPv6();
      const p = new QNetworkProxy(Socks5Proxy, '::1', daemon().port);
      await expectTunnel(probeSocket(p), p, dest4(), 'client');
    }, T);
  }
});

// ---- SOCKS5 with username/password (RFC 1929) ---------------------------------------

interface AuthCase {
  name: string;
  type: ProxyType;
  port: () => number;
  user: string;
  pass: string;
  /** Why the case cannot run here (decided when the file loads), or null. */
  skip: string | null;
  /** Throws when the case's setup failed at run time (beforeAll). */
  ready: () => void;
  /** What the proxy answers a wrong password with, for the test names. */
  wrongReply: string;
}

const authCases: AuthCase[] = [
  {
    name: 'microsocks -u/-P',
    type: Socks5Proxy,
    port: () => microsocksAuth.port,
    user: PROXY_USER,
    pass: PROXY_PASS,
    skip: null,
    ready: () => {},
    wrongReply: 'RFC 1929 status 1',
  },
  {
    name: 'dante socksmethod username (system user)',
    type: Socks5Proxy,
    port: () => danteAuth!.port,
    user: SYSTEM_USER,
    pass: SYSTEM_PASS,
    skip: userSkipReason,
    ready: () => {
      if (!systemUser.ok) throw new Error(`the system user ${SYSTEM_USER} could not be set up: ${systemUser.why}`);
    },
    wrongReply: 'RFC 1929 status 1',
  },
  {
    name: 'tinyproxy BasicAuth',
    type: HttpProxy,
    port: () => tinyproxyAuth.port,
    user: PROXY_USER,
    pass: PROXY_PASS,
    skip: null,
    ready: () => {},
    wrongReply: '401 Unauthorized',
  },
  {
    name: 'squid basic_ncsa_auth',
    type: HttpProxy,
    port: () => squid.authPort,
    user: PROXY_USER,
    pass: PROXY_PASS,
    skip: null,
    ready: () => {},
    wrongReply: '407',
  },
];

describe.each(authCases.map((c) => [c.name, c] as const))('authentication: %s', (_name, c) => {
  const proxy = (user: string, pass: string) => new QNetworkProxy(c.type, '127.0.0.1', c.port(), user, pass);
  // A case that cannot run here is reported as skipped, with the reason in its name.
  const test = c.skip === null ? it : it.skip;
  const why = c.skip === null ? '' : ` [SKIPPED: ${c.skip}]`;
  test(`the right credentials on the proxy: connected, no signal${why}`, async () => {
    c.ready();
    const p = proxy(c.user, c.pass);
    const probe = probeSocket(p);
    await expectTunnel(probe, p, dest4(), 'client');
    expect(probe.authAsks).toEqual([]);
  }, T);

  test(`no credentials: proxyAuthenticationRequired once; a slot filling them in synchronously makes it succeed${why}`, async () => {
    c.ready();
    const p = proxy('', '');
    const probe = probeSocket(p);
    probe.s.proxyAuthenticationRequired.connect((asked: QNetworkProxy, auth: QAuthenticator) => {
      expect(asked.hostName()).toBe('127.0.0.1');
      expect(asked.port()).toBe(c.port());
      auth.setUser(c.user);
      auth.setPassword(c.pass);
    });
    await expectTunnel(probe, p, dest4(), 'server');
    expect(probe.authAsks.map((a) => [a.user, a.password])).toEqual([['', '']]);
  }, T);

  test(`a wrong password (${c.wrongReply}): the signal offers the user, the slot corrects the password, connected${why}`, async () => {
    c.ready();
    const p = proxy(c.user, 'wrong-password');
    const probe = probeSocket(p);
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, auth: QAuthenticator) => auth.setPassword(c.pass));
    await expectTunnel(probe, p, dest4(), 'client');
    expect(probe.authAsks.length).toBe(1);
    expect(probe.authAsks[0].user).toBe(c.user);
  }, T);

  test(`a wrong password and no slot: ProxyAuthenticationRequiredError${why}`, async () => {
    c.ready();
    const probe = probeSocket(proxy(c.user, 'wrong-password'));
    await expectFailure(probe, dest4(), SocketError.ProxyAuthenticationRequiredError);
    expect(probe.authAsks.length).toBe(1); // emitted (our recorder listens), nobody answered
  }, T);

  test(`a slot that leaves the wrong credentials as they are: ProxyAuthenticationRequiredError, asked once${why}`, async () => {
    c.ready();
    const probe = probeSocket(proxy(c.user, 'wrong-password'));
    probe.s.proxyAuthenticationRequired.connect(() => {
      /* looks, changes nothing */
    });
    await expectFailure(probe, dest4(), SocketError.ProxyAuthenticationRequiredError);
    expect(probe.authAsks.length).toBe(1);
  }, T);

  test(`a slot that keeps offering new wrong passwords is not retried forever${why}`, async () => {
    c.ready();
    const probe = probeSocket(proxy(c.user, 'wrong-0'));
    let n = 0;
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, auth: QAuthenticator) => {
      auth.setUser(c.user);
      auth.setPassword(`wrong-${++n}`);
    });
    const t0 = Date.now();
    await expectFailure(probe, dest4(), SocketError.ProxyAuthenticationRequiredError);
    expect(probe.authAsks.length).toBeGreaterThanOrEqual(1);
    expect(probe.authAsks.length).toBeLessThanOrEqual(3);
    expect(Date.now() - t0).toBeLessThan(10000);
    // And it stays failed: no late retry.
    await new Promise((r) => setTimeout(r, 200));
    expect(probe.authAsks.length).toBe(n);
    expect(probe.s.state()).toBe(SocketState.UnconnectedState);
  }, T);
});

// ---- HTTP CONNECT without authentication ---------------------------------------------

describe.each([
  ['tinyproxy', () => tinyproxy.port],
  ['squid', () => squid.openPort],
])('HTTP CONNECT without authentication (%s)', (name, port) => {
  const proxy = () => new QNetworkProxy(HttpProxy, '127.0.0.1', port());

  test('CONNECT 127.0.0.1:port; the client closes', async () => {
    const p = proxy();
    const probe = probeSocket(p);
    await expectTunnel(probe, p, dest4(), 'client');
    expect(probe.negotiation.length).toBe(1); // one request, no auth
  }, T);

  test('CONNECT [::1]:port; the destination closes', async () => {
    needsIPv6();
    const p = proxy();
    await expectTunnel(probeSocket(p), p, dest6(), 'server');
  }, T);

  test('CONNECT localhost:port: the proxy resolves the name, no local lookup', async () => {
    const p = proxy();
    const probe = probeSocket(p);
    await expectTunnel(probe, p, destLocal(), 'server');
    expect(probe.lookups).toEqual([]);
  }, T);

  if (name === 'squid') {
    test(`CONNECT to a name only squid knows (${SQUID_ONLY_NAME}, from its hosts_file)`, async () => {
      const p = proxy();
      const probe = probeSocket(p);
      await expectTunnel(probe, p, { host: SQUID_ONLY_NAME, port: echo4.port, peer: echo4 }, 'client');
      expect(probe.lookups).toEqual([]);
      await until(() => squid.accessLog().includes(`CONNECT ${SQUID_ONLY_NAME}:${echo4.port}`), 5000, 'squid’s access log line');
    }, T);
  }
});

// ---- blocking ---------------------------------------------------------------------

interface ChildEcho {
  port: number;
  proc: ChildProcess;
}
const children: ChildProcess[] = [];

/** An echo server in a process of its own (fixtures/peer.js), so this thread may block. */
async function childEcho(): Promise<ChildEcho> {
  const proc = spawn(process.execPath, [path.join(__dirname, 'fixtures/peer.js'), 'echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)).port);
    });
    proc.once('exit', (code) => reject(new Error(`peer.js exited (${code})`)));
  });
  return { port, proc };
}

describe('blocking: waitForConnected and waitForReadyRead through a proxy (daemon and echo in other processes)', () => {
  afterEach(async () => {
    abortProbes();
    await Promise.all(
      children.splice(0).map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
          }),
      ),
    );
  });

  /** waitForConnected, then `size` bytes echoed with write + waitForReadyRead. */
  function blockingEcho(probe: Probe, host: string, port: number, size: number): void {
    const { s, rec } = probe;
    s.connectToHost(host, port);
    const t0 = performance.now();
    expect(s.waitForConnected(10000) ? 'connected' : `${errName(s.error())}: ${s.errorString()}`).toBe('connected');
    expect(performance.now() - t0).toBeLessThan(10000);
    expect(rec.events.filter((e) => !e.startsWith('proxyAuthenticationRequired'))).toEqual(CONNECT_EVENTS);
    for (const at of probe.negotiation) expect(at).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
    expect(probe.atTunnelUp).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
    expect(s.peerName()).toBe(host);
    expect(s.peerPort()).toBe(port);
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7919 + (i >> 8)) & 0xff;
    s.write(data);
    const parts: Buffer[] = [];
    let got = 0;
    const end = performance.now() + 15000;
    while (got < size) {
      if (!s.waitForReadyRead(Math.max(1, Math.ceil(end - performance.now())))) {
        throw new Error(`waitForReadyRead failed after ${got} of ${size} bytes: ${errName(s.error())} ${s.errorString()}`);
      }
      const b = s.readAll();
      parts.push(b);
      got += b.length;
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    s.disconnectFromHost();
    if (s.state() !== SocketState.UnconnectedState) expect(s.waitForDisconnected(5000)).toBe(true);
    expect(rec.count('disconnected')).toBe(1);
  }

  test.each([
    ['dante', () => dante.port],
    ['microsocks', () => microsocks.port],
  ])('SOCKS5 (%s): waitForConnected, then waitForReadyRead echo', async (_n, port) => {
    const echo = await childEcho();
    const probe = probeSocket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', port()));
    blockingEcho(probe, '127.0.0.1', echo.port, 200 * 1024);
  }, T);

  test('SOCKS5 by name "localhost" (the proxy resolves it; waitForConnected does no lookup)', async () => {
    const echo = await childEcho();
    const lookupsSync: string[] = [];
    const s = new QTcpSocket({
      lookupSync: (h) => {
        lookupsSync.push(h);
        throw Object.assign(new Error('no'), { code: 'ENOTFOUND' });
      },
    });
    s.setProxy(new QNetworkProxy(Socks5Proxy, '127.0.0.1', dante.port));
    try {
      s.connectToHost('localhost', echo.port);
      expect(s.waitForConnected(10000) ? 'connected' : errName(s.error())).toBe('connected');
      expect(lookupsSync).toEqual([]);
      s.write('hello through dante\n');
      expect(s.waitForReadyRead(5000)).toBe(true);
      const got = await (async () => {
        let b = s.readAll();
        while (b.length < 20 && s.waitForReadyRead(5000)) b = Buffer.concat([b, s.readAll()]);
        return b.toString();
      })();
      expect(got).toBe('hello through dante\n');
    } finally {
      s.abort();
    }
  }, T);

  test('SOCKS5 with username/password asked for by the signal, inside waitForConnected (microsocks)', async () => {
    const echo = await childEcho();
    const probe = probeSocket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', microsocksAuth.port));
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, auth: QAuthenticator) => {
      auth.setUser(PROXY_USER);
      auth.setPassword(PROXY_PASS);
    });
    blockingEcho(probe, '127.0.0.1', echo.port, 64 * 1024);
    expect(probe.authAsks.length).toBe(1);
  }, T);

  test('HTTP CONNECT (tinyproxy): waitForConnected, then waitForReadyRead echo', async () => {
    const echo = await childEcho();
    const probe = probeSocket(new QNetworkProxy(HttpProxy, '127.0.0.1', tinyproxy.port));
    blockingEcho(probe, '127.0.0.1', echo.port, 100 * 1024);
  }, T);

  test('a wrong password and no slot: waitForConnected returns false with ProxyAuthenticationRequiredError', async () => {
    const echo = await childEcho();
    const probe = probeSocket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', microsocksAuth.port, PROXY_USER, 'nope'));
    probe.s.connectToHost('127.0.0.1', echo.port);
    expect(probe.s.waitForConnected(10000)).toBe(false);
    expect(errName(probe.s.error())).toBe('ProxyAuthenticationRequiredError');
    expect(probe.s.state()).toBe(SocketState.UnconnectedState);
    expect(probe.rec.count('connected')).toBe(0);
    expect(probe.authAsks.length).toBe(1); // asked once; nobody answered, so no retry
  }, T);
});
