// Proxy behaviour a real proxy daemon cannot be made to show, against small
// node:net fake proxies in this process: the six proxy errors, every SOCKS5
// reply code, replies split byte by byte or glued to tunnel data, refused
// proxy types, and which proxy a socket picks (own > application > factory,
// Qt 6's loopback rule, NoProxy). The fakes only ever connect to loopback,
// and every name is answered by a table resolver: no DNS.
import * as net from 'net';
import {
  QAuthenticator,
  QHostAddress,
  QNetworkProxy,
  QNetworkProxyFactory,
  QNetworkProxyQuery,
  QTcpSocket,
  QUdpSocket,
  ProxyCapability,
  ProxyQueryType,
  ProxyType,
  SocketError,
  SocketState,
} from '../lib';
import { Peer, Recorder, closedPort, liveEngines, startEcho, until } from './helpers';
import { CONNECT_EVENTS, Probe, abortProbes, connectOutcome, echoRoundTrip, errName, probeSocket, readBytes, stateName } from './fixtures/proxy-tools';

const { Socks5Proxy, HttpProxy, NoProxy, DefaultProxy, HttpCachingProxy, FtpCachingProxy } = QNetworkProxy;
const T = 15000; // per-test bound
/** The negotiation time-out of the fake-proxy sockets, so that a stuck negotiation fails fast and says so. */
const NEGOTIATION_MS = 2000;

// ---- fake proxies -------------------------------------------------------------------

/** A server-side connection with buffered, awaitable reads. */
class Conv {
  #buf = Buffer.alloc(0);
  #waiters: Array<() => void> = [];
  ended = false;
  /** Everything the client sent on this connection. */
  readonly received: Buffer[] = [];
  constructor(readonly c: net.Socket) {
    c.on('error', () => {});
    c.on('data', (d) => {
      this.received.push(d);
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake();
    });
    c.on('close', () => {
      this.ended = true;
      this.#wake();
    });
    c.on('end', () => {
      this.ended = true;
      this.#wake();
    });
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  async #until(ready: () => number, ms: number): Promise<Buffer> {
    const end = Date.now() + ms;
    for (;;) {
      const n = ready();
      if (n >= 0) {
        const out = this.#buf.subarray(0, n);
        this.#buf = this.#buf.subarray(n);
        return out;
      }
      if (this.ended) throw new Error('client closed');
      const left = end - Date.now();
      if (left <= 0) throw new Error('fake proxy: timed out waiting for the client');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  read(n: number, ms = 3000): Promise<Buffer> {
    return this.#until(() => (this.#buf.length >= n ? n : -1), ms);
  }
  readUntil(marker: string, ms = 3000): Promise<Buffer> {
    return this.#until(() => {
      const i = this.#buf.indexOf(marker);
      return i < 0 ? -1 : i + marker.length;
    }, ms);
  }
  /** Takes whatever arrived and was not read yet. */
  take(): Buffer {
    const out = this.#buf;
    this.#buf = Buffer.alloc(0);
    return out;
  }
  /** From now on an echo (the tunnel's far end), starting with what already arrived unread. */
  becomeEcho(): void {
    this.c.removeAllListeners('data');
    const pending = this.take();
    if (pending.length) this.write(pending);
    this.c.pipe(this.c);
  }
  write(b: Buffer | string): void {
    if (!this.c.destroyed) this.c.write(b);
  }
  all(): Buffer {
    return Buffer.concat(this.received);
  }
}

interface Fake {
  port: number;
  convs: Conv[];
  errors: unknown[];
  close(): Promise<void>;
}

const fakes: Fake[] = [];
const peers: Peer[] = [];

/** A fake proxy on 127.0.0.1: `serve` runs for each accepted connection. */
async function fake(serve: (v: Conv, index: number) => Promise<void> | void): Promise<Fake> {
  const convs: Conv[] = [];
  const errors: unknown[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    const v = new Conv(c);
    convs.push(v);
    Promise.resolve()
      .then(() => serve(v, convs.length - 1))
      .catch((e) => errors.push(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const f: Fake = {
    port: (server.address() as net.AddressInfo).port,
    convs,
    errors,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        server.close(() => r());
      }),
  };
  fakes.push(f);
  return f;
}

async function echo(): Promise<Peer> {
  const p = await startEcho('127.0.0.1');
  peers.push(p);
  return p;
}

// SOCKS5 pieces (RFC 1928).
interface SocksRequest {
  cmd: number;
  atyp: number;
  host: string;
  port: number;
}

async function socksGreeting(v: Conv): Promise<number[]> {
  const head = await v.read(2);
  if (head[0] !== 5) throw new Error(`not SOCKS5: ${head.toString('hex')}`);
  return [...(await v.read(head[1]))];
}

async function socksRequest(v: Conv): Promise<SocksRequest> {
  const head = await v.read(4);
  const atyp = head[3];
  let host: string;
  if (atyp === 1) host = [...(await v.read(4))].join('.');
  else if (atyp === 4) host = new QHostAddress(new Uint8Array(await v.read(16))).toString();
  else if (atyp === 3) host = (await v.read((await v.read(1))[0])).toString('latin1');
  else throw new Error(`bad ATYP ${atyp}`);
  const port = (await v.read(2)).readUInt16BE(0);
  return { cmd: head[1], atyp, host, port };
}

/** A success reply with a bound 127.0.0.1:0x1234. */
const SOCKS_OK = Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34]);
const socksReply = (rep: number) => Buffer.from([5, rep, 0, 1, 0, 0, 0, 0, 0, 0]);

/**
 * A working SOCKS5 proxy without authentication: it resolves names from
 * `names` only, connects to loopback, and relays. `requests` records what
 * each client asked for.
 */
