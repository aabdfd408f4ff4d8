/** @type {import('jest').Config} */
// `npm test`: everything a fresh clone can run after `npm install` (Node, npm,
// g++, cmake, python3, openssl, systemd's tools and iproute2: what such a
// machine ships). The suites that need Debian proxy daemons are in
// jest.interop.config.js (`npm run test:interop`).
const INTEROP = ['/test/proxy-daemons\\.test\\.ts$', '/test/proxy-udp\\.test\\.ts$', '/test/proxy-example\\.test\\.ts$'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...INTEROP],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/global-setup.js',
  reporters: ['default', '<rootDir>/test/other-suites-reporter.js'],
};
// Shared with jest.interop.config.js; not enumerable, so jest does not see it as an option.
Object.defineProperty(module.exports, 'INTEROP', { value: INTEROP });
