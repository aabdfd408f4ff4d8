// The SOCKS5 and HTTP CONNECT negotiators as pure state machines: exact
// request bytes, every reply code and address type, authentication, replies
// split at every byte boundary, and tunnel bytes never lost. No sockets.
import { SocketError } from '../lib/enums';
import { QHostAddress } from '../lib/host-address';
import { HTTP_HEAD_LIMIT, createHttpConnectNegotiator, httpConnectFailure } from '../lib/proxy/http-connect';
import type { NegotiationStep, ProxyCredentials, ProxyNegotiator, ProxyTarget } from '../lib/proxy/negotiator';
import { createSocks5Negotiator, socks5ReplyFailure } from '../lib/proxy/socks5';
import {
  createSocks5UdpAssociateNegotiator,
  decodeSocks5UdpDatagram,
  encodeSocks5UdpHeader,
  socks5RelayEndpoint,
} from '../lib/proxy/socks5-udp';

const B = (...bytes: number[]): Buffer => Buffer.from(bytes);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const ip4 = (host: string, port = 80): ProxyTarget => ({ host, port, isName: false });
const named = (host: string, port = 80): ProxyTarget => ({ host, port, isName: true });
const creds = (user: string, password: string): ProxyCredentials => ({ user, password });

/** What a run of a negotiator against a scripted proxy produced. */
interface Run {
  sends: Buffer[];
  final: NegotiationStep;
  /** Every tunnel byte handed back: leftover of the first done plus later done steps. */
  tunnel: Buffer;
  /** The first done step (with bound), if any. */
  done: Extract<NegotiationStep, { done: true }> | null;
}

/**
 * Feeds `chunks` in order. After a `send` flagged `more`, calls feed(empty)
 * so bytes the proxy sent ahead are processed. Collects every tunnel byte
 * handed back after `done`.
 */
function drive(n: ProxyNegotiator, chunks: Buffer[]): Run {
  const sends: Buffer[] = [];
  const tunnel: Buffer[] = [];
  let done: Run['done'] = null;
  let final: NegotiationStep = { wait: true };
  const take = (step: NegotiationStep): void => {
    final = step;
    if ('send' in step) sends.push(step.send);
    if ('done' in step) {
      if (done === null) done = step;
      tunnel.push(step.leftover);
    }
  };
  for (const chunk of chunks) {
    let step = n.feed(chunk);
    take(step);
    // Only when the negotiator says bytes are waiting (`more`), as a real caller would.
    for (let guard = 0; 'send' in step && step.more === true && guard < 10; guard++) {
      step = n.feed(Buffer.alloc(0));
      take(step);
    }
  }
  return { sends, final, tunnel: Buffer.concat(tunnel), done };
}

/** Every way to cut `buf` in two, plus one byte at a time. */
function splits(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [[buf]];
  for (let k = 1; k < buf.length; k++) out.push([buf.subarray(0, k), buf.subarray(k)]);
  out.push([...buf].map((b) => B(b)));
  return out;
}

const isFail = (step: NegotiationStep): step is Extract<NegotiationStep, { fail: true }> => 'fail' in step;

function expectFail(step: NegotiationStep, error: SocketError, message?: string | RegExp): void {
  expect(isFail(step)).toBe(true);
  if (!isFail(step)) return;
  expect(SocketError[step.error]).toBe(SocketError[error]);
  expect(step.message.length).toBeGreaterThan(0);
  if (message !== undefined) expect(step.message).toMatch(message);
}

// ---------------------------------------------------------------- SOCKS5 ---

/** A success reply with a bound IPv4 address. */
const OK_V4 = B(5, 0, 0, 1, 10, 0, 0, 7, 0x1f, 0x90);

