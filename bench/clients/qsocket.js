'use strict';
// qsocket bench clients. One workload and variant per process, one JSON line out.
//   node qsocket.js tcp-rtt   --variant=event|blocking|busypoll|busypoll-sobp --port --size --n --warm [--spin=100] [--no-timing]
//   node qsocket.js udp-rtt   --variant=event|blocking --port --size --n --warm [--no-timing]
//   node qsocket.js tcp-bulk  --variant=event|blocking --port --bytes [--chunk=65536] [--high=1048576]
//   node qsocket.js udp-blast --variant=batch --port --count --size
//   node qsocket.js udp-recv  --variant=event --size [--cycles=5] [--sleep-ms=250]
//   node qsocket.js idle      --variant=event --port --n   (needs --expose-gc)
const { QTcpSocket, QUdpSocket, QHostAddress, SocketOption, SocketError } = require('../..');
const { parseArgs, num, latencyStats, cpuUs, gcCounter, finish, fail, watchdog, now, idleWorkload } = require('./common');

const IMPL = 'qsocket';
const args = parseArgs(process.argv.slice(2));
const workload = args._[0];
const variant = String(args.variant || 'event');
const HOST = '127.0.0.1';
const RCVBUF = 4 << 20;
const die = (m) => fail(IMPL, workload, variant, m);
watchdog(num(args, 'timeout-ms', 60000), IMPL, workload, variant);

function onError(s) {
  return () => die(`${SocketError[s.error()]}: ${s.errorString()}`);
}

// ---- ping-pong -------------------------------------------------------------

function rtt(udp) {
  const port = num(args, 'port');
  const size = num(args, 'size', 64);
  const n = num(args, 'n');
  const warm = num(args, 'warm', 1000);
  const timing = !args['no-timing'];
  const spin = num(args, 'spin', 100);
  const msg = Buffer.alloc(size, 0x78);
  // Replies are read into this (Qt's read(char *, qint64)), as node/net-onread reads into its buffer.
  const reply = Buffer.alloc(size);
  const lat = new Float64Array(Math.max(n, 1));
  const total = warm + n;
  const s = udp ? new QUdpSocket() : new QTcpSocket();
  const gc = gcCounter();
  let cpu0 = 0;
  let w0 = 0;
  const extra = {};

  const report = () => {
    const cpu = cpuUs() - cpu0;
    const wall = now() - w0;
    const g = gc.stop();
    s.abort();
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
      ...extra,
    });
  };
  const begin = () => {
    cpu0 = cpuUs();
    w0 = now();
    gc.start();
  };

  s.errorOccurred.connect(onError(s));
  if (!udp) s.setSocketOption(SocketOption.LowDelayOption, 1);

  if (variant === 'event') {
    let i = 0;
    let t0 = 0;
    const send = () => {
      if (i === warm) begin();
      if (timing) t0 = now();
      s.write(msg);
    };
    s.readyRead.connect(() => {
      if (udp) {
        if (s.readInto(reply) < 0) return;
      } else {
        if (s.bytesAvailable() < size) return;
        s.readInto(reply);
      }
      if (timing && i >= warm) lat[i - warm] = now() - t0;
      if (++i === total) report();
      else send();
    });
    s.connected.connect(send);
    s.connectToHost(HOST, port);
    return;
  }

  // Blocking: write, then waitForReadyRead until the whole message is back.
  s.connectToHost(HOST, port);
  if (!s.waitForConnected(5000)) die(`waitForConnected: ${s.errorString()}`);
  if (variant === 'busypoll' || variant === 'busypoll-sobp') {
    s.setBusyPollBudget(spin);
    extra.spin_us = spin;
    if (variant === 'busypoll-sobp') {
      extra.so_busy_poll = s.setLinuxOption('SO_BUSY_POLL', 50) ? 50 : `refused: ${s.errorString()}`;
    }
  } else if (variant !== 'blocking') {
    die(`unknown variant ${variant}`);
  }
  for (let i = 0; i < total; i++) {
    if (i === warm) begin();
    const t0 = timing ? now() : 0;
    s.write(msg);
    if (udp) {
      // waitForReadyRead() is true once a datagram is queued; readInto() then takes it without another syscall.
      do {
        if (!s.waitForReadyRead(5000)) die(`waitForReadyRead: ${s.errorString()}`);
      } while (s.readInto(reply) < 0);
    } else {
      while (s.bytesAvailable() < size) if (!s.waitForReadyRead(5000)) die(`waitForReadyRead: ${s.errorString()}`);
      s.readInto(reply);
    }
    if (timing && i >= warm) lat[i - warm] = now() - t0;
  }
  report();
}

// ---- TCP bulk --------------------------------------------------------------

