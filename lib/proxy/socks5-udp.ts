// UDP through a SOCKS5 proxy (RFC 1928 §4 UDP ASSOCIATE and §7): the control
// negotiation and the per-datagram header. Pure functions, no sockets.
import { NetworkLayerProtocol, SocketError } from '../enums';
import { QHostAddress } from '../host-address';
import type { ProxyCredentials, ProxyNegotiator } from './negotiator';
import { SOCKS5, Socks5Negotiator, encodeSocks5Address, parseSocks5Address, type Socks5Address } from './socks5';

/** A datagram taken apart by {@link decodeSocks5UdpDatagram}. */
export interface Socks5UdpDatagram {
  /** The datagram's source (or destination): an address, or a host name (ATYP 3) as sent by the proxy. */
  address: QHostAddress | string;
  port: number;
  /** The payload: a view into the buffer given to decodeSocks5UdpDatagram (no copy). */
  payload: Buffer;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port out of range: ${String(port)}`);
}

/**
 * Builds the RFC 1928 §7 header that goes before each datagram sent to the
 * relay: RSV (2 bytes, 0), FRAG (0: qsocket never fragments), ATYP, DST.ADDR,
 * DST.PORT. A QHostAddress, or a string holding an IP literal, is sent as
 * ATYP 1/4 (the scope id of an IPv6 address is dropped; the dual-stack Any
 * becomes 0.0.0.0); any other string is a host name for the proxy to
 * resolve (ATYP 3, IDNA ASCII, at most 255 bytes).
 *
 * Throws RangeError for a port outside 0–65535, a null address, or a name
 * that cannot be sent (empty, too long, invalid characters): the caller
 * validates before sending, as writeDatagram does for a direct socket.
 */
export function encodeSocks5UdpHeader(address: QHostAddress | string, port: number): Buffer {
  checkPort(port);
  if (!(address instanceof QHostAddress) && typeof address !== 'string') {
    throw new TypeError('address must be a QHostAddress or a host name');
  }
  const encoded: Socks5Address = encodeSocks5Address(address, port);
  if ('error' in encoded) throw new RangeError(`cannot send a SOCKS5 datagram to ${String(address)}: ${encoded.message}`);
  const header = Buffer.alloc(3 + encoded.bytes.length);
  encoded.bytes.copy(header, 3);
  return header;
}

/**
 * Takes apart a datagram received from the relay (RFC 1928 §7). Returns null
 * — drop the datagram, as Qt does — when it is shorter than a header, RSV is
 * not zero, FRAG is not zero (fragments are not supported, as in Qt), the
 * address type is unknown or the header is truncated. Never throws.
 */
export function decodeSocks5UdpDatagram(buf: Buffer | Uint8Array): Socks5UdpDatagram | null {
  if (!(buf instanceof Uint8Array)) return null;
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0 || b[2] !== 0) return null;
  const parsed = parseSocks5Address(b, 3);
  if (!('end' in parsed)) return null;
  return { address: parsed.address ?? parsed.host, port: parsed.port, payload: b.subarray(parsed.end) };
}

/**
 * Where datagrams go after a UDP ASSOCIATE: the relay the proxy reported in
 * `done.bound`, except that an unspecified relay address (0.0.0.0 or ::)
 * means "the proxy's own address" (RFC 1928 leaves it to the client; common
 * servers such as ss-local answer 0.0.0.0), so `proxyAddress` is used then.
 */
export function socks5RelayEndpoint(bound: { host: string; port: number }, proxyAddress: string): { host: string; port: number } {
  const relay = new QHostAddress(bound.host);
  const unspecified =
    (relay.protocol() === NetworkLayerProtocol.IPv4Protocol || relay.protocol() === NetworkLayerProtocol.IPv6Protocol) &&
    relay.isEqual(QHostAddress.AnyIPv6, QHostAddress.ConversionModeFlag.ConvertUnspecifiedAddress);
  return { host: unspecified || bound.host === '' ? proxyAddress : bound.host, port: bound.port };
}

/**
 * Creates the negotiator for SOCKS5 UDP ASSOCIATE (command 3): the same
 * method selection and RFC 1929 login as {@link createSocks5Negotiator},
 * then a request naming where datagrams will come from — `source` if given
 * (Qt sends the local UDP socket's bound address and port), else 0.0.0.0:0
 * ("not known yet", which RFC 1928 allows). The `done` step's `bound` is the
 * relay address and port to send datagrams to; when that address is 0.0.0.0
 * or ::, use the proxy's own address ({@link socks5RelayEndpoint}). The
 * association lives as long as the TCP connection to the proxy stays open.
 *
 * Reply codes map as for CONNECT, with no "host not found" reading of 0x01/0x02.
 */
export function createSocks5UdpAssociateNegotiator(
  credentials: ProxyCredentials | null,
  source?: { host: string | QHostAddress; port: number },
): ProxyNegotiator {
  let address: Socks5Address;
  if (source === undefined) {
    address = encodeSocks5Address(QHostAddress.fromIPv4Address(0), 0);
  } else if (!Number.isInteger(source.port) || source.port < 0 || source.port > 65535) {
    address = { error: SocketError.UnsupportedSocketOperationError, message: `Invalid port ${String(source.port)}` };
  } else {
    address = encodeSocks5Address(source.host, source.port);
  }
  return new Socks5Negotiator({ command: SOCKS5.CMD_UDP_ASSOCIATE, address, targetIsName: false }, credentials);
}
