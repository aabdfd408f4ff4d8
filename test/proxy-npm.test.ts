// TCP through third-party proxy servers from npm (devDependencies, so a fresh
// clone has them after `npm install`; the Debian daemons are in
// `npm run test:interop`). Each runs in its own Node process
// (fixtures/npm-proxy.mjs) on loopback, port 0, and is stopped by PID.
//
// Why these packages:
// - HTTP CONNECT: `proxy` (TooTallNate's proxy-agents monorepo, maintained,
//   small, two dependencies). Its `authenticate(req)` hook is all Basic auth
//   needs, and it answers a refusal with a real `407` + `Proxy-Authenticate:
//   Basic`. `proxy-chain` is heavier (an upstream-chaining framework) and
//   answers auth failures its own way.
// - SOCKS5: `simple-socks` (maintained; 3.x in 2025) over `socksv5` (0.0.6,
//   last published 2015). It does RFC 1929 username/password through an
//   `authenticate` callback, CONNECT with ATYP 1/3/4, and a connectionFilter
//   (used to refuse anything outside loopback).
// - SOCKS5 UDP ASSOCIATE: no npm server implements it. simple-socks answers
//   UDP ASSOCIATE (and BIND) with "succeeded" and closes the connection without
//   relaying anything; socksv5 supports CONNECT only. So UDP through a proxy is
//   tested against dante only, in the interop suite (test/proxy-udp.test.ts).
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { QAuthenticator, QHostAddress, QNetworkProxy, SocketError, SocketState } from '../lib';
import { Peer, hasIPv6, liveEngines, startEcho, until } from './helpers';
import { CONNECT_EVENTS, Probe, abortProbes, connectOutcome, echoRoundTrip, errName, netClosed, probeSocket } from './fixtures/proxy-tools';

const { Socks5Proxy, HttpProxy } = QNetworkProxy;
const USER = 'qsuser';
const PASS = 'qspass';
const T = 20000;
const SCRIPT = path.join(__dirname, 'fixtures', 'npm-proxy.mjs');

interface NpmProxy {
  port: number;
  stop(): Promise<void>;
}

const running: ChildProcess[] = [];

