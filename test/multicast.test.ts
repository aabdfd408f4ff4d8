// Multicast, inside a network namespace of the test's own so that nothing is
// ever sent on the host's interfaces: IPv4 on lo, IPv6 over a veth pair.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { netnsAvailable } from './netns';

const register = path.join(__dirname, 'fixtures/ts-register.js');
const child = path.join(__dirname, 'fixtures/multicast-child.ts');

const setup = [
  'set -e',
  'sysctl -qw net.ipv6.conf.default.accept_dad=0',
  'ip link set lo up',
  'ip link add qa type veth peer name qb',
  'ip link set qa up',
  'ip link set qb up',
].join('; ');

(netnsAvailable() ? test : test.skip)('join, send, receive and leave, IPv4 and IPv6, in a private namespace', () => {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `${setup}; exec "${process.execPath}" -r "${register}" "${child}"`], {
    encoding: 'utf8',
    timeout: 20000,
  });
  expect(r.stderr).toBe('');
  const report = JSON.parse(r.stdout.trim());
  expect(report).toEqual({
    joinUnbound: false,
    joinFromDualStack: false,
    dualStackError: 'UnsupportedSocketOperationError',
    join4: true,
    setIf4: true,
    multicastInterface4: '127.0.0.1',
    ttl4: 0,
    loop4: 1,
    received4: ['v4 hello'],
    leave4: true,
    afterLeave4: [],
    leaveAgain4: false,
    join6: true,
    setIf6: true,
    hops6: 1,
    received6: ['v6 hello'],
    leave6: true,
  });
}, 30000);
