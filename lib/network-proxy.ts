// QNetworkProxy, QNetworkProxyQuery, QNetworkProxyFactory and QAuthenticator:
// which proxy a socket uses, and with which credentials. The protocols
// themselves (SOCKS5, HTTP CONNECT) live in lib/proxy/. Everything here is
// pure: no sockets, no DNS.
import { NetworkLayerProtocol, ProxyCapability, ProxyType } from './enums';
import { ConversionMode, QHostAddress } from './host-address';

/** Credentials handed to a proxy (Qt's QAuthenticator, user and password only). */
export class QAuthenticator {
  #user = '';
  #password = '';
  user(): string {
    return this.#user;
  }
  setUser(user: string): void {
    this.#user = String(user);
  }
  password(): string {
    return this.#password;
  }
  setPassword(password: string): void {
    this.#password = String(password);
  }
  isNull(): boolean {
    return this.#user === '' && this.#password === '';
  }
}

// Qt's defaults per type. NoProxy and DefaultProxy "can do everything", so
// that capability checks during resolution never skip them.
function defaultCapabilities(type: ProxyType): number {
  switch (type) {
    case ProxyType.DefaultProxy:
    case ProxyType.NoProxy:
      return (
        ProxyCapability.ListeningCapability |
        ProxyCapability.TunnelingCapability |
        ProxyCapability.UdpTunnelingCapability |
        ProxyCapability.SctpTunnelingCapability |
        ProxyCapability.SctpListeningCapability
      );
    case ProxyType.Socks5Proxy:
      return (
        ProxyCapability.TunnelingCapability |
        ProxyCapability.ListeningCapability |
        ProxyCapability.UdpTunnelingCapability |
        ProxyCapability.HostNameLookupCapability
      );
    case ProxyType.HttpProxy:
      return ProxyCapability.TunnelingCapability | ProxyCapability.CachingCapability | ProxyCapability.HostNameLookupCapability;
    case ProxyType.HttpCachingProxy:
    case ProxyType.FtpCachingProxy:
      return ProxyCapability.CachingCapability | ProxyCapability.HostNameLookupCapability;
    default:
      return defaultCapabilities(ProxyType.DefaultProxy);
  }
}

function checkPort(port: number, min = 0): void {
  if (!Number.isInteger(port) || port < min || port > 65535) throw new RangeError(`port out of range: ${String(port)}`);
}

/** QNetworkProxyQuery::QueryType (Qt 6 values). */
export enum ProxyQueryType {
  TcpSocket = 0,
  UdpSocket = 1,
  SctpSocket = 2,
  TcpServer = 100,
  UrlRequest = 101,
  SctpServer = 102,
}

// The application-wide settings. As in Qt, an application proxy, an
// application factory and the system configuration exclude each other:
// setting one clears the others.
const settings = {
  application: null as QNetworkProxy | null,
  factory: null as QNetworkProxyFactory | null,
  useSystem: false,
};

/**
 * A proxy description (Qt's QNetworkProxy): type, host, port, credentials
 * and capabilities. A value type: the application proxy is stored and
 * returned as a copy.
 */
export class QNetworkProxy {
  static readonly ProxyType = ProxyType;
  static readonly Capability = ProxyCapability;
  static readonly DefaultProxy = ProxyType.DefaultProxy;
  static readonly Socks5Proxy = ProxyType.Socks5Proxy;
  static readonly NoProxy = ProxyType.NoProxy;
  static readonly HttpProxy = ProxyType.HttpProxy;
  static readonly HttpCachingProxy = ProxyType.HttpCachingProxy;
  static readonly FtpCachingProxy = ProxyType.FtpCachingProxy;

  #type: ProxyType;
  #host: string;
  #port: number;
  #user: string;
  #password: string;
  #capabilities: number;
  #capabilitiesSet = false;

  constructor(type: ProxyType = ProxyType.DefaultProxy, hostName = '', port = 0, user = '', password = '') {
    checkPort(port);
    this.#type = type;
    this.#host = hostName;
    this.#port = port;
    this.#user = user;
    this.#password = password;
    this.#capabilities = defaultCapabilities(type);
  }

  /**
   * The proxy a socket with DefaultProxy would use for a query with no
   * destination: Qt's `proxyForQuery(QNetworkProxyQuery()).first()`. That is
   * the proxy set with {@link QNetworkProxy.setApplicationProxy}, else the
   * application factory's first answer, else the system configuration's
   * when enabled, else NoProxy.
   */
  static applicationProxy(): QNetworkProxy {
    return QNetworkProxyFactory.proxyForQuery(new QNetworkProxyQuery())[0];
  }