describe('SOCKS5 CONNECT: requests', () => {
  test('start() offers no-auth only without credentials', () => {
    expect(createSocks5Negotiator(ip4('1.2.3.4'), null).start()).toEqual(B(5, 1, 0));
  });

  test('start() offers no-auth and username/password with credentials', () => {
    expect(createSocks5Negotiator(ip4('1.2.3.4'), creds('u', 'p')).start()).toEqual(B(5, 2, 0, 2));
  });

  test('empty credentials count as none', () => {
    expect(createSocks5Negotiator(ip4('1.2.3.4'), creds('', '')).start()).toEqual(B(5, 1, 0));
  });

  test('CONNECT to an IPv4 literal uses ATYP 1', () => {
    const n = createSocks5Negotiator(ip4('127.0.0.1', 8080), null);
    expect(n.startFailure).toBeUndefined();
    n.start();
    expect(n.feed(B(5, 0))).toEqual({ send: B(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90) });
  });

  test('CONNECT to 0.0.0.0 and 255.255.255.255 (values near the special-address range)', () => {
    const a = createSocks5Negotiator(ip4('0.0.0.0', 1), null);
    a.start();
    expect(a.feed(B(5, 0))).toEqual({ send: B(5, 1, 0, 1, 0, 0, 0, 0, 0, 1) });
    const b = createSocks5Negotiator(ip4('0.0.0.3', 65535), null);
    b.start();
    expect(b.feed(B(5, 0))).toEqual({ send: B(5, 1, 0, 1, 0, 0, 0, 3, 0xff, 0xff) });
  });

  test('CONNECT to an IPv6 literal uses ATYP 4 and drops the scope id', () => {
    const n = createSocks5Negotiator(ip4('fe80::1%eth0', 443), null);
    n.start();
    const expected = cat(B(5, 1, 0, 4), Buffer.from(new QHostAddress('fe80::1').toIPv6Address()), B(1, 0xbb));
    expect(n.feed(B(5, 0))).toEqual({ send: expected });
    expect(expected.length).toBe(4 + 16 + 2);
  });

  test('CONNECT to a name uses ATYP 3 with its length', () => {
    const n = createSocks5Negotiator(named('example.com', 80), null);
    n.start();
    expect(n.feed(B(5, 0))).toEqual({ send: cat(B(5, 1, 0, 3, 11), Buffer.from('example.com'), B(0, 80)) });
  });

  test('a name that is an IP literal goes as an address (no name for the proxy to resolve)', () => {
    const n = createSocks5Negotiator(named('10.1.2.3', 22), null);
    n.start();
    expect(n.feed(B(5, 0))).toEqual({ send: B(5, 1, 0, 1, 10, 1, 2, 3, 0, 22) });
  });

  test('a non-ASCII name goes in its IDNA (punycode) form', () => {
    const n = createSocks5Negotiator(named('bücher.de', 80), null);
    n.start();
    const ace = Buffer.from('xn--bcher-kva.de');
    expect(n.feed(B(5, 0))).toEqual({ send: cat(B(5, 1, 0, 3, ace.length), ace, B(0, 80)) });
  });

  test('a 255-byte name is sent; a 256-byte name is refused with HostNotFoundError', () => {
    const ok = createSocks5Negotiator(named('a'.repeat(255)), null);
    ok.start();
    const step = ok.feed(B(5, 0));
    expect('send' in step && step.send[4]).toBe(255);

    const long = createSocks5Negotiator(named('a'.repeat(256)), null);
    expect(long.startFailure?.error).toBe(SocketError.HostNotFoundError);
    // start() still greets, so a caller that ignores startFailure gets the verdict from the first reply.
    expect(long.start()).toEqual(B(5, 1, 0));
    expectFail(long.feed(B(5, 0)), SocketError.HostNotFoundError, /Host not found/);
  });

  test.each(['', 'a b', 'evil\r\nname', 'a/b', 'user@host', 'host:80'])('the unsendable name %j is refused', (host) => {
    const n = createSocks5Negotiator(named(host), null);
    expect(n.startFailure?.error).toBe(SocketError.HostNotFoundError);
    n.start();
    expectFail(n.feed(B(5, 0)), SocketError.HostNotFoundError);
  });

  test('an invalid port is refused up front', () => {
    const n = createSocks5Negotiator({ host: '1.2.3.4', port: 70000, isName: false }, null);
    expect(n.startFailure?.error).toBe(SocketError.UnsupportedSocketOperationError);
  });

  test('reconnectToRetry is true (servers close after a failed login)', () => {
    expect(createSocks5Negotiator(ip4('1.2.3.4'), null).reconnectToRetry).toBe(true);
  });
});