async function socksRelay(names: Record<string, string> = {}): Promise<Fake & { requests: SocksRequest[] }> {
  const requests: SocksRequest[] = [];
  const f = await fake(async (v) => {
    await socksGreeting(v);
    v.write(Buffer.from([5, 0]));
    const req = await socksRequest(v);
    requests.push(req);
    const address = req.atyp === 3 ? names[req.host] : req.host;
    if (address === undefined || !(address.startsWith('127.') || address === '::1')) {
      v.write(socksReply(4));
      v.c.end();
      return;
    }
    const out = net.connect({ host: address, port: req.port });
    out.on('error', () => v.c.destroy());
    out.on('connect', () => {
      v.write(SOCKS_OK);
      v.c.removeAllListeners('data');
      const rest = v.take();
      if (rest.length) out.write(rest);
      v.c.on('data', (d) => out.write(d));
      out.on('data', (d) => v.write(d));
      out.on('end', () => v.c.end());
      v.c.on('end', () => out.end());
      v.c.on('close', () => out.destroy());
    });
  });
  return Object.assign(f, { requests });
}

/** Reads an HTTP request head (through the blank line). */
async function httpHead(v: Conv): Promise<string> {
  return (await v.readUntil('\r\n\r\n')).toString('latin1');
}

// ---- bookkeeping ------------------------------------------------------------------------

function socket(proxy?: QNetworkProxy, table: Record<string, string[]> = {}): Probe {
  const probe = probeSocket(proxy, table);
  probe.s.setProxyTimeout(NEGOTIATION_MS);
  return probe;
}

const udpSockets: QUdpSocket[] = [];

// Engines alive before each test: a test that leaks one fails itself, not the ones after it.
let enginesBefore = 0;
beforeEach(() => {
  enginesBefore = liveEngines();
});

afterEach(async () => {
  abortProbes();
  for (const u of udpSockets.splice(0)) u.abort();
  QNetworkProxy.setApplicationProxy(new QNetworkProxy(DefaultProxy));
  QNetworkProxyFactory.setApplicationProxyFactory(null);
  QNetworkProxyFactory.setUseSystemConfiguration(false);
  await Promise.all([...fakes.splice(0).map((f) => f.close()), ...peers.splice(0).map((p) => p.close())]);
  expect(liveEngines()).toBe(enginesBefore);
});

/** Connects and expects `error`, with Qt's order: Unconnected, then errorOccurred, and never connected. */
async function expectError(probe: Probe, host: string, port: number, error: SocketError): Promise<number> {
  const t0 = performance.now();
  const outcome = await connectOutcome(probe.s, host, port);
  const elapsed = performance.now() - t0;
  expect(outcome === 'connected' ? 'connected' : errName(outcome)).toBe(errName(error));
  expect(probe.s.state()).toBe(SocketState.UnconnectedState);
  expect(probe.rec.count('connected')).toBe(0);
  expect(probe.rec.count('errorOccurred')).toBe(1);
  const ev = probe.rec.events.filter((e) => !e.startsWith('proxyAuthenticationRequired'));
  expect(ev.slice(-2)).toEqual(['stateChanged(UnconnectedState)', `errorOccurred(${errName(error)})`]);
  return elapsed;
}

// ---- the proxy errors ------------------------------------------------------------------------

describe('ProxyConnectionRefusedError: nothing listens on the proxy port', () => {
  test.each([
    ['SOCKS5', Socks5Proxy],
    ['HTTP', HttpProxy],
  ])('%s', async (_n, type) => {
    const port = await closedPort();
    const probe = socket(new QNetworkProxy(type, '127.0.0.1', port));
    await expectError(probe, '127.0.0.1', 9, SocketError.ProxyConnectionRefusedError);
    expect(probe.s.errorString()).toBe('Connection to proxy refused');
    expect(probe.negotiation).toEqual([]);
    expect(probe.rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(ConnectingState)',
      'hostFound',
      'stateChanged(UnconnectedState)',
      'errorOccurred(ProxyConnectionRefusedError)',
    ]);
  }, T);
});

describe('ProxyNotFoundError: the proxy’s host name does not resolve (table resolver, no DNS)', () => {
  test('the resolver says ENOTFOUND: only the proxy’s name was looked up, never the destination', async () => {
    const probe = socket(new QNetworkProxy(Socks5Proxy, 'proxy.test', 1080));
    await expectError(probe, 'dest.test', 80, SocketError.ProxyNotFoundError);
    expect(probe.lookups).toEqual(['proxy.test']);
    expect(probe.s.errorString()).toBe('Proxy host not found');
  }, T);

  test('the resolver answers no address (HTTP proxy)', async () => {
    const probe = socket(new QNetworkProxy(HttpProxy, 'proxy.test', 3128), { 'proxy.test': [] });
    await expectError(probe, '127.0.0.1', 80, SocketError.ProxyNotFoundError);
    expect(probe.lookups).toEqual(['proxy.test']);
  }, T);

  test('a resolver that throws counts as not found, reported from the loop', async () => {
    const probe = socket(new QNetworkProxy(Socks5Proxy, 'proxy.test', 1080));
    probe.s.setLookup(() => {
      throw new Error('resolver exploded');
    });
    const outcome = connectOutcome(probe.s, '127.0.0.1', 80);
    expect(probe.rec.events).toEqual(['stateChanged(HostLookupState)']);
    expect(errName((await outcome) as SocketError)).toBe('ProxyNotFoundError');
  }, T);

  test('a proxy name that resolves is used: the proxy’s name goes to the resolver, the destination’s to the proxy', async () => {
    const relay = await socksRelay({ 'dest.test': '127.0.0.1' });
    const e = await echo();
    const probe = socket(new QNetworkProxy(Socks5Proxy, 'proxy.test', relay.port), { 'proxy.test': ['127.0.0.1'] });
    expect(await connectOutcome(probe.s, 'dest.test', e.port)).toBe('connected');
    expect(probe.lookups).toEqual(['proxy.test']);
    expect(relay.requests).toEqual([{ cmd: 1, atyp: 3, host: 'dest.test', port: e.port }]);
  }, T);
});

