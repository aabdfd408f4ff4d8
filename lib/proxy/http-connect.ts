// HTTP CONNECT (RFC 9110 §9.3.6) as a pure state machine: the request, and a
// response-head parser that takes bytes in any split and never loses the
// tunnel bytes that follow the head.
//
// Status codes map as in Qt's QHttpSocketEngine; see httpConnectFailure().
import { NetworkLayerProtocol, SocketError } from '../enums';
import { QHostAddress } from '../host-address';
import { afterEnd, asChunk } from './negotiator';
import type { NegotiationStep, ProxyCredentials, ProxyNegotiator, ProxyTarget } from './negotiator';
import { encodeProxyHostName } from './socks5';

/** The most bytes of response head (all interim 1xx heads included) accepted before giving up. */
export const HTTP_HEAD_LIMIT = 64 * 1024;

const NOT_HTTP = 'Did not receive HTTP response from proxy';
const PREFIX = Buffer.from('HTTP/', 'latin1');

type Failure = { fail: true; error: SocketError; message: string };
const failure = (error: SocketError, message: string): Failure => ({ fail: true, error, message });

/** Printable, bounded text from a proxy, safe to put in an error message. */
function sanitize(text: string, max = 100): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[^\x20-\x7e]/g, '?').trim();
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/**
 * The SocketError and message for a final, non-2xx, non-auth status to a
 * CONNECT, as Qt's QHttpSocketEngine maps them:
 *
 * | status   | SocketError             | message                                |
 * |----------|-------------------------|----------------------------------------|
 * | 403, 405 | SocketAccessError       | Proxy denied connection                |
 * | 404      | HostNotFoundError       | Host not found                         |
 * | 503      | ConnectionRefusedError  | Connection refused                     |
 * | other    | ProxyProtocolError      | Error communicating with HTTP proxy (HTTP <code> <reason>) |
 *
 * (407 and 401 ask for credentials; 2xx opens the tunnel.) As in Qt, 502 and
 * 504 are ProxyProtocolError, and so is tinyproxy's "500 Unable to connect"
 * for a closed port; the status and reason are kept in the message.
 */
export function httpConnectFailure(status: number, reason: string): { error: SocketError; message: string } {
  switch (status) {
    case 403:
    case 405:
      return { error: SocketError.SocketAccessError, message: 'Proxy denied connection' };
    case 404:
      return { error: SocketError.HostNotFoundError, message: 'Host not found' };
    case 503:
      return { error: SocketError.ConnectionRefusedError, message: 'Connection refused' };
    default: {
      const why = sanitize(reason);
      return {
        error: SocketError.ProxyProtocolError,
        message: `Error communicating with HTTP proxy (HTTP ${status}${why ? ` ${why}` : ''})`,
      };
    }
  }
}

/**
 * The realm of the Basic challenge among `values` (each a Proxy-Authenticate
 * or WWW-Authenticate field value), '' when Basic has no realm, or null when
 * challenges are present and none is Basic.
 */
function basicRealm(values: string[]): string | null {
  if (values.length === 0) return '';
  for (const value of values) {
    const basic = /(?:^|,)\s*basic(?=$|[\s,])/i.exec(value);
    if (basic === null) continue;
    const rest = value.slice(basic.index + basic[0].length);
    // The first realm parameter after "Basic" (each repetition of the group
    // ends at a comma, so the pattern cannot backtrack badly).
    const realm = /^(?:[^,]*,)*?\s*realm\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/i.exec(rest);
    if (realm === null) return '';
    return realm[1] !== undefined ? realm[1].replace(/\\(.)/g, '$1') : (realm[2] ?? '');
  }
  return null;
}

interface ParsedHead {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
}

class HttpConnectNegotiator implements ProxyNegotiator {
  /**
   * Always true: qsocket retries with new credentials on a fresh connection,
   * which works whether or not the proxy keeps the connection alive (Qt
   * reuses a keep-alive connection after skipping the 407 body).
   */
  readonly reconnectToRetry = true;
  readonly startFailure?: { error: SocketError; message: string };

  #request: Buffer;
  #terminal: NegotiationStep | null = null;
  // Head parsing, line by line as bytes arrive, so any split works and nothing is re-scanned.
  #headBytes = 0; // bytes of head consumed so far, interim heads included
  #line = ''; // the incomplete line so far
  #lines: string[] = [];