describe('SOCKS5 CONNECT: authentication (RFC 1929)', () => {
  test('method 0x02 sends the exact sub-negotiation, then CONNECT after status 0', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4', 80), creds('user', 'secret'));
    n.start();
    expect(n.feed(B(5, 2))).toEqual({ send: cat(B(1, 4), Buffer.from('user'), B(6), Buffer.from('secret')) });
    expect(n.feed(B(1, 0))).toEqual({ send: B(5, 1, 0, 1, 1, 2, 3, 4, 0, 80) });
    const done = n.feed(OK_V4);
    expect(done).toEqual({ done: true, leftover: Buffer.alloc(0), bound: { host: '10.0.0.7', port: 8080 } });
  });

  test('credentials are UTF-8 and lengths count bytes', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), creds('jürgen', 'pässwörd'));
    n.start();
    const user = Buffer.from('jürgen', 'utf8');
    const pass = Buffer.from('pässwörd', 'utf8');
    expect(n.feed(B(5, 2))).toEqual({ send: cat(B(1, user.length), user, B(pass.length), pass) });
  });

  test('an empty password is sent with length 0', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), creds('u', ''));
    n.start();
    expect(n.feed(B(5, 2))).toEqual({ send: B(1, 1, 0x75, 0) });
  });

  test('255-byte user and password are accepted', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), creds('u'.repeat(255), 'p'.repeat(255)));
    n.start();
    const step = n.feed(B(5, 2));
    expect('send' in step && step.send.length).toBe(2 + 255 + 1 + 255);
  });

  test.each([
    ['user too long', 'u'.repeat(256), 'p'],
    ['password too long', 'u', 'p'.repeat(256)],
    ['user too long in UTF-8 bytes', 'é'.repeat(128), 'p'],
    ['user empty with a password', '', 'p'],
  ])('%s fails with ProxyAuthenticationRequiredError', (_why, user, password) => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), creds(user, password));
    n.start();
    expectFail(n.feed(B(5, 2)), SocketError.ProxyAuthenticationRequiredError, /255 bytes/);
  });

  test('a rejected login asks for credentials', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), creds('user', 'wrong'));
    n.start();
    n.feed(B(5, 2));
    expect(n.feed(B(1, 1))).toEqual({ authenticate: true, realm: '' });
    expect(n.reconnectToRetry).toBe(true);
  });

  test('an RFC 1929 reply with version 0x05 is tolerated; another version is a protocol error', () => {
    const a = createSocks5Negotiator(ip4('1.2.3.4'), creds('u', 'p'));
    a.start();
    a.feed(B(5, 2));
    expect('send' in a.feed(B(5, 0))).toBe(true);

    const b = createSocks5Negotiator(ip4('1.2.3.4'), creds('u', 'p'));
    b.start();
    b.feed(B(5, 2));
    expectFail(b.feed(B(3)), SocketError.ProxyProtocolError, /SOCKS version 5 protocol error/);
  });

  test('method 0x02 without credentials asks for them', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), null);
    n.start();
    expect(n.feed(B(5, 2))).toEqual({ authenticate: true, realm: '' });
  });

  test.each([null, creds('u', 'p')])('method 0xFF (no acceptable method) asks for credentials (credentials %p)', (c) => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), c);
    n.start();
    expect(n.feed(B(5, 0xff))).toEqual({ authenticate: true, realm: '' });
  });

  test.each([0x01, 0x03, 0x80, 0xfe])('a method that was not offered (0x%s) is a protocol error', (method) => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), null);
    n.start();
    expectFail(n.feed(B(5, method)), SocketError.ProxyProtocolError, /not offered/);
  });

  test('a wrong version in the method reply fails on its first byte', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4'), null);
    n.start();
    expectFail(n.feed(B(4)), SocketError.ProxyProtocolError);
  });
});

