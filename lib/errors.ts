// The one place where an errno becomes a SocketError and Qt's English text.
// The same errno means different things in different operations (EINVAL on
// connect is a refusal, EAGAIN on read is "no data yet"), so the table is
// keyed by operation, as Qt's native engine switches per call.
import { binding, E } from './binding';
import { SocketError } from './enums';

export type SocketOp = 'create' | 'connect' | 'bind' | 'listen' | 'accept' | 'read' | 'write' | 'option' | 'adopt';

export interface SocketFailure {
  error: SocketError;
  message: string;
}

/** Qt's strings, so that code matching on errorString() keeps working. */
export const Msg = {
  unknown: 'Unknown error',
  refused: 'Connection refused',
  remoteClosed: 'The remote host closed the connection',
  hostNotFound: 'Host not found',
  access: 'Permission denied',
  resource: 'Out of resources',
  socketTimeout: 'Socket operation timed out',
  networkTimeout: 'Network operation timed out',
  connectTimeout: 'Connection timed out',
  datagramTooLarge: 'Datagram was too large to send',
  hostUnreachable: 'Host unreachable',
  networkUnreachable: 'Network unreachable',
  addressInUse: 'The bound address is already in use',
  addressNotAvailable: 'The address is not available',
  addressProtected: 'The address is protected',
  invalidDescriptor: 'Invalid socket descriptor',
  notSocket: 'Operation on non-socket',
  unsupported: 'Operation on socket is not supported',
  protocolUnsupported: 'Protocol type not supported',
  inProgress: 'Trying to connect while connection is in progress',
  notConnected: 'Socket is not connected',
  noDatagram: 'No datagram available for reading',
  temporary: 'Temporary error',
  connectionReset: 'Connection reset by peer',
  deviceNotOpen: 'device not open',
  notWritable: 'device not open for writing',
} as const;

const fail = (error: SocketError, message: string): SocketFailure => ({ error, message });

/** Maps a positive errno from operation `op`; an errno no rule names keeps the OS's own text. */
export function mapErrno(op: SocketOp, errno: number): SocketFailure {
  const e = Math.abs(errno);
  switch (e) {
    case E.EACCES:
    case E.EPERM:
      return fail(SocketError.SocketAccessError, op === 'bind' ? Msg.addressProtected : Msg.access);
    case E.EMFILE:
    case E.ENFILE:
    case E.ENOBUFS:
    case E.ENOMEM:
      return fail(SocketError.SocketResourceError, Msg.resource);
    case E.EADDRINUSE:
      return fail(SocketError.AddressInUseError, Msg.addressInUse);
    case E.EADDRNOTAVAIL:
      return fail(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
    case E.EAFNOSUPPORT:
    case E.EPROTONOSUPPORT:
    case E.ESOCKTNOSUPPORT:
    case E.EPROTOTYPE:
      return fail(SocketError.UnsupportedSocketOperationError, Msg.protocolUnsupported);
    case E.EBADF:
      return fail(SocketError.UnsupportedSocketOperationError, Msg.invalidDescriptor);
    case E.ENOTSOCK:
      return fail(SocketError.UnsupportedSocketOperationError, Msg.notSocket);
    case E.EOPNOTSUPP:
    case E.ENOPROTOOPT:
      return fail(SocketError.UnsupportedSocketOperationError, Msg.unsupported);
    case E.ECONNREFUSED:
      return fail(SocketError.ConnectionRefusedError, Msg.refused);
    case E.EHOSTUNREACH:
    case E.EHOSTDOWN:
      return fail(SocketError.NetworkError, Msg.hostUnreachable);
    case E.ENETUNREACH:
    case E.ENETDOWN:
      return fail(SocketError.NetworkError, Msg.networkUnreachable);
    case E.ETIMEDOUT:
      return op === 'connect'
        ? fail(SocketError.SocketTimeoutError, Msg.connectTimeout)
        : fail(SocketError.NetworkError, Msg.networkTimeout);
    case E.EMSGSIZE:
      return fail(SocketError.DatagramTooLargeError, Msg.datagramTooLarge);
    case E.EAGAIN:
    case E.EWOULDBLOCK:
      return fail(SocketError.TemporaryError, Msg.temporary);
    case E.EPIPE:
    case E.ECONNRESET:
    case E.ECONNABORTED:
    case E.ENETRESET:
    case E.ESHUTDOWN:
      return op === 'connect'
        ? fail(SocketError.ConnectionRefusedError, Msg.refused)
        : fail(SocketError.RemoteHostClosedError, Msg.remoteClosed);
    case E.EINVAL:
      // Linux reports a connect to an unusable address (a broadcast address,
      // say) as EINVAL; Qt treats it as refused.
      if (op === 'connect') return fail(SocketError.ConnectionRefusedError, Msg.refused);
      if (op === 'bind') return fail(SocketError.SocketAddressNotAvailableError, Msg.addressNotAvailable);
      break;
    case E.EISCONN:
      if (op === 'connect') return fail(SocketError.OperationError, Msg.inProgress);
      break;
    case E.ENOTCONN:
      return fail(SocketError.OperationError, Msg.notConnected);
  }
  return fail(SocketError.UnknownSocketError, binding.strerror(e));
}

/** The C name of an errno ("EPERM"), or its number when no name is known. */
export function errnoName(errno: number): string {
  const e = Math.abs(errno);
  for (const [name, value] of Object.entries(E)) if (value === e && name !== 'EWOULDBLOCK') return name;
  return `errno ${e}`;
}
