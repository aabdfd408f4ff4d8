// QUdpSocket: datagrams, bound or connected, unicast and multicast.
import { binding, C, E } from './binding';
import { BindFlag, NetworkLayerProtocol, ProxyType, SocketError, SocketState, SocketType, SpecialAddress } from './enums';
import { Msg, mapErrno } from './errors';
import { QHostAddress } from './host-address';
import { checkSize, checkTarget, toOwnedBuffer, WritableData } from './io-device';
import { QAbstractSocket, SocketOptions, checkPort } from './abstract-socket';
import { NOT_READ, SocketEngine } from './native-engine';
import { QNetworkDatagram } from './network-datagram';
import { QNetworkProxy, QNetworkProxyQuery, ProxyQueryType, isUsableForSocket } from './network-proxy';
import { Association, openAssociation } from './proxy/udp-association';
import { decodeSocks5UdpDatagram, encodeSocks5UdpHeader } from './proxy/socks5-udp';
import { ProxyMsg } from './proxy/tunnel';
import { ADDR_SIZE, Endpoint, decodeAddress, scopeIndex } from './sockaddr';

/** What readDatagram() returns. */
export interface Datagram {
  data: Buffer;
  address: QHostAddress;
  port: number;
}

/** One datagram for writeDatagrams(). */
export interface OutgoingDatagram {
  data: WritableData;
  address: QHostAddress | string;
  port: number;
}

interface Queued {
  data: Buffer;
  sender: QHostAddress;
  senderPort: number;
  destination: QHostAddress;
  destinationPort: number;
  hopLimit: number;
  timestampNs: bigint;
}

/** The destination of a datagram that arrived without one (it is copied before it is handed out). */
const NO_DESTINATION = new QHostAddress();
/** What a read record holds once released. */
const EMPTY = Buffer.alloc(0);

/** The largest UDP payload (IPv6 without jumbograms) fits one slot. */
const SLOT = 65536;
/** Datagrams per recvmmsg/sendmmsg, the native batch limit. */
const BATCH = 64;

// recvmmsg lands in one slab per environment, allocated and registered with
// the addon on first use; each batch is copied out at once (one Buffer, which
// its datagrams are views of), so sockets never share what they return.
let slab: Buffer | null = null;
/** This module's name for its arrays when it registers them with the addon (see recvMany). */
const RECV_OWNER = (Math.random() * 0x7fffffff) | 0 || 1;
const meta = new Int32Array(BATCH * 4);
const senders = new Uint8Array(BATCH * ADDR_SIZE);
const destinations = new Uint8Array(BATCH * ADDR_SIZE);
const outAddrs = new Uint8Array(BATCH * ADDR_SIZE);

// The same address arrays as int32 words, to compare addresses 4 bytes at a time.
const senderWords = new Int32Array(senders.buffer);
const destinationWords = new Int32Array(destinations.buffer);

/**
 * The endpoint last decoded from a batch array, kept from batch to batch: a
 * socket mostly hears from one peer, at one of its addresses, so most
 * datagrams cost a 24-byte comparison (kind, port, scope, address) instead
 * of a decode.
 */
class LastEndpoint {
  readonly #key = new Int32Array(6);
  #endpoint: Endpoint | null = null;