function bulk() {
  const port = num(args, 'port');
  const bytes = num(args, 'bytes');
  const chunkSize = num(args, 'chunk', 65536);
  const high = num(args, 'high', 16 * chunkSize);
  const chunk = Buffer.alloc(chunkSize, 0x62);
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(bytes));
  const s = new QTcpSocket();
  s.errorOccurred.connect(onError(s));
  let queued = 0;
  let cpu0 = 0;
  let w0 = 0;
  const report = () => {
    const wall = now() - w0;
    const cpu = cpuUs() - cpu0;
    s.abort();
    finish({
      impl: IMPL,
      workload: 'tcp-bulk',
      variant,
      bytes,
      chunk: chunkSize,
      mbps: Math.round((bytes / wall) * 10) / 10,
      cpu_us_per_mb: Math.round((cpu / (bytes / 1e6)) * 100) / 100,
      wall_s: Math.round(wall / 100) / 10000,
      ...(variant === 'event' ? { high_water: high } : {}),
    });
  };
  const next = () => {
    const want = Math.min(chunkSize, bytes - queued);
    s.write(want === chunkSize ? chunk : chunk.subarray(0, want));
    queued += want;
  };

  if (variant === 'event') {
    // Keep the write buffer topped up to `high` bytes; refill on bytesWritten.
    const pump = () => {
      while (queued < bytes && s.bytesToWrite() < high) next();
    };
    s.bytesWritten.connect(pump);
    s.readyRead.connect(() => {
      if (s.readAll().length > 0) report();
    });
    s.connected.connect(() => {
      cpu0 = cpuUs();
      w0 = now();
      s.write(header);
      pump();
    });
    s.connectToHost(HOST, port);
    return;
  }
  if (variant !== 'blocking') die(`unknown variant ${variant}`);
  s.connectToHost(HOST, port);
  if (!s.waitForConnected(5000)) die(`waitForConnected: ${s.errorString()}`);
  cpu0 = cpuUs();
  w0 = now();
  s.write(header);
  while (queued < bytes) {
    next();
    while (s.bytesToWrite() > 0) if (!s.waitForBytesWritten(5000)) die(`waitForBytesWritten: ${s.errorString()}`);
  }
  while (s.bytesAvailable() < 1) if (!s.waitForReadyRead(5000)) die(`waitForReadyRead (ack): ${s.errorString()}`);
  report();
}

// ---- UDP blast (send side) -------------------------------------------------

function blast() {
  const port = num(args, 'port');
  const count = num(args, 'count');
  const size = num(args, 'size', 64);
  const payload = Buffer.alloc(size, 0x78);
  payload[0] = 0x44; // 'D'
  const s = new QUdpSocket();
  const addr = new QHostAddress(HOST);
  if (!s.bind(addr, 0)) die(`bind: ${s.errorString()}`);
  const BATCH = 64;
  const batch = Array.from({ length: BATCH }, () => ({ data: payload, address: addr, port }));
  let sent = 0;
  let calls = 0;
  let short = 0;
  const cpu0 = cpuUs();
  const w0 = now();
  while (sent < count) {
    const want = Math.min(BATCH, count - sent);
    const k = s.writeDatagrams(want === BATCH ? batch : batch.slice(0, want));
    calls++;
    if (k < want) short++;
    sent += k;
  }
  const wall = now() - w0;
  const cpu = cpuUs() - cpu0;
  s.abort();
  finish({
    impl: IMPL,
    workload: 'udp-blast',
    variant,
    sent,
    size,
    send_rate: Math.round(sent / (wall / 1e6)),
    cpu_us_per_msg: Math.round((cpu / sent) * 10000) / 10000,
    wall_s: Math.round(wall / 100) / 10000,
    calls,
    short_batches: short,
  });
}

// ---- UDP receive side --------------------------------------------------------
//
// For each cycle: print {"sleep":k} and block the thread for --sleep-ms while
// run.js has the C sender queue a burst (then an 'E' marker) for us; then
// drain from the event loop. Rate = datagrams / summed drain time: the
// receiver's own capacity, whatever the sender's speed.

function recv() {
  const size = num(args, 'size', 64);
  const cycles = num(args, 'cycles', 5);
  const sleepMs = num(args, 'sleep-ms', 250);
  const s = new QUdpSocket();
  if (!s.bind(new QHostAddress(HOST), 0)) die(`bind: ${s.errorString()}`);
  // Every receiver asks for the same 4 MiB queue (rmem_max here; the kernel doubles it).
  s.setSocketOption(SocketOption.ReceiveBufferSizeSocketOption, RCVBUF);
  const rcvbuf = s.socketOption(SocketOption.ReceiveBufferSizeSocketOption);
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
    s.abort();
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
      rcvbuf,
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
    guard = setTimeout(lost, 3000); // the marker was lost
  };
  // Qt's idiom: drain with hasPendingDatagrams()/readDatagram() on each readyRead.
  s.readyRead.connect(() => {
    while (s.hasPendingDatagrams()) {
      const d = s.readDatagram(2048);
      if (d === null) break;
      if (d.data[0] === 0x45) {
        endCycle(true); // 'E': the burst is drained
        return;
      }
      count++;
    }
  });
  process.stdout.write(JSON.stringify({ port: s.localPort() }) + '\n');
  setImmediate(startCycle);
}

// ---- idle connections ----------------------------------------------------------

function idle() {
  const port = num(args, 'port');
  const n = num(args, 'n');
  const warmN = num(args, 'warm', 50);
  if (typeof global.gc !== 'function') die('run with --expose-gc');
  const linger0 = { on: true, seconds: 0 };
  const reset = (list) => {
    for (const s of list) {
      s.setLinuxOption('SO_LINGER', linger0); // RST on close: no TIME_WAIT to exhaust the ports of later rounds
      s.abort();
    }
  };

  const connect = (onConnected, onFailed) => {
    const s = new QTcpSocket();
    s.connected.connect(onConnected);
    s.errorOccurred.connect(onFailed);
    s.connectToHost(HOST, port);
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
