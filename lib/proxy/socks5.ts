// SOCKS5 (RFC 1928) with no authentication or username/password (RFC 1929),
// as a pure state machine: bytes in, steps out. Used for CONNECT (TCP) and,
// through socks5-udp.ts, for UDP ASSOCIATE.
//
// Error mapping follows Qt's QSocks5SocketEngine; the few places where it
// does not are marked "Differs from Qt" in the TSDoc below.
import { domainToASCII } from 'node:url';
import { NetworkLayerProtocol, SocketError } from '../enums';
import { QHostAddress } from '../host-address';
import { afterEnd, asChunk } from './negotiator';
import type { NegotiationStep, ProxyCredentials, ProxyNegotiator, ProxyTarget } from './negotiator';

/** RFC 1928 constants. */
export const SOCKS5 = {
  VERSION: 0x05,
  CMD_CONNECT: 0x01,
  CMD_BIND: 0x02,
  CMD_UDP_ASSOCIATE: 0x03,
  ATYP_IPV4: 0x01,
  ATYP_DOMAIN: 0x03,
  ATYP_IPV6: 0x04,
  METHOD_NONE: 0x00,
  METHOD_USERPASS: 0x02,
  METHOD_NO_ACCEPTABLE: 0xff,
  /** RFC 1929 sub-negotiation version. */
  USERPASS_VERSION: 0x01,
} as const;

/** Qt's prefix for every malformed reply. */
const PROTOCOL_ERROR = 'SOCKS version 5 protocol error';

type Failure = { fail: true; error: SocketError; message: string };

const failure = (error: SocketError, message: string): Failure => ({ fail: true, error, message });
const protocolFailure = (detail: string): Failure => failure(SocketError.ProxyProtocolError, `${PROTOCOL_ERROR}: ${detail}`);
const hex = (byte: number): string => `0x${byte.toString(16).padStart(2, '0')}`;

/**
 * The SocketError and message for a SOCKS5 reply code (REP ≠ 0), as Qt's
 * QSocks5SocketEngine maps them:
 *
 * | REP  | meaning (RFC 1928)                | SocketError                          |
 * |------|-----------------------------------|--------------------------------------|
 * | 0x01 | general SOCKS server failure      | NetworkError (HostNotFoundError for a name target) |
 * | 0x02 | connection not allowed by ruleset | SocketAccessError (HostNotFoundError for a name target) |
 * | 0x03 | network unreachable               | NetworkError                         |
 * | 0x04 | host unreachable                  | HostNotFoundError                    |
 * | 0x05 | connection refused                | ConnectionRefusedError               |
 * | 0x06 | TTL expired                       | NetworkError                         |
 * | 0x07 | command not supported             | UnsupportedSocketOperationError      |
 * | 0x08 | address type not supported        | UnsupportedSocketOperationError      |
 * | other| unassigned                        | ProxyProtocolError                   |
 *
 * For a target given by name, Qt reads 0x01 and 0x02 as "host not found",
 * because Dante answers a failed name resolution with them; so does qsocket.
 *
 * Differs from Qt: an unassigned code is a ProxyProtocolError (Qt reports
 * UnknownSocketError), since the reply is not valid SOCKS5.
 */
export function socks5ReplyFailure(rep: number, targetIsName: boolean): { error: SocketError; message: string } {
  if (targetIsName && (rep === 0x01 || rep === 0x02)) {
    return { error: SocketError.HostNotFoundError, message: 'Host not found' };
  }
  switch (rep) {
    case 0x01:
      return { error: SocketError.NetworkError, message: 'General SOCKSv5 server failure' };
    case 0x02:
      return { error: SocketError.SocketAccessError, message: 'Connection not allowed by SOCKSv5 server' };
    case 0x03:
      return { error: SocketError.NetworkError, message: 'Network unreachable' };
    case 0x04:
      return { error: SocketError.HostNotFoundError, message: 'Host not found' };
    case 0x05:
      return { error: SocketError.ConnectionRefusedError, message: 'Connection refused' };
    case 0x06:
      return { error: SocketError.NetworkError, message: 'TTL expired' };
    case 0x07:
      return { error: SocketError.UnsupportedSocketOperationError, message: 'SOCKSv5 command not supported' };
    case 0x08:
      return { error: SocketError.UnsupportedSocketOperationError, message: 'Address type not supported' };
    default:
      return { error: SocketError.ProxyProtocolError, message: `Unknown SOCKSv5 proxy error code ${hex(rep)}` };
  }
}

// RFC 3986 reg-name characters without percent-encoding: what a proxy can be
// asked to resolve without the name breaking the request it travels in.
const HOST_NAME_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=]+$/;

