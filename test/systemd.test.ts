// systemd integration against the real tools: systemd-socket-activate(1)
// passes listening sockets, Accept=yes connections and datagram sockets to a
// child (test/fixtures/systemd-child.ts, or the example daemon), and a python3
// AF_UNIX datagram listener stands in for systemd's NOTIFY_SOCKET, reporting
// every message with its sender's credentials and the descriptors it carried.
// Loopback only; every process started here is killed by its pid afterwards.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { binding } from '../lib/binding';
import {
  listenFds,
  sdNotify,
  sdNotifyReady,
  sdNotifyReloading,
  sdNotifyStatus,
  sdNotifyStopping,
  sdNotifyWatchdog,
  sdStoreFds,
  serverFromListenFd,
  startWatchdog,
  tcpSocketFromListenFd,
  udpSocketFromListenFd,
  watchdogEnabled,
  ListenFd,
} from '../lib/systemd';
import { delay, fdOf, hasIPv6, until } from './helpers';

const root = path.join(__dirname, '..');
const ACTIVATE = '/usr/bin/systemd-socket-activate';
const haveActivate = fs.existsSync(ACTIVATE);
const havePython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { timeout: 10000 }).status === 0;
const CHILD = [
  process.execPath,
  '-r',
  path.join(root, 'test/fixtures/ts-register.js'),
  path.join(root, 'test/fixtures/systemd-child.ts'),
];
const DAEMON = path.join(root, 'examples/systemd-echo-daemon/echo-daemon.js');
// Fills in the package's systemd exports in case lib/index.ts does not have them yet.

jest.setTimeout(20000);

// ---------------------------------------------------------------------------
// Processes: every one is tracked and SIGKILLed after each test.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Line = Record<string, any>;

