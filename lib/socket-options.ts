// Qt's SocketOption → (level, optname) for a socket's family, the counterpart
// of Qt's convertToLevelAndOption. Values cross as plain ints.
import { C } from './binding';
import { NetworkLayerProtocol, SocketOption } from './enums';

export interface OptionSlot {
  level: number;
  name: number;
  /** Options the kernel only reports (IP_MTU). */
  readOnly?: boolean;
}

/** The (level, optname) pair of `option` on a socket of `family`, or null where the OS has none. */
export function optionSlot(option: SocketOption, family: NetworkLayerProtocol): OptionSlot | null {
  const v6 = family === NetworkLayerProtocol.IPv6Protocol;
  const pick = (level: string, name: string, readOnly = false): OptionSlot | null =>
    C[level] === undefined || C[name] === undefined ? null : { level: C[level], name: C[name], readOnly };
  switch (option) {
    case SocketOption.LowDelayOption:
      return pick('IPPROTO_TCP', 'TCP_NODELAY');
    case SocketOption.KeepAliveOption:
      return pick('SOL_SOCKET', 'SO_KEEPALIVE');
    case SocketOption.MulticastTtlOption:
      return v6 ? pick('IPPROTO_IPV6', 'IPV6_MULTICAST_HOPS') : pick('IPPROTO_IP', 'IP_MULTICAST_TTL');
    case SocketOption.MulticastLoopbackOption:
      return v6 ? pick('IPPROTO_IPV6', 'IPV6_MULTICAST_LOOP') : pick('IPPROTO_IP', 'IP_MULTICAST_LOOP');
    case SocketOption.TypeOfServiceOption:
      return v6 ? pick('IPPROTO_IPV6', 'IPV6_TCLASS') : pick('IPPROTO_IP', 'IP_TOS');
    case SocketOption.SendBufferSizeSocketOption:
      return pick('SOL_SOCKET', 'SO_SNDBUF');
    case SocketOption.ReceiveBufferSizeSocketOption:
      return pick('SOL_SOCKET', 'SO_RCVBUF');
    case SocketOption.PathMtuSocketOption:
      return v6 ? pick('IPPROTO_IPV6', 'IPV6_MTU', true) : pick('IPPROTO_IP', 'IP_MTU', true);
    case SocketOption.KeepAliveIdleOption:
      return pick('IPPROTO_TCP', 'TCP_KEEPIDLE');
    case SocketOption.KeepAliveIntervalOption:
      return pick('IPPROTO_TCP', 'TCP_KEEPINTVL');
    case SocketOption.KeepAliveCountOption:
      return pick('IPPROTO_TCP', 'TCP_KEEPCNT');
    default:
      return null;
  }
}
