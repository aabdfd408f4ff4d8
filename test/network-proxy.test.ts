// QNetworkProxy, QNetworkProxyQuery and QNetworkProxyFactory: application
// settings, the resolution order a socket follows, and the system
// configuration read from an (injected) environment. Pure: no sockets, no DNS.
import { ProxyCapability, ProxyType } from '../lib/enums';
import {
  DEFAULT_HTTP_PROXY_PORT,
  DEFAULT_SOCKS_PORT,
  ProxyQueryType,
  QNetworkProxy,
  QNetworkProxyFactory,
  QNetworkProxyQuery,
  isUsableForSocket,
  matchesNoProxy,
  proxyFromUrl,
  type ProxyEnvironment,
} from '../lib/network-proxy';

const { NoProxy, DefaultProxy, Socks5Proxy, HttpProxy, HttpCachingProxy, FtpCachingProxy } = ProxyType;
const C = ProxyCapability;

const socks = (host = '192.0.2.1', port = 1080): QNetworkProxy => new QNetworkProxy(Socks5Proxy, host, port);
const http = (host = '192.0.2.2', port = 3128): QNetworkProxy => new QNetworkProxy(HttpProxy, host, port);
const tcp = (host: string, port = 80): QNetworkProxyQuery => new QNetworkProxyQuery(host, port);
const udp = (host: string, port = 53): QNetworkProxyQuery => new QNetworkProxyQuery(host, port, '', ProxyQueryType.UdpSocket);
const describeProxy = (p: QNetworkProxy): string => `${ProxyType[p.type()]}:${p.hostName()}:${p.port()}`;
const list = (ps: QNetworkProxy[]): string[] => ps.map(describeProxy);

class ListFactory extends QNetworkProxyFactory {
  readonly queries: QNetworkProxyQuery[] = [];
  constructor(private readonly answer: (q: QNetworkProxyQuery) => QNetworkProxy[]) {
    super();
  }
  queryProxy(query = new QNetworkProxyQuery()): QNetworkProxy[] {
    this.queries.push(query);
    return this.answer(query);
  }
}

function resetApplicationSettings(): void {
  QNetworkProxyFactory.setApplicationProxyFactory(null);
  QNetworkProxy.setApplicationProxy(new QNetworkProxy(DefaultProxy));
  QNetworkProxyFactory.setUseSystemConfiguration(false);
}

beforeEach(resetApplicationSettings);
afterAll(resetApplicationSettings);

