// QNetworkDatagram: one UDP datagram with its addresses, as receiveDatagram()
// returns it and writeDatagram() accepts it.
import { QHostAddress } from './host-address';
import { toOwnedBuffer, WritableData } from './io-device';

export class QNetworkDatagram {
  #data: Buffer;
  #sender = new QHostAddress();
  #senderPort = -1;
  #destination: QHostAddress;
  #destinationPort: number;
  #hopLimit = -1;
  #timestampNs = -1n;
  #valid: boolean;

  /** A datagram to send to `destination`:`port`, or (without arguments) an invalid, empty one. */
  constructor(data?: WritableData, destination: QHostAddress = new QHostAddress(), port = -1) {
    this.#valid = data !== undefined;
    this.#data = data === undefined ? Buffer.alloc(0) : toOwnedBuffer(data);
    this.#destination = new QHostAddress(destination);
    this.#destinationPort = port;
  }

  /** @internal Builds a received datagram without copying `data`. */
  static _received(
    data: Buffer,
    sender: QHostAddress,
    senderPort: number,
    destination: QHostAddress,
    destinationPort: number,
    hopLimit: number,
    timestampNs = -1n,
  ): QNetworkDatagram {
    const d = new QNetworkDatagram();
    d.#valid = true;
    d.#data = data;
    d.#sender = sender;
    d.#senderPort = senderPort;
    d.#destination = destination;
    d.#destinationPort = destinationPort;
    d.#hopLimit = hopLimit;
    d.#timestampNs = timestampNs;
    return d;
  }

  data(): Buffer {
    return this.#data;
  }

  setData(data: WritableData): void {
    this.#data = toOwnedBuffer(data);
  }

  /** False for the datagram receiveDatagram() returns when none was queued. */
  isValid(): boolean {
    return this.#valid;
  }

  isNull(): boolean {
    return !this.#valid;
  }

  senderAddress(): QHostAddress {
    return new QHostAddress(this.#sender);
  }

  /** The sender's port, or -1 when unknown. */
  senderPort(): number {
    return this.#senderPort;
  }

  setSender(address: QHostAddress, port = 0): void {
    this.#sender = new QHostAddress(address);
    this.#senderPort = port;
  }

  /** The address the datagram was sent to (IP_PKTINFO), null when the OS did not say. */
  destinationAddress(): QHostAddress {
    return new QHostAddress(this.#destination);
  }

  destinationPort(): number {
    return this.#destinationPort;
  }

  setDestination(address: QHostAddress, port: number): void {
    this.#destination = new QHostAddress(address);
    this.#destinationPort = port;
  }

  /** The TTL / hop limit it arrived with (IP_RECVTTL), or -1. */
  hopLimit(): number {
    return this.#hopLimit;
  }

  setHopLimit(count: number): void {
    this.#hopLimit = count;
  }

  /**
   * When the kernel received it, in nanoseconds since the Unix epoch
   * (SO_TIMESTAMPNS), or -1n when the socket did not ask for timestamps
   * (QUdpSocket.setReceiveTimestamps). Not in Qt.
   */
  timestampNs(): bigint {
    return this.#timestampNs;
  }

  clear(): void {
    this.#data = Buffer.alloc(0);
    this.#sender = new QHostAddress();
    this.#senderPort = -1;
    this.#destination = new QHostAddress();
    this.#destinationPort = -1;
    this.#hopLimit = -1;
  }
}