/**
 * Returns the ASCII form of a host name the proxy should resolve (IDNA
 * "punycode" for non-ASCII names, as Qt's QUrl::toAce), or null when the name
 * cannot be sent: empty, longer than 255 bytes, or containing characters
 * outside RFC 3986's reg-name set (spaces, control characters, '/', ':', '@',
 * '%', ...).
 * @internal
 */
export function encodeProxyHostName(name: string): string | null {
  if (typeof name !== 'string') return null;
  let ascii = name;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) {
    try {
      ascii = domainToASCII(name);
    } catch {
      return null;
    }
  }
  if (ascii.length === 0 || ascii.length > 255 || !HOST_NAME_CHARS.test(ascii)) return null;
  return ascii;
}

/** An address for the SOCKS5 wire (ATYP + address) or why it cannot be one. */
export type Socks5Address = { bytes: Buffer } | { error: SocketError; message: string };

/**
 * Encodes ATYP + DST.ADDR + DST.PORT. An IP literal (IPv4 or IPv6, scope id
 * dropped: it means nothing on the proxy) is always sent as an address, even
 * when the caller called it a name; anything else is a domain name (ATYP 3).
 * @internal
 */
export function encodeSocks5Address(host: string | QHostAddress, port: number): Socks5Address {
  const address = host instanceof QHostAddress ? host : new QHostAddress(typeof host === 'string' ? host : '');
  const portBytes = Buffer.from([(port >>> 8) & 0xff, port & 0xff]);
  switch (address.protocol()) {
    case NetworkLayerProtocol.IPv4Protocol:
    case NetworkLayerProtocol.AnyIPProtocol: {
      const out = Buffer.alloc(7);
      out[0] = SOCKS5.ATYP_IPV4;
      out.writeUInt32BE(address.toIPv4Address() >>> 0, 1);
      portBytes.copy(out, 5);
      return { bytes: out };
    }
    case NetworkLayerProtocol.IPv6Protocol:
      return { bytes: Buffer.concat([Buffer.from([SOCKS5.ATYP_IPV6]), Buffer.from(address.toIPv6Address()), portBytes]) };
    default:
      break;
  }
  if (host instanceof QHostAddress) {
    return { error: SocketError.HostNotFoundError, message: 'Host not found (null address)' };
  }
  const name = encodeProxyHostName(host);
  if (name === null) {
    return { error: SocketError.HostNotFoundError, message: `Host not found (invalid host name for a proxy: ${JSON.stringify(String(host).slice(0, 64))})` };
  }
  const nameBytes = Buffer.from(name, 'latin1');
  return { bytes: Buffer.concat([Buffer.from([SOCKS5.ATYP_DOMAIN, nameBytes.length]), nameBytes, portBytes]) };
}

/** Result of parsing ATYP + ADDR + PORT at an offset. */
type AddressParse =
  | { need: true }
  | { bad: string }
  | { host: string; address: QHostAddress | null; port: number; end: number };

/**
 * Parses ATYP + BND.ADDR + BND.PORT starting at `offset`: 'need' when more
 * bytes are needed, 'bad' for an unknown address type.
 * @internal
 */
export function parseSocks5Address(buf: Buffer, offset: number): AddressParse {
  if (buf.length < offset + 1) return { need: true };
  const atyp = buf[offset];
  let end: number;
  let host: string;
  let address: QHostAddress | null = null;
  switch (atyp) {
    case SOCKS5.ATYP_IPV4:
      end = offset + 1 + 4;
      if (buf.length < end + 2) return { need: true };
      address = QHostAddress.fromIPv4Address(buf.readUInt32BE(offset + 1));
      host = address.toString();
      break;
    case SOCKS5.ATYP_IPV6:
      end = offset + 1 + 16;
      if (buf.length < end + 2) return { need: true };
      address = new QHostAddress(new Uint8Array(buf.subarray(offset + 1, end)));
      host = address.toString();
      break;
    case SOCKS5.ATYP_DOMAIN: {
      if (buf.length < offset + 2) return { need: true };
      const len = buf[offset + 1];
      end = offset + 2 + len;
      if (buf.length < end + 2) return { need: true };
      host = buf.toString('latin1', offset + 2, end);
      break;
    }
    default:
      return { bad: `unknown address type ${hex(atyp)}` };
  }
  return { host, address, port: buf.readUInt16BE(end), end: end + 2 };
}

const enum Phase {
  Method,
  Auth,
  Reply,
  Terminal,
}

/** How a SOCKS5 negotiation ends its request: CONNECT to a target, or UDP ASSOCIATE. */
interface Socks5Request {
  command: number;
  /** ATYP + address + port, or why it cannot be encoded. */
  address: Socks5Address;
  /** Whether the destination is a name (for Qt's Dante quirk on 0x01/0x02). */
  targetIsName: boolean;
}

