#!/usr/bin/env node
'use strict';
// qsocket's side-by-side benchmark (issue 7): qsocket vs node:net/dgram vs C,
// against one C peer, variants interleaved round by round.
//
//   npm run bench                      5 rounds, full counts (about 5 minutes)
//   npm run bench -- --quick           3 rounds, small counts (under a minute)
//   npm run bench -- --rounds 7        more rounds
//   npm run bench -- --counters        syscalls (perf) and instructions (callgrind) per round trip instead
//   npm run bench -- --only tcp-rtt    workloads (or workload/impl/variant) matching a regular expression
//   npm run bench -- --placement same|split|none   override where processes run (default: per workload, see BENCHMARKS.md)
//   npm run bench -- --no-build        skip `npm run build:ts`
//   npm run bench -- --no-wait         full runs wait (5 min in all at most) for other work on the machine to end, and measure
//                                      again a variant that other work disturbed; this turns that off
//
// Prints a Markdown report (medians, min–max across rounds, ratios against
// node core and C) and writes the raw results to bench/results/<date>.json.
const { spawn, execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const ROOT = path.resolve(__dirname, '..');
const BENCH = __dirname;
const BUILD = path.join(BENCH, 'build');
const RESULTS = path.join(BENCH, 'results');
const NODE = process.execPath;

// ---- options ---------------------------------------------------------------

function parseOptions(argv) {
  const o = { quick: false, rounds: null, counters: false, only: null, placement: 'auto', build: true, wait: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (k) {
      case '--quick':
        o.quick = true;
        break;
      case '--rounds':
        o.rounds = Number(value());
        if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds needs a positive integer');
        break;
      case '--counters':
        o.counters = true;
        break;
      case '--only':
        o.only = new RegExp(value());
        break;
      case '--placement':
        o.placement = value();
        if (!['auto', 'same', 'split', 'none'].includes(o.placement)) throw new Error('--placement is auto, same, split or none');
        break;
      case '--no-build':
        o.build = false;
        break;
      case '--no-wait':
        o.wait = false;
        break;
      case '-h':
      case '--help':
        process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 17).join('\n').replace(/^\/\/ ?/gm, '') + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (o.rounds === null) o.rounds = o.quick ? 3 : 5;
  return o;
}

const opts = parseOptions(process.argv.slice(2));
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// Counts per run. Full: tails from tens of thousands of samples; quick: enough to see a regression in under a minute.
const P = opts.quick
  ? { rttN: 5000, rttWarm: 3000, splitN: 3000, splitWarm: 2000, bulkBytes: 128 << 20, blast: 60000, recvCycles: 3, recvBurst: 5000, recvSleepMs: 200, idle: 2000, timeoutMs: 30000, quietWaitMs: 0 }
  : { rttN: 30000, rttWarm: 10000, splitN: 20000, splitWarm: 5000, bulkBytes: 512 << 20, blast: 300000, recvCycles: 8, recvBurst: 5000, recvSleepMs: 200, idle: 10000, timeoutMs: 120000, quietWaitMs: 300000 };

// ---- processes ---------------------------------------------------------------

// Every child runs in a process group of its own (detached), so that killing
// it also ends what it started (perf's and valgrind's node, taskset's program).
const children = new Set();
function kill(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
function killAll() {
  for (const c of children) kill(c);
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`\n${sig}: stopping`);
    killAll();
    process.exit(130);
  });
}

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && os.cpus().length >= 2;

/** The command prefix that pins a process to `cpu` (or nothing). */
function pinned(cpu, cmd, args) {
  if (cpu === null || !hasTaskset) return [cmd, args];
  return ['taskset', ['-c', String(cpu), cmd, ...args]];
}

/** Where the client, the peer and the UDP burst sender run for a placement. */
function cpus(placement) {
  const p = opts.placement === 'auto' ? placement : opts.placement;
  if (!hasTaskset || p === 'none') return { name: 'none', client: null, peer: null, helper: null };
  if (p === 'same') return { name: 'same', client: 0, peer: 0, helper: 1 };
  return { name: 'split', client: 0, peer: 1, helper: 1 };
}

/**
 * Runs one client; resolves with its JSON result (the last line with "impl"),
 * or { error } on a crash, a time-out or no result. `onLine` sees every line.
 */
function runChild(cmd, args, { timeoutMs = P.timeoutMs, onLine = null, keepStdin = false, onSpawn = null } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: BENCH, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    children.add(child);
    if (onSpawn) onSpawn(child);
    if (!keepStdin) child.stdin.end();
    let result = null;
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill(child);
    }, timeoutMs);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let obj = null;
      try {
        obj = JSON.parse(line);
      } catch {
        return;
      }
      if (obj && (obj.impl || obj.error)) result = obj;
      if (onLine) onLine(obj, child);
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 4000) stderr += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ error: `spawn ${cmd}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (timedOut) resolve({ error: `timed out after ${timeoutMs} ms`, partial: result });
      else if (result && !result.error) resolve(result);
      else resolve({ error: (result && result.error) || `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

// ---- the peer -----------------------------------------------------------------

class Peer {
  constructor(bin) {
    this.bin = bin;
    this.waiters = [];
    this.cpu = null;
  }