describe('QNetworkProxy', () => {
  test('enum values are Qt 6’s', () => {
    expect([DefaultProxy, Socks5Proxy, NoProxy, HttpProxy, HttpCachingProxy, FtpCachingProxy]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(QNetworkProxy.NoProxy).toBe(2);
    expect(QNetworkProxy.Capability.UdpTunnelingCapability).toBe(4);
  });

  test('default capabilities per type follow Qt’s table', () => {
    const all = C.ListeningCapability | C.TunnelingCapability | C.UdpTunnelingCapability | C.SctpTunnelingCapability | C.SctpListeningCapability;
    expect(new QNetworkProxy(DefaultProxy).capabilities()).toBe(all);
    expect(new QNetworkProxy(NoProxy).capabilities()).toBe(all);
    expect(socks().capabilities()).toBe(C.TunnelingCapability | C.ListeningCapability | C.UdpTunnelingCapability | C.HostNameLookupCapability);
    expect(http().capabilities()).toBe(C.TunnelingCapability | C.CachingCapability | C.HostNameLookupCapability);
    expect(new QNetworkProxy(HttpCachingProxy).capabilities()).toBe(C.CachingCapability | C.HostNameLookupCapability);
    expect(new QNetworkProxy(FtpCachingProxy).capabilities()).toBe(C.CachingCapability | C.HostNameLookupCapability);
    expect(http().isTransparentProxy()).toBe(true);
    expect(new QNetworkProxy(HttpCachingProxy).isTransparentProxy()).toBe(false);
  });

  test('setType() follows the new type’s capabilities unless they were set explicitly', () => {
    const p = new QNetworkProxy(HttpProxy);
    p.setType(Socks5Proxy);
    expect(p.capabilities() & C.UdpTunnelingCapability).toBeTruthy();
    const q = new QNetworkProxy(Socks5Proxy);
    q.setCapabilities(C.TunnelingCapability);
    q.setType(HttpProxy);
    expect(q.capabilities()).toBe(C.TunnelingCapability);
  });

  test('ports are validated', () => {
    expect(() => new QNetworkProxy(Socks5Proxy, 'h', 65536)).toThrow(RangeError);
    expect(() => socks().setPort(-1)).toThrow(RangeError);
  });
});

describe('QNetworkProxyQuery', () => {
  test('QueryType values are Qt 6’s', () => {
    expect(QNetworkProxyQuery.QueryType).toBe(ProxyQueryType);
    expect([
      ProxyQueryType.TcpSocket,
      ProxyQueryType.UdpSocket,
      ProxyQueryType.SctpSocket,
      ProxyQueryType.TcpServer,
      ProxyQueryType.UrlRequest,
      ProxyQueryType.SctpServer,
    ]).toEqual([0, 1, 2, 100, 101, 102]);
  });

  test('default query: TcpSocket, nothing known', () => {
    const q = new QNetworkProxyQuery();
    expect(q.queryType()).toBe(ProxyQueryType.TcpSocket);
    expect([q.peerHostName(), q.peerPort(), q.localPort(), q.protocolTag(), q.url()]).toEqual(['', -1, -1, '', '']);
  });

  test('host/port query', () => {
    const q = new QNetworkProxyQuery('Example.COM', 443, 'HTTPS');
    expect([q.peerHostName(), q.peerPort(), q.protocolTag(), q.queryType()]).toEqual(['example.com', 443, 'https', ProxyQueryType.TcpSocket]);
    expect(q.url()).toBe('https://example.com:443');
    expect(new QNetworkProxyQuery('::1', 53, '', ProxyQueryType.UdpSocket).queryType()).toBe(ProxyQueryType.UdpSocket);
    expect(new QNetworkProxyQuery('::1', 53, 'dns').url()).toBe('dns://[::1]:53');
  });

  test('bind-port query is a TcpServer query', () => {
    const q = new QNetworkProxyQuery(8080);
    expect([q.localPort(), q.queryType(), q.peerPort()]).toEqual([8080, ProxyQueryType.TcpServer, -1]);
  });

  test('URL query', () => {
    const q = new QNetworkProxyQuery(new URL('http://user@WWW.Example.org:8080/path?x=1'));
    expect([q.peerHostName(), q.peerPort(), q.protocolTag(), q.queryType()]).toEqual(['www.example.org', 8080, 'http', ProxyQueryType.UrlRequest]);
    expect(q.url()).toBe('http://www.example.org:8080/path?x=1');
    const v6 = new QNetworkProxyQuery(new URL('https://[2001:db8::1]/'));
    expect([v6.peerHostName(), v6.peerPort()]).toEqual(['2001:db8::1', -1]);
  });

  test('setters and validation', () => {
    const q = new QNetworkProxyQuery();
    q.setPeerHostName('h');
    q.setPeerPort(22);
    q.setProtocolTag('ssh');
    q.setQueryType(ProxyQueryType.SctpSocket);
    q.setLocalPort(1);
    expect([q.peerHostName(), q.peerPort(), q.protocolTag(), q.queryType(), q.localPort()]).toEqual(['h', 22, 'ssh', 2, 1]);
    expect(() => q.setPeerPort(70000)).toThrow(RangeError);
    expect(() => q.setPeerPort(1.5)).toThrow(RangeError);
    expect(() => new QNetworkProxyQuery({} as unknown as string, 1)).toThrow(TypeError);
    expect(q.equals(q)).toBe(true);
    expect(q.equals(new QNetworkProxyQuery())).toBe(false);
  });
});

describe('application proxy and factory (Qt: each replaces the other)', () => {
  test('nothing set: NoProxy', () => {
    expect(QNetworkProxy.applicationProxy().type()).toBe(NoProxy);
    expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['NoProxy::0']);
  });

  test('setApplicationProxy() keeps a copy', () => {
    const p = socks();
    QNetworkProxy.setApplicationProxy(p);
    p.setHostName('changed.later');
    expect(describeProxy(QNetworkProxy.applicationProxy())).toBe('Socks5Proxy:192.0.2.1:1080');
    QNetworkProxy.applicationProxy().setPort(1);
    expect(QNetworkProxy.applicationProxy().port()).toBe(1080);
  });

  test('an application proxy of type DefaultProxy means none', () => {
    QNetworkProxy.setApplicationProxy(new QNetworkProxy(DefaultProxy, 'ignored', 1));
    expect(QNetworkProxy.applicationProxy().type()).toBe(NoProxy);
  });

  test('setApplicationProxyFactory() replaces the application proxy', () => {
    QNetworkProxy.setApplicationProxy(socks());
    const f = new ListFactory(() => [http()]);
    QNetworkProxyFactory.setApplicationProxyFactory(f);
    expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['HttpProxy:192.0.2.2:3128']);
    expect(f.queries[0].peerHostName()).toBe('example.com');
    // The application proxy is gone: removing the factory leaves nothing.
    QNetworkProxyFactory.setApplicationProxyFactory(null);
    expect(QNetworkProxy.applicationProxy().type()).toBe(NoProxy);
  });

  test('setApplicationProxy() replaces the factory', () => {
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => [http()]));
    QNetworkProxy.setApplicationProxy(socks());
    expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['Socks5Proxy:192.0.2.1:1080']);
  });

  test('applicationProxy() is the factory’s answer to an empty query', () => {
    const f = new ListFactory(() => [socks('198.51.100.1')]);
    QNetworkProxyFactory.setApplicationProxyFactory(f);
    expect(describeProxy(QNetworkProxy.applicationProxy())).toBe('Socks5Proxy:198.51.100.1:1080');
    expect(f.queries[0].peerHostName()).toBe('');
  });

  test('an empty factory answer means NoProxy; a wrong one is a TypeError', () => {
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => []));
    expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['NoProxy::0']);
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => ['socks5://x'] as unknown as QNetworkProxy[]));
    expect(() => QNetworkProxyFactory.proxyForQuery(tcp('example.com'))).toThrow(TypeError);
    expect(() => QNetworkProxyFactory.setApplicationProxyFactory({} as QNetworkProxyFactory)).toThrow(TypeError);
  });

  test.each(['localhost', 'LOCALHOST', 'localhost.localdomain', '127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])(
    'the local destination %s never goes through the application proxy (Qt 6)',
    (host) => {
      QNetworkProxy.setApplicationProxy(socks());
      expect(list(QNetworkProxyFactory.proxyForQuery(tcp(host)))).toEqual(['NoProxy::0']);
    },
  );

  test('a name merely starting with "localhost" is not local', () => {
    QNetworkProxy.setApplicationProxy(socks());
    expect(QNetworkProxyFactory.proxyForQuery(tcp('localhostile.example'))[0].type()).toBe(Socks5Proxy);
  });
});