describe('ProxyConnectionClosedError: the proxy closes during the negotiation', () => {
  const cases: Array<[string, ProxyType, (v: Conv) => Promise<void>]> = [
    [
      'SOCKS5: right after the greeting',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.c.end();
      },
    ],
    [
      'SOCKS5: after choosing a method, before the reply to CONNECT',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([5, 0]));
        await socksRequest(v);
        v.c.end();
      },
    ],
    [
      'SOCKS5: in the middle of the reply',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([5, 0]));
        await socksRequest(v);
        v.c.end(SOCKS_OK.subarray(0, 6));
      },
    ],
    [
      'SOCKS5: with a reset',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.c.resetAndDestroy();
      },
    ],
    [
      'HTTP: after reading the request',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.c.end();
      },
    ],
    [
      'HTTP: in the middle of the status line',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.c.end('HTTP/1.1 200 Conn');
      },
    ],
    [
      'HTTP: after the headers but before the blank line',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.c.end('HTTP/1.1 200 Connection established\r\nProxy-Agent: fake\r\n');
      },
    ],
  ];
  test.each(cases)('%s', async (_n, type, serve) => {
    const f = await fake(serve);
    const probe = socket(new QNetworkProxy(type, '127.0.0.1', f.port));
    const elapsed = await expectError(probe, '127.0.0.1', 7, SocketError.ProxyConnectionClosedError);
    expect(probe.s.errorString()).toBe('Connection to proxy closed prematurely');
    expect(elapsed).toBeLessThan(NEGOTIATION_MS); // seen at once, not by the time-out
    expect(f.convs.length).toBe(1);
  }, T);
});

describe('ProxyConnectionTimeoutError: the proxy accepts and says nothing', () => {
  test.each([
    ['SOCKS5, silent from the start', Socks5Proxy, false],
    ['HTTP, silent from the start', HttpProxy, false],
    ['SOCKS5, silent after choosing a method', Socks5Proxy, true],
  ])('%s: setProxyTimeout(200) bounds it', async (_n, type, partly) => {
    const f = await fake(async (v) => {
      if (partly) {
        await socksGreeting(v);
        v.write(Buffer.from([5, 0]));
      }
    });
    const probe = socket(new QNetworkProxy(type, '127.0.0.1', f.port));
    probe.s.setProxyTimeout(200);
    expect(probe.s.proxyTimeout()).toBe(200);
    const elapsed = await expectError(probe, '127.0.0.1', 7, SocketError.ProxyConnectionTimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
    expect(probe.s.errorString()).toBe('Proxy server connection timed out');
    // The fake's connection is closed by the socket.
    await until(() => f.convs[0]?.ended === true, 3000, 'the socket to close its connection to the proxy');
  }, T);

  test('the default time-out is 30 s', () => {
    expect(probeSocket().s.proxyTimeout()).toBe(30000);
  });

  test('abort() while negotiating: no time-out fires later, nothing is left', async () => {
    const f = await fake(() => {});
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    probe.s.setProxyTimeout(100);
    probe.s.connectToHost('127.0.0.1', 7);
    await until(() => f.convs.length === 1, 3000, 'the proxy connection');
    await until(() => probe.s.state() === SocketState.ConnectingState && probe.negotiation.length > 0, 3000, 'negotiating');
    probe.s.abort();
    expect(probe.s.state()).toBe(SocketState.UnconnectedState);
    await new Promise((r) => setTimeout(r, 300));
    expect(probe.rec.count('errorOccurred')).toBe(0);
    expect(probe.rec.count('disconnected')).toBe(0);
    expect(liveEngines()).toBe(enginesBefore);
  }, T);
});

describe('ProxyProtocolError: a reply that is not the protocol', () => {
  const cases: Array<[string, ProxyType, (v: Conv) => Promise<void>]> = [
    [
      'SOCKS5 answered with HTTP',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      },
    ],
    [
      'SOCKS5 answered with a SOCKS4 reply',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]));
      },
    ],
    [
      'SOCKS5 choosing a method that was not offered (GSSAPI)',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([5, 1]));
      },
    ],
    [
      'SOCKS5 reply with an unknown address type',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([5, 0]));
        await socksRequest(v);
        v.write(Buffer.from([5, 0, 0, 9, 1, 2, 3, 4, 5, 6]));
      },
    ],
    [
      'SOCKS5 reply with a wrong version',
      Socks5Proxy,
      async (v) => {
        await socksGreeting(v);
        v.write(Buffer.from([5, 0]));
        await socksRequest(v);
        v.write(Buffer.from([4, 0, 0, 1, 127, 0, 0, 1, 0, 80]));
      },
    ],
    [
      'HTTP answered with an SSH banner',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      },
    ],
    [
      'HTTP answered with binary garbage',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.write(Buffer.from([0x05, 0xff, 0x00, 0x13, 0x37]));
      },
    ],
    [
      'HTTP with a malformed status line',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.write('HTTP/1.1 OK 200\r\n\r\n');
      },
    ],
    [
      'HTTP 502 Bad Gateway',
      HttpProxy,
      async (v) => {
        await httpHead(v);
        v.write('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      },
    ],
  ];
  test.each(cases)('%s', async (_n, type, serve) => {
    const f = await fake(serve);
    const probe = socket(new QNetworkProxy(type, '127.0.0.1', f.port));
    const elapsed = await expectError(probe, '127.0.0.1', 7, SocketError.ProxyProtocolError);
    expect(elapsed).toBeLessThan(NEGOTIATION_MS); // at once, not by the time-out
    await until(() => f.convs[0]?.ended === true, 3000, 'the socket to close its connection to the proxy');
  }, T);
});

