// QNetworkProxy and QAuthenticator as value types. The SOCKS5 and HTTP
// CONNECT engines that use them are not built yet: a socket whose effective
// proxy is one of those fails its connect with UnsupportedSocketOperationError.
import { ProxyCapability, ProxyType } from './enums';

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

function defaultCapabilities(type: ProxyType): number {
  switch (type) {
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
      return ProxyCapability.CachingCapability | ProxyCapability.HostNameLookupCapability;
    case ProxyType.FtpCachingProxy:
      return ProxyCapability.CachingCapability | ProxyCapability.HostNameLookupCapability;
    default:
      return 0;
  }
}

/** A proxy description (Qt's QNetworkProxy): type, host, port and credentials. */
export class QNetworkProxy {
  static readonly ProxyType = ProxyType;
  static readonly Capability = ProxyCapability;
  static readonly DefaultProxy = ProxyType.DefaultProxy;
  static readonly Socks5Proxy = ProxyType.Socks5Proxy;
  static readonly NoProxy = ProxyType.NoProxy;
  static readonly HttpProxy = ProxyType.HttpProxy;
  static readonly HttpCachingProxy = ProxyType.HttpCachingProxy;
  static readonly FtpCachingProxy = ProxyType.FtpCachingProxy;

  static #application = new QNetworkProxy(ProxyType.NoProxy);

  #type: ProxyType;
  #host: string;
  #port: number;
  #user: string;
  #password: string;
  #capabilities: number;

  constructor(type: ProxyType = ProxyType.DefaultProxy, hostName = '', port = 0, user = '', password = '') {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port out of range: ${port}`);
    this.#type = type;
    this.#host = hostName;
    this.#port = port;
    this.#user = user;
    this.#password = password;
    this.#capabilities = defaultCapabilities(type);
  }

  /** The proxy that sockets with DefaultProxy use (NoProxy unless set). */
  static applicationProxy(): QNetworkProxy {
    return QNetworkProxy.#application;
  }

  static setApplicationProxy(proxy: QNetworkProxy): void {
    QNetworkProxy.#application = proxy;
  }

  type(): ProxyType {
    return this.#type;
  }
  setType(type: ProxyType): void {
    this.#type = type;
    this.#capabilities = defaultCapabilities(type);
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
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port out of range: ${port}`);
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
  capabilities(): number {
    return this.#capabilities;
  }
  setCapabilities(caps: number): void {
    this.#capabilities = caps;
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
}