describe('QNetworkProxy.resolveForSocket: the socket’s order', () => {
  test('the socket’s own proxy wins unless it is DefaultProxy', () => {
    QNetworkProxy.setApplicationProxy(socks());
    const own = http('203.0.113.9', 8080);
    expect(QNetworkProxy.resolveForSocket(own, tcp('example.com'))).toBe(own);
  });

  test('an own proxy applies even to a loopback destination', () => {
    const own = socks('127.0.0.1', 11080);
    expect(QNetworkProxy.resolveForSocket(own, tcp('127.0.0.1'))).toBe(own);
  });

  test('NoProxy on the socket disables the application proxy', () => {
    QNetworkProxy.setApplicationProxy(socks());
    expect(QNetworkProxy.resolveForSocket(new QNetworkProxy(NoProxy), tcp('example.com')).type()).toBe(NoProxy);
  });

  test('DefaultProxy: the application proxy', () => {
    QNetworkProxy.setApplicationProxy(socks());
    expect(describeProxy(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), tcp('example.com')))).toBe(
      'Socks5Proxy:192.0.2.1:1080',
    );
  });

  test('DefaultProxy: the factory’s first usable answer, asked with the socket’s query', () => {
    const f = new ListFactory(() => [http(), socks()]);
    QNetworkProxyFactory.setApplicationProxyFactory(f);
    expect(describeProxy(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), tcp('example.com', 22)))).toBe(
      'HttpProxy:192.0.2.2:3128',
    );
    // UDP skips the HTTP proxy.
    expect(describeProxy(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), udp('example.com')))).toBe(
      'Socks5Proxy:192.0.2.1:1080',
    );
    expect(f.queries.map((q) => [q.peerHostName(), q.peerPort(), q.queryType()])).toEqual([
      ['example.com', 22, ProxyQueryType.TcpSocket],
      ['example.com', 53, ProxyQueryType.UdpSocket],
    ]);
  });

  test('nothing set: NoProxy', () => {
    expect(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), tcp('example.com')).type()).toBe(NoProxy);
  });

  test('no usable candidate: the first one comes back and says why', () => {
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => [new QNetworkProxy(HttpCachingProxy, 'c', 1), http()]));
    const chosen = QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), udp('example.com'));
    expect(chosen.type()).toBe(HttpCachingProxy);
    expect(isUsableForSocket(chosen, true)).toMatch(/^Operation on socket is not supported \(a caching proxy/);

    const own = new QNetworkProxy(FtpCachingProxy, 'ftp', 21);
    expect(QNetworkProxy.resolveForSocket(own, tcp('example.com'))).toBe(own);
    expect(isUsableForSocket(own, false)).toMatch(/caching proxy/);
  });

  test('a proxy without the needed capability is skipped, as Qt does', () => {
    const noTunnel = socks('198.51.100.7');
    noTunnel.setCapabilities(C.HostNameLookupCapability); // what Qt's generic factory makes of socks5h://
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => [noTunnel, socks()]));
    expect(describeProxy(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), tcp('example.com')))).toBe(
      'Socks5Proxy:192.0.2.1:1080',
    );
  });

  test('system configuration, when enabled, ends with NoProxy so a UDP socket can fall back to a direct path', () => {
    const saved = { http_proxy: process.env.http_proxy, all_proxy: process.env.all_proxy, socks_proxy: process.env.socks_proxy };
    try {
      delete process.env.all_proxy;
      delete process.env.socks_proxy;
      process.env.http_proxy = 'http://192.0.2.30:3128';
      QNetworkProxyFactory.setUseSystemConfiguration(true);
      expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['HttpProxy:192.0.2.30:3128', 'NoProxy::0']);
      expect(QNetworkProxy.resolveForSocket(new QNetworkProxy(DefaultProxy), udp('example.com')).type()).toBe(NoProxy);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('argument checks', () => {
    expect(() => QNetworkProxy.resolveForSocket({} as QNetworkProxy, tcp('x'))).toThrow(TypeError);
    expect(() => QNetworkProxy.resolveForSocket(socks(), {} as QNetworkProxyQuery)).toThrow(TypeError);
  });
});

