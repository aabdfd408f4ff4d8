'use strict';
// node core bench clients (node:net, node:dgram): the same work as qsocket.js.
//   node node.js tcp-rtt   --variant=net|net-onread --port --size --n --warm [--no-timing]
//   node node.js udp-rtt   --variant=dgram --port --size --n --warm [--no-timing]
//   node node.js tcp-bulk  --variant=net --port --bytes [--chunk=65536]
//   node node.js udp-blast --variant=dgram --port --count --size
//   node node.js udp-recv  --variant=dgram --size [--cycles=5] [--sleep-ms=250]
//   node node.js idle      --variant=net --port --n   (needs --expose-gc)
const net = require('net');
const dgram = require('dgram');
const { parseArgs, num, latencyStats, cpuUs, gcCounter, finish, fail, watchdog, now, idleWorkload } = require('./common');

const IMPL = 'node';
const args = parseArgs(process.argv.slice(2));
const workload = args._[0];
const variant = String(args.variant || (workload.startsWith('udp') ? 'dgram' : 'net'));
const HOST = '127.0.0.1';
const RCVBUF = 4 << 20;
const die = (m) => fail(IMPL, workload, variant, m);
watchdog(num(args, 'timeout-ms', 60000), IMPL, workload, variant);

// ---- ping-pong -------------------------------------------------------------

function rtt(udp) {
  const port = num(args, 'port');
  const size = num(args, 'size', 64);
  const n = num(args, 'n');
  const warm = num(args, 'warm', 1000);
  const timing = !args['no-timing'];
  const msg = Buffer.alloc(size, 0x78);
  const lat = new Float64Array(Math.max(n, 1));
  const total = warm + n;
  const gc = gcCounter();
  let cpu0 = 0;
  let w0 = 0;
  let i = 0;
  let t0 = 0;
  let sock;

  const report = () => {
    const cpu = cpuUs() - cpu0;
    const wall = now() - w0;
    const g = gc.stop();
    finish({
      impl: IMPL,
      workload: udp ? 'udp-rtt' : 'tcp-rtt',
      variant,
      size,
      n,
      ...(timing ? latencyStats(lat, n) : {}),
      cpu_us_per_msg: Math.round((cpu / n) * 1000) / 1000,
      wall_s: Math.round(wall / 100) / 10000,
      ...g,
    });
  };
  const send = () => {
    if (i === warm) {
      cpu0 = cpuUs();
      w0 = now();
      gc.start();
    }
    if (timing) t0 = now();
    if (udp) sock.send(msg);
    else sock.write(msg);
  };
  const arrived = () => {
    if (timing && i >= warm) lat[i - warm] = now() - t0;
    if (++i === total) report();
    else send();
  };

  if (udp) {
    if (variant !== 'dgram') die(`unknown variant ${variant}`);
    // Connected, dgram's fastest path (no address lookup per send).
    sock = dgram.createSocket('udp4');
    sock.on('error', (e) => die(e.message));
    sock.on('message', arrived);
    sock.connect(port, HOST, send);
    return;
  }

  let got = 0;
  const onData = (nread) => {
    got += nread;
    if (got < size) return;
    got -= size;
    arrived();
  };
  if (variant === 'net') {
    sock = net.connect({ port, host: HOST });
    sock.on('data', (chunk) => onData(chunk.length));
  } else if (variant === 'net-onread') {
    // node's allocation-free read path: one preallocated buffer for every read.
    sock = net.connect({ port, host: HOST, onread: { buffer: Buffer.alloc(65536), callback: (nread) => onData(nread) } });
  } else {
    die(`unknown variant ${variant}`);
  }
  sock.setNoDelay(true);
  sock.on('error', (e) => die(e.message));
  sock.on('connect', send);
}

// ---- TCP bulk --------------------------------------------------------------

function bulk() {
  if (variant !== 'net') die(`unknown variant ${variant}`);
  const port = num(args, 'port');
  const bytes = num(args, 'bytes');
  const chunkSize = num(args, 'chunk', 65536);
  const chunk = Buffer.alloc(chunkSize, 0x62);
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(bytes));
  let queued = 0;
  let cpu0 = 0;
  let w0 = 0;
  const sock = net.connect({ port, host: HOST });
  sock.on('error', (e) => die(e.message));
  const pump = () => {
    while (queued < bytes) {
      const want = Math.min(chunkSize, bytes - queued);
      queued += want;
      if (!sock.write(want === chunkSize ? chunk : chunk.subarray(0, want))) return; // wait for 'drain'
    }
  };
  sock.on('drain', pump);
  sock.on('data', () => {
    const wall = now() - w0;
    const cpu = cpuUs() - cpu0;
    sock.destroy();
    finish({
      impl: IMPL,
      workload: 'tcp-bulk',
      variant,
      bytes,
      chunk: chunkSize,
      mbps: Math.round((bytes / wall) * 10) / 10,
      cpu_us_per_mb: Math.round((cpu / (bytes / 1e6)) * 100) / 100,
      wall_s: Math.round(wall / 100) / 10000,
    });
  });
  sock.on('connect', () => {
    cpu0 = cpuUs();
    w0 = now();
    sock.write(header);
    pump();
  });
}