  constructor(target: ProxyTarget, credentials: ProxyCredentials | null) {
    const authority = httpAuthority(target);
    if (typeof authority !== 'string') {
      this.startFailure = authority;
      this.#request = Buffer.alloc(0);
      return;
    }
    let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
    if (credentials !== null && typeof credentials === 'object' && (credentials.user !== '' || credentials.password !== '')) {
      const token = Buffer.from(`${String(credentials.user ?? '')}:${String(credentials.password ?? '')}`, 'utf8').toString('base64');
      head += `Proxy-Authorization: Basic ${token}\r\n`;
    }
    this.#request = Buffer.from(`${head}\r\n`, 'latin1');
  }

  start(): Buffer {
    return this.#request;
  }

  feed(data: Buffer): NegotiationStep {
    try {
      return this.#feed(data);
    } catch (e) {
      // Unreachable by design (the fuzz test checks it), but feed() never throws.
      return this.#end(failure(SocketError.ProxyProtocolError, `${NOT_HTTP}: internal error: ${(e as Error)?.message ?? String(e)}`));
    }
  }

  #end(step: NegotiationStep): NegotiationStep {
    this.#terminal = step;
    this.#line = '';
    this.#lines = [];
    return step;
  }

  #feed(data: Buffer): NegotiationStep {
    const chunk = asChunk(data);
    if (this.#terminal !== null) return afterEnd(this.#terminal, chunk);
    if (this.startFailure) return this.#end({ fail: true, ...this.startFailure });

    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl;
      const consumed = end - i + (nl < 0 ? 0 : 1);
      if (this.#headBytes + consumed > HTTP_HEAD_LIMIT) {
        return this.#end(
          failure(SocketError.ProxyProtocolError, `${NOT_HTTP}: the response header exceeds ${HTTP_HEAD_LIMIT} bytes`),
        );
      }
      this.#headBytes += consumed;
      // Fail fast on a reply that does not start like HTTP, without waiting
      // for a line end that may never come.
      if (this.#lines.length === 0) {
        for (let k = i, at = this.#line.length; k < end && at < PREFIX.length; k++, at++) {
          if (chunk[k] !== PREFIX[at]) return this.#end(failure(SocketError.ProxyProtocolError, NOT_HTTP));
        }
      }
      this.#line += chunk.toString('latin1', i, end);
      if (nl < 0) break;
      i = nl + 1;
      // A complete line (LF, with an optional CR before it).
      const line = this.#line.endsWith('\r') ? this.#line.slice(0, -1) : this.#line;
      this.#line = '';
      if (this.#lines.length === 0) {
        if (statusLine(line) === null) return this.#end(failure(SocketError.ProxyProtocolError, `${NOT_HTTP}: ${sanitize(line)}`));
        this.#lines.push(line);
        continue;
      }
      if (line !== '') {
        this.#lines.push(line);
        continue;
      }
      // The blank line: the head is complete.
      const head = parseHead(this.#lines);
      this.#lines = [];
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        continue; // an interim response (100 Continue, 102, 103): the real one follows
      }
      return this.#decide(head, chunk.subarray(i));
    }
    return { wait: true };
  }

  #decide(head: ParsedHead, rest: Buffer): NegotiationStep {
    const { status } = head;
    if (status >= 200 && status < 300) {
      // A 2xx to CONNECT has no body (RFC 9110 §9.3.6): what follows is the tunnel's.
      this.#end({ done: true, leftover: Buffer.alloc(0) });
      return { done: true, leftover: rest };
    }
    if (status === 407 || status === 401) {
      const field = status === 407 ? 'proxy-authenticate' : 'www-authenticate';
      let challenges = head.headers.filter(([name]) => name === field).map(([, value]) => value);
      if (challenges.length === 0) {
        challenges = head.headers.filter(([name]) => name === 'proxy-authenticate' || name === 'www-authenticate').map(([, v]) => v);
      }
      const realm = basicRealm(challenges);
      if (realm === null) {
        const schemes = challenges
          .map((c) => sanitize(c.trim().split(/[\s,]/)[0] ?? '', 20))
          .filter((s) => s !== '')
          .join(', ');
        return this.#end(
          failure(
            SocketError.ProxyAuthenticationRequiredError,
            `Proxy authentication failed: the HTTP proxy only offers authentication schemes qsocket does not support (${schemes})`,
          ),
        );
      }
      return this.#end({ authenticate: true, realm });
    }
    const f = httpConnectFailure(status, head.reason);
    return this.#end(failure(f.error, f.message));
  }
}