  /** The endpoint at byte `at` of `bytes` (`words` being the same memory as int32s). */
  at(bytes: Uint8Array, words: Int32Array, at: number): Endpoint {
    const w = at >> 2;
    const key = this.#key;
    if (
      this.#endpoint !== null &&
      key[0] === words[w] &&
      key[1] === words[w + 1] &&
      key[2] === words[w + 2] &&
      key[3] === words[w + 3] &&
      key[4] === words[w + 4] &&
      key[5] === words[w + 5]
    ) {
      return this.#endpoint;
    }
    for (let i = 0; i < 6; i++) key[i] = words[w + i];
    return (this.#endpoint = decodeAddress(bytes.subarray(at, at + ADDR_SIZE)));
  }
}

function toAddress(a: QHostAddress | string | SpecialAddress): QHostAddress {
  if (a instanceof QHostAddress) return a;
  if (typeof a === 'string' || typeof a === 'number') return new QHostAddress(a as string);
  throw new TypeError('address must be a QHostAddress, a string or a SpecialAddress');
}

/**
 * A UDP socket, after Qt's QUdpSocket. bind() then readDatagram() and
 * writeDatagram(); or connectToHost() then read() and write(), one datagram
 * each. The kernel's queue is the read buffer: setReadBufferSize has no effect.
 */
export class QUdpSocket extends QAbstractSocket {
  // Datagrams taken from the kernel and not yet read: #queue[#head..#tail).
  // The records are reused batch after batch (a record per datagram would be
  // an allocation per datagram); a read record's data is dropped at once, so
  // nothing read is kept alive by the queue.
  #queue: Queued[] = [];
  #tail = 0;
  #lastSender: LastEndpoint | null = null;
  #lastDestination: LastEndpoint | null = null;
  #head = 0;
  #reemitQueued = false;
  #multicastInterface = '';
  #association: Association | null = null;
  #readPaused = false;

  constructor(options: SocketOptions = {}) {
    super(SocketType.UdpSocket, options);
  }

  // ---- binding ------------------------------------------------------------

  /**
   * Binds to `address` (default Any: IPv4 and IPv6) and `port` (0: any free
   * one) and enters BoundState. `mode` ShareAddress lets other sockets bind
   * the same address and port (SO_REUSEADDR and SO_REUSEPORT);
   * ReuseAddressHint sets SO_REUSEADDR. Returns false with error() set.
   */
  bind(address: QHostAddress | string | SpecialAddress = SpecialAddress.Any, port = 0, mode: number = BindFlag.DefaultForPlatform): boolean {
    const addr = toAddress(address);
    checkPort(port);
    if (!Number.isInteger(mode) || mode < 0 || mode > 7) throw new RangeError(`unknown bind mode ${String(mode)}`);
    if (this.state() !== SocketState.UnconnectedState) {
      this._setErrorAndEmit(SocketError.OperationError, 'The socket is already bound or connected');
      return false;
    }
    if (addr.isNull()) {
      this._setErrorAndEmit(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
      return false;
    }
    // Through a SOCKS5 proxy, datagrams go by way of a relay that a UDP
    // association opens first (blocking, as in Qt: bind() answers yes or no).
    const proxy = QNetworkProxy.resolveForSocket(this.proxy(), new QNetworkProxyQuery(port, '', ProxyQueryType.UdpSocket));
    let association: Association | null = null;
    if (proxy.type() !== ProxyType.NoProxy) {
      const problem = isUsableForSocket(proxy, true);
      if (problem !== null) {
        this._setErrorAndEmit(SocketError.UnsupportedSocketOperationError, problem);
        return false;
      }
      const opened = openAssociation(proxy, this.proxyTimeout(), (p, auth) => this.proxyAuthenticationRequired.emit(p, auth));
      if ('error' in opened) {
        this._setErrorAndEmit(opened.error, opened.message);
        return false;
      }
      association = opened;
    }
    const dualStack = addr.protocol() === NetworkLayerProtocol.AnyIPProtocol;
    const engine = new SocketEngine(this);
    let r = engine.open(dualStack ? NetworkLayerProtocol.IPv6Protocol : addr.protocol(), C.SOCK_DGRAM);
    if (r === -E.EAFNOSUPPORT && dualStack) r = engine.open(NetworkLayerProtocol.IPv4Protocol, C.SOCK_DGRAM);
    if (r < 0) return this.#bindFailed(engine, mapErrno('create', -r));
    this.#prepare(engine, dualStack);
    if (mode & (BindFlag.ShareAddress | BindFlag.ReuseAddressHint)) engine.setOption(C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    if (mode & BindFlag.ShareAddress && C.SO_REUSEPORT !== undefined) engine.setOption(C.SOL_SOCKET, C.SO_REUSEPORT, 1);
    r = engine.bind(addr, port);
    if (r < 0) {
      association?.control.abort();
      return this.#bindFailed(engine, mapErrno('bind', -r));
    }
    this._installEngine(engine);
    if (dualStack) this.setLocalAddress(addr);
    if (association !== null) this.#attach(association);
    this._setState(SocketState.BoundState);
    return true;
  }

  /** Keeps the association: its end (the proxy closed the control connection) ends the relaying. */
  #attach(a: Association): void {
    this.#association = a;
    a.control.readyRead.connect(() => a.control.readAll());
    a.control.disconnected.connect(() => {
      if (this.#association !== a) return;
      this.#association = null;
      this._setErrorAndEmit(SocketError.ProxyConnectionClosedError, ProxyMsg.closed);
    });
  }

  #dropAssociation(): void {
    const a = this.#association;
    this.#association = null;
    a?.control.abort();
  }

  /** The relay's framing (RFC 1928 §7) before `payload`, when relaying. */
  #framed(payload: Uint8Array, dest: QHostAddress, port: number): Uint8Array {
    return Buffer.concat([encodeSocks5UdpHeader(dest, port), payload]);
  }

