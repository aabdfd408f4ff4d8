#!/usr/bin/env node
// npm's install step: use a prebuilt addon when one loads on this machine,
// and build from source with cmake-js only when none does.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
if (process.env.QSOCKET_BUILD_FROM_SOURCE !== '1') {
  try {
    require('node-gyp-build')(root);
    process.exit(0);
  } catch {
    // no usable prebuild or local build: fall through and compile
  }
}
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('qsocket: no prebuilt addon for this platform, and cmake-js is not installed to build one');
  process.exit(1);
}
const r = spawnSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