describe('SOCKS5 CONNECT: replies', () => {
  const connected = (target: ProxyTarget = ip4('1.2.3.4')): ProxyNegotiator => {
    const n = createSocks5Negotiator(target, null);
    n.start();
    n.feed(B(5, 0));
    return n;
  };

  const table: Array<[number, SocketError, string]> = [
    [0x01, SocketError.NetworkError, 'General SOCKSv5 server failure'],
    [0x02, SocketError.SocketAccessError, 'Connection not allowed by SOCKSv5 server'],
    [0x03, SocketError.NetworkError, 'Network unreachable'],
    [0x04, SocketError.HostNotFoundError, 'Host not found'],
    [0x05, SocketError.ConnectionRefusedError, 'Connection refused'],
    [0x06, SocketError.NetworkError, 'TTL expired'],
    [0x07, SocketError.UnsupportedSocketOperationError, 'SOCKSv5 command not supported'],
    [0x08, SocketError.UnsupportedSocketOperationError, 'Address type not supported'],
    [0x09, SocketError.ProxyProtocolError, 'Unknown SOCKSv5 proxy error code 0x09'],
    [0xff, SocketError.ProxyProtocolError, 'Unknown SOCKSv5 proxy error code 0xff'],
  ];

  test.each(table.map(([rep, error, message]) => [`0x${rep.toString(16).padStart(2, '0')}`, SocketError[error], rep, error, message] as const))(
    'REP %s maps to %s for an address target, decided on two bytes',
    (_hex, _name, rep, error, message) => {
    const n = connected();
    expect(n.feed(B(5))).toEqual({ wait: true });
    const step = n.feed(B(rep));
    expectFail(step, error);
    expect(isFail(step) && step.message).toBe(message);
    expect(socks5ReplyFailure(rep, false)).toEqual({ error, message });
    },
  );

  test.each([0x01, 0x02])('REP 0x%s for a name target is HostNotFoundError (Dante, as Qt reads it)', (rep) => {
    const n = connected(named('host.example'));
    expectFail(n.feed(cat(B(5, rep, 0), B(1, 0, 0, 0, 0, 0, 0))), SocketError.HostNotFoundError, 'Host not found');
  });

  test.each([0x03, 0x04, 0x05, 0x06])('REP 0x%s for a name target maps as for an address', (rep) => {
    const n = connected(named('host.example'));
    expectFail(n.feed(B(5, rep)), socks5ReplyFailure(rep, false).error);
  });

  test('a success reply with a bound IPv4 address', () => {
    const n = connected();
    expect(n.feed(OK_V4)).toEqual({ done: true, leftover: Buffer.alloc(0), bound: { host: '10.0.0.7', port: 8080 } });
  });

  test('a success reply with a bound IPv6 address', () => {
    const n = connected();
    const v6 = Buffer.from(new QHostAddress('2001:db8::42').toIPv6Address());
    expect(n.feed(cat(B(5, 0, 0, 4), v6, B(0x12, 0x34)))).toEqual({
      done: true,
      leftover: Buffer.alloc(0),
      bound: { host: '2001:db8::42', port: 0x1234 },
    });
  });

  test('a success reply with a bound domain name (also of length 0)', () => {
    const n = connected();
    expect(n.feed(cat(B(5, 0, 0, 3, 9), Buffer.from('proxy.lan'), B(0, 1)))).toEqual({
      done: true,
      leftover: Buffer.alloc(0),
      bound: { host: 'proxy.lan', port: 1 },
    });
    const m = connected();
    expect(m.feed(B(5, 0, 0, 3, 0, 0, 2))).toEqual({ done: true, leftover: Buffer.alloc(0), bound: { host: '', port: 2 } });
  });

  test('a wrong version, a non-zero reserved byte or an unknown address type is a protocol error', () => {
    expectFail(connected().feed(B(4, 0, 0, 1)), SocketError.ProxyProtocolError, /version 0x04/);
    expectFail(connected().feed(B(5, 0, 1, 1)), SocketError.ProxyProtocolError, /reserved byte 0x01/);
    for (const atyp of [0, 2, 5, 0xff]) {
      expectFail(connected().feed(B(5, 0, 0, atyp)), SocketError.ProxyProtocolError, /unknown address type/);
    }
  });

  test('the reply is not complete until the bound port arrived', () => {
    const n = connected();
    for (const b of OK_V4.subarray(0, OK_V4.length - 1)) expect(n.feed(B(b))).toEqual({ wait: true });
    expect('done' in n.feed(OK_V4.subarray(OK_V4.length - 1))).toBe(true);
  });

  test('bytes after the reply in the same feed are the tunnel’s', () => {
    const n = connected();
    const step = n.feed(cat(OK_V4, Buffer.from('SSH-2.0-hello\r\n')));
    expect('done' in step && step.leftover.toString()).toBe('SSH-2.0-hello\r\n');
  });

  test('after done, later feeds hand their bytes back as leftover, once', () => {
    const n = connected();
    n.feed(OK_V4);
    expect(n.feed(Buffer.from('more'))).toEqual({ done: true, leftover: Buffer.from('more') });
    expect(n.feed(Buffer.alloc(0))).toEqual({ done: true, leftover: Buffer.alloc(0) });
  });

  test('after fail or authenticate, feed() returns the same step', () => {
    const f = connected();
    const failed = f.feed(B(5, 5));
    expect(f.feed(B(1, 2, 3))).toBe(failed);
    const a = createSocks5Negotiator(ip4('1.2.3.4'), null);
    a.start();
    const auth = a.feed(B(5, 0xff));
    expect(a.feed(B(5, 0))).toBe(auth);
  });

  test('feed() accepts a Uint8Array and ignores non-bytes without throwing', () => {
    const n = connected();
    expect(n.feed(undefined as unknown as Buffer)).toEqual({ wait: true });
    expect(n.feed(new Uint8Array([5, 0, 0, 1, 1, 1, 1, 1, 0, 9]) as Buffer)).toMatchObject({ done: true, bound: { port: 9 } });
  });
});