/** @internal Shared by CONNECT and UDP ASSOCIATE. */
export class Socks5Negotiator implements ProxyNegotiator {
  /** A rejected login makes servers close the connection: always retry on a new one. */
  readonly reconnectToRetry = true;
  readonly startFailure?: { error: SocketError; message: string };

  #phase = Phase.Method;
  #pending: Buffer = Buffer.alloc(0);
  #terminal: NegotiationStep | null = null;
  #credentials: ProxyCredentials | null;
  #request: Socks5Request;

  constructor(request: Socks5Request, credentials: ProxyCredentials | null) {
    this.#request = request;
    this.#credentials =
      credentials !== null && typeof credentials === 'object' && (credentials.user !== '' || credentials.password !== '')
        ? { user: String(credentials.user ?? ''), password: String(credentials.password ?? '') }
        : null;
    // A destination that cannot be encoded is reported up front; start()
    // still greets the proxy so a caller that ignores startFailure gets the
    // failure from its first feed() instead of waiting for a time-out.
    if ('error' in request.address) {
      this.startFailure = { error: request.address.error, message: request.address.message };
    }
  }

  start(): Buffer {
    return this.#credentials
      ? Buffer.from([SOCKS5.VERSION, 2, SOCKS5.METHOD_NONE, SOCKS5.METHOD_USERPASS])
      : Buffer.from([SOCKS5.VERSION, 1, SOCKS5.METHOD_NONE]);
  }

  feed(data: Buffer): NegotiationStep {
    try {
      return this.#feed(data);
    } catch (e) {
      // Unreachable by design (the fuzz test checks it), but feed() never throws.
      return this.#end(protocolFailure(`internal error: ${(e as Error)?.message ?? String(e)}`));
    }
  }

  #feed(data: Buffer): NegotiationStep {
    const chunk = asChunk(data);
    if (this.#terminal !== null) return afterEnd(this.#terminal, chunk);
    if (this.startFailure) return this.#end({ fail: true, ...this.startFailure });
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = buf;
    let step: NegotiationStep;
    switch (this.#phase) {
      case Phase.Method:
        step = this.#onMethod(buf);
        break;
      case Phase.Auth:
        step = this.#onAuth(buf);
        break;
      default:
        step = this.#onReply(buf);
        break;
    }
    // Never keep a view of the caller's buffer: it may be a reused read buffer.
    if (this.#pending.length > 0) this.#pending = Buffer.from(this.#pending);
    return step;
  }

  #end(step: NegotiationStep): NegotiationStep {
    this.#phase = Phase.Terminal;
    this.#terminal = step;
    this.#pending = Buffer.alloc(0);
    return step;
  }

  #consume(buf: Buffer, n: number): void {
    this.#pending = buf.length === n ? Buffer.alloc(0) : buf.subarray(n);
  }

  #onMethod(buf: Buffer): NegotiationStep {
    if (buf.length < 1) return { wait: true };
    if (buf[0] !== SOCKS5.VERSION) {
      return this.#end(protocolFailure(`version ${hex(buf[0])} in the method selection reply`));
    }
    if (buf.length < 2) return { wait: true };
    const method = buf[1];
    this.#consume(buf, 2);
    if (method === SOCKS5.METHOD_NONE) return this.#sendRequest();
    if (method === SOCKS5.METHOD_NO_ACCEPTABLE) {
      return this.#end({ authenticate: true, realm: '' });
    }
    if (method === SOCKS5.METHOD_USERPASS) {
      if (this.#credentials === null) return this.#end({ authenticate: true, realm: '' });
      const user = Buffer.from(this.#credentials.user, 'utf8');
      const password = Buffer.from(this.#credentials.password, 'utf8');
      if (user.length < 1 || user.length > 255 || password.length > 255) {
        return this.#end(
          failure(
            SocketError.ProxyAuthenticationRequiredError,
            'Proxy authentication failed: a SOCKS5 user name must be 1 to 255 bytes and a password at most 255 bytes (UTF-8)',
          ),
        );
      }
      this.#phase = Phase.Auth;
      return this.#send(
        Buffer.concat([Buffer.from([SOCKS5.USERPASS_VERSION, user.length]), user, Buffer.from([password.length]), password]),
      );
    }
    return this.#end(protocolFailure(`the proxy chose authentication method ${hex(method)}, which was not offered`));
  }

  #onAuth(buf: Buffer): NegotiationStep {
    if (buf.length < 1) return { wait: true };
    // RFC 1929 says VER 0x01; a few servers echo 0x05, which curl accepts too.
    if (buf[0] !== SOCKS5.USERPASS_VERSION && buf[0] !== SOCKS5.VERSION) {
      return this.#end(protocolFailure(`version ${hex(buf[0])} in the username/password reply`));
    }
    if (buf.length < 2) return { wait: true };
    const status = buf[1];
    this.#consume(buf, 2);
    if (status !== 0) return this.#end({ authenticate: true, realm: '' });
    return this.#sendRequest();
  }

  #sendRequest(): NegotiationStep {
    const address = this.#request.address;
    if ('error' in address) return this.#end(failure(address.error, address.message));
    this.#phase = Phase.Reply;
    return this.#send(Buffer.concat([Buffer.from([SOCKS5.VERSION, this.#request.command, 0x00]), address.bytes]));
  }

  /** A send step, flagged when the proxy's next bytes are already here. */
  #send(bytes: Buffer): NegotiationStep {
    return this.#pending.length > 0 ? { send: bytes, more: true } : { send: bytes };
  }

  #onReply(buf: Buffer): NegotiationStep {
    if (buf.length < 1) return { wait: true };
    if (buf[0] !== SOCKS5.VERSION) return this.#end(protocolFailure(`version ${hex(buf[0])} in the request reply`));
    if (buf.length < 2) return { wait: true };
    const rep = buf[1];
    if (rep !== 0x00) {
      // Qt does not wait for the rest of a failure reply either: REP says it all.
      const f = socks5ReplyFailure(rep, this.#request.targetIsName);
      return this.#end(failure(f.error, f.message));
    }
    if (buf.length < 3) return { wait: true };
    if (buf[2] !== 0x00) return this.#end(protocolFailure(`reserved byte ${hex(buf[2])} in the request reply`));
    const parsed = parseSocks5Address(buf, 3);
    if ('need' in parsed) return { wait: true };
    if ('bad' in parsed) return this.#end(protocolFailure(`${parsed.bad} in the request reply`));
    const leftover = buf.subarray(parsed.end);
    this.#end({ done: true, leftover: Buffer.alloc(0) });
    return { done: true, leftover, bound: { host: parsed.host, port: parsed.port } };
  }
}

