// The contract between QAbstractSocket and a proxy protocol (SOCKS5, HTTP
// CONNECT). A negotiator is a pure state machine: bytes in, decisions out. It
// never touches a socket, a timer or the network, so it can be fuzzed.
import type { SocketError } from '../enums';

/** Where the tunnel should lead: a host name (resolved by the proxy) or an IP literal. */
export interface ProxyTarget {
  host: string;
  port: number;
  /** True when `host` is a name the proxy must resolve (SOCKS5 ATYP 3 / HTTP authority). */
  isName: boolean;
}

export interface ProxyCredentials {
  user: string;
  password: string;
}

/** What the negotiator wants next; exactly one of the fields is set. */
export type NegotiationStep =
  /**
   * Send these bytes to the proxy, then feed() what it answers. `more` is
   * true when the proxy already sent bytes past the message this answers
   * (a pipelining or misbehaving proxy): they are buffered, and the caller
   * should call feed(Buffer.alloc(0)) after sending instead of waiting for
   * new data that may never come.
   */
  | { send: Buffer; more?: boolean }
  /** Nothing to do until more bytes arrive. */
  | { wait: true }
  /**
   * The tunnel is up; `leftover` bytes already belong to the destination's
   * stream. `bound` (optional) is the address and port the proxy reported in
   * its reply: for SOCKS5 CONNECT the proxy's outgoing address, for SOCKS5
   * UDP ASSOCIATE the relay to send datagrams to (0.0.0.0 or :: there means
   * "the proxy's own address"). HTTP CONNECT reports none.
   */
  | { done: true; leftover: Buffer; bound?: { host: string; port: number } }
  /**
   * The proxy wants credentials that we do not have (or rejected the ones we
   * sent). The socket asks its proxyAuthenticationRequired slots; with new
   * credentials it calls restart() on a fresh connection, else it fails
   * with ProxyAuthenticationRequiredError.
   */
  | { authenticate: true; realm: string }
  /** The negotiation failed. */
  | { fail: true; error: SocketError; message: string };

export interface ProxyNegotiator {
  /** The first bytes to send once the TCP connection to the proxy is up. */
  start(): Buffer;
  /**
   * Feeds bytes received from the proxy (any split, possibly empty). Never
   * throws, and keeps no reference to `data` after returning (it may be a
   * reused read buffer); a `done` step's `leftover` is a view into `data`,
   * so consume or copy it before reusing that buffer.
   */
  feed(data: Buffer): NegotiationStep;
  /** Whether retrying needs a new TCP connection to the proxy (HTTP after 407 with Connection: close, SOCKS5 after a rejected login). */
  readonly reconnectToRetry: boolean;
  /**
   * Set (before start() is called) when the target cannot be expressed in
   * this protocol at all, e.g. a host name with characters that would break
   * an HTTP request line. The caller should fail with it instead of talking
   * to the proxy; start() then returns an empty Buffer and every feed()
   * returns this failure as a `fail` step.
   */
  readonly startFailure?: { error: SocketError; message: string };
}

/** What feed() was given, as a Buffer view (never a copy); anything else counts as no bytes. */
export function asChunk(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.alloc(0);
}

/**
 * The answer to a feed() after the negotiation ended: once the tunnel is up,
 * later bytes are the destination's and are handed back untouched; a failure
 * stays the same failure.
 */
export function afterEnd(terminal: NegotiationStep, chunk: Buffer): NegotiationStep {
  return 'done' in terminal ? { done: true, leftover: chunk } : terminal;
}

export type NegotiatorFactory = (target: ProxyTarget, credentials: ProxyCredentials | null) => ProxyNegotiator;