describe('isUsableForSocket', () => {
  test.each([
    ['NoProxy', new QNetworkProxy(NoProxy), false, null],
    ['NoProxy', new QNetworkProxy(NoProxy), true, null],
    ['Socks5Proxy', socks(), false, null],
    ['Socks5Proxy', socks(), true, null],
    ['HttpProxy', http(), false, null],
    ['HttpProxy', http(), true, /cannot carry UDP datagrams: use a SOCKS5 proxy/],
    ['HttpCachingProxy', new QNetworkProxy(HttpCachingProxy), false, /caching proxy/],
    ['FtpCachingProxy', new QNetworkProxy(FtpCachingProxy), true, /caching proxy/],
    ['DefaultProxy', new QNetworkProxy(DefaultProxy), false, /DefaultProxy/],
  ] as Array<[string, QNetworkProxy, boolean, RegExp | null]>)('%s, udp=%s', (_name, proxy, isUdp, problem) => {
    const answer = isUsableForSocket(proxy, isUdp);
    if (problem === null) expect(answer).toBeNull();
    else expect(answer).toMatch(problem);
    if (answer !== null) expect(answer.startsWith('Operation on socket is not supported')).toBe(true);
  });

  test('capabilities decide for SOCKS5', () => {
    const p = socks();
    p.setCapabilities(C.TunnelingCapability);
    expect(isUsableForSocket(p, false)).toBeNull();
    expect(isUsableForSocket(p, true)).toMatch(/UdpTunnelingCapability/);
    p.setCapabilities(C.UdpTunnelingCapability);
    expect(isUsableForSocket(p, false)).toMatch(/TunnelingCapability/);
  });
});