describe('SOCKS5 CONNECT: any split, several messages at once', () => {
  const tunnel = Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\xff');
  const scenarios: Array<[string, ProxyTarget, ProxyCredentials | null, Buffer, Buffer[]]> = [
    ['no auth, IPv4 bound', ip4('192.0.2.1', 443), null, cat(B(5, 0), OK_V4, tunnel), [B(5, 1, 0, 1, 192, 0, 2, 1, 1, 0xbb)]],
    [
      'user/pass, name target, domain bound',
      named('db.internal', 5432),
      creds('alice', 'pw'),
      cat(B(5, 2), B(1, 0), B(5, 0, 0, 3, 4), Buffer.from('gate'), B(0x04, 0x38), tunnel),
      [cat(B(1, 5), Buffer.from('alice'), B(2), Buffer.from('pw')), cat(B(5, 1, 0, 3, 11), Buffer.from('db.internal'), B(0x15, 0x38))],
    ],
    [
      'no auth offered creds, IPv6 target and bound',
      ip4('2001:db8::1', 80),
      creds('u', 'p'),
      cat(B(5, 0), B(5, 0, 0, 4), Buffer.alloc(16, 0xab), B(0, 7), tunnel),
      [cat(B(5, 1, 0, 4), Buffer.from(new QHostAddress('2001:db8::1').toIPv6Address()), B(0, 80))],
    ],
  ];

  test.each(scenarios)('%s: every split point gives the same requests and the same tunnel bytes', (_name, target, c, server, requests) => {
    for (const chunks of splits(server)) {
      const n = createSocks5Negotiator(target, c);
      n.start();
      const run = drive(n, chunks);
      expect(run.sends).toEqual(requests);
      expect(run.done).not.toBeNull();
      expect(run.tunnel).toEqual(tunnel);
    }
  });

  test('a failure reply split at every byte', () => {
    const server = cat(B(5, 0), B(5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
    for (const chunks of splits(server)) {
      const n = createSocks5Negotiator(ip4('1.2.3.4'), null);
      n.start();
      expectFail(drive(n, chunks).final, SocketError.ConnectionRefusedError);
    }
  });
});

describe('SOCKS5: a proxy that sends ahead', () => {
  test('`more` flags buffered bytes, and feed(empty) processes them', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4', 80), creds('u', 'p'));
    n.start();
    const first = n.feed(cat(B(5, 2), B(1, 0), OK_V4, Buffer.from('tunnel')));
    expect(first).toEqual({ send: B(1, 1, 0x75, 1, 0x70), more: true });
    expect(n.feed(Buffer.alloc(0))).toEqual({ send: B(5, 1, 0, 1, 1, 2, 3, 4, 0, 80), more: true });
    expect(n.feed(Buffer.alloc(0))).toEqual({ done: true, leftover: Buffer.from('tunnel'), bound: { host: '10.0.0.7', port: 8080 } });
  });

  test('keeps no view of a reused read buffer', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4', 80), null);
    n.start();
    const readBuffer = Buffer.alloc(16);
    const read = (bytes: Buffer): Buffer => {
      readBuffer.fill(0xee);
      bytes.copy(readBuffer);
      return readBuffer.subarray(0, bytes.length);
    };
    expect('send' in n.feed(read(B(5, 0, 5, 0, 0, 1, 9)))).toBe(true); // method reply + half a reply
    expect(n.feed(Buffer.alloc(0))).toEqual({ wait: true });
    expect(n.feed(read(B(9, 9, 9, 0, 80, 0x41)))).toEqual({ done: true, leftover: B(0x41), bound: { host: '9.9.9.9', port: 80 } });
  });

  test('no `more` when nothing is buffered', () => {
    const n = createSocks5Negotiator(ip4('1.2.3.4', 80), null);
    n.start();
    const step = n.feed(B(5, 0));
    expect('send' in step && step.more).toBeUndefined();
    expect(n.feed(Buffer.alloc(0))).toEqual({ wait: true });
  });
});

describe('SOCKS5 UDP ASSOCIATE', () => {
  test('asks for an association from 0.0.0.0:0 by default and reports the relay', () => {
    const n = createSocks5UdpAssociateNegotiator(null);
    expect(n.start()).toEqual(B(5, 1, 0));
    expect(n.feed(B(5, 0))).toEqual({ send: B(5, 3, 0, 1, 0, 0, 0, 0, 0, 0) });
    expect(n.feed(B(5, 0, 0, 1, 127, 0, 0, 1, 0x2b, 0x66))).toEqual({
      done: true,
      leftover: Buffer.alloc(0),
      bound: { host: '127.0.0.1', port: 11110 },
    });
  });

  test('names the source when given, after a username/password login', () => {
    const n = createSocks5UdpAssociateNegotiator(creds('u', 'p'), { host: '::1', port: 5000 });
    expect(n.start()).toEqual(B(5, 2, 0, 2));
    expect(n.feed(B(5, 2))).toEqual({ send: B(1, 1, 0x75, 1, 0x70) });
    expect(n.feed(B(1, 0))).toEqual({ send: cat(B(5, 3, 0, 4), Buffer.from(new QHostAddress('::1').toIPv6Address()), B(0x13, 0x88)) });
  });

  test('reply codes map as for CONNECT, without the name reading', () => {
    const n = createSocks5UdpAssociateNegotiator(null);
    n.start();
    n.feed(B(5, 0));
    expectFail(n.feed(B(5, 7)), SocketError.UnsupportedSocketOperationError, 'SOCKSv5 command not supported');
    const m = createSocks5UdpAssociateNegotiator(null);
    m.start();
    m.feed(B(5, 0));
    expectFail(m.feed(B(5, 1)), SocketError.NetworkError);
  });

  test('an unspecified relay address means the proxy’s own address', () => {
    expect(socks5RelayEndpoint({ host: '0.0.0.0', port: 9 }, '192.0.2.5')).toEqual({ host: '192.0.2.5', port: 9 });
    expect(socks5RelayEndpoint({ host: '::', port: 9 }, '192.0.2.5')).toEqual({ host: '192.0.2.5', port: 9 });
    expect(socks5RelayEndpoint({ host: '10.0.0.1', port: 9 }, '192.0.2.5')).toEqual({ host: '10.0.0.1', port: 9 });
    expect(socks5RelayEndpoint({ host: 'relay.lan', port: 9 }, '192.0.2.5')).toEqual({ host: 'relay.lan', port: 9 });
  });
});

