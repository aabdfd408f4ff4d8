#!/usr/bin/env node
'use strict';
// Where the time goes: runs one JavaScript bench client under `node --cpu-prof`
// against the C peer and prints the top frames by self time.
//
//   node bench/profile.js [qsocket|node] [tcp-rtt|udp-rtt|tcp-bulk|udp-blast|idle] [variant] [--n=200000] [--top=25] [--keep]
//   node bench/profile.js [qsocket|node] [tcp-rtt|udp-rtt] [variant] --callgrind [--top=25]
//
// --callgrind instead counts user-space instructions per function with
// valgrind: a 15,000-round run minus a 5,000-round run, per round trip (so
// start-up and JIT warm-up cancel). JIT-compiled JavaScript shows as ???;
// V8's builtins, the addon, libuv and libc by name.
//
// Needs bench/build/peer (made by `npm run bench`, or: cc -O2 -o bench/build/peer bench/peer.c).
// Client and peer share core 0, as in the main RTT tables. --keep leaves the
// .cpuprofile (open it in Chrome DevTools) and prints where it is.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const argv = process.argv.slice(2);
const flags = Object.fromEntries(argv.filter((a) => a.startsWith('--')).map((a) => { const [k, v = ''] = a.slice(2).split('='); return [k, v]; }));
const [impl = 'qsocket', workload = 'tcp-rtt', variant = impl === 'qsocket' ? 'event' : workload.startsWith('udp') ? 'dgram' : 'net'] = argv.filter((a) => !a.startsWith('--'));
const n = Number(flags.n || 200000);
const top = Number(flags.top || 25);
const peerBin = path.join(__dirname, 'build', 'peer');
if (!fs.existsSync(peerBin)) {
  const r = spawnSync('cc', ['-O2', '-o', peerBin, path.join(__dirname, 'peer.c')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? ['taskset', '-c', '0'] : [];

const peer = spawn(pin[0] || peerBin, pin.length ? [...pin.slice(1), peerBin] : [], { stdio: ['pipe', 'pipe', 'inherit'] });
process.on('exit', () => peer.kill('SIGKILL'));
readline.createInterface({ input: peer.stdout }).once('line', (line) => {
  const ports = JSON.parse(line);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qsocket-prof-'));
  const script = path.join(__dirname, 'clients', `${impl}.js`);
  const port = { 'tcp-rtt': ports.tcp_echo, 'udp-rtt': ports.udp_echo, 'tcp-bulk': ports.tcp_sink, 'udp-blast': ports.udp_sink, idle: ports.tcp_idle }[workload];
  const wargs = workload.endsWith('rtt')
    ? [`--n=${n}`, '--warm=10000', '--size=64']
    : workload === 'tcp-bulk'
      ? [`--bytes=${1 << 30}`]
      : workload === 'idle'
        ? [`--n=${flags.n || 10000}`]
        : ['--count=1000000', '--size=64'];
  const nodeFlags = workload === 'idle' ? ['--expose-gc'] : [];
  if (flags.callgrind !== undefined) {
    callgrind(script, port, dir).finally(() => peer.stdin.end('quit\n'));
    return;
  }
  const args = [...nodeFlags, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=50', script, workload, `--variant=${variant}`, `--port=${port}`, ...wargs];
  const child = spawn(pin[0] || process.execPath, pin.length ? [...pin.slice(1), process.execPath, ...args] : args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let result = '';
  child.stdout.on('data', (d) => (result += d));
  child.on('close', () => {
    peer.stdin.end('quit\n');
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      console.error('no profile written', result);
      process.exit(1);
    }
    const prof = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    // Self time per node: samples × the interval between them.
    const self = new Map();
    const byId = new Map(prof.nodes.map((x) => [x.id, x]));
    const dt = prof.timeDeltas;
    for (let i = 0; i < prof.samples.length; i++) {
      const node = byId.get(prof.samples[i]);
      const cf = node.callFrame;
      const where = cf.url ? `${path.relative(path.resolve(__dirname, '..'), cf.url.replace('file://', ''))}:${cf.lineNumber + 1}` : '';
      const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) || 0) + (dt[i + 1] || 0));
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    console.log(`client result: ${result.trim()}`);
    console.log(`\ntop ${top} frames by self time (${impl} ${workload} ${variant}, ${(total / 1e6).toFixed(2)} s sampled):\n`);
    console.log('| self % | self ms | frame |\n|---:|---:|---|');
    for (const [k, v] of rows) console.log(`| ${((v / total) * 100).toFixed(1)} | ${(v / 1000).toFixed(0)} | \`${k}\` |`);
    if (flags.keep !== undefined) console.log(`\nprofile: ${path.join(dir, file)}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
});

function run(cmd, args) {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Exclusive instructions per function of a callgrind output file. */
async function annotate(file) {
  const r = await run('callgrind_annotate', ['--threshold=100', '--inclusive=no', file]);
  const m = new Map();
  for (const line of r.out.split('\n')) {
    const x = /^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.+?)\s*$/.exec(line);
    if (!x || /PROGRAM TOTALS|^Ir\b/.test(x[2])) continue;
    m.set(x[2], (m.get(x[2]) || 0) + Number(x[1].replace(/,/g, '')));
  }
  return m;
}

async function callgrind(script, port, dir) {
  const big = 15000;
  const small = 5000;
  const counts = {};
  for (const rounds of [big, small]) {
    const out = path.join(dir, `cg.${rounds}`);
    const r = await run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, script, workload, `--variant=${variant}`, `--port=${port}`, `--n=${rounds}`, '--warm=0', '--no-timing', '--size=64']);
    if (r.code !== 0 || !fs.existsSync(out)) {
      console.error(`valgrind failed: ${r.err.split('\n').slice(-5).join('\n')}`);
      process.exit(1);
    }
    counts[rounds] = await annotate(out);
  }
  const per = [];
  let total = 0;
  for (const [fn, ir] of counts[big]) {
    const d = (ir - (counts[small].get(fn) || 0)) / (big - small);
    total += d;
    per.push([fn, d]);
  }
  per.sort((a, b) => b[1] - a[1]);
  console.log(`user-space instructions per round trip (${impl} ${workload} ${variant}; ${big}-round run − ${small}-round run): ${Math.round(total)}\n`);
  console.log('| instr/RT | share | function [object] |\n|---:|---:|---|');
  for (const [fn, d] of per.slice(0, top)) console.log(`| ${Math.round(d)} | ${((d / total) * 100).toFixed(1)}% | \`${fn.replace(/\|/g, '\\|').slice(0, 140)}\` |`);
  // The same, summed by object: JIT code ([???]), node/V8, the addon, libc.
  const byObj = new Map();
  for (const [fn, d] of per) {
    const m = /\[([^\]]*)\]\s*$/.exec(fn);
    const obj = m ? path.basename(m[1]) : '?';
    const key = obj === '???' ? 'JIT-compiled JavaScript (???)' : /^Builtins_/.test(fn.replace(/^\?\?\?:/, '')) ? `${obj}: V8 builtins` : obj;
    byObj.set(key, (byObj.get(key) || 0) + d);
  }
  console.log('\n| instr/RT | share | object |\n|---:|---:|---|');
  for (const [k, d] of [...byObj].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`| ${Math.round(d)} | ${((d / total) * 100).toFixed(1)}% | ${k} |`);
  if (flags.keep !== undefined) console.log(`\ncallgrind files: ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
