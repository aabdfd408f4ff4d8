/** @type {import('jest').Config} */
// `npm run test:interop`: TCP/UDP through the Debian proxy daemons (dante,
// microsocks, tinyproxy, squid), which `.ci/run` installs. A daemon that is
// not installed makes its tests fail with the package to install.
const main = require('./jest.config');
const { reporters, ...base } = main;

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/'], testRegex: main.INTEROP, testMatch: undefined };
