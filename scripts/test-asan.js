#!/usr/bin/env node
// `npm run test:asan`: builds the addon with AddressSanitizer into build-asan/
// (the normal build in build/ is left alone) and runs the whole jest suite in
// band against it (QSOCKET_ADDON=build-asan/Release/qsocket.node). Extra
// arguments go to jest:  npm run test:asan -- test/tcp-socket.test.ts -t connect
//
// Environment:
//   QSOCKET_ASAN_SKIP_BUILD=1  reuse build-asan/ instead of rebuilding it
//   QSOCKET_ASAN_VERBOSE=1     also print the leak records not blamed on the addon
//   QSOCKET_ASAN_JEST_JSON=F   also write jest's --json result to file F
//   ASAN_OPTIONS               appended to the options below, so it wins
//
// What fails the run, besides a failing test:
// - Any AddressSanitizer memory error (overflow, use-after-free, double free,
//   ...) in the jest process or in any child a test spawns. ASan's runtime is
//   LD_PRELOADed (it must come first in the process) and inherited by children,
//   so a child Node that loads the addon through QSOCKET_ADDON is checked too.
//   halt_on_error stops that process at once.
// - A LeakSanitizer "Direct leak" in the jest process whose allocation was
//   made by the addon: walking up from the allocator, the first frame that is
//   not the sanitizer, libc/libstdc++ or Node-API glue (napi_*, v8impl::, uv_*)
//   is in the addon (its native/ sources, node-addon-api's inline headers, or
//   qsocket.node itself).
// Why leaks need that filter: LeakSanitizer does not scan V8's heap (mmap'd
// pages), and Node does not free V8's internal structures at exit, so a Node
// process that ran real JavaScript (jest, ts-jest, tsc) always "leaks"
// hundreds of KB allocated inside v8::internal (GC pages, slot sets, TurboFan
// code). Those are counted and ignored; they have no addon frame. For the same
// reason children run with detect_leaks=0: LSan would turn the exit code of
// e.g. the tsc that test/global-setup.js runs into ASAN_EXIT_CODE and fail it.
//
// Every report goes to a file of its own (ASan's log_path), not into jest's
// output, so reports from children whose exit code nobody checks are seen too.
// Exit code: jest's (from its --json result, since a leak report rewrites the
// process's exit code), or ASAN_EXIT_CODE when jest passed but ASan found
// something in the addon.
//
// Caveat for tests that spawn non-Node programs: they inherit the ASan preload.
// python3, sh, bash and git run fine under it; curl (glibc 2.36) deadlocks in
// setlocale under it. Give such a child `env: { ...process.env, LD_PRELOAD: '' }`.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'build-asan');
const addon = path.join(outDir, 'Release', 'qsocket.node');
const ASAN_EXIT_CODE = 86;
const MAX_LEAKS_SHOWN = 10;

function fail(msg) {
  console.error(`test:asan: ${msg}`);
  process.exit(2);
}

// 1. The ASan runtime that g++ links against: `gcc -print-file-name=libasan.so`
//    prints the bare name back when it has none.
const gcc = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
if (gcc.error || gcc.status !== 0) fail(`cannot run gcc to find libasan.so: ${gcc.error ? gcc.error.message : gcc.stderr}`);
const libasan = gcc.stdout.trim();
if (!path.isAbsolute(libasan) || !fs.existsSync(libasan)) {
  fail(`gcc has no libasan.so (got "${libasan}"); install the ASan runtime (Debian: libasan8, which comes with g++)`);
}

// 2. The ASan build, in its own folder.
if (process.env.QSOCKET_ASAN_SKIP_BUILD !== '1') {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const b = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--out', outDir, '--CDQSOCKET_ASAN=ON'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (b.status !== 0) fail(`the ASan build failed (cmake-js exited with ${b.status === null ? b.signal : b.status})`);
}
if (!fs.existsSync(addon)) fail(`${path.relative(root, addon)} is missing`);
// A build without -fsanitize=address would run "clean" and prove nothing.
if (!fs.readFileSync(addon).includes('__asan_init')) {
  fail(`${path.relative(root, addon)} is not instrumented (no __asan_init): was QSOCKET_ASAN=ON passed to CMake?`);
}

// 3. jest, in band, against the ASan build.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qsocket-asan-'));
const logDir = path.join(tmp, 'logs');
fs.mkdirSync(logDir);
const jestJson = path.join(tmp, 'jest.json');
const baseOptions = [
  'abort_on_error=0', // exit with exitcode=, no SIGABRT / core dump
  'halt_on_error=1', // after a memory error nothing that follows can be trusted
  `exitcode=${ASAN_EXIT_CODE}`,
  'check_initialization_order=1',
  'strict_init_order=1',
  'detect_stack_use_after_return=1',
  `log_path=${path.join(logDir, 'asan')}`, // each reporting process writes asan.<pid>
];
const userOptions = process.env.ASAN_OPTIONS ? [process.env.ASAN_OPTIONS] : [];
const mainOptions = [...baseOptions, 'detect_leaks=1', ...userOptions].join(':');
const childOptions = [...baseOptions, ...userOptions, 'detect_leaks=0'].join(':');
// The jest process has parsed ASAN_OPTIONS before any JavaScript runs, so
// changing process.env from here on only changes what its children get.
const childEnvJs = path.join(tmp, 'child-env.js');
fs.writeFileSync(childEnvJs, `process.env.ASAN_OPTIONS = ${JSON.stringify(childOptions)};\n`);