describe('SOCKS5 UDP datagram header (RFC 1928 §7)', () => {
  test('encodes IPv4, IPv6 and names exactly', () => {
    expect(encodeSocks5UdpHeader(new QHostAddress('10.0.0.1'), 53)).toEqual(B(0, 0, 0, 1, 10, 0, 0, 1, 0, 53));
    expect(encodeSocks5UdpHeader('10.0.0.1', 53)).toEqual(B(0, 0, 0, 1, 10, 0, 0, 1, 0, 53));
    expect(encodeSocks5UdpHeader(new QHostAddress('::1'), 53)).toEqual(
      cat(B(0, 0, 0, 4), Buffer.from(new QHostAddress('::1').toIPv6Address()), B(0, 53)),
    );
    expect(encodeSocks5UdpHeader('dns.lan', 53)).toEqual(cat(B(0, 0, 0, 3, 7), Buffer.from('dns.lan'), B(0, 53)));
    expect(encodeSocks5UdpHeader(new QHostAddress(QHostAddress.Any), 1)).toEqual(B(0, 0, 0, 1, 0, 0, 0, 0, 0, 1));
  });

  test('refuses what cannot be sent', () => {
    expect(() => encodeSocks5UdpHeader('1.2.3.4', 65536)).toThrow(RangeError);
    expect(() => encodeSocks5UdpHeader('1.2.3.4', -1)).toThrow(RangeError);
    expect(() => encodeSocks5UdpHeader('a'.repeat(256), 1)).toThrow(RangeError);
    expect(() => encodeSocks5UdpHeader('', 1)).toThrow(RangeError);
    expect(() => encodeSocks5UdpHeader(new QHostAddress(), 1)).toThrow(RangeError);
    expect(() => encodeSocks5UdpHeader(42 as unknown as string, 1)).toThrow(TypeError);
  });

  test('decodes what it encodes, payload as a view', () => {
    for (const to of [new QHostAddress('192.0.2.9'), new QHostAddress('2001:db8::9'), 'peer.example']) {
      const datagram = cat(encodeSocks5UdpHeader(to, 4242), Buffer.from('payload'));
      const decoded = decodeSocks5UdpDatagram(datagram);
      expect(decoded).not.toBeNull();
      if (decoded === null) continue;
      expect(decoded.port).toBe(4242);
      expect(decoded.payload.toString()).toBe('payload');
      expect(decoded.payload.buffer).toBe(datagram.buffer);
      if (typeof to === 'string') expect(decoded.address).toBe(to);
      else expect((decoded.address as QHostAddress).equals(to)).toBe(true);
    }
  });

  test('an empty payload is fine', () => {
    expect(decodeSocks5UdpDatagram(B(0, 0, 0, 1, 1, 2, 3, 4, 0, 1))?.payload.length).toBe(0);
  });

  test('drops fragments, bad reserved bytes, unknown types and truncated headers', () => {
    expect(decodeSocks5UdpDatagram(B(0, 0, 1, 1, 1, 2, 3, 4, 0, 1, 9))).toBeNull(); // FRAG 1
    expect(decodeSocks5UdpDatagram(B(0, 1, 0, 1, 1, 2, 3, 4, 0, 1, 9))).toBeNull(); // RSV
    expect(decodeSocks5UdpDatagram(B(1, 0, 0, 1, 1, 2, 3, 4, 0, 1, 9))).toBeNull(); // RSV
    expect(decodeSocks5UdpDatagram(B(0, 0, 0, 2, 1, 2, 3, 4, 0, 1, 9))).toBeNull(); // ATYP
    expect(decodeSocks5UdpDatagram(B(0, 0, 0, 1, 1, 2, 3, 4, 0))).toBeNull(); // no port
    expect(decodeSocks5UdpDatagram(B(0, 0, 0, 3, 5, 0x61))).toBeNull(); // short name
    expect(decodeSocks5UdpDatagram(B(0, 0, 0))).toBeNull();
    expect(decodeSocks5UdpDatagram(Buffer.alloc(0))).toBeNull();
    expect(decodeSocks5UdpDatagram('x' as unknown as Buffer)).toBeNull();
  });
});

// ----------------------------------------------------------- HTTP CONNECT ---

