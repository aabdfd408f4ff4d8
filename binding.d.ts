// The typed surface of the native addon (native/), the only door between the
// C++ engine and lib/. Nothing Qt-shaped lives here: every call is one system
// call that returns its result or -errno; lib/ decides what it means.

/**
 * Readiness callback: `events` is a mask of READABLE | WRITABLE | DISCONNECT; `status` is 0 or
 * -errno; `ahead` is the result of the read made into the read area for this event (bytes, 0 at
 * end of stream, -errno), or NOT_READ when none was made.
 */
export type NotifyCallback = (events: number, status: number, ahead: number) => void;

export declare class Engine {
  /** Without `onNotify`, readiness goes to the environment's setNotifyHandler function, with this Engine as `this`. */
  constructor(onNotify?: NotifyCallback);
  /** Free for lib/: the object that owns this engine, for the shared notify handler to find. */
  owner?: unknown;
  /** socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC) → 0 | -errno. */
  open(domain: number, type: number): number;
  /** Owns `fd` from now on and makes it non-blocking → 0 | -errno. */
  adopt(fd: number): number;
  /** The descriptor, or -1. */
  fd(): number;
  bind(addr: Uint8Array): number;
  /** 0 when connected at once, -EINPROGRESS while pending, else -errno. */
  connect(addr: Uint8Array): number;
  listen(backlog: number): number;
  /** accept4(NONBLOCK|CLOEXEC) → new fd | -errno; writes the peer to `peerOut` if given. */
  accept(peerOut?: Uint8Array): number;
  /** SO_ERROR: 0 or a positive errno; -errno when getsockopt fails. */
  socketError(): number;
  /** recv → bytes | 0 at end of stream | -errno. */
  read(buf: Uint8Array, off: number, len: number): number;
  /** send(MSG_NOSIGNAL) → bytes accepted | -errno. */
  write(buf: Uint8Array, off: number, len: number): number;
  /** recvmsg(flags) → datagram size (the full size with MSG_TRUNC) | -errno; sender into `addrOut`. */
  recvFrom(buf: Uint8Array, off: number, len: number, addrOut: Uint8Array, flags: number): number;
  /** sendmsg to `addr` (kind 0: the connected peer) → bytes | -errno. */
  sendTo(buf: Uint8Array, off: number, len: number, addr: Uint8Array): number;
  /**
   * recvmmsg into the environment's batch arrays (Binding.setRecvArrays) → count | -errno, or
   * NOT_READ when they were registered by another `owner` (register again, then retry).
   * Datagram i is received at slab[i*slotSize]; meta[4i] is its length (slotSize+1 if
   * truncated), meta[4i+1] its hop limit or -1, meta[4i+2] and meta[4i+3] its SO_TIMESTAMPNS
   * seconds (unsigned) and nanoseconds (-1: none); its sender is at addrs[i*ADDR_SIZE], its
   * destination (IP_PKTINFO) at dsts[i*ADDR_SIZE]. On return the datagrams are packed:
   * datagram i starts where datagram i-1's first min(length, slotSize) bytes end.
   */
  recvMany(owner: number): number;
  /** sendmmsg: datagram i to addrs[i*ADDR_SIZE] (kind 0: the connected peer) → datagrams sent | -errno. */
  sendMany(datagrams: Uint8Array[], addrs: Uint8Array): number;
  shutdown(how: number): number;
  /** Stops the poll and closes the descriptor, once → 0 | -errno. */
  close(): number;
  /** Stops the poll and gives the descriptor back open → fd | -1. */
  detach(): number;
  /** getsockopt as int into out[0] → 0 | -errno. */
  getOption(level: number, name: number, out: Int32Array): number;
  setOption(level: number, name: number, value: number): number;
  /** getsockopt into `buf` → length | -errno. */
  getOptionBytes(level: number, name: number, buf: Uint8Array): number;
  setOptionBytes(level: number, name: number, buf: Uint8Array): number;
  localAddress(out: Uint8Array): number;
  peerAddress(out: Uint8Array): number;
  /** Which events reach the callback; 0 stops the poll → 0 | -errno. */
  setNotify(mask: number): number;
  /** Whether a started poll keeps the event loop alive (default: yes). */
  ref(): void;
  unref(): void;
  /**
   * Blocking poll() → readiness mask | 0 on time-out | -errno; -1 waits forever. With `spinUs`,
   * spins on zero-timeout polls for that long before sleeping (busy-polling).
   */
  poll(events: number, timeoutMs: number, spinUs?: number): number;
  /**
   * The blocking read of waitForReadyRead: spin `spinUs` with MSG_DONTWAIT, then one recv that
   * sleeps until data or the time-out → bytes | 0 at end of stream | -EAGAIN on time-out | -errno.
   * Leaves the descriptor in blocking mode (every other call here passes MSG_DONTWAIT).
   */
  recvWait(buf: Uint8Array, off: number, len: number, timeoutMs: number, spinUs: number): number;
  /**
   * Sets (or with null clears) the read area: its first 8 bytes are two int32 words, [offset, max].
   * While max > 0, a readable event first receives up to min(max, area.length - offset) bytes at
   * offset and passes the result to onNotify as `ahead`. → 0.
   */
  setReadArea(area: Uint8Array | null): number;
}