describe('proxyFromUrl (environment URLs)', () => {
  const parse = (url: string): string | null => {
    const p = proxyFromUrl(url);
    return p === null ? null : `${describeProxy(p)}:${p.user()}:${p.password()}:${p.capabilities() & C.HostNameLookupCapability ? 'remote' : 'local'}`;
  };

  test.each([
    ['socks5://127.0.0.1:1080', 'Socks5Proxy:127.0.0.1:1080:::local'],
    ['socks5h://proxy.lan', `Socks5Proxy:proxy.lan:${DEFAULT_SOCKS_PORT}:::remote`],
    ['socks://proxy.lan:9050/', 'Socks5Proxy:proxy.lan:9050:::local'],
    ['SOCKS5H://Proxy.LAN:1', 'Socks5Proxy:proxy.lan:1:::remote'],
    ['socks5://user:p%40ss%3Aword@10.0.0.1:1081', 'Socks5Proxy:10.0.0.1:1081:user:p@ss:word:local'],
    ['socks5h://us%20er@h', 'Socks5Proxy:h:1080:us er::remote'],
    ['http://proxy:3128', 'HttpProxy:proxy:3128:::remote'],
    ['http://proxy', `HttpProxy:proxy:${DEFAULT_HTTP_PROXY_PORT}:::remote`],
    ['proxy.corp:3128', 'HttpProxy:proxy.corp:3128:::remote'],
    ['proxy.corp', 'HttpProxy:proxy.corp:8080:::remote'],
    ['http://[::1]:3128/', 'HttpProxy:::1:3128:::remote'],
    ['http://u:p@[2001:db8::5]', 'HttpProxy:2001:db8::5:8080:u:p:remote'],
    ['http://user:bad%zzescape@h:1', 'HttpProxy:h:1:user:bad%zzescape:remote'],
    ['  http://h:1  ', 'HttpProxy:h:1:::remote'],
  ])('%s', (url, expected) => {
    expect(parse(url)).toBe(expected);
  });

  test.each([
    '',
    '   ',
    'https://proxy:443',
    'socks4://h:1080',
    'socks4a://h:1080',
    'ftp://h',
    'http://',
    'http://:3128',
    'http://h:0',
    'http://h:65536',
    'http://h:port',
    'http://::1:3128',
    'http://[::1',
    'http://[not-v6]:1',
    'http://[::1]x',
  ])('%j is not a usable proxy', (url) => {
    expect(proxyFromUrl(url)).toBeNull();
  });
});

