// examples/proxy-client.js run as a user would (node examples/..., the
// package's dist/ entry point), with the proxy in its environment: through
// real daemons (microsocks with user/pass for socks5://, squid with Basic
// auth for http://), and direct when no_proxy covers the destination.
//
// Each daemon sits behind a counting TCP tap in this process, so a test can
// tell whether the example really went through the proxy. Destination names
// never reach DNS: the example resolves echo.test with --resolve, and squid
// resolves its name from its own hosts_file.
import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { Peer, startEcho } from './helpers';
import { Daemon, PROXY_PASS, PROXY_USER, SQUID_ONLY_NAME, Squid, startMicrosocks, startSquid, stopAll } from './fixtures/proxy-daemons';

const root = path.join(__dirname, '..');
const example = path.join(root, 'examples', 'proxy-client.js');
const T = 25000;

interface Tap {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A transparent TCP relay to 127.0.0.1:`to` that counts the connections it carries. */
async function tap(to: number): Promise<Tap> {
  const sockets = new Set<net.Socket>();
  const t = { port: 0, connections: 0, close: async () => {} };
  const server = net.createServer((c) => {
    t.connections++;
    const out = net.connect(to, '127.0.0.1');
    for (const s of [c, out]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        c.destroy();
        out.destroy();
      });
    }
    c.pipe(out);
    out.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.port = (server.address() as net.AddressInfo).port;
  t.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return t;
}

const PROXY_VARS = /^(all|socks|https?|no|ftp)_proxy$/i;

/** Runs the example asynchronously (this thread's echo server must keep answering). */
function run(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !PROXY_VARS.test(k)) base[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [example, ...args], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

let microsocks: Daemon;
let squid: Squid;
let echo: Peer;
/** The remote port of every connection the echo accepted, in order (read at accept time: node forgets it on close). */
const accepted: number[] = [];
const daemons: Daemon[] = [];
const taps: Tap[] = [];

beforeAll(async () => {
  const started = await Promise.allSettled([
    startMicrosocks({ auth: true }).then((d) => daemons.push((microsocks = d))),
    startSquid().then((d) => daemons.push((squid = d))),
  ]);
  echo = await startEcho('127.0.0.1');
  echo.server.prependListener('connection', (c: net.Socket) => accepted.push(c.remotePort ?? -1));
  const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) throw new Error(failed.map((f) => String(f.reason?.message ?? f.reason)).join('\n'));
}, 30000);

afterAll(async () => {
  await Promise.all(taps.splice(0).map((t) => t.close()));
  await stopAll(daemons);
  await echo?.close();
}, 30000);

async function newTap(to: number): Promise<Tap> {
  const t = await tap(to);
  taps.push(t);
  return t;
}

/** The local port the example printed ("connected to ... from 127.0.0.1:N"). */
function localPort(stdout: string): number {
  const m = /^connected to .* from .*:(\d+)$/m.exec(stdout);
  if (m === null) throw new Error(`no "connected" line in:\n${stdout}`);
  return Number(m[1]);
}

test('all_proxy=socks5://user:pass@... (microsocks): through the proxy, the name resolved locally', async () => {
  const t = await newTap(microsocks.port);
  const before = accepted.length;
  const r = await run({ all_proxy: `socks5://${PROXY_USER}:${PROXY_PASS}@127.0.0.1:${t.port}` }, [
    '--resolve',
    'echo.test:127.0.0.1',
    'echo.test',
    String(echo.port),
    'ping via socks',
  ]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`proxy: Socks5Proxy 127.0.0.1:${t.port} as ${PROXY_USER}\n`);
  expect(r.stdout).toContain(`connected to echo.test:${echo.port} from 127.0.0.1:`);
  expect(r.stdout).toContain('reply: ping via socks\n');
  expect(t.connections).toBe(1);
  // The destination's connection came from the proxy, not from the example's own port.
  expect(accepted.length).toBe(before + 1);
  expect(accepted[before]).not.toBe(localPort(r.stdout));
}, T);

test('https_proxy=http://user:pass@... (squid, Basic): the proxy resolves the name itself', async () => {
  const t = await newTap(squid.authPort);
  const r = await run(
    { https_proxy: `http://${PROXY_USER}:${PROXY_PASS}@127.0.0.1:${t.port}`, NO_PROXY: 'unrelated.example' },
    // --resolve only as a safety net: a local lookup of the name must never reach DNS.
    ['--resolve', `${SQUID_ONLY_NAME}:127.0.0.1`, SQUID_ONLY_NAME, String(echo.port), 'ping via squid'],
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`proxy: HttpProxy 127.0.0.1:${t.port} as ${PROXY_USER}\n`);
  expect(r.stdout).toContain('reply: ping via squid\n');
  expect(t.connections).toBe(1);
  // squid was asked for the name, and resolved it from its own hosts_file.
  const deadline = Date.now() + 5000;
  while (!squid.accessLog().includes(`CONNECT ${SQUID_ONLY_NAME}:${echo.port}`) && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
  }
  expect(squid.accessLog()).toContain(`CONNECT ${SQUID_ONLY_NAME}:${echo.port}`);
}, T);

test.each([
  ['the exact name', 'echo.test'],
  ['a suffix', '.test'],
  ['a list with the name and a port', 'other.example, echo.test:' + '$PORT'],
])('no_proxy covering the destination (%s): a direct connection, the proxy untouched', async (_n, noProxy) => {
  const t = await newTap(microsocks.port);
  const before = accepted.length;
  const r = await run(
    { all_proxy: `socks5://${PROXY_USER}:${PROXY_PASS}@127.0.0.1:${t.port}`, no_proxy: noProxy.replace('$PORT', String(echo.port)) },
    ['--resolve', 'echo.test:127.0.0.1', 'echo.test', String(echo.port), 'ping direct'],
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('proxy: none (direct connection)\n');
  expect(r.stdout).toContain('reply: ping direct\n');
  expect(t.connections).toBe(0);
  expect(accepted.length).toBe(before + 1);
  expect(accepted[before]).toBe(localPort(r.stdout)); // straight from the example's socket
}, T);

test('no proxy variables at all: direct', async () => {
  const r = await run({}, ['--resolve', 'echo.test:127.0.0.1', 'echo.test', String(echo.port), 'plain']);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('proxy: none (direct connection)\n');
  expect(r.stdout).toContain('reply: plain\n');
}, T);

test('wrong credentials in the URL: the example says so and exits 1', async () => {
  const t = await newTap(microsocks.port);
  const r = await run({ ALL_PROXY: `socks5://${PROXY_USER}:wrong@127.0.0.1:${t.port}` }, [
    '--resolve',
    'echo.test:127.0.0.1',
    'echo.test',
    String(echo.port),
  ]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(`proxy: Socks5Proxy 127.0.0.1:${t.port} as ${PROXY_USER}\n`);
  expect(r.stderr).toContain('wants credentials');
  expect(r.stderr).toContain('error: ProxyAuthenticationRequiredError');
  expect(r.stdout).not.toContain('reply:');
}, T);

test('a proxy that is not there: ProxyConnectionRefusedError, exit 1', async () => {
  const dead = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const r = await run({ socks_proxy: `socks5h://127.0.0.1:${dead}` }, ['--resolve', 'echo.test:127.0.0.1', 'echo.test', String(echo.port)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('error: ProxyConnectionRefusedError: Connection to proxy refused');
}, T);
