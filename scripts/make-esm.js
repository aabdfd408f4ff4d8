#!/usr/bin/env node
// Writes dist/index.mjs, the ES-module entry: it re-exports every name of the
// CommonJS build, so `import { QTcpSocket } from 'qsocket'` works in Node.
'use strict';
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const body = [
  "import cjs from './index.js';",
  `export const { ${names.join(', ')} } = cjs;`,
  'export default cjs;',
  '',
].join('\n');
fs.writeFileSync(path.join(dist, 'index.mjs'), body);
fs.writeFileSync(path.join(dist, 'index.d.mts'), "export * from './index.js';\nimport cjs = require('./index.js');\nexport default cjs;\n");