describe('no_proxy matching', () => {
  test.each<[string, string, number, boolean]>([
    ['*', 'anything.example', 80, true],
    ['example.com', 'example.com', 80, true],
    ['example.com', 'www.example.com', 80, true],
    ['example.com', 'a.b.example.com', 80, true],
    ['example.com', 'notexample.com', 80, false],
    ['example.com', 'example.com.evil.net', 80, false],
    ['.example.com', 'www.example.com', 80, true],
    ['.example.com', 'example.com', 80, true],
    ['*.example.com', 'www.example.com', 80, true],
    ['EXAMPLE.com', 'Www.Example.COM', 80, true],
    ['example.com.', 'www.example.com', 80, true],
    ['example.com', 'www.example.com.', 80, true],
    ['intranet', 'intranet', 80, true],
    ['intranet', 'my.intranet', 80, true],
    ['other.com, example.com', 'example.com', 80, true],
    ['other.com example.com', 'example.com', 80, true],
    ['other.com,,  ,', 'example.com', 80, false],
    ['10.1.2.3', '10.1.2.3', 80, true],
    ['10.1.2.3', '10.1.2.4', 80, false],
    ['10.1.2.3', '::ffff:10.1.2.3', 80, true],
    ['::1', '::1', 80, true],
    ['::1', '[::1]', 80, true],
    ['[::1]', '::1', 80, true],
    ['2001:db8::1', '2001:DB8:0::1', 80, true],
    ['10.0.0.0/8', '10.200.3.4', 80, true],
    ['10.0.0.0/8', '11.0.0.1', 80, false],
    ['10.0.0.0/8', '::ffff:10.9.9.9', 80, true],
    ['192.168.0.0/255.255.0.0', '192.168.44.1', 80, true],
    ['172.16.0.0/12', '172.31.255.255', 80, true],
    ['172.16.0.0/12', '172.32.0.1', 80, false],
    ['::1/128', '::1', 80, true],
    ['fe80::/10', 'fe80::1234', 80, true],
    ['fe80::/10', 'fec0::1', 80, false],
    ['10.0.0.0/8', 'ten.example', 80, false], // never resolved
    ['10.0.0.0/33', '10.0.0.1', 80, false], // invalid CIDR ignored
    ['example.com', '10.0.0.1', 80, false],
    ['1.2.3', '0.1.2.3', 80, false], // a partial address is not a domain suffix of an IP
    ['example.com:8080', 'example.com', 8080, true],
    ['example.com:8080', 'example.com', 80, false],
    ['example.com:8080', 'example.com', -1, false],
    ['.example.com:443', 'api.example.com', 443, true],
    ['10.0.0.1:22', '10.0.0.1', 22, true],
    ['10.0.0.1:22', '10.0.0.1', 23, false],
    ['[::1]:8080', '::1', 8080, true],
    ['[::1]:8080', '::1', 80, false],
    ['example.com:notaport', 'example.com', 80, false],
    ['', 'example.com', 80, false],
    ['*', '', 80, false],
  ])('%j vs %s:%s → %s', (noProxy, host, port, expected) => {
    expect(matchesNoProxy(noProxy, host, port)).toBe(expected);
  });
});