class Proc {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  stdout = '';
  stderr = '';
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      partial += d;
      let i;
      while ((i = partial.indexOf('\n')) >= 0) {
        const text = partial.slice(0, i);
        partial = partial.slice(i + 1);
        try {
          const line = JSON.parse(text) as Line;
          this.lines.push(line);
          if (typeof line.pid === 'number' && line.pid !== this.child.pid) childPids.add(line.pid);
        } catch {
          // not JSON: kept in stdout only
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  async line(pred: (l: Line) => boolean, what: string, ms = 10000): Promise<Line> {
    await until(() => this.lines.some(pred), ms, `${what}; stdout: ${this.stdout} stderr: ${this.stderr}`);
    return this.lines.find(pred)!;
  }

  async linesWhere(pred: (l: Line) => boolean, n: number, what: string, ms = 10000): Promise<Line[]> {
    await until(() => this.lines.filter(pred).length >= n, ms, `${n} × ${what}; stdout: ${this.stdout} stderr: ${this.stderr}`);
    return this.lines.filter(pred);
  }

  async stderrMatches(re: RegExp, what: string, ms = 10000): Promise<void> {
    await until(() => re.test(this.stderr), ms, `${what}; stderr: ${this.stderr}`);
  }

  async waitExit(ms = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await until(() => this.exitInfo !== null, ms, `exit of ${this.pid}; stderr: ${this.stderr}`);
    return this.exitInfo!;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitInfo === null) this.child.kill(signal);
  }
}

const live = new Set<Proc>();
/** Pids of grandchildren (children of systemd-socket-activate --accept) reported by the fixture. */
const childPids = new Set<number>();

afterEach(async () => {
  for (const p of live) p.kill('SIGKILL');
  await Promise.all(
    [...live].map((p) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([p.exited, new Promise<void>((r) => (timer = setTimeout(r, 3000)))]).finally(() => clearTimeout(timer));
    }),
  );
  live.clear();
  for (const pid of childPids) {
    // Only if that pid is still our fixture (never a recycled pid of someone else).
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('systemd-child.ts')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  childPids.clear();
});

let tmp = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qsock-sd-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Peers

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends `text` over a new connection and resolves with as many bytes back; closes. */
function tcpEcho(port: number, text: string, host = '127.0.0.1', ms = 8000): Promise<{ reply: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no echo from ${host}:${port} (got ${JSON.stringify(got)})`));
    }, ms);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        clearTimeout(timer);
        const localPort = sock.localPort!;
        sock.end();
        resolve({ reply: got, localPort });
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Starts systemd-socket-activate and waits until it listens on `listeners` sockets. */
async function activate(args: string[], program: string[], listeners = 1, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const p = new Proc(ACTIVATE, [...args, ...program], { PATH: process.env.PATH, ...env });
  await p.stderrMatches(new RegExp(`(Listening on .* as \\d+\\.[\\s\\S]*){${listeners}}`), `${listeners} listener(s)`);
  return p;
}

// The NOTIFY_SOCKET stand-in: binds PATH or @abstract, prints {"ready":true},
// then one JSON line per datagram: the text, the sender's pid
// (SCM_CREDENTIALS), recvmsg's flags, CLOCK_MONOTONIC at arrival in µs, and for
// each passed descriptor what it is (then closes it).
const NOTIFY_LISTENER = String.raw`
import json, os, socket, stat, struct, sys, time
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + p[1:] if p.startswith("@") else p)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(30)
print(json.dumps({"ready": True}), flush=True)
while True:
    try:
        msg, anc, flags, _a = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4 * 64))
    except socket.timeout:
        break
    t = time.monotonic_ns() // 1000
    pid = None; fds = []
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds += list(struct.unpack("%di" % (len(data) // 4), data[:len(data) // 4 * 4]))
    info = []
    for fd in fds:
        st = os.fstat(fd)
        if stat.S_ISSOCK(st.st_mode):
            k = socket.socket(fileno=fd)
            try:
                name = k.getsockname()
            except OSError:
                name = None
            info.append({"sock": True, "type": int(k.type), "family": int(k.family), "name": name})
            k.close()
        else:
            info.append({"sock": False, "mode": st.st_mode})
            os.close(fd)
    print(json.dumps({"msg": msg.decode("utf-8", "replace"), "pid": pid, "flags": flags, "t": t, "fds": info}), flush=True)
`;

async function notifyListener(address: string): Promise<Proc> {
  const p = new Proc('python3', ['-c', NOTIFY_LISTENER, address], { PATH: process.env.PATH });
  await p.line((l) => l.ready === true, 'the notify listener');
  return p;
}

const messages = (p: Proc) => p.lines.filter((l) => typeof l.msg === 'string');

let unique = 0;
const abstractName = () => `@qsocket-sd-test-${process.pid}-${++unique}-${Date.now()}`;
const socketPath = () => path.join(tmp, `notify-${++unique}.sock`);

const activateTest = haveActivate ? test : test.skip;
const pythonTest = havePython ? test : test.skip;
const bothTest = haveActivate && havePython ? test : test.skip;

// ---------------------------------------------------------------------------
// Socket activation through systemd-socket-activate

describe('listenFds with systemd-socket-activate', () => {
  activateTest('a TCP listener becomes fd 3, is found, made close-on-exec, and serves through serverFromListenFd', async () => {
    const port = await freeTcpPort();
    const p = await activate(['-l', `127.0.0.1:${port}`], CHILD);
    // The first connection is what makes systemd-socket-activate exec the child.
    const first = await tcpEcho(port, 'hello from systemd');
    expect(first.reply).toBe('hello from systemd');
    const report = await p.line((l) => l.event === 'fds', 'the listenFds report');
    // It execs in place: LISTEN_PID is the pid we started.
    expect(report.pid).toBe(p.pid);
    expect(report.fds).toEqual([{ fd: 3, name: 'unknown', kind: 'tcp-listener' }]);
    expect(report.cloexecBefore).toEqual([0]);
    expect(report.cloexec).toEqual([1]);
    // Unset by default.
    expect(report.env).toEqual({ LISTEN_PID: null, LISTEN_FDS: null, LISTEN_FDNAMES: null });
    const adopted = await p.line((l) => l.event === 'adopted', 'the adoption');
    expect(adopted).toMatchObject({ fd: 3, kind: 'tcp-listener', listening: true, address: '127.0.0.1', port });
    expect(adopted.wrongHelper).toBe('systemd: fd 3 ("unknown", tcp-listener) is not a UDP socket (a listening TCP socket: use serverFromListenFd)');
    // The server keeps accepting.
    const [a, b] = await Promise.all([tcpEcho(port, 'second'), tcpEcho(port, 'third')]);
    expect([a.reply, b.reply]).toEqual(['second', 'third']);
    p.kill('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  activateTest('--fdname=web names the descriptor', async () => {
    const port = await freeTcpPort();
    const p = await activate(['-l', `127.0.0.1:${port}`, '--fdname=web'], CHILD);
    expect((await tcpEcho(port, 'named')).reply).toBe('named');
    const report = await p.line((l) => l.event === 'fds', 'the listenFds report');
    expect(report.fds).toEqual([{ fd: 3, name: 'web', kind: 'tcp-listener' }]);
  });

  activateTest('several listeners (IPv4, IPv6, AF_UNIX) with names from repeated --fdname, environment kept on request', async () => {
    const v6 = await hasIPv6();
    const p1 = await freeTcpPort();
    const p2 = v6 ? await freeTcpPort() : 0;
    const ctl = path.join(tmp, `ctl-${++unique}.sock`);
    const args = ['-l', `127.0.0.1:${p1}`, ...(v6 ? ['-l', `[::1]:${p2}`] : []), '-l', ctl, '--fdname=a', ...(v6 ? ['--fdname=b'] : []), '--fdname=ctl'];
    const p = await activate(args, [...CHILD, '--keep-env'], v6 ? 3 : 2);
    expect((await tcpEcho(p1, 'four')).reply).toBe('four');
    const report = await p.line((l) => l.event === 'fds', 'the listenFds report');
    expect(report.fds).toEqual(
      v6
        ? [
            { fd: 3, name: 'a', kind: 'tcp-listener' },
            { fd: 4, name: 'b', kind: 'tcp-listener' },
            { fd: 5, name: 'ctl', kind: 'unix-stream-listener' },
          ]
        : [
            { fd: 3, name: 'a', kind: 'tcp-listener' },
            { fd: 4, name: 'ctl', kind: 'unix-stream-listener' },
          ],
    );
    expect(report.cloexec).toEqual(v6 ? [1, 1, 1] : [1, 1]);
    // unsetEnvironment: false keeps the variables.
    expect(report.env).toEqual({ LISTEN_PID: String(p.pid), LISTEN_FDS: v6 ? '3' : '2', LISTEN_FDNAMES: v6 ? 'a:b:ctl' : 'a:ctl' });
    const skipped = await p.line((l) => l.event === 'skipped', 'the unix listener report');
    expect(skipped.kind).toBe('unix-stream-listener');
    expect(skipped.wrongHelper).toBe(`systemd: fd ${v6 ? 5 : 4} ("ctl", unix-stream-listener) is not a listening TCP socket`);
    if (v6) {
      expect((await tcpEcho(p2, 'over ipv6', '::1')).reply).toBe('over ipv6');
      const adopted = await p.linesWhere((l) => l.event === 'adopted', 2, 'adoptions');
      expect(adopted.map((a) => a.address)).toEqual(['127.0.0.1', '::1']);
    }
  });

  activateTest('adoptListenFds groups the adopted objects by name and leaves the rest alone', async () => {
    const p1 = await freeTcpPort();
    const p2 = await freeTcpPort();
    const ctl = path.join(tmp, `ctl-${++unique}.sock`);
    const p = await activate(['-l', `127.0.0.1:${p1}`, '-l', `127.0.0.1:${p2}`, '-l', ctl, '--fdname=web:web:ctl'], [...CHILD, '--adopt-all'], 3);
    expect((await tcpEcho(p1, 'one')).reply).toBe('one');
    expect((await tcpEcho(p2, 'two')).reply).toBe('two');
    const summary = await p.line((l) => l.event === 'adoptAll', 'the adoptListenFds summary');
    expect(summary).toMatchObject({ servers: { web: 2 }, udp: {}, connections: {}, others: [{ fd: 5, name: 'ctl', kind: 'unix-stream-listener' }] });
  });

  activateTest('--accept: each connection is fd 3 of its own child, a tcp-connection for tcpSocketFromListenFd', async () => {
    const port = await freeTcpPort();
    const p = await activate(['--accept', '-l', `127.0.0.1:${port}`, '--fdname=conn'], CHILD);
    const first = await tcpEcho(port, 'per-connection one');
    expect(first.reply).toBe('per-connection one');
    const second = await tcpEcho(port, 'per-connection two');
    expect(second.reply).toBe('per-connection two');
    const reports = await p.linesWhere((l) => l.event === 'fds', 2, 'listenFds reports');
    expect(reports.map((r) => r.fds)).toEqual([
      [{ fd: 3, name: 'conn', kind: 'tcp-connection' }],
      [{ fd: 3, name: 'conn', kind: 'tcp-connection' }],
    ]);
    // Two children, neither of them systemd-socket-activate itself.
    expect(new Set(reports.map((r) => r.pid)).size).toBe(2);
    expect(reports.every((r) => r.pid !== p.pid)).toBe(true);
    const adopted = await p.linesWhere((l) => l.event === 'adopted', 2, 'adoptions');
    for (const a of adopted) {
      expect(a).toMatchObject({ fd: 3, kind: 'tcp-connection', state: 3 /* ConnectedState */, port });
      expect(a.wrongHelper).toBe('systemd: fd 3 ("conn", tcp-connection) is not a listening TCP socket (a connected TCP socket: use tcpSocketFromListenFd)');
    }
    expect(adopted.map((a) => a.peerPort).sort()).toEqual([first.localPort, second.localPort].sort());
    // Each child exits 0 once its client hangs up.
    await p.stderrMatches(/died with code 0[\s\S]*died with code 0/, 'both children exiting');
  });

  activateTest('--datagram: a bound UDP socket for udpSocketFromListenFd; the triggering datagram is answered', async () => {
    const port = await freeUdpPort();
    const p = await activate(['--datagram', '-l', `127.0.0.1:${port}`, '--fdname=dns'], CHILD);
    const client = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const replies: string[] = [];
      client.on('message', (m) => replies.push(m.toString()));
      client.send('ping', port, '127.0.0.1'); // wakes systemd-socket-activate, stays queued for the child
      await until(() => replies.length >= 1, 10000, `a datagram reply; stderr: ${p.stderr}`);
      client.send('pong', port, '127.0.0.1');
      await until(() => replies.length >= 2, 5000, 'a second datagram reply');
      expect(replies).toEqual(['echo:ping', 'echo:pong']);
    } finally {
      client.close();
    }
    const report = await p.line((l) => l.event === 'fds', 'the listenFds report');
    expect(report.fds).toEqual([{ fd: 3, name: 'dns', kind: 'udp' }]);
    const adopted = await p.line((l) => l.event === 'adopted', 'the adoption');
    expect(adopted).toMatchObject({ fd: 3, kind: 'udp', state: 4 /* BoundState */, port });
    expect(adopted.wrongHelper).toBe('systemd: fd 3 ("dns", udp) is not a listening TCP socket (a UDP socket: use udpSocketFromListenFd)');
  });
});

describe('listenFds without a manager', () => {
  test('LISTEN_PID of another process: [] and the environment untouched', () => {
    const env = { LISTEN_PID: '4243', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' };
    expect(listenFds({ env, pid: 4242 })).toEqual([]);
    expect(env).toEqual({ LISTEN_PID: '4243', LISTEN_FDS: '2', LISTEN_FDNAMES: 'a:b' });
    const env2 = { LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '1' };
    expect(listenFds({ env: env2 })).toEqual([]);
    expect(env2).toEqual({ LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '1' });
  });

  test('not activated: [] (process.env of this test has no LISTEN_PID)', () => {
    expect(listenFds({ env: {} })).toEqual([]);
    expect(listenFds({ env: { LISTEN_FDS: '1' } })).toEqual([]);
    expect(listenFds({ env: { LISTEN_PID: '4242' }, pid: 4242 })).toEqual([]);
    if (process.env.LISTEN_PID === undefined) expect(listenFds()).toEqual([]);
  });

  test('malformed values: [] without a throw, and the variables unset (as sd_listen_fds does)', () => {
    // pid 4242 is "us", so LISTEN_PID matches; none of these reaches a descriptor of this process.
    const badPids = ['', 'abc', '0', '-4242', '+4242', ' 4242', '4242 ', '4242x', '0x1092', '99999999999999999999'];
    for (const LISTEN_PID of badPids) {
      const env: NodeJS.ProcessEnv = { LISTEN_PID, LISTEN_FDS: '1', LISTEN_FDNAMES: 'x' };
      expect({ LISTEN_PID, fds: listenFds({ env, pid: 4242 }) }).toEqual({ LISTEN_PID, fds: [] });
      expect(env).toEqual({});
    }
    const badCounts = ['', 'abc', '-1', '0', '+1', ' 1', '1 ', '1.5', '1e3', '0x10', '3x', '2147483645', '2147483644', '1000000', '99999999999999999999999'];
    for (const LISTEN_FDS of badCounts) {
      const env: NodeJS.ProcessEnv = { LISTEN_PID: '4242', LISTEN_FDS };
      expect({ LISTEN_FDS, fds: listenFds({ env, pid: 4242 }) }).toEqual({ LISTEN_FDS, fds: [] });
      expect(env).toEqual({});
    }
    const kept: NodeJS.ProcessEnv = { LISTEN_PID: '4242', LISTEN_FDS: 'nope' };
    expect(listenFds({ env: kept, pid: 4242, unsetEnvironment: false })).toEqual([]);
    expect(kept).toEqual({ LISTEN_PID: '4242', LISTEN_FDS: 'nope' });
    expect(() => listenFds(null as never)).toThrow(TypeError);
  });

  test('the helpers refuse a kind that does not fit, and a failed adoption, naming fd, name and kind; the fd stays open', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const fd = fdOf(server as unknown as net.Socket);
      const asUdp: ListenFd = { fd, name: 'web', kind: 'udp' };
      expect(() => serverFromListenFd(asUdp)).toThrow(`systemd: fd ${fd} ("web", udp) is not a listening TCP socket (a UDP socket: use udpSocketFromListenFd)`);
      expect(() => tcpSocketFromListenFd({ fd, name: 'web', kind: 'tcp-listener' })).toThrow(`fd ${fd} ("web", tcp-listener) is not a connected TCP socket`);
      // The kind says yes, the kernel says no: the object's own error.
      expect(() => tcpSocketFromListenFd({ fd, name: 'lie', kind: 'tcp-connection' })).toThrow(
        new RegExp(`^systemd: cannot adopt fd ${fd} \\("lie", tcp-connection\\) as a QTcpSocket: .*listening`),
      );
      expect(() => udpSocketFromListenFd(asUdp)).toThrow(new RegExp(`^systemd: cannot adopt fd ${fd} \\("web", udp\\) as a QUdpSocket: .*datagram`));
      expect(binding.cloexec(fd, -1)).toBeGreaterThanOrEqual(0); // still open, still node's
      const port = (server.address() as net.AddressInfo).port;
      const c = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => c.on('connect', resolve).on('error', reject));
      c.destroy();
      expect(() => serverFromListenFd({ fd: -1, name: 'x', kind: 'tcp-listener' })).toThrow(TypeError);
      expect(() => serverFromListenFd(null as never)).toThrow(TypeError);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

// ---------------------------------------------------------------------------
// sd_notify against a real AF_UNIX datagram listener

describe('sdNotify', () => {
  pythonTest('sends the exact messages to a NOTIFY_SOCKET path, with our credentials', async () => {
    const where = socketPath();
    const l = await notifyListener(where);
    const env = { NOTIFY_SOCKET: where };
    const before = process.hrtime.bigint() / 1000n;
    expect(sdNotifyReady('up and running', { env })).toBe(true);
    expect(sdNotifyReady(undefined, { env })).toBe(true);
    expect(sdNotifyStatus('half way: 50%', { env })).toBe(true);
    expect(sdNotifyReloading({ env })).toBe(true);
    expect(sdNotifyStopping({ env })).toBe(true);
    expect(sdNotifyWatchdog({ env })).toBe(true);
    expect(sdNotify({ READY: 1, STATUS: 'object form', ERRNO: 0, MONOTONIC_USEC: 12345678901234567890n }, { env })).toBe(true);
    expect(sdNotify('STATUS=ünïcode ✓', { env })).toBe(true);
    const got = await l.linesWhere((m) => typeof m.msg === 'string', 8, 'notify messages');
    const texts = got.map((m) => m.msg);
    expect(texts[0]).toBe('READY=1\nSTATUS=up and running');
    expect(texts[1]).toBe('READY=1');
    expect(texts[2]).toBe('STATUS=half way: 50%');
    const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(texts[3]);
    expect(m).not.toBeNull();
    // CLOCK_MONOTONIC: between our reading before the call and python's at arrival.
    const usec = BigInt(m![1]);
    expect(usec >= before).toBe(true);
    expect(usec <= BigInt(got[3].t)).toBe(true);
    expect(texts.slice(4)).toEqual(['STOPPING=1', 'WATCHDOG=1', 'READY=1\nSTATUS=object form\nERRNO=0\nMONOTONIC_USEC=12345678901234567890', 'STATUS=ünïcode ✓']);
    for (const g of got) expect({ pid: g.pid, fds: g.fds, flags: g.flags }).toEqual({ pid: process.pid, fds: [], flags: 0 });
  });

  pythonTest('an abstract @name NOTIFY_SOCKET', async () => {
    const where = abstractName();
    const l = await notifyListener(where);
    expect(sdNotifyReady('abstract', { env: { NOTIFY_SOCKET: where } })).toBe(true);
    const [m] = await l.linesWhere((x) => typeof x.msg === 'string', 1, 'a notify message');
    expect(m).toMatchObject({ msg: 'READY=1\nSTATUS=abstract', pid: process.pid, fds: [] });
    // The same name as a path is another socket entirely.
    expect(sdNotifyReady('x', { env: { NOTIFY_SOCKET: '/' + where.slice(1) } })).toBe(false);
  });

  pythonTest('FDSTORE=1 passes descriptors with SCM_RIGHTS; ours stay open', async () => {
    const where = socketPath();
    const l = await notifyListener(where);
    const env = { NOTIFY_SOCKET: where };
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const pair = binding.socketpair(binding.constants.SOCK_DGRAM) as [number, number];
    try {
      const fd = fdOf(server as unknown as net.Socket);
      expect(sdStoreFds([fd], 'x', { env })).toBe(true);
      expect(sdStoreFds([pair[0], pair[1]], undefined, { env })).toBe(true);
      expect(sdNotify('FDSTORE=1\nFDNAME=raw', { env, fds: [fd] })).toBe(true);
      const got = await l.linesWhere((x) => typeof x.msg === 'string', 3, 'notify messages');
      expect(got[0]).toMatchObject({ msg: 'FDSTORE=1\nFDNAME=x', pid: process.pid, flags: 0 });
      expect(got[0].fds).toEqual([{ sock: true, type: 1 /* SOCK_STREAM */, family: 2 /* AF_INET */, name: ['127.0.0.1', port] }]);
      expect(got[1].msg).toBe('FDSTORE=1');
      expect(got[1].fds).toEqual([
        { sock: true, type: 2, family: 1, name: '' },
        { sock: true, type: 2, family: 1, name: '' },
      ]);
      expect(got[2]).toMatchObject({ msg: 'FDSTORE=1\nFDNAME=raw', fds: [{ sock: true, name: ['127.0.0.1', port] }] });
      // Still ours: the listener accepts.
      const c = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => c.on('connect', resolve).on('error', reject));
      c.destroy();
    } finally {
      binding.closeFd(pair[0]);
      binding.closeFd(pair[1]);
      await new Promise((r) => server.close(r));
    }
    expect(() => sdStoreFds([], 'x', { env })).toThrow(TypeError);
    for (const bad of ['a:b', 'new\nline', 'tab\t', 'é', 'x'.repeat(256)]) expect(() => sdStoreFds([0], bad, { env })).toThrow(TypeError);
    expect(() => sdStoreFds([0], 'x'.repeat(255), { env: {} })).not.toThrow();
  });

  test('without NOTIFY_SOCKET: false, nothing sent, nothing thrown', () => {
    expect(sdNotify('READY=1', { env: {} })).toBe(false);
    expect(sdNotify('READY=1', { env: { NOTIFY_SOCKET: '' } })).toBe(false);
    expect(sdNotifyReady('x', { env: {} })).toBe(false);
    expect(sdNotifyStatus('x', { env: {} })).toBe(false);
    expect(sdNotifyStopping({ env: {} })).toBe(false);
    expect(sdNotifyReloading({ env: {} })).toBe(false);
    expect(sdNotifyWatchdog({ env: {} })).toBe(false);
    expect(sdStoreFds([0], 'x', { env: {} })).toBe(false);
    if (process.env.NOTIFY_SOCKET === undefined) expect(sdNotifyReady()).toBe(false);
  });

  test('a NOTIFY_SOCKET nobody listens on, or that cannot be an address: false, never a throw', () => {
    const file = path.join(tmp, 'not-a-socket');
    fs.writeFileSync(file, '');
    for (const NOTIFY_SOCKET of [
      path.join(tmp, 'nobody-here.sock'), // ENOENT
      file, // ECONNREFUSED
      'relative.sock',
      '@',
      '/',
      '/' + 'x'.repeat(200),
      'vsock:2:1234',
    ]) {
      expect({ NOTIFY_SOCKET, sent: sdNotify('READY=1', { env: { NOTIFY_SOCKET } }) }).toEqual({ NOTIFY_SOCKET, sent: false });
    }
  });

  pythonTest('unsetEnvironment removes NOTIFY_SOCKET whatever the outcome', async () => {
    const where = socketPath();
    const l = await notifyListener(where);
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: where, OTHER: '1' };
    expect(sdNotify('READY=1', { env, unsetEnvironment: true })).toBe(true);
    expect(env).toEqual({ OTHER: '1' });
    expect(sdNotify('READY=1', { env })).toBe(false);
    const failing: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path.join(tmp, 'gone.sock') };
    expect(sdNotifyStopping({ env: failing, unsetEnvironment: true })).toBe(false);
    expect(failing).toEqual({});
    await l.linesWhere((x) => typeof x.msg === 'string', 1, 'the message');
    await delay(50);
    expect(messages(l).map((m) => m.msg)).toEqual(['READY=1']);
  });

  test('misuse is a TypeError (or RangeError), even when not under systemd', () => {
    const env = {};
    expect(() => sdNotify(42 as never, { env })).toThrow(TypeError);
    expect(() => sdNotify(null as never, { env })).toThrow(TypeError);
    expect(() => sdNotify(['READY=1'] as never, { env })).toThrow(TypeError);
    expect(() => sdNotify({ STATUS: 'two\nlines' }, { env })).toThrow(TypeError);
    expect(() => sdNotify({ 'A=B': 1 }, { env })).toThrow(TypeError);
    expect(() => sdNotify({ '': 1 }, { env })).toThrow(TypeError);
    expect(() => sdNotify({ READY: NaN }, { env })).toThrow(TypeError);
    expect(() => sdNotify({ READY: {} as never }, { env })).toThrow(TypeError);
    expect(() => sdNotify('READY=1', { env, fds: [-1] })).toThrow(TypeError);
    expect(() => sdNotify('READY=1', { env, fds: [1.5] })).toThrow(TypeError);
    expect(() => sdNotify('READY=1', { env, fds: '3' as never })).toThrow(TypeError);
    expect(() => sdNotify('READY=1', { env, fds: new Array(65).fill(0) })).toThrow(RangeError);
    expect(() => sdNotify('READY=1', null as never)).toThrow(TypeError);
    expect(() => sdNotifyStatus('two\nlines', { env })).toThrow(TypeError);
    expect(() => sdNotifyStatus(7 as never, { env })).toThrow(TypeError);
    expect(() => sdNotifyReady('two\nlines', { env })).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------
// Watchdog

describe('watchdog', () => {
  test('watchdogEnabled follows sd_watchdog_enabled(3)', () => {
    expect(watchdogEnabled({})).toBe(0);
    expect(watchdogEnabled({ WATCHDOG_USEC: '200000' })).toBe(200000);
    expect(watchdogEnabled({ WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) })).toBe(200000);
    expect(watchdogEnabled({ WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' })).toBe(0);
    expect(watchdogEnabled({ WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' }, 1)).toBe(200000);
    for (const bad of ['', '0', 'abc', '-5', '+5', '1e6', '5.5', ' 5', '18446744073709551615']) {
      expect({ bad, usec: watchdogEnabled({ WATCHDOG_USEC: bad }) }).toEqual({ bad, usec: 0 });
    }
    for (const bad of ['', 'abc', '0', '-1']) {
      expect({ bad, usec: watchdogEnabled({ WATCHDOG_USEC: '1000', WATCHDOG_PID: bad }) }).toEqual({ bad, usec: 0 });
    }
    expect(startWatchdog({ env: { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' } })).toBeNull();
    expect(startWatchdog({ env: {} })).toBeNull();
    if (process.env.WATCHDOG_USEC === undefined) {
      expect(watchdogEnabled()).toBe(0);
      expect(startWatchdog()).toBeNull();
    }
  });

  pythonTest('startWatchdog pings WATCHDOG=1 at half of WATCHDOG_USEC until stopped', async () => {
    const where = socketPath();
    const l = await notifyListener(where);
    const env = { NOTIFY_SOCKET: where, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) };
    const h = startWatchdog({ env });
    expect(h).not.toBeNull();
    try {
      expect(h!.usec).toBe(200000);
      expect(h!.intervalMs).toBe(100);
      await delay(450);
    } finally {
      h!.stop();
    }
    h!.stop(); // idempotent
    await delay(50); // let the last datagrams be printed
    const pings = messages(l);
    expect(pings.every((m) => m.msg === 'WATCHDOG=1' && m.pid === process.pid)).toBe(true);
    expect(pings.length).toBeGreaterThanOrEqual(3);
    expect(pings.length).toBeLessThanOrEqual(6);
    // About 100 ms apart on average (single gaps can shrink when the listener is descheduled).
    const meanGapMs = (pings[pings.length - 1].t - pings[0].t) / 1000 / (pings.length - 1);
    expect(meanGapMs).toBeGreaterThan(50);
    expect(meanGapMs).toBeLessThan(250);
    // Stopped: nothing more.
    const count = pings.length;
    await delay(250);
    expect(messages(l).length).toBe(count);
  });

  test('the watchdog timer never keeps the process alive', () => {
    const script = [
      "const sd = require('./lib/systemd');",
      "const h = sd.startWatchdog({ env: { WATCHDOG_USEC: '200000' } });",
      'console.log(h.intervalMs);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['-r', './test/fixtures/ts-register.js', '-e', script], { cwd: root, encoding: 'utf8', timeout: 10000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('100');
    expect(r.status).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// The example daemon

describe('examples/systemd-echo-daemon', () => {
  bothTest('through systemd-socket-activate: echo, READY=1 with a status, watchdog pings, STOPPING=1 on SIGTERM', async () => {
    const where = socketPath();
    const l = await notifyListener(where);
    const port = await freeTcpPort();
    // sh execs systemd-socket-activate, which execs the daemon: one pid throughout,
    // so WATCHDOG_PID=$$ names the daemon, as systemd's WATCHDOG_PID would.
    const p = new Proc(
      'sh',
      [
        '-c',
        `exec "$0" -E WATCHDOG_PID=$$ "$@"`,
        ACTIVATE,
        '-l',
        `127.0.0.1:${port}`,
        '--fdname=echo',
        '-E',
        `NOTIFY_SOCKET=${where}`,
        '-E',
        'WATCHDOG_USEC=400000',
        process.execPath,
        DAEMON,
      ],
      { PATH: process.env.PATH },
    );
    await p.stderrMatches(/Listening on 127\.0\.0\.1:\d+ as 3\./, 'systemd-socket-activate listening');
    expect((await tcpEcho(port, 'hello, daemon')).reply).toBe('hello, daemon');
    const [ready] = await l.linesWhere((m) => typeof m.msg === 'string' && m.msg.startsWith('READY=1'), 1, 'READY=1');
    expect(ready).toMatchObject({ msg: `READY=1\nSTATUS=Echoing on 127.0.0.1:${port}`, pid: p.pid, fds: [] });
    const pings = await l.linesWhere((m) => m.msg === 'WATCHDOG=1', 2, 'watchdog pings', 5000);
    expect(pings.every((m) => m.pid === p.pid)).toBe(true);
    expect(p.stderr).toContain('watchdog enabled: ping every 200 ms');
    expect(p.stderr).toContain(`serving echo on 127.0.0.1:${port} (fd 3, "echo")`);
    // Several clients at once.
    const replies = await Promise.all(['a', 'bb', 'ccc'].map((t) => tcpEcho(port, t.repeat(1000))));
    expect(replies.map((r) => r.reply.length)).toEqual([1000, 2000, 3000]);
    p.kill('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    const stopping = await l.line((m) => m.msg === 'STOPPING=1', 'STOPPING=1');
    expect(stopping.pid).toBe(p.pid);
    // READY=1 came before any STOPPING=1, and only once.
    const texts = messages(l).map((m) => m.msg);
    expect(texts.filter((t) => t.startsWith('READY=1'))).toHaveLength(1);
    expect(texts.indexOf(ready.msg)).toBeLessThan(texts.indexOf('STOPPING=1'));
  });

  test('without LISTEN_FDS it says so and exits 1', async () => {
    const p = new Proc(process.execPath, [DAEMON], { PATH: process.env.PATH });
    expect(await p.waitExit()).toEqual({ code: 1, signal: null });
    expect(p.stderr).toContain('no listening socket was passed (LISTEN_FDS is not set for this process)');
  });

  test('with --port it listens itself; readiness and watchdog are no-ops there', async () => {
    const port = await freeTcpPort();
    const p = new Proc(process.execPath, [DAEMON, '--port', String(port)], { PATH: process.env.PATH });
    await p.stderrMatches(/serving echo on 127\.0\.0\.1:\d+ \(--port\)/, 'the daemon listening');
    expect((await tcpEcho(port, 'no systemd')).reply).toBe('no systemd');
    expect(p.stderr).toContain('NOTIFY_SOCKET unset');
    p.kill('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });
});
