// The resolver types a socket accepts, the synchronous resolver the blocking
// waits use by default, and the mapping from Qt's protocol to a lookup family.
import { binding } from './binding';
import { NetworkLayerProtocol } from './enums';

/** One resolved address, as `dns.lookup(name, { all: true })` gives them. */
export interface LookupAddress {
  address: string;
  family: number;
}

/**
 * Resolves a host name; the signature of `dns.lookup` with `{ all: true }`,
 * so `dns.lookup` itself, or any custom resolver with its shape, can be used.
 */
export type LookupFunction = (
  hostname: string,
  options: { all: true; family: 0 | 4 | 6 },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * Resolves a host name synchronously, for waitForConnected() from
 * HostLookupState; returns the addresses (empty when there are none) or
 * throws. `timeoutMs` is the time left (-1: no limit).
 */
export type LookupSyncFunction = (hostname: string, family: 0 | 4 | 6, timeoutMs: number) => LookupAddress[];

export interface SocketOptions {
  /** The resolver for host names (default: `dns.lookup`). */
  lookup?: LookupFunction;
  /**
   * The resolver the blocking waits use (default: the system's getaddrinfo,
   * on a thread of its own so the time-out holds).
   */
  lookupSync?: LookupSyncFunction;
}

/** @internal The system's getaddrinfo on a thread of its own, so that the time-out holds. */
export const nativeLookupSync: LookupSyncFunction = (hostname, family, timeoutMs) => {
  const r = binding.resolve(hostname, family, timeoutMs);
  if (r.status === 'timeout') throw Object.assign(new Error(r.message), { code: 'ETIMEOUT' });
  if (r.status === 'error') throw Object.assign(new Error(r.message), { code: 'ENOTFOUND' });
  return r.addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

/** @internal dns.lookup's family for a NetworkLayerProtocol (0: any). */
export function familyOf(protocol: NetworkLayerProtocol): 0 | 4 | 6 {
  return protocol === NetworkLayerProtocol.IPv4Protocol ? 4 : protocol === NetworkLayerProtocol.IPv6Protocol ? 6 : 0;
}
