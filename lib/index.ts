// qsocket's public surface: Qt's socket classes for Node.js.
export {
  SocketType,
  SocketState,
  SocketError,
  SocketOption,
  NetworkLayerProtocol,
  BindFlag,
  PauseMode,
  OpenMode,
  SpecialAddress,
  ProxyType,
  ProxyCapability,
} from './enums';
export { Signal, SignalTimeoutError, setSlotErrorHandler } from './signal';
export type { SlotErrorHandler } from './signal';
export { QIODevice } from './io-device';
export type { WritableData } from './io-device';
export { QAbstractSocket } from './abstract-socket';
export type { AdoptOptions, LookupFunction, LookupSyncFunction, LookupAddress, SocketOptions } from './abstract-socket';
export { QTcpSocket } from './tcp-socket';
export { QTcpServer } from './tcp-server';
export { QUdpSocket } from './udp-socket';
export type { Datagram, OutgoingDatagram } from './udp-socket';
export { QNetworkDatagram } from './network-datagram';
export { createSocketPair, closeDescriptor } from './descriptors';
export type { Linger, LinuxOptionName, LinuxOptionValues } from './linux-options';
export {
  SD_LISTEN_FDS_START,
  listenFds,
  serverFromListenFd,
  udpSocketFromListenFd,
  tcpSocketFromListenFd,
  adoptListenFds,
  sdNotify,
  sdNotifyReady,
  sdNotifyStatus,
  sdNotifyStopping,
  sdNotifyReloading,
  sdNotifyWatchdog,
  sdStoreFds,
  watchdogEnabled,
  startWatchdog,
} from './systemd';
export type {
  ListenFd,
  ListenFdKind,
  ListenFdsOptions,
  AdoptedListenFds,
  NotifyOptions,
  NotifyState,
  NotifyShorthandOptions,
  WatchdogOptions,
  WatchdogHandle,
} from './systemd';
export { QHostAddress } from './host-address';
export { QNetworkProxy, QAuthenticator, QNetworkProxyFactory, QNetworkProxyQuery, ProxyQueryType } from './network-proxy';
export type { ProxyEnvironment } from './network-proxy';

import { binding } from './binding';
/**
 * The OS's socket constants by their C names (SOL_SOCKET, IPPROTO_TCP,
 * SO_KEEPALIVE, …), for setRawOption/rawOption. Options this OS lacks are absent.
 */
export const socketConstants: Readonly<Record<string, number>> = Object.freeze({ ...binding.constants });