  /**
   * Sets the proxy that sockets with DefaultProxy use (a copy is kept). As in
   * Qt, this removes the application proxy factory and turns the system
   * configuration off. Setting DefaultProxy means "no application proxy":
   * sockets then connect directly.
   */
  static setApplicationProxy(proxy: QNetworkProxy): void {
    if (!(proxy instanceof QNetworkProxy)) throw new TypeError('proxy must be a QNetworkProxy');
    settings.application = proxy.#copy();
    settings.factory = null;
    settings.useSystem = false;
  }

  /**
   * The proxy a socket uses: its own proxy (`own`) unless that is
   * DefaultProxy; else what {@link QNetworkProxyFactory.proxyForQuery} gives
   * for `query` (the application proxy, or the application factory's answer,
   * or the system configuration, or NoProxy; loopback destinations always
   * get NoProxy there). As in Qt's QAbstractSocket, the first candidate that
   * can carry the query's kind of socket wins (TunnelingCapability for TCP,
   * UdpTunnelingCapability for UDP, ListeningCapability for a server), so a
   * NoProxy result means "connect directly".
   *
   * When no candidate is usable, the first one is returned, so that
   * {@link isUsableForSocket} on the result says why the socket must fail
   * (UnsupportedSocketOperationError in Qt).
   *
   * Differs from Qt: Qt's QAbstractSocketPrivate::resolveProxy is private;
   * this is the same order made public for qsocket's sockets and servers.
   */
  static resolveForSocket(own: QNetworkProxy, query: QNetworkProxyQuery): QNetworkProxy {
    if (!(own instanceof QNetworkProxy)) throw new TypeError('own must be a QNetworkProxy');
    if (!(query instanceof QNetworkProxyQuery)) throw new TypeError('query must be a QNetworkProxyQuery');
    const candidates = own.type() !== ProxyType.DefaultProxy ? [own] : QNetworkProxyFactory.proxyForQuery(query);
    for (const candidate of candidates) {
      if (proxyProblemFor(candidate, query.queryType()) === null) return candidate;
    }
    return candidates[0] ?? new QNetworkProxy(ProxyType.DefaultProxy);
  }

