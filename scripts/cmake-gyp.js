#!/usr/bin/env node
// prebuildify 6 only drives node-gyp: it runs `$PREBUILD_NODE_GYP rebuild
// --target=<node version> --arch=<arch> --release`. This stands in for
// node-gyp and runs cmake-js instead, whose own --target means a CMake target,
// so only the flags that mean the same thing are passed on.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const args = process.argv.slice(2);
const out = ['rebuild'];
for (const a of args) {
  if (a === '--debug') out.push('--debug');
  else if (a.startsWith('--arch=')) out.push('--arch', a.slice('--arch='.length));
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, ...out], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