describe('SOCKS5 reply codes (lib/proxy/socks5.ts socks5ReplyFailure)', () => {
  const E = SocketError;
  const byAddress: Array<[number, SocketError]> = [
    [1, E.NetworkError],
    [2, E.SocketAccessError],
    [3, E.NetworkError],
    [4, E.HostNotFoundError],
    [5, E.ConnectionRefusedError],
    [6, E.NetworkError],
    [7, E.UnsupportedSocketOperationError],
    [8, E.UnsupportedSocketOperationError],
    [9, E.ProxyProtocolError],
    [0xff, E.ProxyProtocolError],
  ];
  const byName: Array<[number, SocketError]> = [
    [1, E.HostNotFoundError], // Dante's answer to a name it cannot resolve (Qt reads it so)
    [2, E.HostNotFoundError],
    [3, E.NetworkError],
    [4, E.HostNotFoundError],
    [5, E.ConnectionRefusedError],
  ];
  const run = async (rep: number, host: string, error: SocketError) => {
    const f = await fake(async (v) => {
      await socksGreeting(v);
      v.write(Buffer.from([5, 0]));
      await socksRequest(v);
      v.write(socksReply(rep));
    });
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    await expectError(probe, host, 4242, error);
    expect(probe.lookups).toEqual([]);
  };
  test.each(byAddress.map(([rep, e]) => [rep, errName(e), e] as const))('REP %i to CONNECT 127.0.0.1 → %s', async (rep, _name, e) => {
    await run(rep, '127.0.0.1', e);
  }, T);
  test.each(byName.map(([rep, e]) => [rep, errName(e), e] as const))('REP %i to CONNECT by name → %s', async (rep, _name, e) => {
    await run(rep, 'dest.test', e);
  }, T);
});

// ---- replies in pieces, and tunnel bytes glued to them -------------------------------------

describe('HTTP CONNECT responses as real proxies send them', () => {
  test('one byte at a time, extra headers, a weird reason phrase: connected, and the request was exact', async () => {
    const head =
      'HTTP/1.0 200 Tunnel Open, Have Fun (\u00e9t\u00e9 \x7f)  \r\n' +
      'Proxy-Agent: fake/0.1\r\n' +
      'X-Empty:\r\n' +
      'Set-Cookie: a=b; Path=/\r\n' +
      'Via: 1.1 fake\r\n' +
      '  folded continuation\r\n' +
      'Content-Length: 0\r\n' +
      '\r\n';
    const statesDuring: string[] = [];
    let probe!: Probe;
    let request = '';
    const f = await fake(async (v) => {
      v.c.setNoDelay(true);
      request = await httpHead(v);
      for (const byte of Buffer.from(head, 'latin1')) {
        statesDuring.push(`${stateName(probe.s.state())}/${probe.rec.count('connected')}`);
        v.write(Buffer.from([byte]));
        await new Promise((r) => setTimeout(r, 1));
      }
      v.becomeEcho(); // then the tunnel's far end
    });
    probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    probe.s.setProxyTimeout(5000);
    expect(await connectOutcome(probe.s, '127.0.0.1', 4321, 8000)).toBe('connected');
    expect(request).toBe('CONNECT 127.0.0.1:4321 HTTP/1.1\r\nHost: 127.0.0.1:4321\r\n\r\n');
    expect(statesDuring.length).toBe(Buffer.byteLength(head, 'latin1'));
    expect(new Set(statesDuring)).toEqual(new Set(['ConnectingState/0']));
    expect(probe.rec.events).toEqual(CONNECT_EVENTS);
    expect(probe.s.bytesAvailable()).toBe(0);
    const rt = await echoRoundTrip(probe.s, 100000);
    expect(rt.received).toBe(rt.sent);
  }, T);

  test('bare LF line ends and interim 1xx responses before the 200', async () => {
    const f = await fake(async (v) => {
      await httpHead(v);
      v.write('HTTP/1.1 100 Continue\n\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 200 OK\nServer: lf-only\n\nhello');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await readBytes(probe.s, 5)).toString()).toBe('hello');
  }, T);

  test('bytes after the blank line in the same packet are the tunnel’s: readyRead after connected, nothing lost', async () => {
    const later = 'LATER-BYTES';
    const f = await fake(async (v) => {
      await httpHead(v);
      v.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\nEARLY-BYTES');
      await new Promise((r) => setTimeout(r, 50));
      v.write(later);
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    const atConnected: number[] = [];
    const order: string[] = [];
    probe.s.connected.connect(() => {
      atConnected.push(probe.s.bytesAvailable());
      order.push('connected');
    });
    probe.s.readyRead.connect(() => order.push('readyRead'));
    const got = readBytes(probe.s, 'EARLY-BYTES'.length + later.length);
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await got).toString()).toBe(`EARLY-BYTES${later}`);
    expect(atConnected).toEqual([0]);
    expect(order[0]).toBe('connected');
    expect(order[1]).toBe('readyRead');
  }, T);

  test('a large tunnel payload glued to the response head arrives whole', async () => {
    const payload = Buffer.alloc(200 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const f = await fake(async (v) => {
      await httpHead(v);
      v.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n\r\n'), payload]));
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    const got = readBytes(probe.s, payload.length);
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await got).equals(payload)).toBe(true);
  }, T);

  test('head, tunnel bytes and the close in one flight: the bytes stay readable, then RemoteHostClosedError', async () => {
    const f = await fake(async (v) => {
      await httpHead(v);
      v.c.end('HTTP/1.1 200 OK\r\n\r\nlast words');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    const got = readBytes(probe.s, 'last words'.length);
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await got).toString()).toBe('last words');
    if (probe.s.state() !== SocketState.UnconnectedState) await probe.s.disconnected.wait(3000);
    expect(probe.rec.events.slice(CONNECT_EVENTS.length)).toEqual([
      'errorOccurred(RemoteHostClosedError)',
      'stateChanged(ClosingState)',
      'stateChanged(UnconnectedState)',
      'disconnected',
    ]);
  }, T);
});

describe('SOCKS5 replies in pieces and glued to tunnel data', () => {
  test('every message split into single bytes', async () => {
    const f = await fake(async (v) => {
      v.c.setNoDelay(true);
      const trickle = async (b: Buffer) => {
        for (const byte of b) {
          v.write(Buffer.from([byte]));
          await new Promise((r) => setTimeout(r, 1));
        }
      };
      await socksGreeting(v);
      await trickle(Buffer.from([5, 0]));
      await socksRequest(v);
      await trickle(Buffer.from([5, 0, 0, 4, ...Buffer.alloc(15), 1, 0x30, 0x39])); // bound [::1]:12345
      v.becomeEcho();
    });
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    expect(await connectOutcome(probe.s, '::1', 5555)).toBe('connected');
    for (const at of probe.negotiation) expect(at).toEqual({ state: 'ConnectingState', connectedEmitted: 0 });
    const rt = await echoRoundTrip(probe.s, 50000);
    expect(rt.received).toBe(rt.sent);
  }, T);

  test('the reply and the first tunnel bytes in one packet: nothing lost', async () => {
    const f = await fake(async (v) => {
      await socksGreeting(v);
      v.write(Buffer.from([5, 0]));
      await socksRequest(v);
      v.write(Buffer.concat([SOCKS_OK, Buffer.from('EARLY')]));
      await new Promise((r) => setTimeout(r, 50));
      v.write('LATER');
    });
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    const atConnected: number[] = [];
    probe.s.connected.connect(() => atConnected.push(probe.s.bytesAvailable()));
    const got = readBytes(probe.s, 10);
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await got).toString()).toBe('EARLYLATER');
    expect(atConnected).toEqual([0]);
  }, T);

  test('a proxy that answers everything at once, before the request: the request is still sent, the data kept', async () => {
    let request: SocksRequest | null = null;
    const f = await fake(async (v) => {
      await socksGreeting(v);
      v.write(Buffer.concat([Buffer.from([5, 0]), SOCKS_OK, Buffer.from('AHEAD')]));
      request = await socksRequest(v);
    });
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    const got = readBytes(probe.s, 5);
    expect(await connectOutcome(probe.s, 'dest.test', 8080)).toBe('connected');
    expect((await got).toString()).toBe('AHEAD');
    await until(() => request !== null, 3000, 'the CONNECT request');
    expect(request).toEqual({ cmd: 1, atyp: 3, host: 'dest.test', port: 8080 });
    expect(probe.lookups).toEqual([]);
  }, T);

  test('a success reply with a bound domain name (ATYP 3) followed by data', async () => {
    const f = await fake(async (v) => {
      await socksGreeting(v);
      v.write(Buffer.from([5, 0]));
      await socksRequest(v);
      const name = Buffer.from('relay.example');
      v.write(Buffer.concat([Buffer.from([5, 0, 0, 3, name.length]), name, Buffer.from([0, 80]), Buffer.from('DATA')]));
    });
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    const got = readBytes(probe.s, 4);
    expect(await connectOutcome(probe.s, '127.0.0.1', 80)).toBe('connected');
    expect((await got).toString()).toBe('DATA');
    expect(probe.s.peerName()).toBe('127.0.0.1');
    expect(probe.s.peerPort()).toBe(80);
  }, T);
});