  /** Options every datagram socket of ours gets: broadcast allowed (as Qt does) and arrival details reported. */
  #prepare(engine: SocketEngine, dualStack: boolean): void {
    engine.setOption(C.SOL_SOCKET, C.SO_BROADCAST, 1);
    if (engine.family() === NetworkLayerProtocol.IPv6Protocol) {
      engine.setOption(C.IPPROTO_IPV6, C.IPV6_V6ONLY, dualStack ? 0 : 1);
      if (C.IPV6_RECVPKTINFO !== undefined) {
        engine.setOption(C.IPPROTO_IPV6, C.IPV6_RECVPKTINFO, 1);
        engine.setOption(C.IPPROTO_IPV6, C.IPV6_RECVHOPLIMIT, 1);
      }
    }
    if (C.IP_PKTINFO !== undefined && (engine.family() === NetworkLayerProtocol.IPv4Protocol || dualStack)) {
      engine.setOption(C.IPPROTO_IP, C.IP_PKTINFO, 1);
      engine.setOption(C.IPPROTO_IP, C.IP_RECVTTL, 1);
    }
  }

  #bindFailed(engine: SocketEngine, failure: { error: SocketError; message: string }): false {
    engine.close();
    this._setErrorAndEmit(failure.error, failure.message);
    return false;
  }

  // ---- reading ------------------------------------------------------------

  /**
   * True when a datagram is waiting, here or in the kernel. Where Qt peeks
   * (MSG_PEEK), this takes the kernel's batch into the socket's queue: the
   * readDatagram() that follows then costs no system call.
   */
  hasPendingDatagrams(): boolean {
    return this.#queued() > 0 || this.#pull() > 0;
  }

  /** The size of the next datagram, or -1 when none is waiting. */
  pendingDatagramSize(): number {
    if (this.#queued() > 0 || this.#pull() > 0) return this.#queue[this.#head].data.length;
    return -1;
  }

  /**
   * Takes the next datagram, cut to `maxSize` bytes (the rest of it is
   * discarded). Returns null, with TemporaryError, when none is waiting.
   * Differs from Qt: the data and sender come back as one object.
   */
  readDatagram(maxSize?: number): Datagram | null {
    const q = this.#take(maxSize);
    if (q === null) return null;
    const d = { data: q.data, address: QHostAddress._copy(q.sender), port: q.senderPort };
    this.#release(q);
    return d;
  }

  /** Takes the next datagram with its sender, destination and hop limit; an invalid datagram when none is waiting. */
  receiveDatagram(maxSize?: number): QNetworkDatagram {
    const q = this.#take(maxSize);
    if (q === null) return new QNetworkDatagram();
    const d = QNetworkDatagram._received(q.data, QHostAddress._copy(q.sender), q.senderPort, QHostAddress._copy(q.destination), q.destinationPort, q.hopLimit, q.timestampNs);
    this.#release(q);
    return d;
  }

  /** In connected mode, the next datagram's data (at most maxSize bytes). */
  override read(maxSize: number): Buffer {
    checkSize('maxSize', maxSize);
    if (!this.isReadable()) return Buffer.alloc(0);
    return this.#takeData(maxSize);
  }

  /**
   * In connected mode, copies the next datagram (at most `length` bytes of
   * it; the rest is discarded) into `target` at `offset` and returns its
   * size there; -1 with TemporaryError when none is waiting.
   */
  override readInto(target: Uint8Array, offset = 0, length?: number): number {
    const [off, len] = checkTarget(target, offset, length);
    if (!this.isReadable()) return -1;
    const q = this.#take(len);
    if (q === null) return -1;
    const n = q.data.length;
    target.set(q.data, off);
    this.#release(q);
    return n;
  }

  /** Discards the next datagram; returns how many of its bytes were within `maxSize` (0 when none is waiting). */
  override skip(maxSize: number): number {
    checkSize('maxSize', maxSize);
    if (!this.isReadable()) return -1;
    if (this.#queued() === 0) this.#fill();
    if (this.#queued() === 0) return 0;
    return this.#takeData(maxSize).length;
  }

  override readAll(): Buffer {
    if (!this.isReadable()) return Buffer.alloc(0);
    return this.#takeData();
  }

  override peek(maxSize: number): Buffer {
    checkSize('maxSize', maxSize);
    if (this.#queued() === 0) this.#fill();
    if (this.#queued() === 0) return Buffer.alloc(0);
    return Buffer.from(this.#queue[this.#head].data.subarray(0, maxSize));
  }

  /** The size of the next datagram (Qt: what one read() would return), or 0. */
  override bytesAvailable(): number {
    return Math.max(0, this.pendingDatagramSize());
  }

  override atEnd(): boolean {
    return !this.isOpen() || !this.hasPendingDatagrams();
  }

  #queued(): number {
    return this.#tail - this.#head;
  }

  /**
   * Fills the empty queue from the kernel → datagrams now queued. An error
   * the kernel reports instead (an ICMP error on a connected socket) is
   * emitted as the event loop would have.
   */
  #pull(): number {
    const n = this.#fill();
    if (n < 0 && n !== -E.EAGAIN && n !== -E.EWOULDBLOCK) this.#reportError(-n);
    // They left the kernel, which will not announce them again: if they are
    // not read now, readyRead must still come for them.
    if (n > 0) this.#scheduleReadyRead();
    return this.#queued();
  }

  #take(maxSize?: number): Queued | null {
    if (maxSize !== undefined) checkSize('maxSize', maxSize);
    if (this.#queued() === 0) this.#fill();
    if (this.#queued() === 0) {
      this.setSocketError(SocketError.TemporaryError);
      this.setErrorString(Msg.noDatagram);
      return null;
    }
    const q = this.#queue[this.#head++];
    if (maxSize !== undefined && q.data.length > maxSize) q.data = q.data.subarray(0, maxSize);
    this.#afterRead();
    return q;
  }

  /** Forgets what a record taken by #take held, once its reader has what it needs. */
  #release(q: Queued): void {
    q.data = EMPTY;
    q.sender = NO_DESTINATION;
    q.destination = NO_DESTINATION;
  }

  /** The next datagram's data, cut to maxSize; empty (with TemporaryError) when none is waiting. */
  #takeData(maxSize?: number): Buffer {
    const q = this.#take(maxSize);
    if (q === null) return Buffer.alloc(0);
    const data = q.data;
    this.#release(q);
    return data;
  }

  /**
   * Qt re-enables read notifications after each read, so readyRead comes
   * again while datagrams remain: from the kernel when our queue is empty,
   * or on the next turn of the loop when it is not.
   */
  #afterRead(): void {
    if (this.#queued() === 0) {
      if (this.#readPaused) {
        this.#readPaused = false;
        this._syncNotifications();
      }
      return;
    }
    this.#scheduleReadyRead();
  }

  /** readyRead on the next turn of the loop if datagrams are still queued then. */
  #scheduleReadyRead(): void {
    if (this.#reemitQueued) return;
    this.#reemitQueued = true;
    setImmediate(() => {
      this.#reemitQueued = false;
      if (this.#queued() > 0 && this.isOpen()) this._emitReadyRead();
    });
  }

  /** Pulls up to a batch of datagrams from the kernel into the queue → how many, or -errno. */
  #fill(): number {
    const engine = this._engine();
    if (engine === null) return 0;
    slab ??= Buffer.allocUnsafeSlow(SLOT * BATCH);
    let n = engine.recvMany(RECV_OWNER);
    if (n === NOT_READ) {
      // First use, or another copy of this module registered its arrays since.
      binding.setRecvArrays(slab, SLOT, meta, senders, destinations, RECV_OWNER);
      n = engine.recvMany(RECV_OWNER);
    }
    if (n <= 0) return n;
    if (this.#head === this.#tail) this.#head = this.#tail = 0; // all read: reuse from the start
    let total = 0;
    for (let i = 0; i < n; i++) total += Math.min(meta[4 * i], SLOT);
    const batch = Buffer.allocUnsafe(total);
    batch.set(slab.subarray(0, total));
    let offset = 0;
    const lastSender = (this.#lastSender ??= new LastEndpoint());
    for (let i = 0; i < n; i++) {
      const len = Math.min(meta[4 * i], SLOT);
      const data = batch.subarray(offset, offset + len);
      offset += len;
      const at = i * ADDR_SIZE;
      const from = lastSender.at(senders, senderWords, at);
      let senderPort = from.port;
      const dst = destinations[at] === 0 ? null : (this.#lastDestination ??= new LastEndpoint()).at(destinations, destinationWords, at);
      let payload: Buffer = data;
      let sender = from.address;
      const relay = this.#association;
      if (relay !== null) {
        // Only the relay speaks for the proxy; the header says who sent it.
        const d = sender.isEqual(relay.relay) && senderPort === relay.relayPort ? decodeSocks5UdpDatagram(data) : null;
        if (d === null) continue;
        payload = d.payload;
        sender = d.address instanceof QHostAddress ? d.address : new QHostAddress(d.address);
        senderPort = d.port;
      }
      const timestampNs = meta[4 * i + 3] < 0 ? -1n : BigInt(meta[4 * i + 2] >>> 0) * 1_000_000_000n + BigInt(meta[4 * i + 3]);
      const q = this.#queue[this.#tail];
      if (q === undefined) {
        this.#queue.push({
          data: payload,
          sender,
          senderPort,
          destination: dst?.address ?? NO_DESTINATION,
          destinationPort: dst?.port ?? -1,
          hopLimit: meta[4 * i + 1],
          timestampNs,
        });
      } else {
        q.data = payload;
        q.sender = sender;
        q.senderPort = senderPort;
        q.destination = dst?.address ?? NO_DESTINATION;
        q.destinationPort = dst?.port ?? -1;
        q.hopLimit = meta[4 * i + 1];
        q.timestampNs = timestampNs;
      }
      this.#tail++;
    }
    return n;
  }

  /** @internal EngineReceiver: datagrams (or an ICMP error) are waiting. */
  override _readNotification(): void {
    const st = this.state();
    if (st !== SocketState.BoundState && st !== SocketState.ConnectedState) return;
    if (this.#queued() > 0) {
      // Datagrams are still unread: stop watching until they are (Qt does
      // not re-emit readyRead meanwhile). Only now, not after every batch,
      // so that a reader that keeps up costs no epoll changes.
      this.#readPaused = true;
      this._syncNotifications();
      return;
    }
    const before = this.#queued();
    const n = this.#fill();
    if (n < 0 && n !== -E.EAGAIN && n !== -E.EWOULDBLOCK) {
      this.#reportError(-n);
      return;
    }
    if (this.#queued() > before) this._emitReadyRead();
  }

  /** @internal EngineReceiver: an error is pending on the socket (an ICMP error, say). */
  override _exceptionNotification(_status: number): void {
    const engine = this._engine();
    if (engine === null) return;
    if (this.state() === SocketState.ConnectingState) {
      super._exceptionNotification(_status);
      return;
    }
    const err = engine.socketError();
    if (err > 0) this.#reportError(err);
    this._syncNotifications();
  }

  /** A datagram socket survives errors: report, and keep the socket (Qt does too). */
  #reportError(errno: number): void {
    const f = mapErrno('read', errno);
    const error = errno === E.ECONNREFUSED ? SocketError.ConnectionRefusedError : f.error;
    this._setErrorAndEmit(error, errno === E.ECONNREFUSED ? Msg.refused : f.message);
    this._syncNotifications();
  }

  protected override _wantsRead(): boolean {
    const st = this.state();
    return (st === SocketState.BoundState || st === SocketState.ConnectedState) && !this.#readPaused;
  }

  // ---- writing ------------------------------------------------------------

  /**
   * Sends `data` as one datagram to `address`:`port`; an unbound socket is
   * bound to Any first (BoundState). Returns the bytes sent and emits
   * bytesWritten, or -1 with error() set (DatagramTooLargeError for EMSGSIZE,
   * TemporaryError when the kernel's buffer is full).
   */
  writeDatagram(data: WritableData | QNetworkDatagram, address?: QHostAddress | string, port?: number): number {
    let payload: Buffer;
    let dest: QHostAddress;
    let destPort: number;
    if (data instanceof QNetworkDatagram) {
      payload = data.data();
      dest = address !== undefined ? toAddress(address) : data.destinationAddress();
      destPort = port ?? data.destinationPort();
    } else {
      payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data instanceof Uint8Array ? (data as Buffer) : toOwnedBuffer(data);
      if (address === undefined || port === undefined) throw new TypeError('writeDatagram needs an address and a port');
      dest = toAddress(address);
      destPort = port;
    }
    checkPort(destPort);
    if (dest.isNull()) {
      this._setErrorAndEmit(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
      return -1;
    }
    if (!this.#ensureBound(dest)) return -1;
    const relay = this.#association;
    if (relay !== null) {
      const framed = this.#framed(payload, dest, destPort);
      const n = this._engine()!.sendTo(framed, 0, framed.length, relay.relay, relay.relayPort);
      return this.#sent(n < 0 ? n : Math.max(0, n - (framed.length - payload.length)));
    }
    const n = this._engine()!.sendTo(payload, 0, payload.length, dest, destPort);
    return this.#sent(n);
  }

  /**
   * Sends many datagrams with as few system calls as possible (sendmmsg,
   * 64 at a time). Returns how many were sent; stops at the first that
   * fails, with error() set. One bytesWritten for the total.
   */
  writeDatagrams(datagrams: readonly OutgoingDatagram[]): number {
    if (!Array.isArray(datagrams)) throw new TypeError('writeDatagrams needs an array');
    if (datagrams.length === 0) return 0;
    let lastIn: QHostAddress | string | undefined;
    let lastOut: QHostAddress | undefined;
    const list = datagrams.map((d) => {
      // One destination for many datagrams is the common case: convert it once.
      const address = d.address === lastIn && lastOut !== undefined ? lastOut : toAddress(d.address);
      lastIn = d.address;
      lastOut = address;
      checkPort(d.port);
      const data = typeof d.data === 'string' ? Buffer.from(d.data, 'utf8') : d.data;
      if (!(data instanceof Uint8Array)) throw new TypeError('datagram data must be a Buffer, a Uint8Array or a string');
      return { data, address, port: d.port };
    });
    if (list.some((d) => d.address.isNull())) {
      this._setErrorAndEmit(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
      return 0;
    }
    if (!this.#ensureBound(list[0].address)) return 0;
    const engine = this._engine()!;
    const relay = this.#association;
    const wire =
      relay === null
        ? list
        : list.map((d) => ({ data: this.#framed(d.data, d.address, d.port), address: relay.relay, port: relay.relayPort, payload: d.data.length }));
    let sent = 0;
    let bytes = 0;
    while (sent < wire.length) {
      const batch = wire.slice(sent, sent + BATCH);
      if (!engine.encodeDestinations(outAddrs, batch)) break;
      const n = engine.sendMany(
        batch.map((d) => d.data),
        outAddrs,
      );
      if (n < 0) {
        this.#sendFailed(-n);
        break;
      }
      for (let i = 0; i < n; i++) bytes += list[sent + i].data.length;
      sent += n;
      if (n < batch.length) break;
    }
    if (bytes > 0) this.bytesWritten.emit(bytes);
    return sent;
  }

  /** In connected mode: sends `data` as one datagram at once. */
  protected override writeData(data: Buffer, _owned: boolean): number {
    const engine = this._engine();
    if (this.state() !== SocketState.ConnectedState || engine === null) {
      this.setSocketError(SocketError.UnknownSocketError);
      this.setErrorString(Msg.notConnected);
      return -1;
    }
    return this.#sent(engine.sendTo(data, 0, data.length, null, 0));
  }

  #sent(n: number): number {
    if (n < 0) {
      this.#sendFailed(-n);
      return -1;
    }
    this.bytesWritten.emit(n);
    return n;
  }

  #sendFailed(errno: number): void {
    if (errno === E.EAGAIN || errno === E.EWOULDBLOCK || errno === E.ENOBUFS) {
      this._setErrorAndEmit(SocketError.TemporaryError, Msg.temporary);
    } else if (errno === E.ECONNREFUSED) {
      this._setErrorAndEmit(SocketError.ConnectionRefusedError, Msg.refused);
    } else {
      const f = mapErrno('write', errno);
      this._setErrorAndEmit(f.error, f.message);
    }
  }

  #ensureBound(dest: QHostAddress): boolean {
    if (this._engine() !== null) return true;
    if (this.state() !== SocketState.UnconnectedState) return false;
    const any =
      dest.protocol() === NetworkLayerProtocol.IPv6Protocol ? SpecialAddress.Any : SpecialAddress.AnyIPv4;
    return this.bind(any, 0);
  }

  // ---- multicast ----------------------------------------------------------

  /**
   * Joins `group` on `iface` (an interface name, index, or local IPv4
   * address; default: the kernel's choice). Needs BoundState. A socket bound
   * to the dual-stack Any cannot join an IPv4 group (as in Qt): bind to
   * AnyIPv4 for that.
   */
  joinMulticastGroup(group: QHostAddress | string, iface?: string | number | QHostAddress): boolean {
    return this.#membership(true, toAddress(group), iface);
  }

  leaveMulticastGroup(group: QHostAddress | string, iface?: string | number | QHostAddress): boolean {
    return this.#membership(false, toAddress(group), iface);
  }

  #membership(join: boolean, group: QHostAddress, iface?: string | number | QHostAddress): boolean {
    const engine = this._engine();
    if (this.state() !== SocketState.BoundState || engine === null) {
      this._setErrorAndEmit(SocketError.OperationError, 'Multicast needs a bound socket');
      return false;
    }
    if (!group.isMulticast()) {
      this._setErrorAndEmit(SocketError.UnsupportedSocketOperationError, `${Msg.unsupported}: ${group} is not a multicast address`);
      return false;
    }
    const v4 = group.protocol() === NetworkLayerProtocol.IPv4Protocol;
    if (v4 && engine.family() !== NetworkLayerProtocol.IPv4Protocol) {
      this._setErrorAndEmit(SocketError.UnsupportedSocketOperationError, `${Msg.unsupported}: bind to an IPv4 address to join an IPv4 group`);
      return false;
    }
    if (!v4 && engine.family() !== NetworkLayerProtocol.IPv6Protocol) {
      this._setErrorAndEmit(SocketError.UnsupportedSocketOperationError, `${Msg.unsupported}: bind to an IPv6 address to join an IPv6 group`);
      return false;
    }
    const req = v4 ? ipMreqn(group, iface) : ipv6Mreq(group, iface);
    if (req === null) {
      this._setErrorAndEmit(SocketError.UnsupportedSocketOperationError, `${Msg.unsupported}: unknown interface ${String(iface)}`);
      return false;
    }
    const name = v4 ? (join ? C.IP_ADD_MEMBERSHIP : C.IP_DROP_MEMBERSHIP) : join ? C.IPV6_JOIN_GROUP : C.IPV6_LEAVE_GROUP;
    const r = engine.raw().setOptionBytes(v4 ? C.IPPROTO_IP : C.IPPROTO_IPV6, name, req);
    if (r < 0) {
      const f = mapErrno('option', -r);
      this._setErrorAndEmit(f.error, f.message);
      return false;
    }
    return true;
  }

  /** Sets the interface outgoing multicast leaves by (IP_MULTICAST_IF / IPV6_MULTICAST_IF). */
  setMulticastInterface(iface: string | number | QHostAddress): boolean {
    const engine = this._engine();
    if (engine === null) return false;
    let r: number;
    if (engine.family() === NetworkLayerProtocol.IPv6Protocol) {
      const index = ifaceIndex(iface);
      if (index < 0) return false;
      r = engine.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_IF, index);
    } else {
      const req = ipMreqn(new QHostAddress('0.0.0.0'), iface);
      if (req === null) return false;
      r = engine.raw().setOptionBytes(C.IPPROTO_IP, C.IP_MULTICAST_IF, req);
    }
    if (r < 0) {
      const f = mapErrno('option', -r);
      this._setErrorAndEmit(f.error, f.message);
      return false;
    }
    this.#multicastInterface = iface instanceof QHostAddress ? iface.toString() : String(iface);
    return true;
  }

  /** The interface set with setMulticastInterface ('' for the kernel's choice). */
  multicastInterface(): string {
    return this.#multicastInterface;
  }

  override abort(): void {
    this.#queue = [];
    this.#head = this.#tail = 0;
    this.#dropAssociation();
    super.abort();
  }

  override close(): void {
    this.#queue = [];
    this.#head = this.#tail = 0;
    this.#dropAssociation();
    super.close();
  }

  /**
   * As in QAbstractSocket; while datagrams already taken from the kernel are
   * still unread, it returns true at once (reading them is what comes next).
   */
  override waitForReadyRead(msecs = 30000): boolean {
    if (this.#queued() > 0 && this.isOpen()) return true;
    return super.waitForReadyRead(msecs);
  }

  /** UDP has no application read buffer: the kernel's queue is the buffer. */
  override setReadBufferSize(size: number): void {
    checkSize('size', size);
  }

  protected override _checkDescriptor(
    d: { type: number; domain: number; listening: boolean; connected: boolean },
    state: SocketState,
  ): string | SocketState {
    if (d.type !== C.SOCK_DGRAM) return `${Msg.unsupported}: not a datagram socket`;
    const checked = super._checkDescriptor(d, state === SocketState.ConnectedState && !d.connected ? SocketState.BoundState : state);
    if (typeof checked === 'string') return checked;
    // A datagram socket is Connected exactly when the kernel has a peer for
    // it, and otherwise Bound (it always has a local address once used).
    return d.connected ? SocketState.ConnectedState : checked === SocketState.UnconnectedState ? checked : SocketState.BoundState;
  }
}

function ifaceIndex(iface: string | number | QHostAddress | undefined): number {
  if (iface === undefined) return 0;
  if (typeof iface === 'number') return Number.isInteger(iface) && iface >= 0 ? iface : -1;
  if (typeof iface === 'string') {
    const i = /^\d+$/.test(iface) ? Number(iface) : scopeIndex(iface);
    return i > 0 || iface === '0' ? i : -1;
  }
  return -1;
}

/** struct ip_mreqn (Linux): group, local address, interface index. */
function ipMreqn(group: QHostAddress, iface?: string | number | QHostAddress): Uint8Array | null {
  const req = new Uint8Array(12);
  req.set(group._bytes().subarray(0, 4), 0);
  if (iface instanceof QHostAddress) {
    if (iface.protocol() !== NetworkLayerProtocol.IPv4Protocol) return null;
    req.set(iface._bytes(), 4);
    return req;
  }
  const index = ifaceIndex(iface);
  if (index < 0) return null;
  new Int32Array(req.buffer, 8, 1)[0] = index; // host byte order, as the kernel reads it
  return req;
}

/** struct ipv6_mreq: group, interface index. */
function ipv6Mreq(group: QHostAddress, iface?: string | number | QHostAddress): Uint8Array | null {
  const req = new Uint8Array(20);
  req.set(group._bytes(), 0);
  const index = iface instanceof QHostAddress ? -1 : ifaceIndex(iface);
  if (index < 0) return null;
  new Uint32Array(req.buffer, 16, 1)[0] = index;
  return req;
}
