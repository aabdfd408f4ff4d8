// A thin TypeScript face on the native Engine: addresses as QHostAddress,
// the notification mask kept here so unchanged masks never cross into C++,
// and readiness routed to a receiver (Qt's QAbstractSocketEngineReceiver).
import type { Engine } from '../binding';
import { binding, C, E } from './binding';
import { NetworkLayerProtocol } from './enums';
import { QHostAddress } from './host-address';
import { reportSlotError } from './signal';
import { ADDR_SIZE, decodeAddress, encodeAddress, Endpoint } from './sockaddr';

export interface EngineReceiver {
  /**
   * The descriptor is readable (data, end of stream, or an error to collect).
   * `ahead` is what the engine's own read into the read area returned for
   * this event (bytes, 0 at end of stream, -errno), or NOT_READ.
   */
  _readNotification(ahead?: number): void;
  /** The descriptor is writable (a pending connect finished, or room to send). */
  _writeNotification(): void;
  /** libuv reported an error condition (POLLERR) and stopped watching; status is -errno. */
  _exceptionNotification(status: number): void;
}

// One scratch area per environment for addresses and option values: every
// call that uses them is synchronous, so they are never shared across calls.
const addrScratch = new Uint8Array(ADDR_SIZE);
const intScratch = new Int32Array(1);

/** `ahead` when the engine made no read for this event. */
export const NOT_READ: number = C.NOT_READ;

// One readiness handler for every engine of this environment, instead of a
// closure per socket: the native engine calls it with itself as `this`.
binding.setNotifyHandler(function (this: Engine, events: number, status: number, ahead: number) {
  (this.owner as SocketEngine)._notify(events, status, ahead);
});

export class SocketEngine {
  readonly #raw: Engine;
  #mask = 0;
  #family = NetworkLayerProtocol.UnknownNetworkLayerProtocol;
  #open = false;
  #area: Uint8Array | null = null;
  readonly #receiver: EngineReceiver;

  constructor(receiver: EngineReceiver) {
    this.#receiver = receiver;
    this.#raw = new binding.Engine();
    this.#raw.owner = this;
  }

