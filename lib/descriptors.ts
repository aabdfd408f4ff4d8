// Bare descriptors: a connected pair to hand to a child process, and a way
// to close what descriptorsReceived handed over. Not in Qt.
import { binding, C } from './binding';
import { mapErrno } from './errors';

/**
 * A connected pair of UNIX-domain sockets (socketpair(2)), non-blocking and
 * close-on-exec: keep one end, pass the other to a child (`spawn(…, { stdio:
 * [..., fd] })`), adopt yours with setSocketDescriptor(). `datagram` makes
 * SOCK_DGRAM ends. Throws an Error naming the failure.
 */
export function createSocketPair(datagram = false): [number, number] {
  const r = binding.socketpair(datagram ? C.SOCK_DGRAM : C.SOCK_STREAM);
  if (typeof r === 'number') throw new Error(`socketpair failed: ${mapErrno('create', -r).message}`);
  return r;
}

/** Closes a descriptor this process owns and never adopted. Returns false for one that is not open. */
export function closeDescriptor(fd: number): boolean {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`not a descriptor: ${String(fd)}`);
  return binding.closeFd(fd) === 0;
}
