// Private network namespaces for the tests that must not touch the host's
// network (multicast): `unshare -n` needs root or user namespaces.
import { spawnSync } from 'child_process';

let usable: boolean | undefined;

/** Whether `unshare -n` works here; when it does not, says why on stderr once. */
export function netnsAvailable(): boolean {
  if (usable === undefined) {
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
    usable = r.status === 0;
    if (!usable) {
      console.warn(`SKIPPED: network-namespace tests need 'unshare -n' and 'ip' (root): ${r.error?.message ?? r.stderr.trim()}`);
    }
  }
  return usable;
}