  type(): ProxyType {
    return this.#type;
  }
  /** Sets the type; the capabilities follow the new type's defaults unless set with setCapabilities(), as in Qt. */
  setType(type: ProxyType): void {
    this.#type = type;
    if (!this.#capabilitiesSet) this.#capabilities = defaultCapabilities(type);
  }
  hostName(): string {
    return this.#host;
  }
  setHostName(host: string): void {
    this.#host = host;
  }
  port(): number {
    return this.#port;
  }
  setPort(port: number): void {
    checkPort(port);
    this.#port = port;
  }
  user(): string {
    return this.#user;
  }
  setUser(user: string): void {
    this.#user = user;
  }
  password(): string {
    return this.#password;
  }
  setPassword(password: string): void {
    this.#password = password;
  }
  /** The capability flags ({@link ProxyCapability}), by default those of the type (see Qt's table). */
  capabilities(): number {
    return this.#capabilities;
  }
  setCapabilities(caps: number): void {
    this.#capabilities = caps;
    this.#capabilitiesSet = true;
  }
  isTransparentProxy(): boolean {
    return (this.#capabilities & ProxyCapability.TunnelingCapability) !== 0;
  }
  isCachingProxy(): boolean {
    return (this.#capabilities & ProxyCapability.CachingCapability) !== 0;
  }
  equals(other: QNetworkProxy): boolean {
    return (
      this.#type === other.#type &&
      this.#host === other.#host &&
      this.#port === other.#port &&
      this.#user === other.#user &&
      this.#password === other.#password &&
      this.#capabilities === other.#capabilities
    );
  }

  /** A copy (QNetworkProxy is a value type in Qt). @internal */
  _clone(): QNetworkProxy {
    return this.#copy();
  }

  #copy(): QNetworkProxy {
    const copy = new QNetworkProxy(this.#type, this.#host, this.#port, this.#user, this.#password);
    copy.#capabilities = this.#capabilities;
    copy.#capabilitiesSet = this.#capabilitiesSet;
    return copy;
  }
}

const NOT_SUPPORTED = 'Operation on socket is not supported';

function isServerQuery(type: ProxyQueryType): boolean {
  return type === ProxyQueryType.TcpServer || type === ProxyQueryType.SctpServer;
}

function proxyProblemFor(proxy: QNetworkProxy, queryType: ProxyQueryType): string | null {
  const caps = proxy.capabilities();
  const udp = queryType === ProxyQueryType.UdpSocket;
  switch (proxy.type()) {
    case ProxyType.NoProxy:
      return null;
    case ProxyType.DefaultProxy:
      return `${NOT_SUPPORTED} (DefaultProxy names no proxy to connect through)`;
    case ProxyType.HttpCachingProxy:
    case ProxyType.FtpCachingProxy:
      return `${NOT_SUPPORTED} (a caching proxy (HttpCachingProxy, FtpCachingProxy) cannot carry a socket)`;
    case ProxyType.HttpProxy:
      if (udp) return `${NOT_SUPPORTED} (an HTTP proxy cannot carry UDP datagrams: use a SOCKS5 proxy)`;
      break;
    case ProxyType.Socks5Proxy:
      break;
    default:
      return `${NOT_SUPPORTED} (unknown proxy type ${String(proxy.type())})`;
  }
  if (udp) {
    return caps & ProxyCapability.UdpTunnelingCapability ? null : `${NOT_SUPPORTED} (the proxy lacks UdpTunnelingCapability)`;
  }
  if (isServerQuery(queryType)) {
    return caps & ProxyCapability.ListeningCapability ? null : `${NOT_SUPPORTED} (the proxy lacks ListeningCapability)`;
  }
  return caps & ProxyCapability.TunnelingCapability ? null : `${NOT_SUPPORTED} (the proxy lacks TunnelingCapability)`;
}

/**
 * Why `proxy` cannot carry a socket — a UDP socket when `udp`, else a TCP
 * client — or null when it can. NoProxy is always usable. Caching proxies
 * (HttpCachingProxy, FtpCachingProxy) are refused, as in Qt; UDP needs a
 * SOCKS5 proxy with UdpTunnelingCapability; TCP needs TunnelingCapability.
 * Messages start with Qt's "Operation on socket is not supported" (the
 * error is UnsupportedSocketOperationError) and say why in parentheses.
 */
export function isUsableForSocket(proxy: QNetworkProxy, udp: boolean): string | null {
  if (!(proxy instanceof QNetworkProxy)) throw new TypeError('proxy must be a QNetworkProxy');
  return proxyProblemFor(proxy, udp ? ProxyQueryType.UdpSocket : ProxyQueryType.TcpSocket);
}

/**
 * What a proxy is wanted for (Qt's QNetworkProxyQuery): the peer's host name
 * and port, a protocol tag ("http", "ftp", ...), the local port of a server,
 * and the kind of socket.
 *
 * Differs from Qt: the URL overload takes a WHATWG `URL` (a string is a host
 * name), and url() returns a string. Host names and tags are lowercased, as
 * QUrl does.
 */
export class QNetworkProxyQuery {
  static readonly QueryType = ProxyQueryType;
  static readonly TcpSocket = ProxyQueryType.TcpSocket;
  static readonly UdpSocket = ProxyQueryType.UdpSocket;
  static readonly SctpSocket = ProxyQueryType.SctpSocket;
  static readonly TcpServer = ProxyQueryType.TcpServer;
  static readonly UrlRequest = ProxyQueryType.UrlRequest;
  static readonly SctpServer = ProxyQueryType.SctpServer;

  #type: ProxyQueryType = ProxyQueryType.TcpSocket;
  #host = '';
  #port = -1;
  #tag = '';
  #localPort = -1;
  #path = '';

  /** An empty TcpSocket query. */
  constructor();
  /** A query for a URL request (type UrlRequest unless given). */
  constructor(requestUrl: URL, queryType?: ProxyQueryType);
  /** A query for a connection to `hostname`:`port` (type TcpSocket unless given). */
  constructor(hostname: string, port: number, protocolTag?: string, queryType?: ProxyQueryType);
  /** A query for a server listening on `bindPort` (type TcpServer unless given). */
  constructor(bindPort: number, protocolTag?: string, queryType?: ProxyQueryType);
  constructor(a?: URL | string | number, b?: ProxyQueryType | number | string, c?: string | ProxyQueryType, d?: ProxyQueryType) {
    if (a === undefined) return;
    if (a instanceof URL) {
      this.setUrl(a);
      this.#type = (b as ProxyQueryType | undefined) ?? ProxyQueryType.UrlRequest;
    } else if (typeof a === 'string') {
      this.setPeerHostName(a);
      this.setPeerPort(b as number);
      this.setProtocolTag((c as string | undefined) ?? '');
      this.#type = d ?? ProxyQueryType.TcpSocket;
    } else if (typeof a === 'number') {
      this.setLocalPort(a);
      this.setProtocolTag((b as string | undefined) ?? '');
      this.#type = (c as ProxyQueryType | undefined) ?? ProxyQueryType.TcpServer;
    } else {
      throw new TypeError('QNetworkProxyQuery: expected a URL, a host name and port, or a bind port');
    }
  }

  queryType(): ProxyQueryType {
    return this.#type;
  }
  setQueryType(type: ProxyQueryType): void {
    this.#type = type;
  }
  /** The peer's host name (or address text), '' if none. */
  peerHostName(): string {
    return this.#host;
  }
  setPeerHostName(hostname: string): void {
    if (typeof hostname !== 'string') throw new TypeError('hostname must be a string');
    this.#host = hostname.toLowerCase();
  }
  /** The peer's port, or -1 when not known. */
  peerPort(): number {
    return this.#port;
  }
  setPeerPort(port: number): void {
    checkPort(port, -1);
    this.#port = port;
  }
  /** The local port a server wants to listen on, or -1. */
  localPort(): number {
    return this.#localPort;
  }
  setLocalPort(port: number): void {
    checkPort(port, -1);
    this.#localPort = port;
  }
  /** The protocol tag ("http", "ftp", ...), '' if none. */
  protocolTag(): string {
    return this.#tag;
  }
  setProtocolTag(tag: string): void {
    if (typeof tag !== 'string') throw new TypeError('protocolTag must be a string');
    this.#tag = tag.toLowerCase();
  }
  /** The URL of the query, made of tag, host, port (and the path of a URL request); '' when empty. */
  url(): string {
    if (this.#tag === '' && this.#host === '') return '';
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `${this.#tag}://${host}${this.#port >= 0 ? `:${this.#port}` : ''}${this.#path}`;
  }
  /** Sets tag, host and port from `url` (a URL or a string parsed as one). */
  setUrl(url: URL | string): void {
    const parsed = url instanceof URL ? url : new URL(String(url));
    this.#tag = parsed.protocol.replace(/:$/, '').toLowerCase();
    this.#host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    this.#port = parsed.port === '' ? -1 : Number(parsed.port);
    this.#path = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  }
  equals(other: QNetworkProxyQuery): boolean {
    return (
      other instanceof QNetworkProxyQuery &&
      this.#type === other.#type &&
      this.#host === other.#host &&
      this.#port === other.#port &&
      this.#tag === other.#tag &&
      this.#localPort === other.#localPort &&
      this.#path === other.#path
    );
  }
}

/** Environment variables as `process.env` holds them. */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** Qt's default ports for proxies named in the environment (qnetworkproxy_generic.cpp). */
export const DEFAULT_SOCKS_PORT = 1080;
export const DEFAULT_HTTP_PROXY_PORT = 8080;

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The proxy a URL from the environment names, or null when it names none
 * that qsocket can use. Accepted: `socks5h://` (the proxy resolves names:
 * HostNameLookupCapability), `socks5://` and `socks://` (names are resolved
 * locally: no HostNameLookupCapability), `http://` and a URL without a scheme
 * (HttpProxy). `https://` (TLS to the proxy), `socks4://`, `socks4a://` and
 * anything else are not supported and give null. Default ports: 1080 for
 * SOCKS, 8080 for HTTP (Qt's). User and password are percent-decoded.
 * @internal
 */
export function proxyFromUrl(text: string): QNetworkProxy | null {
  if (typeof text !== 'string') return null;
  let rest = text.trim();
  if (rest === '') return null;
  let scheme = 'http';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (m !== null) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let type: ProxyType;
  let port: number;
  let lookup = true;
  switch (scheme) {
    case 'http':
      type = ProxyType.HttpProxy;
      port = DEFAULT_HTTP_PROXY_PORT;
      break;
    case 'socks5h':
      type = ProxyType.Socks5Proxy;
      port = DEFAULT_SOCKS_PORT;
      break;
    case 'socks5':
    case 'socks':
      type = ProxyType.Socks5Proxy;
      port = DEFAULT_SOCKS_PORT;
      lookup = false;
      break;
    default:
      return null;
  }
  const authority = rest.split(/[/?#]/, 1)[0];
  const at = authority.lastIndexOf('@');
  let user = '';
  let password = '';
  let hostPort = authority;
  if (at >= 0) {
    const info = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    const colon = info.indexOf(':');
    user = decodeComponent(colon < 0 ? info : info.slice(0, colon));
    password = colon < 0 ? '' : decodeComponent(info.slice(colon + 1));
  }
  let host: string;
  let portText = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return null;
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return null;
      portText = after.slice(1);
    }
    if (new QHostAddress(host).isNull()) return null;
  } else {
    const colon = hostPort.indexOf(':');
    if (colon >= 0 && hostPort.indexOf(':', colon + 1) >= 0) return null; // IPv6 without brackets
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? '' : hostPort.slice(colon + 1);
  }
  host = decodeComponent(host).toLowerCase();
  if (host === '' || /[\s/@]/.test(host)) return null;
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  const proxy = new QNetworkProxy(type, host, port, user, password);
  if (!lookup) proxy.setCapabilities(proxy.capabilities() & ~ProxyCapability.HostNameLookupCapability);
  return proxy;
}

function parseEntryPort(text: string): number {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : -2;
}

/** The IPv4 form of a v4-mapped IPv6 address, else null. */
function mappedIPv4(address: QHostAddress): QHostAddress | null {
  if (address.protocol() !== NetworkLayerProtocol.IPv6Protocol) return null;
  const bytes = address.toIPv6Address();
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return new QHostAddress(bytes.subarray(12, 16));
}

/**
 * Whether a `no_proxy` list matches the destination `host`:`port` (port -1
 * when unknown). Entries are separated by commas or white space and compared
 * case-insensitively:
 * - `*` matches everything;
 * - `example.com`, `.example.com` and `*.example.com` all match
 *   example.com and every name under it (never "notexample.com"); a trailing
 *   dot is ignored on both sides;
 * - an IP literal (`10.1.2.3`, `::1`, `[::1]`) matches that address (an
 *   IPv4 entry also matches its v4-mapped IPv6 form);
 * - a CIDR block (`10.0.0.0/8`, `192.168.0.0/255.255.0.0`, `fe80::/10`)
 *   matches addresses inside it (QHostAddress.isInSubnet);
 * - any entry with `:port` (`example.com:8080`, `[::1]:443`,
 *   `10.0.0.1:22`) matches only that port.
 *
 * Names are never resolved: a CIDR or address entry only matches a
 * destination given as an IP literal, and a name entry only a name.
 * @internal
 */
export function matchesNoProxy(noProxy: string, host: string, port: number): boolean {
  if (typeof noProxy !== 'string' || typeof host !== 'string') return false;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '') return false;
  const parsed = new QHostAddress(h);
  const hostAddress = parsed.isNull() ? null : parsed;
  const hostIPv4 = hostAddress ? mappedIPv4(hostAddress) : null;

  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort = -1;
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']');
      if (close < 0) continue;
      const after = entry.slice(close + 1);
      if (after !== '') {
        if (!after.startsWith(':')) continue;
        entryPort = parseEntryPort(after.slice(1));
        if (entryPort < 0) continue;
      }
      entry = entry.slice(1, close);
    } else {
      const colon = entry.indexOf(':');
      if (colon >= 0 && entry.indexOf(':', colon + 1) < 0) {
        entryPort = parseEntryPort(entry.slice(colon + 1));
        if (entryPort < 0) continue;
        entry = entry.slice(0, colon);
      }
    }
    if (entryPort >= 0 && entryPort !== port) continue;

    if (entry.includes('/')) {
      if (hostAddress === null) continue;
      const subnet = QHostAddress.parseSubnet(entry);
      if (subnet[1] < 0) continue;
      if (hostAddress.isInSubnet(subnet) || (hostIPv4 !== null && hostIPv4.isInSubnet(subnet))) return true;
      continue;
    }
    const entryAddress = new QHostAddress(entry);
    if (!entryAddress.isNull()) {
      if (hostAddress !== null && hostAddress.isEqual(entryAddress, ConversionMode.ConvertV4MappedToIPv4)) return true;
      continue;
    }
    if (hostAddress !== null) continue;
    if (entry.startsWith('*')) entry = entry.slice(1);
    if (entry.startsWith('.')) entry = entry.slice(1);
    if (entry.endsWith('.')) entry = entry.slice(0, -1);
    if (entry === '') continue;
    if (h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** A variable, lowercase spelling first; '' when unset or empty. */
function envProxyValue(env: ProxyEnvironment, lower: string): string {
  const value = env[lower];
  if (typeof value === 'string' && value.trim() !== '') return value;
  const upper = lower.toUpperCase();
  // HTTP_PROXY can be set by a request header in CGI programs ("httpoxy"):
  // ignore it there, as Go and curl do.
  if (upper === 'HTTP_PROXY' && env.REQUEST_METHOD !== undefined) return '';
  const upperValue = env[upper];
  return typeof upperValue === 'string' ? upperValue.trim() : '';
}

function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.startsWith('localhost.')) return true;
  const address = new QHostAddress(h);
  return !address.isNull() && address.isLoopback();
}

/**
 * Fine-grained proxy selection (Qt's QNetworkProxyFactory). Subclass it and
 * implement {@link QNetworkProxyFactory.queryProxy}, then install it with
 * {@link QNetworkProxyFactory.setApplicationProxyFactory}: sockets with
 * DefaultProxy then ask it for each connection.
 */
export abstract class QNetworkProxyFactory {
  /**
   * Returns the proxies to try for `query`, best first. The socket uses the
   * first one that can carry it; return `[new QNetworkProxy(NoProxy)]` for a
   * direct connection. An empty list means NoProxy.
   */
  abstract queryProxy(query?: QNetworkProxyQuery): QNetworkProxy[];

  /**
   * Installs `factory` as the application proxy factory (null removes it).
   * As in Qt, this clears the application proxy set with
   * QNetworkProxy.setApplicationProxy() and turns the system configuration off.
   *
   * Differs from Qt: Qt takes ownership and deletes the previous factory;
   * here it is simply dropped.
   */
  static setApplicationProxyFactory(factory: QNetworkProxyFactory | null): void {
    if (factory !== null && (typeof factory !== 'object' || typeof (factory as QNetworkProxyFactory).queryProxy !== 'function')) {
      throw new TypeError('factory must be a QNetworkProxyFactory (an object with queryProxy()) or null');
    }
    if (factory === settings.factory) return;
    settings.application = null;
    settings.factory = factory;
    settings.useSystem = false;
  }

  /**
   * The proxies for `query` under the application settings, never empty:
   * - `[NoProxy]` when the destination is local (`localhost`,
   *   `localhost.*`, or a loopback address), whatever is configured, as in
   *   Qt 6 (a proxy set on the socket itself still applies);
   * - else, with an application factory, its answer (`[NoProxy]` if empty);
   * - else the application proxy, unless it is DefaultProxy;
   * - else, with the system configuration on,
   *   {@link QNetworkProxyFactory.systemProxyForQuery} followed by NoProxy
   *   (so a socket that cannot use any of them connects directly, as in Qt);
   * - else `[NoProxy]`.
   *
   * Throws TypeError when the factory answers something other than an array
   * of QNetworkProxy.
   */
  static proxyForQuery(query: QNetworkProxyQuery): QNetworkProxy[] {
    if (!(query instanceof QNetworkProxyQuery)) throw new TypeError('query must be a QNetworkProxyQuery');
    if (isLocalHostName(query.peerHostName())) return [new QNetworkProxy(ProxyType.NoProxy)];
    const factory = settings.factory;
    if (factory === null) {
      if (settings.application !== null && settings.application.type() !== ProxyType.DefaultProxy) {
        return [settings.application._clone()];
      }
      if (settings.useSystem) return [...QNetworkProxyFactory.systemProxyForQuery(query), new QNetworkProxy(ProxyType.NoProxy)];
      return [new QNetworkProxy(ProxyType.NoProxy)];
    }
    const result: unknown = factory.queryProxy(query);
    if (!Array.isArray(result) || !result.every((p) => p instanceof QNetworkProxy)) {
      throw new TypeError('QNetworkProxyFactory.queryProxy() must return an array of QNetworkProxy');
    }
    return result.length > 0 ? (result as QNetworkProxy[]) : [new QNetworkProxy(ProxyType.NoProxy)];
  }

  /**
   * The proxies the environment asks for, best first, or `[NoProxy]`.
   * Reads `env` (default `process.env`) at each call:
   *
   * 1. `no_proxy` (else `NO_PROXY`): when it matches the query's peer host
   *    and port (see {@link matchesNoProxy}: `*`, names and `.suffix`es,
   *    IP literals, CIDR blocks, `host:port`), the answer is `[NoProxy]`.
   * 2. Then, lowercase spelling before uppercase, by protocol tag:
   *    - "http": `http_proxy`, `all_proxy`;
   *    - "https": `https_proxy`, `all_proxy`, `http_proxy`;
   *    - none or another (a plain socket): `socks_proxy`, `all_proxy`,
   *      `https_proxy`, `http_proxy`. A raw TCP stream can be anything, and
   *      SOCKS carries anything (and UDP); `https_proxy` is by convention the
   *      proxy for CONNECT tunnels, which is what a socket needs; `http_proxy`
   *      is often a forwarding proxy that allows CONNECT only to port 443, so
   *      it comes last (Qt falls back to it too).
   *    Each URL is read by {@link proxyFromUrl}; unsupported ones are skipped.
   *    HTTP proxies are skipped for UdpSocket, TcpServer and SctpServer
   *    queries (they can only tunnel outgoing TCP), as in Qt.
   *
   * `HTTP_PROXY` (uppercase) is ignored when `REQUEST_METHOD` is set (a CGI
   * program, where a request header can set it).
   *
   * Differs from Qt: Qt (qnetworkproxy_generic.cpp) returns one proxy, reads
   * `all_proxy` then `http_proxy` for plain sockets, does simple suffix
   * matching in `no_proxy` only, and gives socks5h:// proxies *only*
   * HostNameLookupCapability; qsocket returns every applicable proxy in the
   * order above and reads socks5:// / socks5h:// as curl does (socks5h: the
   * proxy resolves names).
   */
  static systemProxyForQuery(query: QNetworkProxyQuery = new QNetworkProxyQuery(), env: ProxyEnvironment = process.env): QNetworkProxy[] {
    if (!(query instanceof QNetworkProxyQuery)) throw new TypeError('query must be a QNetworkProxyQuery');
    const noProxy = typeof env.no_proxy === 'string' ? env.no_proxy : (env.NO_PROXY ?? '');
    if (noProxy.trim() !== '' && matchesNoProxy(noProxy, query.peerHostName(), query.peerPort())) {
      return [new QNetworkProxy(ProxyType.NoProxy)];
    }
    let names: string[];
    switch (query.protocolTag()) {
      case 'http':
        names = ['http_proxy', 'all_proxy'];
        break;
      case 'https':
        names = ['https_proxy', 'all_proxy', 'http_proxy'];
        break;
      default:
        names = ['socks_proxy', 'all_proxy', 'https_proxy', 'http_proxy'];
        break;
    }
    const type = query.queryType();
    const tcpOnly = type === ProxyQueryType.UdpSocket || isServerQuery(type);
    const result: QNetworkProxy[] = [];
    for (const name of names) {
      const value = envProxyValue(env, name);
      if (value === '') continue;
      const proxy = proxyFromUrl(value);
      if (proxy === null) continue;
      if (tcpOnly && proxy.type() === ProxyType.HttpProxy) continue;
      if (!result.some((p) => p.equals(proxy))) result.push(proxy);
    }
    return result.length > 0 ? result : [new QNetworkProxy(ProxyType.NoProxy)];
  }

  /**
   * Turns the system proxy configuration (the environment variables read by
   * {@link QNetworkProxyFactory.systemProxyForQuery}) on or off for sockets
   * with DefaultProxy. Off by default: qsocket never reads the environment
   * unless asked. As in Qt, turning it on clears the application proxy and
   * the application factory.
   */
  static setUseSystemConfiguration(enable: boolean): void {
    settings.useSystem = Boolean(enable);
    if (settings.useSystem) {
      settings.application = null;
      settings.factory = null;
    }
  }

  /** Whether the system proxy configuration is in use. */
  static usesSystemConfiguration(): boolean {
    return settings.useSystem;
  }
}

// Qt's nested enum, usable as a type too (`let t: QNetworkProxyQuery.QueryType`).
// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace QNetworkProxyQuery {
  export type QueryType = ProxyQueryType;
}
