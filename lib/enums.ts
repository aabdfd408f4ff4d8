// Qt 6's enums, with Qt's numeric values, so code ported from Qt (and values
// stored by it) mean the same thing here.

/** QAbstractSocket::SocketType. */
export enum SocketType {
  TcpSocket = 0,
  UdpSocket = 1,
  SctpSocket = 2,
  UnknownSocketType = -1,
}

/** QAbstractSocket::SocketState. */
export enum SocketState {
  UnconnectedState = 0,
  HostLookupState = 1,
  ConnectingState = 2,
  ConnectedState = 3,
  BoundState = 4,
  ListeningState = 5,
  ClosingState = 6,
}

/** QAbstractSocket::SocketError. */
export enum SocketError {
  UnknownSocketError = -1,
  ConnectionRefusedError = 0,
  RemoteHostClosedError = 1,
  HostNotFoundError = 2,
  SocketAccessError = 3,
  SocketResourceError = 4,
  SocketTimeoutError = 5,
  DatagramTooLargeError = 6,
  NetworkError = 7,
  AddressInUseError = 8,
  SocketAddressNotAvailableError = 9,
  UnsupportedSocketOperationError = 10,
  UnfinishedSocketOperationError = 11,
  ProxyAuthenticationRequiredError = 12,
  SslHandshakeFailedError = 13,
  ProxyConnectionRefusedError = 14,
  ProxyConnectionClosedError = 15,
  ProxyConnectionTimeoutError = 16,
  ProxyNotFoundError = 17,
  ProxyProtocolError = 18,
  OperationError = 19,
  SslInternalError = 20,
  SslInvalidUserDataError = 21,
  TemporaryError = 22,
}

/** QAbstractSocket::SocketOption. */
export enum SocketOption {
  /** TCP_NODELAY: disable Nagle's algorithm. */
  LowDelayOption = 0,
  /** SO_KEEPALIVE. */
  KeepAliveOption = 1,
  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS. */
  MulticastTtlOption = 2,
  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP. */
  MulticastLoopbackOption = 3,
  /** IP_TOS (IPv4 only in Qt). */
  TypeOfServiceOption = 4,
  /** SO_SNDBUF. */
  SendBufferSizeSocketOption = 5,
  /** SO_RCVBUF. */
  ReceiveBufferSizeSocketOption = 6,
  /** IP_MTU / IPV6_MTU (read-only). */
  PathMtuSocketOption = 7,
  /** TCP_KEEPIDLE (Qt 6.11). */
  KeepAliveIdleOption = 8,
  /** TCP_KEEPINTVL (Qt 6.11). */
  KeepAliveIntervalOption = 9,
  /** TCP_KEEPCNT (Qt 6.11). */
  KeepAliveCountOption = 10,
}

/** QAbstractSocket::NetworkLayerProtocol. */
export enum NetworkLayerProtocol {
  IPv4Protocol = 0,
  IPv6Protocol = 1,
  AnyIPProtocol = 2,
  UnknownNetworkLayerProtocol = -1,
}

/** QAbstractSocket::BindFlag (combinable). */
export enum BindFlag {
  DefaultForPlatform = 0,
  ShareAddress = 1,
  DontShareAddress = 2,
  ReuseAddressHint = 4,
}

/** QAbstractSocket::PauseMode. */
export enum PauseMode {
  PauseNever = 0,
  PauseOnSslErrors = 1,
}

/** QIODeviceBase::OpenModeFlag (combinable). */
export enum OpenMode {
  NotOpen = 0,
  ReadOnly = 1,
  WriteOnly = 2,
  ReadWrite = 3,
  Append = 4,
  Truncate = 8,
  Text = 0x10,
  Unbuffered = 0x20,
  NewOnly = 0x40,
  ExistingOnly = 0x80,
}

/** QHostAddress::SpecialAddress. */
export enum SpecialAddress {
  Null = 0,
  Broadcast = 1,
  LocalHost = 2,
  LocalHostIPv6 = 3,
  Any = 4,
  AnyIPv6 = 5,
  AnyIPv4 = 6,
}

/** QNetworkProxy::ProxyType. */
export enum ProxyType {
  DefaultProxy = 0,
  Socks5Proxy = 1,
  NoProxy = 2,
  HttpProxy = 3,
  HttpCachingProxy = 4,
  FtpCachingProxy = 5,
}

/** QNetworkProxy::Capability (combinable). */
export enum ProxyCapability {
  TunnelingCapability = 0x1,
  ListeningCapability = 0x2,
  UdpTunnelingCapability = 0x4,
  CachingCapability = 0x8,
  HostNameLookupCapability = 0x10,
  SctpTunnelingCapability = 0x20,
  SctpListeningCapability = 0x40,
}