  start(cpu) {
    const [cmd, args] = pinned(cpu, this.bin, []);
    this.cpu = cpu;
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    children.add(this.proc);
    this.proc.on('exit', () => children.delete(this.proc));
    const rl = readline.createInterface({ input: this.proc.stdout });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the peer did not start')), 5000);
      rl.on('line', (line) => {
        const obj = JSON.parse(line);
        if (!this.ports) {
          clearTimeout(t);
          this.ports = obj;
          resolve(obj);
          return;
        }
        const w = this.waiters.shift();
        if (w) w(obj);
      });
    });
  }

  /** One command, one JSON line back. */
  cmd(line) {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.proc.stdin.write(line + '\n');
    });
  }

  /** Moves the peer to `cpu` (taskset -p), between runs only. */
  pin(cpu) {
    if (cpu === this.cpu || cpu === null || !hasTaskset) return;
    execFileSync('taskset', ['-pc', String(cpu), String(this.proc.pid)], { stdio: 'ignore' });
    this.cpu = cpu;
  }

  /** Counters once the UDP sink has stopped receiving (two equal readings 30 ms apart, 2 s at most). */
  async settledStats() {
    let prev = await this.cmd('stats');
    for (let i = 0; i < 66; i++) {
      await sleep(30);
      const s = await this.cmd('stats');
      if (s.udp_sink_count === prev.udp_sink_count) return s;
      prev = s;
    }
    return prev;
  }

  stop() {
    if (!this.proc) return;
    try {
      this.proc.stdin.end('quit\n');
    } catch {
      /* gone */
    }
    setTimeout(() => kill(this.proc), 500).unref();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A fingerprint of the code under test (dist/*.js and the addon). Other
 * people rebuild them while a run goes on; a round measured on different
 * code than the others is flagged in the report.
 */
function codeFingerprint() {
  const h = require('crypto').createHash('sha1');
  const files = [path.join(ROOT, 'build', 'Release', 'qsocket.node')];
  const dist = path.join(ROOT, 'dist');
  if (fs.existsSync(dist)) for (const f of fs.readdirSync(dist).sort()) if (f.endsWith('.js')) files.push(path.join(dist, f));
  for (const f of files) {
    try {
      h.update(f).update(fs.readFileSync(f));
    } catch {
      h.update(`${f}: missing`);
    }
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * CPU ticks (user + system, 1/100 s) of every process on the machine that is
 * not this run: not run.js, not the peer, not any client (all descend from
 * run.js). Read around each variant, it tells how much other work (another
 * session's test suite, say) shared the two cores with the measurement.
 */
function othersTicks() {
  const info = new Map();
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      // fields after the name: state(0) ppid(1) … utime(11) stime(12)
      info.set(Number(pid), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      /* gone */
    }
  }
  const ours = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; i++) {
      if (p === process.pid) return true;
      p = info.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out = new Map();
  for (const [pid, x] of info) if (!ours(pid)) out.set(pid, x.ticks);
  return out;
}

/** Other work between two othersTicks() samples, as % of all cores. */
function othersPct(before, after, ms) {
  if (!before || !after || ms <= 0) return NaN;
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return Math.round((ticks / ((ms / 10) * os.cpus().length)) * 1000) / 10;
}

/**
 * How busy the machine is with other work: the share of all cores in use
 * over `ms` while none of our clients runs (the peer is idle). These are
 * shared machines; a round measured next to a test suite is not comparable.
 */
async function othersLoad(ms = 300) {
  const a = othersTicks();
  const t0 = Date.now();
  await sleep(ms);
  return othersPct(a, othersTicks(), Date.now() - t0);
}

// ---- workloads -------------------------------------------------------------------

const C_CLIENT = path.join(BUILD, 'client');
const PEER = path.join(BUILD, 'peer');
const JS = { qsocket: path.join(BENCH, 'clients', 'qsocket.js'), node: path.join(BENCH, 'clients', 'node.js') };

/** A client command line for one variant of one workload. */
function command(w, v, ports, extra = {}) {
  const n = extra.n ?? (w.placement === 'split' ? P.splitN : P.rttN);
  const warm = extra.warm ?? (w.placement === 'split' ? P.splitWarm : P.rttWarm);
  const noTiming = extra.noTiming ? ['--no-timing'] : [];
  if (v.impl === 'c') {
    switch (w.kind) {
      case 'rtt':
        return [C_CLIENT, [w.proto === 'udp' ? 'udp-rtt' : 'tcp-rtt', String(w.proto === 'udp' ? ports.udp_echo : ports.tcp_echo), String(w.size), String(n), String(warm), v.variant, ...noTiming]];
      case 'bulk':
        return [C_CLIENT, ['tcp-bulk', String(ports.tcp_sink), String(P.bulkBytes), '65536']];
      case 'blast':
        return [C_CLIENT, ['udp-blast', String(ports.udp_sink), String(P.blast), '64']];
      case 'recv':
        return [C_CLIENT, ['udp-recv', '64', String(P.recvCycles), String(P.recvSleepMs)]];
      case 'idle':
        return [C_CLIENT, ['idle', String(ports.tcp_idle), String(P.idle)]];
    }
  }
  const script = JS[v.impl];
  const flags = w.kind === 'idle' ? ['--expose-gc'] : [];
  const common = [`--variant=${v.variant}`, `--timeout-ms=${P.timeoutMs - 1000}`];
  switch (w.kind) {
    case 'rtt':
      return [NODE, [...flags, script, w.proto === 'udp' ? 'udp-rtt' : 'tcp-rtt', ...common, `--port=${w.proto === 'udp' ? ports.udp_echo : ports.tcp_echo}`, `--size=${w.size}`, `--n=${n}`, `--warm=${warm}`, ...noTiming]];
    case 'bulk':
      return [NODE, [script, 'tcp-bulk', ...common, `--port=${ports.tcp_sink}`, `--bytes=${P.bulkBytes}`, '--chunk=65536']];
    case 'blast':
      return [NODE, [script, 'udp-blast', ...common, `--port=${ports.udp_sink}`, `--count=${P.blast}`, '--size=64']];
    case 'recv':
      return [NODE, [script, 'udp-recv', ...common, '--size=64', `--cycles=${P.recvCycles}`, `--sleep-ms=${P.recvSleepMs}`]];
    case 'idle':
      return [NODE, [...flags, script, 'idle', ...common, `--port=${ports.tcp_idle}`, `--n=${P.idle}`]];
  }
  throw new Error(`no command for ${w.key}`);
}

const V = (impl, variant, extra = {}) => ({ impl, variant, key: `${impl}/${variant}`, ...extra });
const RTT_SAME = (size) => [V('qsocket', 'event'), V('qsocket', 'blocking'), V('node', 'net'), ...(size === 64 ? [V('node', 'net-onread')] : []), V('c', 'blocking')];
const RTT_SPLIT = (size) => [
  V('qsocket', 'event'),
  V('qsocket', 'blocking'),
  V('qsocket', 'busypoll', { cRef: 'c/busy' }),
  ...(size === 64 ? [V('qsocket', 'busypoll-sobp', { cRef: 'c/busy' })] : []),
  V('node', 'net'),
  V('c', 'blocking'),
  V('c', 'busy'),
];

const WORKLOADS = [
  { key: 'tcp-rtt-64', title: 'TCP ping-pong RTT, 64 B (client and peer share core 0)', kind: 'rtt', proto: 'tcp', size: 64, placement: 'same', nodeRef: 'node/net', cRef: 'c/blocking', variants: RTT_SAME(64) },
  { key: 'tcp-rtt-1k', title: 'TCP ping-pong RTT, 1 KiB (shared core)', kind: 'rtt', proto: 'tcp', size: 1024, placement: 'same', nodeRef: 'node/net', cRef: 'c/blocking', variants: RTT_SAME(1024) },
  { key: 'udp-rtt-64', title: 'UDP ping-pong RTT, 64 B (shared core)', kind: 'rtt', proto: 'udp', size: 64, placement: 'same', nodeRef: 'node/dgram', cRef: 'c/blocking', variants: [V('qsocket', 'event'), V('qsocket', 'blocking'), V('node', 'dgram'), V('c', 'blocking')] },
  { key: 'tcp-rtt-64-split', title: 'TCP ping-pong RTT, 64 B (client on core 0, peer on core 1: busy-poll lives here)', kind: 'rtt', proto: 'tcp', size: 64, placement: 'split', nodeRef: 'node/net', cRef: 'c/blocking', variants: RTT_SPLIT(64) },
  { key: 'tcp-rtt-1k-split', title: 'TCP ping-pong RTT, 1 KiB (split cores)', kind: 'rtt', proto: 'tcp', size: 1024, placement: 'split', nodeRef: 'node/net', cRef: 'c/blocking', variants: RTT_SPLIT(1024) },
  { key: 'tcp-bulk', title: `TCP bulk, 64 KiB writes, ${P.bulkBytes >> 20} MiB to the sink (split cores)`, kind: 'bulk', placement: 'split', nodeRef: 'node/net', cRef: 'c/blocking', variants: [V('qsocket', 'event'), V('qsocket', 'blocking'), V('node', 'net'), V('c', 'blocking')] },
  { key: 'udp-blast', title: `UDP blast, ${P.blast} × 64 B to the C sink (split cores)`, kind: 'blast', placement: 'split', nodeRef: 'node/dgram', cRef: 'c/sendmmsg', variants: [V('qsocket', 'batch'), V('node', 'dgram'), V('c', 'sendmmsg')] },
  { key: 'udp-recv', title: `UDP receive: ${P.recvCycles} bursts (after a warm-up burst) of ${P.recvBurst} × 64 B queued by a C sendmmsg sender (core 1) while the receiver (core 0) sleeps, then drained`, kind: 'recv', placement: 'split', nodeRef: 'node/dgram', cRef: 'c/recvmmsg', variants: [V('qsocket', 'event'), V('node', 'dgram'), V('c', 'recvmmsg')] },
  { key: 'idle', title: `${P.idle} idle TCP connections (split cores)`, kind: 'idle', placement: 'split', nodeRef: 'node/net', cRef: 'c/epoll', variants: [V('qsocket', 'event'), V('node', 'net'), V('c', 'epoll')] },
];

// ---- running one variant -----------------------------------------------------------

async function runVariant(peer, w, v) {
  const where = cpus(w.placement);
  peer.pin(where.peer);
  const [cmd0, args0] = command(w, v, peer.ports);
  const [cmd, args] = pinned(where.client, cmd0, args0);
  if (w.kind === 'blast') {
    await peer.cmd('reset');
    const r = await runChild(cmd, args);
    if (r.error) return r;
    const s = await peer.settledStats();
    const span = s.udp_sink_span_ns / 1e9;
    r.received = s.udp_sink_count;
    r.recv_rate = span > 0 ? Math.round(s.udp_sink_count / span) : 0;
    r.loss_pct = Math.round((1 - s.udp_sink_count / r.sent) * 10000) / 100;
    return r;
  }
  if (w.kind === 'recv') {
    // The receiver prints its port, then {"sleep":k} as each cycle's sleep
    // begins; for each, the C sender queues a burst and an end marker, which
    // the receiver drains when it wakes.
    let sender = null;
    let senderDone = Promise.resolve(null);
    const bursts = [];
    const receiver = runChild(cmd, args, {
      onLine: (obj) => {
        if (obj && obj.port && sender === null) {
          const [fc, fa] = pinned(where.helper, C_CLIENT, ['udp-burst', String(obj.port), String(P.recvBurst), '64']);
          senderDone = runChild(fc, fa, {
            keepStdin: true,
            onSpawn: (child) => (sender = child),
            onLine: (b) => {
              if (b && b.burst) bursts.push(b.us);
            },
          });
        }
        if (obj && obj.sleep && sender) sender.stdin.write('burst\n');
      },
    });
    const r = await receiver;
    if (sender) sender.stdin.end();
    await senderDone;
    if (r.error) return r;
    r.sent = Math.max(0, bursts.length - 1) * P.recvBurst; // the first burst is the receiver's warm-up
    r.loss_pct = r.sent > 0 ? Math.round((1 - r.received / r.sent) * 10000) / 100 : NaN;
    r.burst_us_max = Math.max(...bursts);
    if (r.burst_us_max > P.recvSleepMs * 800) r.warning = `a burst took ${Math.round(r.burst_us_max / 1000)} ms, near the receiver's ${P.recvSleepMs} ms sleep: the sender may be in the measurement`;
    return r;
  }
  if (w.kind === 'idle') {
    await peer.cmd('reset');
    return runChild(cmd, args, {
      keepStdin: true,
      onLine: (obj, child) => {
        if (obj && obj.workload === 'idle') {
          peer.cmd('stats').then((s) => {
            obj.peer_holding = s.idle_now;
            child.stdin.end();
          });
        }
      },
    });
  }
  return runChild(cmd, args);
}

// ---- statistics and the report --------------------------------------------------

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const METRICS = {
  rtt: [
    { key: 'p50', label: 'p50 µs', ratio: 'lower' },
    { key: 'p99', label: 'p99 µs' },
    { key: 'p999', label: 'p99.9 µs', ratio: 'lower' },
    { key: 'cpu_us_per_msg', label: 'CPU µs/msg', ratio: 'lower' },
    { key: 'gcs', label: 'GCs', plain: true },
  ],
  bulk: [
    { key: 'mbps', label: 'MB/s', ratio: 'higher' },
    { key: 'cpu_us_per_mb', label: 'CPU µs/MB', ratio: 'lower' },
  ],
  blast: [
    { key: 'recv_rate', label: 'received dgrams/s', ratio: 'higher' },
    { key: 'loss_pct', label: 'loss %' },
    { key: 'send_rate', label: 'sent dgrams/s' },
    { key: 'cpu_us_per_msg', label: 'CPU µs/dgram', ratio: 'lower' },
  ],
  recv: [
    { key: 'recv_rate', label: 'received dgrams/s', ratio: 'higher' },
    { key: 'loss_pct', label: 'loss %' },
    { key: 'cpu_us_per_msg', label: 'CPU µs/dgram', ratio: 'lower' },
  ],
  idle: [
    { key: 'establish_ms', label: 'establish ms', ratio: 'lower' },
    { key: 'rss_per_conn_bytes', label: 'RSS B/conn', ratio: 'lower', noCRatio: true },
    { key: 'heap_per_conn_bytes', label: 'JS heap B/conn' },
  ],
};

function metricOf(r, key) {
  if (!r || r.error) return NaN;
  if (key === 'gcs') return (r.gc_minor ?? NaN) + (r.gc_major ?? 0);
  const x = r[key];
  return typeof x === 'number' ? x : NaN;
}

function fmt(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 100000) return Math.round(x).toLocaleString('en-US');
  if (a >= 1000) return Math.round(x).toString();
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
const fmtRatio = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** A run is disturbed when other work used more than this share of all cores while it ran. */
const DISTURBED_PCT = 10;
const disturbed = (r) => r && r.others_pct > DISTURBED_PCT;

/**
 * Summary of one workload: per variant, per metric, the median and min–max;
 * per qsocket variant, paired per-round ratios. Runs that other work
 * disturbed are left out when at least 3 undisturbed ones remain (the raw
 * JSON keeps them all); otherwise every run counts and the row is flagged.
 */
function summarize(w, rounds) {
  const out = { key: w.key, variants: {} };
  for (const v of w.variants) {
    const all = rounds.map((r) => r[w.key]?.[v.key]).filter(Boolean);
    const clean = all.filter((r) => !disturbed(r));
    const rs = clean.length >= 3 || clean.length === all.length ? clean : all;
    const ok = rs.filter((r) => !r.error);
    const s = {
      runs: rs.length,
      left_out: all.length - rs.length,
      flagged: rs.some(disturbed),
      others_pct: median(all.map((r) => r.others_pct)),
      failed: rs.length - ok.length,
      errors: rs.filter((r) => r.error).map((r) => r.error),
      metrics: {},
      ratios: {},
    };
    for (const m of METRICS[w.kind]) {
      const xs = ok.map((r) => metricOf(r, m.key)).filter(Number.isFinite);
      s.metrics[m.key] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: xs };
    }
    if (v.impl === 'qsocket') {
      for (const [refName, refKey] of [['node', w.nodeRef], ['c', v.cRef || w.cRef]]) {
        s.ratios[refName] = { ref: refKey };
        for (const m of METRICS[w.kind].filter((m) => m.ratio)) {
          if (refName === 'c' && m.noCRatio) continue;
          // Paired by round: each round's ratio, then the median of those
          // (rounds where either side was disturbed are left out as above).
          const pairs = rounds.map((r) => [r[w.key]?.[v.key], r[w.key]?.[refKey]]).filter(([a, b]) => a && b);
          const cleanPairs = pairs.filter(([a, b]) => !disturbed(a) && !disturbed(b));
          const use = cleanPairs.length >= 3 || cleanPairs.length === pairs.length ? cleanPairs : pairs;
          const xs = use.map(([a, b]) => metricOf(a, m.key) / metricOf(b, m.key)).filter((x) => Number.isFinite(x));
          s.ratios[refName][m.key] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: xs };
        }
      }
    }
    out.variants[v.key] = s;
  }
  return out;
}

function cell(m) {
  if (!m || !Number.isFinite(m.median)) return '–';
  if (m.values.length < 2 || m.min === m.max) return fmt(m.median);
  return `${fmt(m.median)} <sub>${fmt(m.min)}–${fmt(m.max)}</sub>`;
}

function ratioCell(rs, keys) {
  if (!rs) return '';
  return keys.map((k) => fmtRatio(rs[k]?.median)).join(' · ');
}

function table(w, sum) {
  const ms = METRICS[w.kind];
  const ratioKeys = ms.filter((m) => m.ratio).map((m) => m.key);
  const ratioLabels = ms.filter((m) => m.ratio).map((m) => m.label.replace(/ (µs|ms|B)(\/.*)?$/, '').replace(' dgrams/s', ''));
  const cRatioKeys = ms.filter((m) => m.ratio && !m.noCRatio).map((m) => m.key);
  const cRatioLabels = ms.filter((m) => m.ratio && !m.noCRatio).map((m) => m.label.replace(/ (µs|ms|B)(\/.*)?$/, '').replace(' dgrams/s', ''));
  const lines = [];
  lines.push(`### ${w.title}`);
  lines.push('');
  lines.push(`| variant | ${ms.map((m) => m.label).join(' | ')} | × ${w.nodeRef} (${ratioLabels.join(' · ')}) | × C (${cRatioLabels.join(' · ')}) | other work % |`);
  lines.push(`|---|${ms.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const v of w.variants) {
    const s = sum.variants[v.key];
    const name = v.key + (s.failed ? ` (${s.failed}/${s.runs} failed)` : '');
    const cRef = v.impl === 'qsocket' && (v.cRef || w.cRef) !== w.cRef ? ` vs ${v.cRef}` : '';
    const other = `${fmt(s.others_pct)}${s.left_out ? ` (${s.left_out} run${s.left_out > 1 ? 's' : ''} left out)` : ''}${s.flagged ? ' ⚠' : ''}`;
    lines.push(
      `| ${name} | ${ms.map((m) => cell(s.metrics[m.key])).join(' | ')} | ${ratioCell(s.ratios.node, ratioKeys)} | ${ratioCell(s.ratios.c, cRatioKeys)}${cRef} | ${other} |`,
    );
  }
  const errs = w.variants.flatMap((v) => sum.variants[v.key].errors.map((e) => `${v.key}: ${e}`));
  if (errs.length) {
    lines.push('');
    for (const e of [...new Set(errs)].slice(0, 6)) lines.push(`- failed run: ${e.slice(0, 300)}`);
  }
  lines.push('');
  return lines.join('\n');
}

/** Issue 7's targets against what this run measured. */
function targets(summary, counters) {
  const r = (wk, vk, ref, metric) => summary[wk]?.variants[vk]?.ratios[ref]?.[metric]?.median;
  const rows = [];
  const check = (target, value, ok, note = '') => rows.push({ target, value, met: Number.isFinite(value) ? (ok(value) ? 'met' : 'not met') : 'no data', note });
  const le = (lim) => (x) => x <= lim;
  const ge = (lim) => (x) => x >= lim;
  check('TCP RTT event-driven p50 ≤ 0.85× node:net (64 B, shared core)', r('tcp-rtt-64', 'qsocket/event', 'node', 'p50'), le(0.85), `1 KiB: ${fmtRatio(r('tcp-rtt-1k', 'qsocket/event', 'node', 'p50'))}; split cores: ${fmtRatio(r('tcp-rtt-64-split', 'qsocket/event', 'node', 'p50'))}`);
  check('TCP RTT event-driven p99.9 ≤ 0.3× node:net (64 B, shared core)', r('tcp-rtt-64', 'qsocket/event', 'node', 'p999'), le(0.3), `1 KiB: ${fmtRatio(r('tcp-rtt-1k', 'qsocket/event', 'node', 'p999'))}; split cores: ${fmtRatio(r('tcp-rtt-64-split', 'qsocket/event', 'node', 'p999'))}`);
  check('TCP RTT blocking p50 ≤ 1.05× C blocking (64 B, shared core)', r('tcp-rtt-64', 'qsocket/blocking', 'c', 'p50'), le(1.05), `1 KiB: ${fmtRatio(r('tcp-rtt-1k', 'qsocket/blocking', 'c', 'p50'))}; split cores: ${fmtRatio(r('tcp-rtt-64-split', 'qsocket/blocking', 'c', 'p50'))}`);
  check('Busy-poll p50 ≤ 1.1× C busy-poll (64 B, split cores)', r('tcp-rtt-64-split', 'qsocket/busypoll', 'c', 'p50'), le(1.1), `with SO_BUSY_POLL: ${fmtRatio(r('tcp-rtt-64-split', 'qsocket/busypoll-sobp', 'c', 'p50'))}; 1 KiB: ${fmtRatio(r('tcp-rtt-1k-split', 'qsocket/busypoll', 'c', 'p50'))}`);
  check('UDP RTT p50 ≤ 0.75× dgram (event-driven)', r('udp-rtt-64', 'qsocket/event', 'node', 'p50'), le(0.75), `blocking: ${fmtRatio(r('udp-rtt-64', 'qsocket/blocking', 'node', 'p50'))}`);
  check('TCP bulk ≥ 1.0× node:net (event-driven)', r('tcp-bulk', 'qsocket/event', 'node', 'mbps'), ge(1.0), `blocking: ${fmtRatio(r('tcp-bulk', 'qsocket/blocking', 'node', 'mbps'))}`);
  check('TCP bulk ≥ 0.95× C (event-driven)', r('tcp-bulk', 'qsocket/event', 'c', 'mbps'), ge(0.95), `blocking: ${fmtRatio(r('tcp-bulk', 'qsocket/blocking', 'c', 'mbps'))}`);
  check('UDP blast ≥ 2× dgram, send side (datagrams/s at the sink)', r('udp-blast', 'qsocket/batch', 'node', 'recv_rate'), ge(2));
  check('UDP blast ≥ 2× dgram, receive side (datagrams/s received)', r('udp-recv', 'qsocket/event', 'node', 'recv_rate'), ge(2), `qsocket vs C recvmmsg: ${fmtRatio(r('udp-recv', 'qsocket/event', 'c', 'recv_rate'))}`);
  check('Idle connections: RSS per connection ≤ 0.5× node:net', r('idle', 'qsocket/event', 'node', 'rss_per_conn_bytes'), le(0.5));
  check('Idle connections: time to establish ≤ 0.6× node:net', r('idle', 'qsocket/event', 'node', 'establish_ms'), le(0.6));
  if (counters) {
    const c = (vk, k) => counters[vk]?.[k];
    check('Syscalls per event-driven round trip ≤ 3 (±0.05 for background threads)', c('qsocket/event', 'syscalls_per_rt'), le(3.05), `node:net ${fmt(c('node/net', 'syscalls_per_rt'))}, C ${fmt(c('c/blocking', 'syscalls_per_rt'))}`);
    check('Syscalls per blocking round trip ≤ 2 (±0.05)', c('qsocket/blocking', 'syscalls_per_rt'), le(2.05));
    check('Instructions per event-driven round trip ≤ 3,500', c('qsocket/event', 'instructions_per_rt'), le(3500), `node:net ${fmt(c('node/net', 'instructions_per_rt'))}, C ${fmt(c('c/blocking', 'instructions_per_rt'))}`);
    check('Instructions per blocking round trip ≤ 1,500', c('qsocket/blocking', 'instructions_per_rt'), le(1500));
  }
  const lines = ['| issue 7 target | measured | | other measurements |', '|---|---:|---|---|'];
  for (const x of rows) lines.push(`| ${x.target} | ${Number.isFinite(x.value) ? (x.value >= 100 ? fmt(x.value) : fmtRatio(x.value)) : '–'} | ${x.met} | ${x.note} |`);
  return { rows, markdown: lines.join('\n') + '\n' };
}

// ---- machine facts and build ------------------------------------------------------

function machine() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [])[1] || os.cpus()[0]?.model || 'unknown';
  const git = (args) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  let cc = '';
  try {
    cc = execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    /* none */
  }
  return {
    nproc: os.cpus().length,
    cpu: model,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    cc,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--', 'lib', 'native']) !== '',
    taskset: hasTaskset,
  };
}

function build() {
  if (opts.build) {
    log('building dist/ (npm run build:ts) ...');
    const r = spawnSync('npm', ['run', 'build:ts'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('npm run build:ts failed');
  }
  // The addon is built by `npm install` / `npm run build:native`, not here (it takes minutes): say when it looks stale.
  const addon = path.join(ROOT, 'build', 'Release', 'qsocket.node');
  if (!fs.existsSync(addon)) {
    log('warning: build/Release/qsocket.node is missing: run `npm run build:native` (the qsocket clients will fail)');
  } else {
    const built = fs.statSync(addon).mtimeMs;
    const src = fs.readdirSync(path.join(ROOT, 'native')).map((f) => fs.statSync(path.join(ROOT, 'native', f)).mtimeMs);
    if (Math.max(...src) > built) log('warning: native/ is newer than build/Release/qsocket.node: run `npm run build:native` for current numbers');
  }
  fs.mkdirSync(BUILD, { recursive: true });
  for (const name of ['peer', 'client']) {
    const r = spawnSync('cc', ['-O2', '-o', path.join(BUILD, name), path.join(BENCH, `${name}.c`)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`cc ${name}.c failed`);
  }
}

// ---- counters mode (perf + callgrind) ------------------------------------------------

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

async function counters(peer) {
  const big = opts.quick ? 6000 : 15000;
  const small = opts.quick ? 2000 : 5000;
  const w = WORKLOADS.find((x) => x.key === 'tcp-rtt-64');
  const variants = [V('qsocket', 'event'), V('qsocket', 'blocking'), V('node', 'net'), V('node', 'net-onread'), V('c', 'blocking')].filter((v) => !opts.only || opts.only.test(`${w.key}/${v.key}`));
  const where = cpus('same');
  peer.pin(where.peer);
  const out = {};
  const perfOk = which('perf');
  const vgOk = which('valgrind');
  if (!perfOk) log('perf not found: syscall counts skipped. Install it with `apt-get install linux-perf` (Debian package linux-perf).');
  if (!vgOk) log('valgrind not found: instruction counts skipped (`apt-get install valgrind`).');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qsocket-bench-'));
  try {
    for (const v of variants) {
      const res = { runs: {} };
      out[v.key] = res;
      for (const n of [big, small]) {
        const [cmd, args] = command(w, v, peer.ports, { n, warm: 0, noTiming: true });
        if (perfOk) {
          const vals = [];
          for (let rep = 0; rep < 3; rep++) {
            const file = path.join(tmp, `perf-${v.impl}-${v.variant}-${n}-${rep}.txt`);
            const [pc, pa] = pinned(where.client, 'perf', ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter', '-o', file, '--', cmd, ...args]);
            const r = await runChild(pc, pa);
            const txt = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
            const m = /^(\d+),[^,]*,raw_syscalls:sys_enter/m.exec(txt);
            if (r.error || !m) {
              log(`  perf ${v.key} n=${n}: ${r.error || 'no count'} ${txt.trim().split('\n').slice(-1)[0] || ''}`);
              break;
            }
            vals.push(Number(m[1]));
          }
          res.runs[`syscalls_${n}`] = vals;
        }
        if (vgOk) {
          const file = path.join(tmp, `cg-${v.impl}-${v.variant}-${n}.out`);
          const logFile = path.join(tmp, `cg-${v.impl}-${v.variant}-${n}.log`);
          const [vc, va] = pinned(where.client, 'valgrind', ['--tool=callgrind', `--callgrind-out-file=${file}`, `--log-file=${logFile}`, cmd, ...args]);
          const t0 = Date.now();
          const r = await runChild(vc, va, { timeoutMs: 900000 });
          const txt = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
          const m = /Collected\s*:\s*(\d+)/.exec(txt);
          if (r.error || !m) log(`  callgrind ${v.key} n=${n}: ${r.error || 'no count'}`);
          else res.runs[`instructions_${n}`] = Number(m[1]);
          log(`  callgrind ${v.key} n=${n}: ${m ? Number(m[1]).toLocaleString('en-US') : '?'} instructions (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
      const sb = median(res.runs[`syscalls_${big}`] || []);
      const ss = median(res.runs[`syscalls_${small}`] || []);
      res.syscalls_per_rt = (sb - ss) / (big - small);
      res.instructions_per_rt = (res.runs[`instructions_${big}`] - res.runs[`instructions_${small}`]) / (big - small);
      log(`${v.key}: ${fmt(res.syscalls_per_rt)} syscalls, ${fmt(res.instructions_per_rt)} instructions per round trip`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { big, small, variants: out };
}

function countersTable(c) {
  const lines = [
    `### Per round trip, TCP 64 B, (${c.big.toLocaleString('en-US')}-round run − ${c.small.toLocaleString('en-US')}-round run) / ${(c.big - c.small).toLocaleString('en-US')}, no timestamps taken`,
    '',
    '| variant | syscalls (perf raw_syscalls:sys_enter, median of 3) | user-space instructions (callgrind) |',
    '|---|---:|---:|',
  ];
  for (const [k, v] of Object.entries(c.variants)) lines.push(`| ${k} | ${fmt(v.syscalls_per_rt)} | ${fmt(v.instructions_per_rt)} |`);
  return lines.join('\n') + '\n';
}

// ---- main ---------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const facts = machine();
  build();
  const peer = new Peer(PEER);
  const startCpu = cpus('split').peer;
  const ports = await peer.start(startCpu);
  log(`peer: ${JSON.stringify(ports)}`);
  const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
  fs.mkdirSync(RESULTS, { recursive: true });
  let report = '';
  const header =
    `Machine: ${facts.nproc} cores, ${facts.cpu}; node ${facts.node}; ${facts.kernel}; ${facts.cc}\n` +
    `qsocket ${facts.commit}${facts.dirty ? ' (lib/ or native/ modified)' : ''}; ${opts.quick ? 'quick' : 'full'} run, ${opts.rounds} rounds; placement ${opts.placement}${hasTaskset ? '' : ' (no taskset: unpinned)'}\n`;

  if (opts.counters) {
    const c = await counters(peer);
    peer.stop();
    const t = targets({}, c.variants);
    const cheader = header.replace(/; (quick|full) run, .*$/m, `; counters mode${opts.quick ? ' (quick counts)' : ''}`);
    report = `## qsocket benchmark counters — ${date}\n\n${cheader}\n${countersTable(c)}\n${t.markdown.split('\n').filter((l, i) => i < 2 || /Syscalls|Instructions/.test(l)).join('\n')}\n`;
    const file = path.join(RESULTS, `${date}-counters.json`);
    fs.writeFileSync(file, JSON.stringify({ mode: 'counters', date, machine: facts, options: opts, counters: c, report }, null, 1));
    process.stdout.write(report);
    log(`\nraw results: ${path.relative(ROOT, file)}; took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return;
  }

  // --quick leaves out the 1 KiB split-core table (the 64 B one carries the busy-poll comparison).
  const workloads = WORKLOADS.filter((w) => !(opts.quick && w.key === 'tcp-rtt-1k-split')).map((w) => ({ ...w, variants: w.variants.filter((v) => !opts.only || opts.only.test(`${w.key}/${v.key}`)) })).filter((w) => w.variants.length > 0);
  const rounds = [];
  const loads = [];
  let waitBudgetMs = opts.wait ? P.quietWaitMs : 0;
  /** Waits (from the run's budget, 60 s a time at most) until other work uses under DISTURBED_PCT of the machine. */
  const waitForQuiet = async (tag, load) => {
    const until = Date.now() + Math.min(60000, waitBudgetMs);
    const t0 = Date.now();
    while (load > DISTURBED_PCT && Date.now() < until) {
      log(`${tag} other work is using ${load}% of the machine: waiting (${Math.round(waitBudgetMs / 1000 - (Date.now() - t0) / 1000)} s of waiting left in this run)`);
      await sleep(2000);
      load = await othersLoad();
    }
    waitBudgetMs = Math.max(0, waitBudgetMs - (Date.now() - t0));
    return load;
  };
  const prints = [];
  for (let round = 0; round < opts.rounds; round++) {
    const res = {};
    rounds.push(res);
    prints.push(codeFingerprint());
    if (round > 0 && prints[round] !== prints[round - 1]) log(`[${round + 1}/${opts.rounds}] warning: dist/ or the addon changed since the previous round`);
    let load = await othersLoad();
    if (load > DISTURBED_PCT) load = await waitForQuiet(`[${round + 1}/${opts.rounds}]`, load);
    loads.push(load);
    log(`[${round + 1}/${opts.rounds}] other work on the machine before the round: ${load}% of all cores`);
    for (const w of workloads) {
      res[w.key] = {};
      for (const v of w.variants) {
        const measure = async () => {
          const t0 = Date.now();
          const before = othersTicks();
          const x = await runVariant(peer, w, v);
          x.ms = Date.now() - t0;
          x.others_pct = othersPct(before, othersTicks(), x.ms);
          return x;
        };
        let r = await measure();
        // A run that other work disturbed is measured again once that work is
        // gone (full runs, within the waiting budget); the raw JSON keeps both.
        if (disturbed(r) && waitBudgetMs > 0) {
          log(`[${round + 1}/${opts.rounds}] ${w.key} ${v.key}: other work used ${r.others_pct}% meanwhile; measuring again`);
          await waitForQuiet(`[${round + 1}/${opts.rounds}]`, r.others_pct);
          const again = await measure();
          again.first_attempt = r;
          r = again;
        }
        res[w.key][v.key] = r;
        const brief = r.error
          ? `ERROR ${r.error}`
          : METRICS[w.kind]
              .map((m) => `${m.label} ${fmt(metricOf(r, m.key))}`)
              .join(', ');
        log(`[${round + 1}/${opts.rounds}] ${w.key} ${v.key}: ${brief} (${(r.ms / 1000).toFixed(1)} s; other work ${r.others_pct}%)`);
      }
    }
  }
  peer.stop();

  const summary = {};
  for (const w of workloads) summary[w.key] = summarize(w, rounds);
  const t = targets(summary, null);
  const took = (Date.now() - started) / 1000;
  prints.push(codeFingerprint());
  const changed = prints.some((p) => p !== prints[0]);
  const busy = loads.filter((x) => x > 10).length;
  const loadLine =
    `Other work on the machine, sampled for 0.3 s before each round (% of all cores): ${loads.join(', ')}` +
    (busy ? ` — **${busy} of ${loads.length} rounds started next to other work.**` : '') +
    '\n' +
    (changed ? `**dist/ or the addon was rebuilt during this run (fingerprints per round, then at the end: ${prints.join(', ')}): rounds measured different code.**\n` : '');
  report =
    `## qsocket benchmark — ${date}\n\n${header}${loadLine}Took ${took.toFixed(0)} s. Each cell: median across rounds, <sub>min–max</sub>. ` +
    `Ratios: the median of per-round ratios (each round's variant over the same round's reference), so drift between rounds cancels; ` +
    `for latency, CPU and time lower is better, for rates higher is better. ` +
    `"Other work %": the CPU that processes not of this run used while the variant ran (median across rounds, % of all cores); ` +
    `runs with more than ${DISTURBED_PCT}% are left out of medians and ratios when 3 undisturbed ones remain, else kept and marked ⚠.\n\n` +
    workloads.map((w) => table(w, summary[w.key])).join('\n') +
    `\n### Issue 7 targets\n\n${t.markdown}`;
  const file = path.join(RESULTS, `${date}.json`);
  fs.writeFileSync(file, JSON.stringify({ mode: 'wall', date, machine: facts, options: opts, params: P, workloads: workloads.map((w) => ({ key: w.key, title: w.title, placement: cpus(w.placement).name, variants: w.variants.map((v) => v.key) })), rounds, othersLoadPct: loads, codeFingerprints: prints, summary, targets: t.rows, report }, null, 1));
  fs.writeFileSync(file.replace(/\.json$/, '.md'), report);
  process.stdout.write('\n' + report);
  log(`\nraw results: ${path.relative(ROOT, file)} (report: ${path.relative(ROOT, file.replace(/\.json$/, '.md'))}); took ${took.toFixed(1)} s`);
}

main().catch((e) => {
  log(`bench: ${e.stack || e}`);
  killAll();
  process.exit(1);
});