/** "HTTP/1.x SP 3DIGIT [SP reason]" → status and reason, or null. */
function statusLine(line: string): { status: number; reason: string } | null {
  const m = /^HTTP\/1\.\d[ \t]+(\d{3})(?:[ \t]+(.*))?[ \t]*$/.exec(line);
  if (m === null) return null;
  const status = Number(m[1]);
  if (status < 100 || status > 599) return null;
  return { status, reason: m[2] ?? '' };
}

function parseHead(lines: string[]): ParsedHead {
  const { status, reason } = statusLine(lines[0]) ?? { status: 0, reason: '' };
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      // obs-fold: a continuation of the previous field value.
      headers[headers.length - 1][1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field line: ignored, as Qt's parser does
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { status, reason, headers };
}

/** "host:port" for the request line and Host field, or why the target cannot be put there. */
function httpAuthority(target: ProxyTarget): string | { error: SocketError; message: string } {
  const host = typeof target?.host === 'string' ? target.host : '';
  const port = target?.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return { error: SocketError.UnsupportedSocketOperationError, message: `Invalid port ${String(port)}` };
  }
  const address = new QHostAddress(host);
  switch (address.protocol()) {
    case NetworkLayerProtocol.IPv4Protocol:
    case NetworkLayerProtocol.AnyIPProtocol:
      return `${address.toString()}:${port}`;
    case NetworkLayerProtocol.IPv6Protocol: {
      // The scope id means nothing on the proxy's host: drop it.
      const bare = new QHostAddress(address);
      bare.setScopeId('');
      return `[${bare.toString()}]:${port}`;
    }
    default:
      break;
  }
  const name = encodeProxyHostName(host);
  if (name === null) {
    return {
      error: SocketError.HostNotFoundError,
      message: `Host not found (invalid host name for a proxy: ${JSON.stringify(host.slice(0, 64))})`,
    };
  }
  return `${name}:${port}`;
}

/**
 * Creates the negotiator for an HTTP CONNECT tunnel to `target`.
 *
 * start() returns exactly
 * `CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n` +
 * [`Proxy-Authorization: Basic base64(user:password)\r\n`] + `\r\n`,
 * the credentials in UTF-8 (RFC 7617; a user name containing ':' cannot be
 * expressed in Basic and will be misread by the proxy), an IPv6 literal in brackets without
 * its scope id, a non-ASCII name in its IDNA ASCII form. A name that cannot
 * go into a request line (spaces, control characters, '/', '@', ...) is never
 * sent: `startFailure` (HostNotFoundError) is set and start() returns an
 * empty Buffer.
 *
 * The response head is parsed as it arrives, in any split: HTTP/1.0 or 1.1,
 * any reason phrase (or none), any header fields, CRLF or bare LF line ends,
 * interim 1xx responses skipped; bytes that do not start with "HTTP/" fail
 * at once, and a head over {@link HTTP_HEAD_LIMIT} bytes fails; both are
 * ProxyProtocolError. Then:
 * - 2xx: `done`, and every byte after the blank line is `leftover`.
 * - 407 (and 401, which tinyproxy sends for wrong credentials):
 *   `{authenticate, realm}` with the realm of the Basic challenge in
 *   Proxy-Authenticate (or WWW-Authenticate), '' if there is none; also when
 *   credentials were already sent (the socket decides when to give up). If
 *   the proxy offers only other schemes (Digest, NTLM, Negotiate), it fails
 *   with ProxyAuthenticationRequiredError naming them.
 * - anything else: see {@link httpConnectFailure}.
 *
 * feed() never throws; after a terminal step it returns the same step (after
 * `done`, a `done` whose leftover is the newly fed bytes).
 *
 * Differs from Qt: Qt accepts only 200 (qsocket any 2xx, as RFC 9110 says),
 * sends also `Proxy-Connection: keep-alive` and `User-Agent: Mozilla/5.0`,
 * supports Digest/NTLM through QAuthenticator, and does not treat 401 as a
 * request for credentials.
 */
export function createHttpConnectNegotiator(target: ProxyTarget, credentials: ProxyCredentials | null): ProxyNegotiator {
  return new HttpConnectNegotiator(target, credentials);
}