/**
 * Creates the negotiator for a SOCKS5 CONNECT to `target` (RFC 1928, RFC 1929).
 *
 * - start() offers "no authentication" (0x00), plus "username/password"
 *   (0x02) when `credentials` are given.
 * - 0x02 chosen: sends the RFC 1929 sub-negotiation, user and password as
 *   UTF-8. A status ≠ 0 gives `{authenticate}` (a rejected login; servers
 *   close the connection after one, so {@link ProxyNegotiator.reconnectToRetry}
 *   is true). A user name outside 1–255 bytes or a password over 255 bytes
 *   cannot be sent and fails with ProxyAuthenticationRequiredError.
 * - 0x02 chosen without credentials, or 0xFF (no acceptable method):
 *   `{authenticate, realm: ''}`.
 * - Then CONNECT: ATYP 1 or 4 when `target.host` is an IP literal (parsed
 *   with QHostAddress, whatever `isName` says), else ATYP 3 with the name in
 *   its IDNA ASCII form (≤ 255 bytes). A name that cannot be sent fails with
 *   HostNotFoundError (see `startFailure`).
 * - Reply codes map as {@link socks5ReplyFailure} documents. A success reply
 *   is complete only with its bound address (ATYP 1/3/4); `done.bound` carries
 *   it, and every byte after it in the same feed is `done.leftover`.
 * - Any malformed byte (version, reserved byte, address type, an
 *   authentication method that was not offered) fails with ProxyProtocolError
 *   as soon as it arrives. Replies may be split at any byte boundary. feed()
 *   never throws; after a terminal step it returns the same step (after
 *   `done`, a `done` whose leftover is the newly fed bytes, so none is lost or
 *   repeated).
 *
 * Differs from Qt: Qt offers only one method (0x02 when it has credentials,
 * else 0x00) and encodes credentials as Latin-1; qsocket offers both and uses
 * UTF-8. A method the client did not offer is a ProxyProtocolError (Qt:
 * SocketAccessError). An RFC 1929 reply with version 0x05 is accepted.
 */
export function createSocks5Negotiator(target: ProxyTarget, credentials: ProxyCredentials | null): ProxyNegotiator {
  const host = typeof target?.host === 'string' ? target.host : '';
  const port = Number.isInteger(target?.port) && target.port >= 0 && target.port <= 65535 ? target.port : -1;
  const literal = new QHostAddress(host);
  const isIp = !literal.isNull();
  const address: Socks5Address =
    port < 0
      ? { error: SocketError.UnsupportedSocketOperationError, message: `Invalid port ${String(target?.port)}` }
      : encodeSocks5Address(isIp ? literal : host, port);
  return new Socks5Negotiator({ command: SOCKS5.CMD_CONNECT, address, targetIsName: !isIp }, credentials);
}