describe('HTTP CONNECT: request', () => {
  test('exact bytes without credentials', () => {
    expect(createHttpConnectNegotiator(named('example.com', 443), null).start().toString('latin1')).toBe(
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
  });

  test('exact bytes with Basic credentials (UTF-8)', () => {
    const n = createHttpConnectNegotiator(ip4('10.0.0.1', 22), creds('qsuser', 'qspass'));
    expect(n.start().toString('latin1')).toBe(
      'CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: 10.0.0.1:22\r\n' +
        `Proxy-Authorization: Basic ${Buffer.from('qsuser:qspass').toString('base64')}\r\n\r\n`,
    );
    const u = createHttpConnectNegotiator(ip4('10.0.0.1', 22), creds('jürgen', 'p:w'));
    expect(u.start().toString('latin1')).toContain(`Basic ${Buffer.from('jürgen:p:w', 'utf8').toString('base64')}\r\n`);
  });

  test('IPv6 literals go in brackets, without scope id', () => {
    expect(createHttpConnectNegotiator(ip4('::1', 8080), null).start().toString()).toBe(
      'CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n',
    );
    expect(createHttpConnectNegotiator(ip4('fe80::1%eth0', 80), null).start().toString()).toMatch(/^CONNECT \[fe80::1\]:80 /);
  });

  test('a non-ASCII name goes in IDNA form', () => {
    expect(createHttpConnectNegotiator(named('bücher.de', 443), null).start().toString()).toMatch(/^CONNECT xn--bcher-kva\.de:443 /);
  });

  test.each(['', 'a b', 'evil.com\r\nX-Injected: 1', 'a/b', 'u@h', 'h:1', '[::1]'])(
    'the unsendable host %j is never put in a request',
    (host) => {
      const n = createHttpConnectNegotiator(named(host, 80), null);
      expect(n.startFailure?.error).toBe(SocketError.HostNotFoundError);
      expect(n.start().length).toBe(0);
      expectFail(n.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), SocketError.HostNotFoundError);
    },
  );

  test('reconnectToRetry is true', () => {
    expect(createHttpConnectNegotiator(named('h', 1), null).reconnectToRetry).toBe(true);
  });
});

