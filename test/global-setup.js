// Builds dist/ from lib/ once before the suite, so the tests that run the
// examples (which load the package through its real entry point) see the
// current code.
'use strict';
const { execFileSync } = require('child_process');
const path = require('path');

module.exports = () => {
  const root = path.join(__dirname, '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/make-esm.js'], { cwd: root, stdio: 'inherit' });
};