// ---- authentication against fakes: exact attempt counts ------------------------------------

describe('credentials: what is sent, and how often', () => {
  /** A SOCKS5 proxy that wants user/pass and rejects every login; records each login. */
  async function rejectingSocks(): Promise<Fake & { logins: Array<[string, string]> }> {
    const logins: Array<[string, string]> = [];
    const f = await fake(async (v) => {
      const methods = await socksGreeting(v);
      if (!methods.includes(2)) {
        v.c.end(Buffer.from([5, 0xff]));
        return;
      }
      v.write(Buffer.from([5, 2]));
      const ver = await v.read(2);
      const user = (await v.read(ver[1])).toString();
      const plen = (await v.read(1))[0];
      const pass = (await v.read(plen)).toString();
      logins.push([user, pass]);
      v.c.end(Buffer.from([1, 1]));
    });
    return Object.assign(f, { logins });
  }

  test('SOCKS5, wrong password, no slot: one emission, one login, ProxyAuthenticationRequiredError', async () => {
    const f = await rejectingSocks();
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port, 'alice', 'wrong'));
    await expectError(probe, '127.0.0.1', 80, SocketError.ProxyAuthenticationRequiredError);
    expect(f.logins).toEqual([['alice', 'wrong']]);
    expect(probe.authAsks.length).toBe(1);
    expect(f.convs.length).toBe(1);
  }, T);

  test('SOCKS5, a slot that always offers new wrong credentials: bounded attempts', async () => {
    const f = await rejectingSocks();
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port, 'alice', 'wrong-0'));
    let n = 0;
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, a: QAuthenticator) => {
      a.setUser('alice');
      a.setPassword(`wrong-${++n}`);
    });
    await expectError(probe, '127.0.0.1', 80, SocketError.ProxyAuthenticationRequiredError);
    // New credentials earn a retry (so at least two asks), but not forever (3 here, as the daemon tests allow).
    expect(probe.authAsks.length).toBeGreaterThanOrEqual(2);
    expect(probe.authAsks.length).toBeLessThanOrEqual(3);
    expect(n).toBe(probe.authAsks.length);
    expect(f.convs.length).toBe(probe.authAsks.length + 1);
    expect(f.logins).toEqual(Array.from({ length: f.convs.length }, (_, i) => ['alice', `wrong-${i}`]));
  }, T);

  test('HTTP 407, no credentials: the slot fills them, the retry carries Basic and succeeds', async () => {
    const heads: string[] = [];
    const f = await fake(async (v) => {
      const head = await httpHead(v);
      heads.push(head);
      if (!/^Proxy-Authorization: Basic /m.test(head)) {
        v.c.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="fake realm"\r\nConnection: close\r\n\r\n');
        return;
      }
      v.write('HTTP/1.1 200 Connection established\r\n\r\n');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, a: QAuthenticator) => {
      a.setUser('bob');
      a.setPassword('s3cr\u00e9t:x');
    });
    expect(await connectOutcome(probe.s, '127.0.0.1', 443)).toBe('connected');
    expect(heads.length).toBe(2);
    expect(heads[1]).toBe(
      `CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nProxy-Authorization: Basic ${Buffer.from('bob:s3cr\u00e9t:x', 'utf8').toString('base64')}\r\n\r\n`,
    );
    expect(probe.authAsks.map((a) => [a.user, a.password])).toEqual([['', '']]);
    expect(probe.rec.events).toEqual([...CONNECT_EVENTS.slice(0, 3), 'proxyAuthenticationRequired(127.0.0.1:' + f.port + ')', ...CONNECT_EVENTS.slice(3)]);
  }, T);

  test('HTTP 407 that always comes back: bounded attempts', async () => {
    const f = await fake(async (v) => {
      await httpHead(v);
      v.c.end('HTTP/1.1 407 Nope\r\nProxy-Authenticate: Basic realm="r"\r\n\r\n');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    let n = 0;
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, a: QAuthenticator) => {
      a.setUser('u');
      a.setPassword(`p${++n}`);
    });
    await expectError(probe, '127.0.0.1', 443, SocketError.ProxyAuthenticationRequiredError);
    expect(probe.authAsks.length).toBeGreaterThanOrEqual(1);
    expect(probe.authAsks.length).toBeLessThanOrEqual(3);
    expect(f.convs.length).toBe(probe.authAsks.length + 1);
  }, T);

  test('HTTP 407 offering only Digest: ProxyAuthenticationRequiredError without asking', async () => {
    const f = await fake(async (v) => {
      await httpHead(v);
      v.c.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm="r", nonce="n"\r\n\r\n');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    await expectError(probe, '127.0.0.1', 443, SocketError.ProxyAuthenticationRequiredError);
    expect(probe.authAsks).toEqual([]);
    expect(probe.s.errorString()).toContain('Digest');
  }, T);
});

