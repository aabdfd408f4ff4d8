// QTcpSocket: a QAbstractSocket of type TcpSocket.
import { C } from './binding';
import { SocketState, SocketType } from './enums';
import { Msg } from './errors';
import { QAbstractSocket, SocketOptions } from './abstract-socket';

/**
 * A TCP connection, after Qt's QTcpSocket. Connect with connectToHost(), or
 * adopt a connected descriptor with setSocketDescriptor().
 */
export class QTcpSocket extends QAbstractSocket {
  constructor(options: SocketOptions = {}) {
    super(SocketType.TcpSocket, options);
  }

  protected override _checkDescriptor(
    d: { type: number; domain: number; listening: boolean; connected: boolean },
    state: SocketState,
  ): string | SocketState {
    if (d.type !== C.SOCK_STREAM) return `${Msg.unsupported}: not a stream socket`;
    return super._checkDescriptor(d, state);
  }
}