export interface Constants {
  readonly [name: string]: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_UNIX: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_DGRAM: number;
  readonly SOL_SOCKET: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_IPV6: number;
  readonly IPPROTO_TCP: number;
  readonly SHUT_WR: number;
  readonly READABLE: number;
  readonly WRITABLE: number;
  readonly DISCONNECT: number;
  readonly ERROR: number;
  readonly ADDR_SIZE: number;
  readonly NOT_READ: number;
}

export interface Binding {
  Engine: typeof Engine;
  /** Reads [SO_TYPE, family, SO_PROTOCOL, SO_ACCEPTCONN, connected] without changing `fd` → 0 | -errno. */
  describe(fd: number, out: Int32Array): number;
  /** Blocking getaddrinfo with a deadline (-1: none), run on a thread of its own. */
  resolve(name: string, family: 0 | 4 | 6, timeoutMs: number): {
    status: 'ok' | 'timeout' | 'error';
    addresses: string[];
    message: string;
  };
  /** socketpair(AF_UNIX, type | NONBLOCK | CLOEXEC) → [fd, fd] | -errno. */
  socketpair(type?: number): [number, number] | number;
  /** One sendmsg of `data` (at least one byte is sent) with SCM_RIGHTS for `fds` → bytes | -errno. */
  sendFds(fd: number, data: Uint8Array, fds: Int32Array): number;
  /** One recvmsg → bytes | -errno; fdsOut[0] = how many descriptors came, fdsOut[1..] = them (the caller owns them). */
  recvFds(fd: number, buf: Uint8Array, fdsOut: Int32Array): number;
  /** One datagram to the AF_UNIX datagram socket at `addr` (neutral layout, kind 1), with SCM_RIGHTS → 0 | -errno. */
  notifySocket(addr: Uint8Array, data: Uint8Array, fds: Int32Array): number;
  /** FD_CLOEXEC: set 1 / clear 0 / query -1 → the flag after the call (0 or 1) | -errno. */
  cloexec(fd: number, set: -1 | 0 | 1): number;
  /** close(2), for descriptors received but never adopted → 0 | -errno. */
  closeFd(fd: number): number;
  /** The readiness callback of every Engine made without one of its own; `this` is that Engine. */
  setNotifyHandler(handler: (this: Engine, events: number, status: number, ahead: number) => void): void;
  /**
   * Registers the arrays every Engine.recvMany of this environment fills (kept alive until
   * the next call) → the batch size: min(slab.length / slotSize, 64, meta.length / 4,
   * addrs.length / ADDR_SIZE, dsts.length / ADDR_SIZE). `owner` (an int32) names the caller,
   * for Engine.recvMany.
   */
  setRecvArrays(slab: Uint8Array, slotSize: number, meta: Int32Array, addrs: Uint8Array, dsts: Uint8Array, owner: number): number;
  /** errno values by name (EAGAIN, ECONNREFUSED, ...). */
  errno: Readonly<Record<string, number>>;
  constants: Constants;
  strerror(errno: number): string;
  /** if_nametoindex: 0 when there is no such interface. */
  ifNameToIndex(name: string): number;
  /** if_indextoname: '' when there is no such interface. */
  ifIndexToName(index: number): string;
  /** Engines of this environment that still hold a descriptor. */
  liveEngines(): number;
}