// ---- UDP blast (send side) -------------------------------------------------

function blast() {
  if (variant !== 'dgram') die(`unknown variant ${variant}`);
  const port = num(args, 'port');
  const count = num(args, 'count');
  const size = num(args, 'size', 64);
  const payload = Buffer.alloc(size, 0x78);
  payload[0] = 0x44; // 'D'
  const sock = dgram.createSocket('udp4');
  sock.on('error', (e) => die(e.message));
  sock.bind(0, HOST, () => {
    sock.connect(port, HOST, () => {
      let sent = 0;
      let yields = 0;
      const cpu0 = cpuUs();
      const w0 = now();
      // One send() per datagram (dgram has no batch call; an array of buffers
      // is one datagram). Sends that the kernel does not take at once queue
      // in libuv: let the loop drain them before going on.
      const step = () => {
        while (sent < count) {
          for (let k = 0; k < 64 && sent < count; k++, sent++) sock.send(payload);
          if (sock.getSendQueueCount() > 0) {
            yields++;
            setImmediate(step);
            return;
          }
        }
        if (sock.getSendQueueCount() > 0) {
          setImmediate(step);
          return;
        }
        const wall = now() - w0;
        const cpu = cpuUs() - cpu0;
        finish({
          impl: IMPL,
          workload: 'udp-blast',
          variant,
          sent,
          size,
          send_rate: Math.round(sent / (wall / 1e6)),
          cpu_us_per_msg: Math.round((cpu / sent) * 10000) / 10000,
          wall_s: Math.round(wall / 100) / 10000,
          yields,
        });
      };
      step();
    });
  });
}

// ---- UDP receive side --------------------------------------------------------
// The same cycles as qsocket.js: sleep while the queue fills, then drain.

function recv() {
  if (variant !== 'dgram') die(`unknown variant ${variant}`);
  const size = num(args, 'size', 64);
  const cycles = num(args, 'cycles', 5);
  const sleepMs = num(args, 'sleep-ms', 250);
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: RCVBUF }); // the same 4 MiB as every receiver
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const gc = gcCounter();
  let cycle = 0;
  let count = 0;
  let drain = 0;
  let cpu = 0;
  let t0 = 0;
  let c0 = 0;
  let incomplete = 0;
  let guard = null;
  const report = () => {
    const g = gc.stop();
    finish({
      impl: IMPL,
      workload: 'udp-recv',
      variant,
      received: count,
      size,
      recv_rate: drain > 0 ? Math.round(count / (drain / 1e6)) : 0,
      drain_s: Math.round(drain / 100) / 10000,
      cpu_us_per_msg: count ? Math.round((cpu / count) * 10000) / 10000 : 0,
      incomplete,
      rcvbuf: sock.getRecvBufferSize(),
      ...g,
    });
  };
  const endCycle = (complete) => {
    clearTimeout(guard);
    if (cycle === 0) {
      count = 0; // cycle 0 warms up (JIT, buffers) and is not counted
    } else {
      drain += now() - t0;
      cpu += cpuUs() - c0;
      if (!complete) incomplete++;
    }
    if (cycle < cycles) {
      cycle++;
      setImmediate(startCycle);
    } else {
      report();
    }
  };
  const lost = () => endCycle(false);
  const startCycle = () => {
    process.stdout.write(JSON.stringify({ sleep: cycle + 1 }) + '\n');
    Atomics.wait(sleeper, 0, 0, sleepMs);
    if (cycle === 1) gc.start();
    t0 = now();
    c0 = cpuUs();
    guard = setTimeout(lost, 3000);
  };
  sock.on('error', (e) => die(e.message));
  sock.on('message', (msg) => {
    if (msg[0] === 0x45) endCycle(true);
    else count++;
  });
  sock.bind(0, HOST, () => {
    process.stdout.write(JSON.stringify({ port: sock.address().port }) + '\n');
    setImmediate(startCycle);
  });
}

// ---- idle connections ----------------------------------------------------------

function idle() {
  if (variant !== 'net') die(`unknown variant ${variant}`);
  const port = num(args, 'port');
  const n = num(args, 'n');
  const warmN = num(args, 'warm', 50);
  if (typeof global.gc !== 'function') die('run with --expose-gc');
  const reset = (list) => {
    for (const s of list) s.resetAndDestroy(); // RST: no TIME_WAIT to exhaust the ports of later rounds
  };
  const connect = (onConnected, onFailed) => {
    const s = net.connect({ port, host: HOST });
    s.on('connect', onConnected);
    s.on('error', onFailed);
    return s;
  };
  idleWorkload({ impl: IMPL, variant, n, warmN, connect, reset });
}

switch (workload) {
  case 'tcp-rtt':
    rtt(false);
    break;
  case 'udp-rtt':
    rtt(true);
    break;
  case 'tcp-bulk':
    bulk();
    break;
  case 'udp-blast':
    blast();
    break;
  case 'udp-recv':
    recv();
    break;
  case 'idle':
    idle();
    break;
  default:
    die(`unknown workload ${workload}`);
}