  /** @internal Readiness, from the shared handler below. */
  _notify(events: number, status: number, ahead: number): void {
    const receiver = this.#receiver;
    // Slots cannot throw through here (Signal.emit catches them); a bug of
    // ours still must not vanish, so it is reported like a slot's error.
    try {
      if (status < 0) {
        this.#mask = 0; // libuv stopped watching; the receiver re-arms what it needs
        receiver._exceptionNotification(status);
        return;
      }
      // Bytes the engine read are delivered whatever the mask says now.
      if ((events & (C.READABLE | C.DISCONNECT) && this.#mask & C.READABLE) || ahead !== NOT_READ) {
        receiver._readNotification(ahead);
      }
      if (events & C.WRITABLE && this.#mask & C.WRITABLE && this.#open) receiver._writeNotification();
    } catch (error) {
      reportSlotError(error);
    }
  }

  /** Creates a non-blocking socket → 0 | -errno. */
  open(family: NetworkLayerProtocol, type: number): number {
    const domain = family === NetworkLayerProtocol.IPv6Protocol ? C.AF_INET6 : C.AF_INET;
    const r = this.#raw.open(domain, type);
    if (r === 0) {
      this.#open = true;
      this.#family = family === NetworkLayerProtocol.IPv6Protocol ? family : NetworkLayerProtocol.IPv4Protocol;
    }
    return r;
  }

  /** Takes ownership of `fd`, whose address family is `domain` → 0 | -errno. */
  adopt(fd: number, domain: number): number {
    const r = this.#raw.adopt(fd);
    if (r === 0) {
      this.#open = true;
      this.#family =
        domain === C.AF_INET6
          ? NetworkLayerProtocol.IPv6Protocol
          : domain === C.AF_INET
            ? NetworkLayerProtocol.IPv4Protocol
            : NetworkLayerProtocol.UnknownNetworkLayerProtocol;
    }
    return r;
  }

  isOpen(): boolean {
    return this.#open;
  }

  fd(): number {
    return this.#raw.fd();
  }

  family(): NetworkLayerProtocol {
    return this.#family;
  }

  /** The native engine, for the classes of this package that need a call the facade lacks. */
  raw(): Engine {
    return this.#raw;
  }

  connect(address: QHostAddress, port: number): number {
    if (!encodeAddress(addrScratch, address, port)) return -E.EINVAL;
    return this.#raw.connect(addrScratch);
  }

  bind(address: QHostAddress, port: number): number {
    const dualAsV6 = this.#family === NetworkLayerProtocol.IPv6Protocol;
    if (!encodeAddress(addrScratch, address, port, dualAsV6)) return -E.EINVAL;
    return this.#raw.bind(addrScratch);
  }

  listen(backlog: number): number {
    return this.#raw.listen(backlog);
  }

  /** accept4 → a new non-blocking descriptor | -errno. */
  accept(): number {
    return this.#raw.accept();
  }

  /**
   * Sends one datagram to `address`:`port`, or to the connected peer when
   * `address` is null → bytes | -errno. An IPv4 destination on an IPv6
   * (dual-stack) socket is sent to its v4-mapped form.
   */
  sendTo(buf: Uint8Array, off: number, len: number, address: QHostAddress | null, port: number): number {
    if (address === null) {
      addrScratch[0] = 0;
    } else if (!this.#encodeDestination(addrScratch, 0, address, port)) {
      return -E.EINVAL;
    }
    return this.#raw.sendTo(buf, off, len, addrScratch);
  }

  /** Encodes a destination into `out` at `at`; false for a null address. */
  #encodeDestination(out: Uint8Array, at: number, address: QHostAddress, port: number): boolean {
    let target = address;
    if (this.#family === NetworkLayerProtocol.IPv6Protocol && address.protocol() === NetworkLayerProtocol.IPv4Protocol) {
      target = new QHostAddress(address.toIPv6Address());
    }
    return encodeAddress(at === 0 ? out : out.subarray(at), target, port, this.#family !== NetworkLayerProtocol.IPv4Protocol);
  }

  /** Encodes `n` destinations into `out` for sendMany; false if one is unusable. */
  encodeDestinations(out: Uint8Array, list: ReadonlyArray<{ address: QHostAddress | null; port: number }>): boolean {
    for (let i = 0; i < list.length; i++) {
      const d = list[i];
      const prev = i > 0 ? list[i - 1] : null;
      // A batch mostly goes to one destination: encode it once, copy after.
      if (prev !== null && prev.address === d.address && prev.port === d.port) {
        out.copyWithin(i * ADDR_SIZE, (i - 1) * ADDR_SIZE, (i - 1) * ADDR_SIZE + 24);
      } else if (d.address === null) out[i * ADDR_SIZE] = 0;
      else if (!this.#encodeDestination(out, i * ADDR_SIZE, d.address, d.port)) return false;
    }
    return true;
  }

  /** One recvmmsg into the arrays `owner` gave binding.setRecvArrays → datagrams | -errno | NOT_READ (not registered). */
  recvMany(owner: number): number {
    return this.#raw.recvMany(owner);
  }

  sendMany(datagrams: Uint8Array[], addrs: Uint8Array): number {
    return this.#raw.sendMany(datagrams, addrs);
  }

  socketError(): number {
    return this.#raw.socketError();
  }

  read(buf: Uint8Array, off: number, len: number): number {
    return this.#raw.read(buf, off, len);
  }

  write(buf: Uint8Array, off: number, len: number): number {
    return this.#raw.write(buf, off, len);
  }

  shutdown(how: number): number {
    return this.#raw.shutdown(how);
  }

  localEndpoint(): Endpoint | null {
    return this.#raw.localAddress(addrScratch) === 0 ? decodeAddress(addrScratch) : null;
  }

  peerEndpoint(): Endpoint | null {
    return this.#raw.peerAddress(addrScratch) === 0 ? decodeAddress(addrScratch) : null;
  }

  /** getsockopt as an int → { value } or { errno }. */
  getOption(level: number, name: number): { value: number; errno: 0 } | { value: -1; errno: number } {
    const r = this.#raw.getOption(level, name, intScratch);
    return r === 0 ? { value: intScratch[0], errno: 0 } : { value: -1, errno: -r };
  }

  setOption(level: number, name: number, value: number): number {
    return this.#raw.setOption(level, name, value);
  }

  setReadNotificationEnabled(on: boolean): void {
    this.#setMask(on ? this.#mask | C.READABLE : this.#mask & ~C.READABLE);
  }

  setWriteNotificationEnabled(on: boolean): void {
    this.#setMask(on ? this.#mask | C.WRITABLE : this.#mask & ~C.WRITABLE);
  }

  isReadNotificationEnabled(): boolean {
    return (this.#mask & C.READABLE) !== 0;
  }

  isWriteNotificationEnabled(): boolean {
    return (this.#mask & C.WRITABLE) !== 0;
  }

  ref(): void {
    this.#raw.ref();
  }

  unref(): void {
    this.#raw.unref();
  }

  /** Where readiness events read on their own (see ByteQueue); set once per store. */
  setReadArea(area: Uint8Array): void {
    if (area === this.#area || !this.#open) return;
    this.#raw.setReadArea(area);
    this.#area = area;
  }

  /** Blocking wait for `events` → readiness mask | 0 on time-out | -errno. */
  poll(events: number, timeoutMs: number, spinUs = 0): number {
    return this.#raw.poll(events, timeoutMs, spinUs);
  }

  /** Blocking read with a deadline (and an optional spin first) → bytes | 0 EOF | -EAGAIN on time-out | -errno. */
  recvWait(buf: Uint8Array, off: number, len: number, timeoutMs: number, spinUs: number): number {
    return this.#raw.recvWait(buf, off, len, timeoutMs, spinUs);
  }

  /** Stops polling and closes the descriptor (once). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#mask = 0;
    this.#raw.close();
  }

  /** Stops polling and hands the still-open descriptor back. */
  detach(): number {
    this.#open = false;
    this.#mask = 0;
    return this.#raw.detach();
  }

  #setMask(mask: number): void {
    if (mask === this.#mask || !this.#open) return;
    const r = this.#raw.setNotify(mask);
    // setNotify fails only when libuv cannot watch the descriptor at all; the
    // next read or write then reports the real error.
    if (r === 0) this.#mask = mask;
  }
}
