'use strict';
const v8 = require('v8');
// Shared by the JavaScript bench clients: argument parsing, latency
// statistics (the same nearest-rank rule as client.c), CPU and GC accounting,
// and the one JSON line each client prints.
const { PerformanceObserver, performance } = require('perf_hooks');

/** `--key=value` and `--flag` arguments after the workload name. */
function parseArgs(argv) {
  const out = { _: [] };
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
    else out._.push(a);
  }
  return out;
}

function num(args, name, dflt) {
  const v = args[name];
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`--${name} is required`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number`);
  return n;
}

/** Nearest-rank percentile of a sorted array. */
function pct(sorted, n, p) {
  let k = Math.ceil(p * n - 1e-9) - 1;
  if (k < 0) k = 0;
  if (k >= n) k = n - 1;
  return sorted[k];
}

function latencyStats(lat, n) {
  const s = lat.subarray(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    p50: r3(pct(s, n, 0.5)),
    p99: r3(pct(s, n, 0.99)),
    p999: r3(pct(s, n, 0.999)),
    mean: r3(sum / n),
    min: r3(s[0]),
    max: r3(s[n - 1]),
  };
}

/** CPU time of the whole process (all threads), µs. */
function cpuUs() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Counts garbage collections (and their total pause) between start() and
 * stop(). The observer allocates only when a GC happens, so it does not
 * cause the collections it counts.
 */
function gcCounter() {
  let on = false;
  const c = { minor: 0, major: 0, pauseMs: 0 };
  const obs = new PerformanceObserver((list) => {
    if (!on) return;
    for (const e of list.getEntries()) {
      const kind = e.detail ? e.detail.kind : e.kind;
      // 1 = minor (scavenge), 2 = major (mark-sweep-compact), 4 = incremental, 8 = weak callbacks
      if (kind === 1) c.minor++;
      else c.major++;
      c.pauseMs += e.duration;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    start() {
      on = true;
    },
    stop() {
      on = false;
      obs.disconnect();
      return { gc_minor: c.minor, gc_major: c.major, gc_pause_ms: Math.round(c.pauseMs * 1000) / 1000 };
    },
  };
}

/** Prints one JSON result line and exits (pipes are synchronous on Linux, so nothing is lost). */
function finish(result, code = 0) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
}

function fail(impl, workload, variant, message) {
  finish({ impl, workload, variant, error: String(message) }, 1);
}

/** A watchdog: the run.js time-out kills the process anyway, but a client stuck in a blocking loop says why. */
function watchdog(ms, impl, workload, variant) {
  const t = setTimeout(() => fail(impl, workload, variant, `timed out after ${ms} ms`), ms);
  t.unref();
  return t;
}

/** Waits for stdin to end (run.js closes it when it has read the peer's counters). */
function holdUntilStdinEnds(then) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', then);
  process.stdin.on('close', then);
  process.stdin.resume();
}

const now = () => performance.now() * 1000; // µs, as a double (no allocation, unlike hrtime.bigint)

/** Resident and V8 heap sizes now, after a full GC (needs --expose-gc). */
function memory() {
  global.gc();
  const spaces = {};
  for (const sp of v8.getHeapSpaceStatistics()) spaces[sp.space_name] = sp.physical_space_size;
  const heap = v8.getHeapStatistics();
  return { rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed, physical: heap.total_physical_size, spaces };
}

/**
 * The idle-connections workload, the same for every JavaScript client: warm
 * the code paths with `warmN` connections, reset them, then open `n` at once
 * and report the time until all are connected and the memory per connection
 * (RSS, the live JS heap, and where the RSS went: V8's new and old space, and
 * outside the V8 heap). `connect(onConnected, onFailed)` starts one
 * connection and returns its socket; `reset(list)` closes a list of them.
 */
function idleWorkload({ impl, variant, n, warmN, connect, reset }) {
  const open = (count, done) => {
    const list = new Array(count);
    let settled = 0;
    let failed = 0;
    const onConnected = () => {
      if (++settled === count) done(list, failed);
    };
    const onFailed = () => {
      failed++;
      if (++settled === count) done(list, failed);
    };
    for (let i = 0; i < count; i++) list[i] = connect(onConnected, onFailed);
  };
  open(warmN, (warmList) => {
    reset(warmList);
    setTimeout(() => {
      const m0 = memory();
      const t0 = now();
      open(n, (list, failed) => {
        const est = now() - t0;
        setTimeout(() => {
          const m1 = memory();
          const per = (a, b) => Math.round(((b - a) / n) * 10) / 10;
          process.stdout.write(
            JSON.stringify({
              impl,
              workload: 'idle',
              variant,
              n,
              connected: n - failed,
              failed,
              establish_ms: Math.round(est / 10) / 100,
              rss_per_conn_bytes: per(m0.rss, m1.rss),
              heap_per_conn_bytes: per(m0.heapUsed, m1.heapUsed),
              new_space_per_conn_bytes: per(m0.spaces.new_space ?? 0, m1.spaces.new_space ?? 0),
              old_space_per_conn_bytes: per(m0.spaces.old_space ?? 0, m1.spaces.old_space ?? 0),
              outside_heap_per_conn_bytes: per(m0.rss - m0.physical, m1.rss - m1.physical),
              rss_before_kb: Math.round(m0.rss / 1024),
              rss_after_kb: Math.round(m1.rss / 1024),
            }) + '\n',
          );
          holdUntilStdinEnds(() => {
            reset(list);
            setTimeout(() => process.exit(0), 50);
          });
        }, 200);
      });
    }, 100);
  });
}

module.exports = { parseArgs, num, latencyStats, cpuUs, gcCounter, finish, fail, watchdog, holdUntilStdinEnds, now, idleWorkload };