describe('HTTP CONNECT: responses', () => {
  const fresh = (c: ProxyCredentials | null = null): ProxyNegotiator => {
    const n = createHttpConnectNegotiator(named('example.com', 443), c);
    n.start();
    return n;
  };
  const one = (response: string, c: ProxyCredentials | null = null): NegotiationStep => fresh(c).feed(Buffer.from(response, 'latin1'));

  test.each([
    'HTTP/1.1 200 Connection established\r\n\r\n',
    'HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B:2\r\nVia: 1.1 squid\r\n\r\n',
    'HTTP/1.1 200\r\n\r\n',
    'HTTP/1.1 200 \r\n\r\n',
    'HTTP/1.1 200 Tunnel to the moon, with spaces & symbols!\r\n\r\n',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 299 Whatever\r\n\r\n',
    'HTTP/1.1 200 OK\n\n',
    'HTTP/1.1 200 OK\nServer: lf-only\n\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
    'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
  ])('%j opens the tunnel', (response) => {
    expect(one(response)).toEqual({ done: true, leftover: Buffer.alloc(0) });
  });

  test('bytes after the blank line in the same packet are the tunnel’s, even with Content-Length', () => {
    const step = one('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nSSH-2.0-x\r\n');
    expect('done' in step && step.leftover.toString()).toBe('SSH-2.0-x\r\n');
  });

  test('a large tunnel payload after a small head is not limited by the head cap', () => {
    const payload = Buffer.alloc(1 << 20, 0x61);
    const step = fresh().feed(cat(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), payload));
    expect('done' in step && step.leftover.length).toBe(payload.length);
  });

  test('every split point gives done and exactly the tunnel bytes', () => {
    const tunnel = Buffer.from('\x00binary\r\n\r\ntunnel\xff', 'latin1');
    const server = cat(Buffer.from('HTTP/1.0 200 Connection established\r\nProxy-agent: x\r\n\r\n'), tunnel);
    for (const chunks of splits(server)) {
      const run = drive(fresh(), chunks);
      expect(run.done).not.toBeNull();
      expect(run.tunnel).toEqual(tunnel);
    }
  });

  test('407 asks for credentials with the Basic realm', () => {
    expect(one('HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="Tinyproxy"\r\n\r\n')).toEqual({
      authenticate: true,
      realm: 'Tinyproxy',
    });
    expect(one('HTTP/1.1 407 x\r\nproxy-authenticate: basic realm=squid-test\r\n\r\n')).toEqual({ authenticate: true, realm: 'squid-test' });
    expect(one('HTTP/1.1 407 x\r\nProxy-Authenticate: Basic\r\n\r\n')).toEqual({ authenticate: true, realm: '' });
    expect(one('HTTP/1.1 407 x\r\n\r\n')).toEqual({ authenticate: true, realm: '' });
    expect(
      one('HTTP/1.1 407 x\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: Digest realm="d", nonce="n", Basic realm="the \\"b\\" realm"\r\n\r\n'),
    ).toEqual({ authenticate: true, realm: 'the "b" realm' });
    expect(one('HTTP/1.1 407 x\r\nProxy-Authenticate: Basic charset="UTF-8", realm="r"\r\n\r\n')).toEqual({
      authenticate: true,
      realm: 'r',
    });
  });

  test('407 after credentials were sent asks again (the socket decides when to stop)', () => {
    const n = fresh(creds('qsuser', 'wrong'));
    expect(n.feed(Buffer.from('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="r"\r\n\r\n'))).toEqual({
      authenticate: true,
      realm: 'r',
    });
    expect(n.reconnectToRetry).toBe(true);
  });

  test('401 (tinyproxy, wrong credentials) is treated like 407', () => {
    expect(one('HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Tinyproxy"\r\nConnection: close\r\n\r\n', creds('a', 'b'))).toEqual({
      authenticate: true,
      realm: 'Tinyproxy',
    });
  });

  test('407 offering only schemes qsocket lacks fails with ProxyAuthenticationRequiredError', () => {
    expectFail(
      one('HTTP/1.1 407 x\r\nProxy-Authenticate: Digest realm="d", nonce="1"\r\nProxy-Authenticate: NTLM\r\n\r\n'),
      SocketError.ProxyAuthenticationRequiredError,
      /Digest, NTLM/,
    );
  });

  test.each(
    (
      [
    [403, SocketError.SocketAccessError, 'Proxy denied connection'],
    [405, SocketError.SocketAccessError, 'Proxy denied connection'],
    [404, SocketError.HostNotFoundError, 'Host not found'],
    [503, SocketError.ConnectionRefusedError, 'Connection refused'],
    [500, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 500 Reason)'],
    [502, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 502 Reason)'],
    [504, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 504 Reason)'],
    [400, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 400 Reason)'],
    [301, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 301 Reason)'],
    [101, SocketError.ProxyProtocolError, 'Error communicating with HTTP proxy (HTTP 101 Reason)'],
      ] as Array<[number, SocketError, string]>
    ).map(([status, error, message]) => [status, SocketError[error], error, message] as const),
  )('status %s maps to %s', (status, _name, error, message) => {
    const step = one(`HTTP/1.1 ${status} Reason\r\nContent-Length: 5\r\n\r\nbody!`);
    expectFail(step, error);
    expect(isFail(step) && step.message).toBe(message);
    expect(httpConnectFailure(status, 'Reason')).toEqual({ error, message });
  });

  test('tinyproxy’s "500 Unable to connect" keeps its reason in the message', () => {
    expectFail(one('HTTP/1.1 500 Unable to connect\r\n\r\n'), SocketError.ProxyProtocolError, /500 Unable to connect/);
  });

  test('garbage fails at once, without waiting for a line end', () => {
    const n = fresh();
    expectFail(n.feed(Buffer.from('S')), SocketError.ProxyProtocolError, 'Did not receive HTTP response from proxy');
    expectFail(fresh().feed(Buffer.from('HTTX')), SocketError.ProxyProtocolError);
    expectFail(fresh().feed(B(0x05, 0x00)), SocketError.ProxyProtocolError);
    expectFail(fresh().feed(Buffer.from('\r\nHTTP/1.1 200 OK\r\n\r\n')), SocketError.ProxyProtocolError);
  });

  test.each(['HTTP/2 200 OK\r\n', 'HTTP/1.1 20 OK\r\n', 'HTTP/1.1 abc\r\n', 'HTTP/1.1200 OK\r\n', 'HTTP/1.1 600 x\r\n', 'HTTP/\r\n'])(
    'the bad status line %j is a protocol error',
    (line) => {
      expectFail(one(line), SocketError.ProxyProtocolError, /Did not receive HTTP response from proxy/);
    },
  );

  test('malformed header lines are ignored, as Qt does', () => {
    expect(one('HTTP/1.1 200 OK\r\nno colon here\r\n: empty name\r\n\r\n')).toEqual({ done: true, leftover: Buffer.alloc(0) });
  });

  test(`a head over ${HTTP_HEAD_LIMIT} bytes fails without waiting for its end`, () => {
    const n = fresh();
    expect(n.feed(Buffer.from('HTTP/1.1 200 OK\r\nX-Big: '))).toEqual({ wait: true });
    let step: NegotiationStep = { wait: true };
    for (let i = 0; i < 70 && 'wait' in step; i++) step = n.feed(Buffer.alloc(1024, 0x61));
    expectFail(step, SocketError.ProxyProtocolError, /exceeds 65536 bytes/);
  });

  test('many interim responses count toward the cap', () => {
    const interim = 'HTTP/1.1 100 Continue\r\n\r\n';
    const step = one(interim.repeat(Math.ceil(HTTP_HEAD_LIMIT / interim.length) + 1));
    expectFail(step, SocketError.ProxyProtocolError);
  });

  test('after a terminal step feed() returns the same step', () => {
    const f = fresh();
    const failed = f.feed(Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\n'));
    expect(f.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'))).toBe(failed);
    const d = fresh();
    d.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nab'));
    expect(d.feed(Buffer.from('cd'))).toEqual({ done: true, leftover: Buffer.from('cd') });
  });

  test('waits while the head is incomplete', () => {
    const n = fresh();
    for (const part of ['HTTP/1.1 2', '00 Connection', ' established\r', '\n', 'Via: x\r\n', '\r']) {
      expect(n.feed(Buffer.from(part))).toEqual({ wait: true });
    }
    expect(n.feed(Buffer.from('\n'))).toEqual({ done: true, leftover: Buffer.alloc(0) });
  });
});