/** Starts the npm proxy `kind` on `host` and resolves once it listens (its first stdout line). */
function startNpmProxy(kind: 'http' | 'socks', host: string, auth: boolean): Promise<NpmProxy> {
  const child = spawn(process.execPath, [SCRIPT, kind, host, ...(auth ? [USER, PASS] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} proxy on ${host}: no port after 10 s\n${err}`)), 10000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} proxy on ${host} exited (${code}) before listening:\n${err}`));
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const { port } = JSON.parse(out.slice(0, nl)) as { port: number };
      resolve({
        port,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

let socks: NpmProxy, socksAuth: NpmProxy, socks6: NpmProxy | null = null;
let http: NpmProxy, httpAuth: NpmProxy, http6: NpmProxy | null = null;
let echo4: Peer;
let echo6: Peer | null = null;

beforeAll(async () => {
  [socks, socksAuth, http, httpAuth] = await Promise.all([
    startNpmProxy('socks', '127.0.0.1', false),
    startNpmProxy('socks', '127.0.0.1', true),
    startNpmProxy('http', '127.0.0.1', false),
    startNpmProxy('http', '127.0.0.1', true),
  ]);
  echo4 = await startEcho('127.0.0.1');
  if (await hasIPv6()) {
    echo6 = await startEcho('::1');
    [socks6, http6] = await Promise.all([startNpmProxy('socks', '::1', false), startNpmProxy('http', '::1', false)]);
  }
}, 30000);

afterAll(async () => {
  abortProbes();
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all([socks, socksAuth, socks6, http, httpAuth, http6].map((p) => p?.stop()));
  await Promise.all([echo4?.close(), echo6?.close()]);
}, 30000);

let enginesBefore = 0;
beforeEach(() => {
  enginesBefore = liveEngines();
});
afterEach(() => {
  abortProbes();
  expect(liveEngines()).toBe(enginesBefore);
});

/** Fails (never skips) a case that needs ::1, with the reason. */
function need6(): { echo: Peer; socks: NpmProxy; http: NpmProxy } {
  if (echo6 === null || socks6 === null || http6 === null) throw new Error('::1 cannot be bound on this machine: the IPv6 case cannot run');
  return { echo: echo6, socks: socks6, http: http6 };
}

/**
 * Connects through `proxy` to the echo `dest` and checks the tunnel: Qt's
 * signal order with connected once and only after the tunnel, the peer is the
 * destination, 256 KB echoed intact, and a client close that reaches the
 * destination.
 */
async function expectTunnel(probe: Probe, proxy: QNetworkProxy, dest: Peer): Promise<void> {
  const { s, rec } = probe;
  const before = dest.conns.length;
  const outcome = await connectOutcome(s, dest.host, dest.port);
  expect(outcome === 'connected' ? outcome : `${errName(outcome)}: ${s.errorString()}`).toBe('connected');
  expect(rec.events.filter((e) => !e.startsWith('proxyAuthenticationRequired'))).toEqual(CONNECT_EVENTS);
  expect(probe.atTunnelUp).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
  expect(s.peerName()).toBe(dest.host);
  expect(s.peerPort()).toBe(dest.port);
  expect(s.peerPort()).not.toBe(proxy.port());
  expect(s.peerAddress().toString()).toBe(new QHostAddress(dest.host).toString());
  expect(probe.lookups).toEqual([]);
  await until(() => dest.conns.length > before, 5000, 'the destination to accept the proxy’s connection');
  const destConn = dest.conns[dest.conns.length - 1];
  const rt = await echoRoundTrip(s, 256 * 1024);
  expect(rt.received).toBe(rt.sent);
  s.disconnectFromHost();
  if (s.state() !== SocketState.UnconnectedState) await s.disconnected.wait(5000);
  expect(s.state()).toBe(SocketState.UnconnectedState);
  expect(await netClosed(destConn)).toBe(true);
  expect(rec.count('connected')).toBe(1);
}

async function expectAuthFailure(probe: Probe, dest: Peer): Promise<void> {
  const outcome = await connectOutcome(probe.s, dest.host, dest.port);
  expect(typeof outcome === 'string' ? outcome : errName(outcome)).toBe(errName(SocketError.ProxyAuthenticationRequiredError));
  expect(probe.s.state()).toBe(SocketState.UnconnectedState);
  expect(probe.rec.count('connected')).toBe(0);
  expect(probe.rec.count('errorOccurred')).toBe(1);
}

describe.each([
  ['SOCKS5 (simple-socks)', Socks5Proxy, () => socks, () => need6().socks],
  ['HTTP CONNECT (proxy)', HttpProxy, () => http, () => need6().http],
] as const)('%s without authentication', (_name, type, server, server6) => {
  test('to 127.0.0.1', async () => {
    const p = new QNetworkProxy(type, '127.0.0.1', server().port);
    const probe = probeSocket(p);
    await expectTunnel(probe, p, echo4);
    expect(probe.authAsks).toEqual([]);
  }, T);

  test('to ::1 (SOCKS5: ATYP 4; HTTP: CONNECT [::1]:port)', async () => {
    const { echo } = need6();
    const p = new QNetworkProxy(type, '127.0.0.1', server().port);
    await expectTunnel(probeSocket(p), p, echo);
  }, T);

  test('the proxy itself on ::1, to 127.0.0.1', async () => {
    const p = new QNetworkProxy(type, '::1', server6().port);
    await expectTunnel(probeSocket(p), p, echo4);
  }, T);
});

describe.each([
  ['SOCKS5 RFC 1929 (simple-socks)', Socks5Proxy, () => socksAuth],
  ['HTTP CONNECT Basic (proxy)', HttpProxy, () => httpAuth],
] as const)('%s', (_name, type, server) => {
  const proxy = (user: string, pass: string) => new QNetworkProxy(type, '127.0.0.1', server().port, user, pass);

  test('the right credentials: connected, no signal', async () => {
    const p = proxy(USER, PASS);
    const probe = probeSocket(p);
    await expectTunnel(probe, p, echo4);
    expect(probe.authAsks).toEqual([]);
  }, T);

  test('a wrong password and no slot: proxyAuthenticationRequired once, then ProxyAuthenticationRequiredError', async () => {
    const probe = probeSocket(proxy(USER, 'wrong-password'));
    await expectAuthFailure(probe, echo4);
    expect(probe.authAsks.map((a) => [a.user, a.password])).toEqual([[USER, 'wrong-password']]);
    expect(probe.authAsks[0].proxy.port()).toBe(server().port);
  }, T);

  test('no credentials and no slot: proxyAuthenticationRequired once, then ProxyAuthenticationRequiredError', async () => {
    const probe = probeSocket(proxy('', ''));
    await expectAuthFailure(probe, echo4);
    expect(probe.authAsks.map((a) => [a.user, a.password])).toEqual([['', '']]);
  }, T);

  test('no credentials: a slot filling them in makes it succeed', async () => {
    const p = proxy('', '');
    const probe = probeSocket(p);
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, auth: QAuthenticator) => {
      auth.setUser(USER);
      auth.setPassword(PASS);
    });
    await expectTunnel(probe, p, echo4);
    expect(probe.authAsks.length).toBe(1);
  }, T);

  test('a wrong password: a slot correcting it makes it succeed', async () => {
    const p = proxy(USER, 'wrong-password');
    const probe = probeSocket(p);
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, auth: QAuthenticator) => auth.setPassword(PASS));
    await expectTunnel(probe, p, echo4);
    expect(probe.authAsks.map((a) => a.user)).toEqual([USER]);
  }, T);
});