// ---- the socket around the tunnel -----------------------------------------------------------

describe('the socket around the tunnel', () => {
  test('bytes written while negotiating wait for the tunnel: the proxy sees only the protocol, the destination gets them', async () => {
    let request = '';
    const f = await fake(async (v) => {
      request = await httpHead(v);
      await new Promise((r) => setTimeout(r, 30)); // time for any stray byte to arrive
      const stray = v.take();
      v.write('HTTP/1.1 200 OK\r\n\r\n');
      v.c.removeAllListeners('data');
      if (stray.length) v.write(Buffer.concat([Buffer.from('STRAY:'), stray]));
      v.c.pipe(v.c);
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    probe.s.connectToHost('127.0.0.1', 80);
    expect(probe.s.write('early bird')).toBe(10); // HostLookupState
    await until(() => probe.negotiation.length > 0, 3000, 'the negotiation to start');
    expect(probe.s.write(' and more')).toBe(9); // ConnectingState, negotiating
    const back = readBytes(probe.s, 19);
    await probe.s.connected.wait(5000);
    expect((await back).toString()).toBe('early bird and more');
    expect(request).toBe('CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
  }, T);

  test('disconnectFromHost() while negotiating: connected, then closed once the tunnel is up (pending close)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = await fake(async (v) => {
      await httpHead(v);
      await gate; // the reply waits until the test has called disconnectFromHost()
      v.write('HTTP/1.1 200 OK\r\n\r\n');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    probe.s.connectToHost('127.0.0.1', 80);
    await until(() => probe.negotiation.length > 0, 3000, 'the negotiation to start');
    probe.s.disconnectFromHost();
    expect(probe.s.state()).toBe(SocketState.ConnectingState);
    release();
    await until(() => probe.s.state() === SocketState.UnconnectedState, 5000, 'the pending close');
    expect(probe.rec.events).toEqual([
      ...CONNECT_EVENTS,
      'stateChanged(ClosingState)',
      'stateChanged(UnconnectedState)',
      'disconnected',
    ]);
    await until(() => f.convs[0].ended, 3000, 'the proxy connection to close');
  }, T);

  test('one socket, two proxied connections in turn (the tunnel state is reset)', async () => {
    const relay = await socksRelay();
    const e = await echo();
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', relay.port));
    for (let i = 0; i < 2; i++) {
      expect(await connectOutcome(probe.s, '127.0.0.1', e.port)).toBe('connected');
      const rt = await echoRoundTrip(probe.s, 10000);
      expect(rt.received).toBe(rt.sent);
      probe.s.disconnectFromHost();
      await until(() => probe.s.state() === SocketState.UnconnectedState, 3000, 'disconnected');
    }
    expect(relay.requests.length).toBe(2);
    expect(probe.rec.count('connected')).toBe(2);
    expect(probe.rec.count('disconnected')).toBe(2);
  }, T);

  test('a proxy without HostNameLookupCapability and a name that does not resolve: HostNotFoundError, the proxy never contacted', async () => {
    const relay = await socksRelay();
    const p = new QNetworkProxy(Socks5Proxy, '127.0.0.1', relay.port);
    p.setCapabilities(ProxyCapability.TunnelingCapability);
    const probe = socket(p);
    await expectError(probe, 'nowhere.test', 80, SocketError.HostNotFoundError);
    expect(probe.lookups).toEqual(['nowhere.test']);
    expect(relay.convs.length).toBe(0);
  }, T);

  test.each([
    ['having filled in credentials', true],
    ['without credentials', false],
  ])('abort() inside proxyAuthenticationRequired, %s: nothing after it (no retry, no error, no descriptor)', async (_n, fill) => {
    const f = await fake(async (v) => {
      await httpHead(v);
      v.c.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="r"\r\n\r\n');
    });
    const probe = socket(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    probe.s.proxyAuthenticationRequired.connect((_p: QNetworkProxy, a: QAuthenticator) => {
      if (fill) {
        a.setUser('u');
        a.setPassword('p');
      }
      probe.s.abort();
    });
    probe.s.connectToHost('127.0.0.1', 443);
    await until(() => probe.authAsks.length === 1, 5000, 'the signal');
    await new Promise((r) => setTimeout(r, 200));
    expect(probe.s.state()).toBe(SocketState.UnconnectedState);
    expect(probe.rec.events.filter((e) => e.startsWith('errorOccurred'))).toEqual([]);
    expect(f.convs.length).toBe(1); // no second connection to the proxy
    expect(liveEngines()).toBe(enginesBefore);
  }, T);
});

describe('blocking waits with a proxy that needs no answer from this thread', () => {
  test('waitForConnected: nothing listens on the proxy port → ProxyConnectionRefusedError', async () => {
    const port = await closedPort();
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', port));
    probe.s.connectToHost('127.0.0.1', 80);
    expect(probe.s.waitForConnected(3000)).toBe(false);
    expect(errName(probe.s.error())).toBe('ProxyConnectionRefusedError');
    expect(probe.s.state()).toBe(SocketState.UnconnectedState);
  }, T);

  test('waitForConnected: the proxy’s name does not resolve (lookupSync) → ProxyNotFoundError', () => {
    const asked: string[] = [];
    const s = new QTcpSocket({
      lookupSync: (h) => {
        asked.push(h);
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    try {
      s.setProxy(new QNetworkProxy(HttpProxy, 'proxy.test', 3128));
      s.connectToHost('dest.test', 80);
      expect(s.waitForConnected(3000)).toBe(false);
      expect(errName(s.error())).toBe('ProxyNotFoundError');
      expect(asked).toEqual(['proxy.test']);
    } finally {
      s.abort();
    }
  }, T);

  test('waitForConnected honours setProxyTimeout: a silent proxy fails after it with ProxyConnectionTimeoutError', async () => {
    // The kernel completes the handshake with this fake even while this
    // thread is blocked; it never answers.
    const f = await fake(() => {});
    const probe = socket(new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port));
    probe.s.setProxyTimeout(200);
    probe.s.connectToHost('127.0.0.1', 80);
    const t0 = performance.now();
    const ok = probe.s.waitForConnected(3000);
    const elapsed = performance.now() - t0;
    expect(ok).toBe(false);
    expect(errName(probe.s.error())).toBe('ProxyConnectionTimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1500);
  }, T);
});

// ---- proxy types a socket refuses -------------------------------------------------------------

describe('refused proxy types: UnsupportedSocketOperationError, nothing contacted', () => {
  test.each([
    ['HttpCachingProxy', HttpCachingProxy],
    ['FtpCachingProxy', FtpCachingProxy],
  ])('%s for a QTcpSocket', async (_n, type) => {
    const f = await fake(() => {});
    const probe = socket(new QNetworkProxy(type, '127.0.0.1', f.port));
    const outcome = connectOutcome(probe.s, 'dest.test', 80);
    expect(probe.rec.events).toEqual(['stateChanged(HostLookupState)']); // reported from the loop, not inside the call
    expect(errName((await outcome) as SocketError)).toBe('UnsupportedSocketOperationError');
    expect(probe.s.errorString()).toMatch(/^Operation on socket is not supported/);
    expect(probe.rec.events).toEqual([
      'stateChanged(HostLookupState)',
      'stateChanged(UnconnectedState)',
      'errorOccurred(UnsupportedSocketOperationError)',
    ]);
    expect(probe.lookups).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(f.convs.length).toBe(0);
  }, T);

  test('an HTTP proxy for QUdpSocket.connectToHost', async () => {
    const f = await fake(() => {});
    const calls: string[] = [];
    const u = new QUdpSocket({
      lookup: (h, _o, cb) => {
        calls.push(h);
        setImmediate(() => cb(null, [{ address: '127.0.0.1', family: 4 }]));
      },
    });
    udpSockets.push(u);
    u.setProxy(new QNetworkProxy(HttpProxy, '127.0.0.1', f.port));
    const rec = new Recorder().watch('stateChanged', u.stateChanged, stateName).watch('errorOccurred', u.errorOccurred, errName);
    const failed = u.errorOccurred.wait(5000);
    u.connectToHost('127.0.0.1', 9999);
    const [e] = await failed;
    expect(errName(e)).toBe('UnsupportedSocketOperationError');
    expect(u.errorString()).toMatch(/^Operation on socket is not supported|proxy/);
    expect(u.state()).toBe(SocketState.UnconnectedState);
    expect(rec.events.slice(-2)).toEqual(['stateChanged(UnconnectedState)', 'errorOccurred(UnsupportedSocketOperationError)']);
    expect(calls).toEqual([]);
    expect(f.convs.length).toBe(0);
    rec.stop();
  }, T);
});

// ---- which proxy: own > application > factory; Qt 6's loopback rule --------------------------

describe('which proxy a socket uses', () => {
  // Qt 6's loopback rule (lib/network-proxy.ts isLocalHostName) goes by the
  // destination's NAME as given to connectToHost: "localhost", "localhost.*"
  // or a loopback IP literal. So "dest.test", which the fakes and the table
  // resolver map to 127.0.0.1, is not local and the application proxy and
  // factory apply to it; "127.0.0.1" and "localhost" never get them.
  const NAMES = { 'dest.test': '127.0.0.1' };
  const TABLE = { 'dest.test': ['127.0.0.1'] };

  class CountingFactory extends QNetworkProxyFactory {
    readonly queries: Array<{ host: string; port: number; type: ProxyQueryType; tag: string }> = [];
    constructor(readonly answer: () => QNetworkProxy[]) {
      super();
    }
    queryProxy(q: QNetworkProxyQuery): QNetworkProxy[] {
      this.queries.push({ host: q.peerHostName(), port: q.peerPort(), type: q.queryType(), tag: q.protocolTag() });
      return this.answer();
    }
  }

  const socks = (f: Fake) => new QNetworkProxy(Socks5Proxy, '127.0.0.1', f.port);

  /** Connects to dest.test:echo and says which relay carried it (by their request logs), or 'direct'. */
  async function route(probe: Probe, host: string, e: Peer, relays: Record<string, { requests: SocksRequest[] }>): Promise<string> {
    const known = new Set(e.conns);
    expect(await connectOutcome(probe.s, host, e.port)).toBe('connected');
    const rt = await echoRoundTrip(probe.s, 4096);
    expect(rt.received).toBe(rt.sent);
    const used = Object.entries(relays)
      .filter(([, r]) => r.requests.length > 0)
      .map(([n]) => n);
    if (used.length > 0) return used.join('+');
    // Direct: the destination's connection comes from this socket's own port.
    await until(() => e.conns.some((c) => !known.has(c)), 3000, 'the direct connection');
    const conn = e.conns.find((c) => !known.has(c))!;
    expect(conn.remotePort).toBe(probe.s.localPort());
    return 'direct';
  }

  test('the socket’s own proxy beats the application proxy', async () => {
    const [A, B, e] = await Promise.all([socksRelay(NAMES), socksRelay(NAMES), echo()]);
    QNetworkProxy.setApplicationProxy(socks(B));
    const probe = socket(socks(A), TABLE);
    expect(await route(probe, 'dest.test', e, { A, B })).toBe('A');
    expect(A.requests).toEqual([{ cmd: 1, atyp: 3, host: 'dest.test', port: e.port }]);
    expect(probe.lookups).toEqual([]);
  }, T);

  test('without its own proxy the socket uses the application proxy, for a name that resolves to loopback', async () => {
    const [B, e] = await Promise.all([socksRelay(NAMES), echo()]);
    QNetworkProxy.setApplicationProxy(socks(B));
    const probe = socket(undefined, TABLE);
    expect(await route(probe, 'dest.test', e, { B })).toBe('B');
    expect(B.requests).toEqual([{ cmd: 1, atyp: 3, host: 'dest.test', port: e.port }]);
    expect(probe.lookups).toEqual([]); // the proxy resolved it
    expect(probe.s.peerName()).toBe('dest.test');
    expect(probe.s.peerPort()).toBe(e.port);
  }, T);

  test.each(['127.0.0.1', 'localhost'])('Qt 6: the application proxy is not used for the loopback destination %s', async (host) => {
    const [B, e] = await Promise.all([socksRelay(NAMES), echo()]);
    QNetworkProxy.setApplicationProxy(socks(B));
    const probe = socket(undefined, { localhost: ['127.0.0.1'] });
    expect(await route(probe, host, e, { B })).toBe('direct');
    expect(B.convs.length).toBe(0);
  }, T);

  test('NoProxy on the socket disables the application proxy', async () => {
    const [B, e] = await Promise.all([socksRelay(NAMES), echo()]);
    QNetworkProxy.setApplicationProxy(socks(B));
    const probe = socket(new QNetworkProxy(NoProxy), TABLE);
    expect(await route(probe, 'dest.test', e, { B })).toBe('direct');
    expect(B.convs.length).toBe(0);
    expect(probe.lookups).toEqual(['dest.test']); // resolved here, by the table
    expect(probe.s.peerAddress().toString()).toBe('127.0.0.1');
    expect(probe.negotiation).toEqual([]);
  }, T);

  test('the socket’s own proxy beats the application factory, which is not even asked', async () => {
    const [A, C, e] = await Promise.all([socksRelay(NAMES), socksRelay(NAMES), echo()]);
    const factory = new CountingFactory(() => [socks(C)]);
    QNetworkProxyFactory.setApplicationProxyFactory(factory);
    const probe = socket(socks(A), TABLE);
    expect(await route(probe, 'dest.test', e, { A, C })).toBe('A');
    expect(factory.queries).toEqual([]);
  }, T);

  test('without its own proxy the factory is asked, with the socket’s query, and its answer used', async () => {
    const [C, e] = await Promise.all([socksRelay(NAMES), echo()]);
    const factory = new CountingFactory(() => [socks(C)]);
    QNetworkProxyFactory.setApplicationProxyFactory(factory);
    const probe = socket(undefined, TABLE);
    expect(await route(probe, 'dest.test', e, { C })).toBe('C');
    expect(factory.queries).toEqual([{ host: 'dest.test', port: e.port, type: ProxyQueryType.TcpSocket, tag: '' }]);
  }, T);

  test('the factory’s first usable proxy wins (a caching proxy is skipped)', async () => {
    const [C, D, e] = await Promise.all([socksRelay(NAMES), socksRelay(NAMES), echo()]);
    QNetworkProxyFactory.setApplicationProxyFactory(
      new CountingFactory(() => [new QNetworkProxy(HttpCachingProxy, '127.0.0.1', D.port), socks(C), socks(D)]),
    );
    const probe = socket(undefined, TABLE);
    expect(await route(probe, 'dest.test', e, { C, D })).toBe('C');
    expect(D.convs.length).toBe(0);
  }, T);

  test('a factory that answers nothing means a direct connection', async () => {
    const e = await echo();
    const factory = new CountingFactory(() => []);
    QNetworkProxyFactory.setApplicationProxyFactory(factory);
    const probe = socket(undefined, TABLE);
    expect(await route(probe, 'dest.test', e, {})).toBe('direct');
    expect(factory.queries.length).toBe(1);
  }, T);

  test('a SOCKS5 proxy without HostNameLookupCapability: the name is resolved here and the proxy gets the address', async () => {
    const [A, e] = await Promise.all([socksRelay(NAMES), echo()]);
    const p = socks(A);
    p.setCapabilities(ProxyCapability.TunnelingCapability);
    const probe = socket(p, TABLE);
    expect(await route(probe, 'dest.test', e, { A })).toBe('A');
    expect(probe.lookups).toEqual(['dest.test']);
    expect(A.requests).toEqual([{ cmd: 1, atyp: 1, host: '127.0.0.1', port: e.port }]);
    expect(probe.s.peerName()).toBe('dest.test');
  }, T);
});