const env = {
  ...process.env,
  QSOCKET_ADDON: addon,
  LD_PRELOAD: [libasan, process.env.LD_PRELOAD].filter(Boolean).join(':'),
  ASAN_OPTIONS: mainOptions,
};
const jest = require.resolve('jest/bin/jest');
console.error(`test:asan: jest --runInBand, QSOCKET_ADDON=${path.relative(root, addon)}, LD_PRELOAD=${libasan}`);
const t = spawnSync(
  process.execPath,
  ['-r', childEnvJs, jest, '--runInBand', ...process.argv.slice(2), '--json', `--outputFile=${jestJson}`],
  { cwd: root, env, stdio: 'inherit' },
);

let jestResult = null;
try {
  jestResult = JSON.parse(fs.readFileSync(jestJson, 'utf8'));
} catch {
  // jest did not get to write it: killed, or halted by ASan
}
if (jestResult && process.env.QSOCKET_ASAN_JEST_JSON) {
  fs.writeFileSync(process.env.QSOCKET_ASAN_JEST_JSON, JSON.stringify(jestResult));
}

// 4. Reports.
const nativeDir = path.join(root, 'native') + path.sep;
const isOurs = (f) => f.includes(nativeDir) || f.includes('qsocket.node') || f.includes('node-addon-api' + path.sep);
// Frames that allocate on someone else's behalf: sanitizer, C/C++ runtime, Node-API glue.
const isTransparent = (f) =>
  /libsanitizer|libasan\.so|__interceptor_|\bin (operator new|malloc|calloc|realloc|posix_memalign|aligned_alloc|strdup|strndup)\b/.test(f) ||
  /libc\.so|libstdc\+\+\.so|libgcc_s\.so|\/usr\/include\/c\+\+\/|\bin (std::|__gnu_cxx::)/.test(f) ||
  /\bin (napi_|v8impl::|napi_env__::|node_napi_env__::|uv_)/.test(f);

function classify(text) {
  // A report file holds one ASan error, or one LeakSanitizer report with records.
  if (!/ERROR: LeakSanitizer: detected memory leaks/.test(text)) return { error: true };
  const records = text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1);
  const ours = [];
  let ignored = 0;
  let ignoredBytes = 0;
  for (const rec of records) {
    const m = /^(Direct|Indirect) leak of (\d+) byte/.exec(rec);
    const frames = rec.split('\n').filter((l) => /^\s+#\d+ /.test(l));
    let blame = false;
    if (m[1] === 'Direct') {
      for (const f of frames) {
        if (isOurs(f)) { blame = true; break; }
        if (!isTransparent(f)) break;
      }
    }
    if (blame) ours.push(rec.replace(/\n*SUMMARY:[^\n]*\n?$/, '').trimEnd());
    else { ignored++; ignoredBytes += Number(m[2]); }
  }
  return { error: false, ours, ignored, ignoredBytes };
}

let findings = 0;
for (const name of fs.readdirSync(logDir).sort()) {
  const text = fs.readFileSync(path.join(logDir, name), 'utf8');
  const c = classify(text);
  const pid = name.replace(/^asan\./, '');
  if (c.error) {
    findings++;
    process.stderr.write(`\n===== AddressSanitizer error in process ${pid} =====\n${text}\n`);
    continue;
  }
  if (c.ours.length) {
    findings++;
    process.stderr.write(`\n===== LeakSanitizer: ${c.ours.length} leak(s) allocated by the addon in process ${pid} =====\n`);
    process.stderr.write(c.ours.slice(0, MAX_LEAKS_SHOWN).join('\n\n') + '\n');
    if (c.ours.length > MAX_LEAKS_SHOWN) process.stderr.write(`... and ${c.ours.length - MAX_LEAKS_SHOWN} more (QSOCKET_ASAN_VERBOSE=1 prints all)\n`);
  }
  if (c.ignored) {
    console.error(`test:asan: process ${pid}: ignored ${c.ignored} leak record(s), ${c.ignoredBytes} bytes, not allocated by the addon (Node/V8 or another addon)`);
  }
  if (process.env.QSOCKET_ASAN_VERBOSE === '1' && (c.ignored || c.ours.length > MAX_LEAKS_SHOWN)) process.stderr.write(text);
}
fs.rmSync(tmp, { recursive: true, force: true });

let code;
if (jestResult) code = jestResult.success ? 0 : 1;
else if (t.status === null) {
  console.error(`test:asan: jest was killed by ${t.signal || (t.error && t.error.message)}`);
  code = 1;
} else code = t.status === 0 ? 1 : t.status; // no result file yet a clean exit: a failure all the same
if (findings) {
  console.error(`test:asan: FAILED: AddressSanitizer found ${findings} problem(s) in the addon, see above`);
  if (code === 0) code = ASAN_EXIT_CODE;
} else if (!jestResult) {
  console.error(`test:asan: FAILED: jest wrote no result (exit ${t.status === null ? t.signal : t.status})`);
} else {
  console.error(`test:asan: no AddressSanitizer findings in the addon; jest ${jestResult.success ? 'passed' : 'failed'}`);
}
process.exit(code);
