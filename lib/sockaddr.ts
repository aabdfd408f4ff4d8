// Encodes and decodes the neutral address layout of native/sockaddr.h:
//   [0] kind (0 none, 1 UNIX, 4 IPv4, 6 IPv6) · [2..3] port BE ·
//   [4..7] scope id BE (UNIX: path length) · [8..] address bytes / path.
import { binding, C } from './binding';
import { NetworkLayerProtocol } from './enums';
import { QHostAddress } from './host-address';

export const ADDR_SIZE = C.ADDR_SIZE;
const KIND_UNIX = 1;
const KIND_V4 = 4;
const KIND_V6 = 6;

/** A decoded endpoint; `path` is set for UNIX-domain addresses only. */
export interface Endpoint {
  address: QHostAddress;
  port: number;
  path?: string;
}

/** A scope id as Qt keeps it (an interface name or a number) → the kernel's interface index. */
export function scopeIndex(scope: string): number {
  if (scope === '') return 0;
  if (/^\d+$/.test(scope)) return Number(scope);
  return binding.ifNameToIndex(scope);
}

/**
 * Writes `address`:`port` into `out`. The dual-stack Any becomes the IPv6
 * any address when `family` is IPv6, the IPv4 one otherwise. Returns false for
 * a null address.
 */
export function encodeAddress(out: Uint8Array, address: QHostAddress, port: number, dualStackAsV6 = true): boolean {
  out.fill(0, 0, 24);
  let proto = address.protocol();
  let bytes: Uint8Array;
  if (proto === NetworkLayerProtocol.AnyIPProtocol) {
    proto = dualStackAsV6 ? NetworkLayerProtocol.IPv6Protocol : NetworkLayerProtocol.IPv4Protocol;
    bytes = new Uint8Array(proto === NetworkLayerProtocol.IPv6Protocol ? 16 : 4);
  } else if (proto === NetworkLayerProtocol.IPv4Protocol || proto === NetworkLayerProtocol.IPv6Protocol) {
    bytes = address._bytes();
  } else {
    return false;
  }
  out[0] = proto === NetworkLayerProtocol.IPv4Protocol ? KIND_V4 : KIND_V6;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  if (out[0] === KIND_V6) {
    const scope = scopeIndex(address.scopeId());
    out[4] = scope >>> 24;
    out[5] = (scope >>> 16) & 0xff;
    out[6] = (scope >>> 8) & 0xff;
    out[7] = scope & 0xff;
  }
  out.set(bytes.subarray(0, out[0] === KIND_V4 ? 4 : 16), 8);
  return true;
}

/** Reads an endpoint written by the native side; a kind it does not know gives a null address. */
export function decodeAddress(raw: Uint8Array): Endpoint {
  const port = (raw[2] << 8) | raw[3];
  const n = ((raw[4] << 24) | (raw[5] << 16) | (raw[6] << 8) | raw[7]) >>> 0;
  switch (raw[0]) {
    case KIND_V4:
      return { address: QHostAddress._fromBytes(raw.slice(8, 12)), port };
    case KIND_V6: {
      const scope = n === 0 ? '' : binding.ifIndexToName(n) || String(n);
      return { address: QHostAddress._fromBytes(raw.slice(8, 24), scope), port };
    }
    case KIND_UNIX: {
      const bytes = Buffer.from(raw.buffer, raw.byteOffset + 8, Math.min(n, ADDR_SIZE - 8));
      // Abstract names start with a NUL; show them the way ss(8) does, with '@'.
      const path = bytes.length > 0 && bytes[0] === 0 ? '@' + bytes.toString('utf8', 1) : bytes.toString('utf8');
      return { address: new QHostAddress(), port: 0, path };
    }
    default:
      return { address: new QHostAddress(), port: 0 };
  }
}