describe('systemProxyForQuery (injected environment)', () => {
  const sys = (env: ProxyEnvironment, query: QNetworkProxyQuery = tcp('example.com')): string[] =>
    list(QNetworkProxyFactory.systemProxyForQuery(query, env));

  test('nothing in the environment: NoProxy', () => {
    expect(sys({})).toEqual(['NoProxy::0']);
    expect(sys({ http_proxy: '', HTTP_PROXY: '  ' })).toEqual(['NoProxy::0']);
  });

  test('a plain socket prefers socks_proxy, all_proxy, https_proxy, then http_proxy', () => {
    const env = {
      http_proxy: 'http://192.0.2.4:3128',
      https_proxy: 'http://192.0.2.3:3128',
      all_proxy: 'socks5h://192.0.2.2:1080',
      socks_proxy: 'socks5://192.0.2.1:1080',
    };
    expect(sys(env)).toEqual(['Socks5Proxy:192.0.2.1:1080', 'Socks5Proxy:192.0.2.2:1080', 'HttpProxy:192.0.2.3:3128', 'HttpProxy:192.0.2.4:3128']);
    expect(sys({ http_proxy: env.http_proxy, https_proxy: env.https_proxy })).toEqual(['HttpProxy:192.0.2.3:3128', 'HttpProxy:192.0.2.4:3128']);
  });

  test('UDP and server queries skip HTTP proxies', () => {
    const env = { http_proxy: 'http://192.0.2.4:3128', all_proxy: 'socks5://192.0.2.2:1080' };
    expect(sys(env, udp('example.com'))).toEqual(['Socks5Proxy:192.0.2.2:1080']);
    expect(sys({ http_proxy: env.http_proxy }, udp('example.com'))).toEqual(['NoProxy::0']);
    expect(sys(env, new QNetworkProxyQuery(8000))).toEqual(['Socks5Proxy:192.0.2.2:1080']);
  });

  test('protocol tags pick their variable first', () => {
    const env = { http_proxy: 'http://192.0.2.4:1', https_proxy: 'http://192.0.2.3:1', all_proxy: 'socks5://192.0.2.2:1', socks_proxy: 'socks5://192.0.2.1:1' };
    expect(sys(env, new QNetworkProxyQuery('example.com', 80, 'http'))).toEqual(['HttpProxy:192.0.2.4:1', 'Socks5Proxy:192.0.2.2:1']);
    expect(sys(env, new QNetworkProxyQuery('example.com', 443, 'https'))).toEqual([
      'HttpProxy:192.0.2.3:1',
      'Socks5Proxy:192.0.2.2:1',
      'HttpProxy:192.0.2.4:1',
    ]);
    expect(sys(env, new QNetworkProxyQuery(new URL('http://example.com/')))).toEqual(['HttpProxy:192.0.2.4:1', 'Socks5Proxy:192.0.2.2:1']);
  });

  test('uppercase spellings are read when lowercase ones are unset; lowercase wins', () => {
    expect(sys({ ALL_PROXY: 'socks5://192.0.2.2:1080', HTTPS_PROXY: 'http://192.0.2.3:1', SOCKS_PROXY: 'socks5://192.0.2.1:1' })).toEqual([
      'Socks5Proxy:192.0.2.1:1',
      'Socks5Proxy:192.0.2.2:1080',
      'HttpProxy:192.0.2.3:1',
    ]);
    expect(sys({ all_proxy: 'socks5://192.0.2.5:1', ALL_PROXY: 'socks5://192.0.2.6:1' })).toEqual(['Socks5Proxy:192.0.2.5:1']);
    expect(sys({ HTTP_PROXY: 'http://192.0.2.7:1' })).toEqual(['HttpProxy:192.0.2.7:1']);
  });

  test('HTTP_PROXY is ignored in a CGI program (httpoxy); http_proxy is not', () => {
    expect(sys({ HTTP_PROXY: 'http://192.0.2.7:1', REQUEST_METHOD: 'GET' })).toEqual(['NoProxy::0']);
    expect(sys({ http_proxy: 'http://192.0.2.8:1', REQUEST_METHOD: 'GET' })).toEqual(['HttpProxy:192.0.2.8:1']);
  });

  test('credentials come through percent-decoded', () => {
    const [p] = QNetworkProxyFactory.systemProxyForQuery(tcp('example.com'), { all_proxy: 'socks5h://qs%40user:p%3Ass@127.0.0.1:11081' });
    expect([p.type(), p.hostName(), p.port(), p.user(), p.password()]).toEqual([Socks5Proxy, '127.0.0.1', 11081, 'qs@user', 'p:ss']);
    expect(p.capabilities() & C.HostNameLookupCapability).toBeTruthy();
  });

  test('unsupported URLs are skipped, not fatal', () => {
    expect(sys({ socks_proxy: 'socks4://192.0.2.1:1080', all_proxy: 'https://192.0.2.2', http_proxy: 'http://192.0.2.4:3128' })).toEqual([
      'HttpProxy:192.0.2.4:3128',
    ]);
  });

  test('no_proxy (or NO_PROXY) turns the proxy off for matching destinations', () => {
    const env = { all_proxy: 'socks5://192.0.2.2:1080', no_proxy: 'internal.example, 10.0.0.0/8, .corp, db:5432' };
    expect(sys(env, tcp('svc.internal.example'))).toEqual(['NoProxy::0']);
    expect(sys(env, tcp('10.20.30.40'))).toEqual(['NoProxy::0']);
    expect(sys(env, tcp('build.corp'))).toEqual(['NoProxy::0']);
    expect(sys(env, tcp('db', 5432))).toEqual(['NoProxy::0']);
    expect(sys(env, tcp('db', 5433))).toEqual(['Socks5Proxy:192.0.2.2:1080']);
    expect(sys(env, tcp('example.com'))).toEqual(['Socks5Proxy:192.0.2.2:1080']);
    expect(sys({ all_proxy: env.all_proxy, NO_PROXY: '*' })).toEqual(['NoProxy::0']);
    // A set lowercase no_proxy wins over NO_PROXY, even when empty.
    expect(sys({ all_proxy: env.all_proxy, no_proxy: '', NO_PROXY: '*' })).toEqual(['Socks5Proxy:192.0.2.2:1080']);
  });

  test('reads process.env by default, and only when asked', () => {
    const saved = process.env.all_proxy;
    try {
      process.env.all_proxy = 'socks5://192.0.2.9:1080';
      expect(list(QNetworkProxyFactory.systemProxyForQuery(tcp('example.com')))).toContain('Socks5Proxy:192.0.2.9:1080');
      // Not opted in: the environment is ignored.
      expect(QNetworkProxyFactory.usesSystemConfiguration()).toBe(false);
      expect(list(QNetworkProxyFactory.proxyForQuery(tcp('example.com')))).toEqual(['NoProxy::0']);
    } finally {
      if (saved === undefined) delete process.env.all_proxy;
      else process.env.all_proxy = saved;
    }
  });
});

describe('setUseSystemConfiguration', () => {
  test('turning it on clears the application proxy and factory; setting either turns it off', () => {
    QNetworkProxy.setApplicationProxy(socks());
    QNetworkProxyFactory.setUseSystemConfiguration(true);
    expect(QNetworkProxyFactory.usesSystemConfiguration()).toBe(true);
    QNetworkProxyFactory.setUseSystemConfiguration(false);
    expect(QNetworkProxy.applicationProxy().type()).toBe(NoProxy);

    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => [http()]));
    QNetworkProxyFactory.setUseSystemConfiguration(true);
    QNetworkProxyFactory.setUseSystemConfiguration(false);
    expect(QNetworkProxy.applicationProxy().type()).toBe(NoProxy);

    QNetworkProxyFactory.setUseSystemConfiguration(true);
    QNetworkProxy.setApplicationProxy(socks());
    expect(QNetworkProxyFactory.usesSystemConfiguration()).toBe(false);
    QNetworkProxyFactory.setUseSystemConfiguration(true);
    QNetworkProxyFactory.setApplicationProxyFactory(new ListFactory(() => [http()]));
    expect(QNetworkProxyFactory.usesSystemConfiguration()).toBe(false);
  });
});
