// QHostAddress: an IPv4 or IPv6 address with Qt 6 semantics, in plain
// TypeScript. It never resolves names (that is QHostInfo's job in Qt), so it
// needs neither native code nor node:dns.

import * as enums from './enums';
import { NetworkLayerProtocol, SpecialAddress } from './enums';

/**
 * QHostAddress::ConversionModeFlag: which cross-protocol conversions
 * {@link QHostAddress.isEqual} may perform. The values are bit flags and may
 * be OR-ed together.
 */
export enum ConversionMode {
  /** Never consider an IPv6 address equal to an IPv4 one. */
  StrictConversion = 0,
  /** `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2) compares equal to `a.b.c.d`. */
  ConvertV4MappedToIPv4 = 1,
  /** `::a.b.c.d` (the deprecated RFC 4291 §2.5.5.1 form) compares equal to `a.b.c.d`. */
  ConvertV4CompatToIPv4 = 2,
  /** `0.0.0.0`, `::` and the dual-stack Any all compare equal. */
  ConvertUnspecifiedAddress = 4,
  /** `::1` compares equal to `127.0.0.1`. */
  ConvertLocalHost = 8,
  /** Every conversion above. */
  TolerantConversion = 0xff,
}

/** Anything a QHostAddress can be constructed from or set to. */
export type QHostAddressInput = QHostAddress | SpecialAddress | number | string | Uint8Array;

/** Result of {@link QHostAddress.toIPv4AddressOk}: Qt's `bool *ok` made a return value. */
export interface IPv4Conversion {
  ok: boolean;
  value: number;
}

// Qt sorts addresses into these classes once and derives every is*()
// predicate from the class, so one address never answers yes to two of them.
type AddressClass =
  | 'unknown'
  | 'loopback'
  | 'localNet'
  | 'linkLocal'
  | 'multicast'
  | 'broadcast'
  | 'global'
  | 'privateNetwork'
  | 'uniqueLocal'
  | 'siteLocal';

// Qt counts private, unique-local and site-local addresses as global too
// (documented on QHostAddress::isGlobal()).
const GLOBAL_CLASSES: ReadonlySet<AddressClass> = new Set<AddressClass>([
  'global',
  'privateNetwork',
  'uniqueLocal',
  'siteLocal',
]);

const LOOPBACK_IPV4 = 0x7f000001;
const BROADCAST_IPV4 = 0xffffffff;
/** The bytes of a null, Any or 0.0.0.0 address: shared, never written. */
const ZERO16 = new Uint8Array(16);

// The v4-mapped bytes made last. Address bytes are never written once made,
// so addresses of the same IPv4 host can share them: the endpoints of ten
// thousand connections to one peer then hold one array, not twenty thousand.
let lastV4 = -1;
let lastV4Bytes = ZERO16;

/** ::ffff:a.b.c.d for the host-order IPv4 `value` (not 0). */
function v4Mapped(value: number): Uint8Array {
  if (value === lastV4) return lastV4Bytes;
  const a6 = new Uint8Array(16);
  a6[10] = 0xff;
  a6[11] = 0xff;
  writeU32(a6, 12, value);
  lastV4 = value;
  lastV4Bytes = a6;
  return a6;
}

// A leading zero is refused rather than read as decimal: Qt (like inet_aton)
// reads "010" as octal 8, so accepting it would silently disagree with Qt.
const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const DECIMAL = /^[0-9]+$/;

const inspectCustom: unique symbol = Symbol.for('nodejs.util.inspect.custom');

function readU32(bytes: Uint8Array, offset: number): number {
  // Multiplication rather than << so the result stays unsigned.
  return (
    bytes[offset] * 0x1000000 + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3]
  );
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function isZero(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isV4Mapped(a6: Uint8Array): boolean {
  return isZero(a6, 0, 10) && a6[10] === 0xff && a6[11] === 0xff;
}

function ipv4ToString(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!IPV4_PART.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

// Parses the colon-separated groups on one side of a "::". Only the very last
// group of the whole address may be a dotted quad (RFC 4291 §2.2 form 3).
function parseGroups(text: string, mayEndInIPv4: boolean): number[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (HEX_GROUP.test(group)) {
      words.push(parseInt(group, 16));
      continue;
    }
    const v4 = mayEndInIPv4 && i === groups.length - 1 ? parseIPv4(group) : null;
    if (v4 === null) return null;
    words.push(v4 >>> 16, v4 & 0xffff);
  }
  return words;
}

function parseIPv6(text: string): Uint8Array | null {
  // A second "::" needs no check of its own: it leaves an empty group on one
  // side, which parseGroups() refuses.
  const gap = text.indexOf('::');
  const head = parseGroups(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : parseGroups(text.slice(gap + 2), true);
  if (head === null || tail === null) return null;
  const count = head.length + tail.length;
  // "::" must stand for at least one zero group; without it all 8 must be given.
  if (gap === -1 ? count !== 8 : count > 7) return null;
  const bytes = new Uint8Array(16);
  const place = (word: number, index: number): void => {
    bytes[index * 2] = word >>> 8;
    bytes[index * 2 + 1] = word & 0xff;
  };
  head.forEach(place);
  tail.forEach((word, i) => place(word, 8 - tail.length + i));
  return bytes;
}

// RFC 5952: lowercase, no leading zeros, the longest run (leftmost on a tie)
// of two or more zero groups becomes "::".
function ipv6ToString(a6: Uint8Array): string {
  // Mixed notation for v4-mapped addresses, and (as Qt does) for the
  // deprecated v4-compatible ones unless the IPv4 part's top half is zero,
  // where "::1" and "::102" read better than "::0.0.0.1" and "::0.0.1.2".
  const mixed = isV4Mapped(a6) || (isZero(a6, 0, 12) && (a6[12] !== 0 || a6[13] !== 0));
  const wordCount = mixed ? 6 : 8;
  const words: number[] = [];
  for (let i = 0; i < wordCount; i++) words.push((a6[i * 2] << 8) | a6[i * 2 + 1]);

  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < wordCount; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < wordCount && words[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }

  const fields = words.map((w) => w.toString(16));
  if (mixed) fields.push(ipv4ToString(readU32(a6, 12)));
  if (bestStart === -1) return fields.join(':');
  return `${fields.slice(0, bestStart).join(':')}::${fields.slice(bestStart + bestLength).join(':')}`;
}

// The IPv4 value an IPv6 address stands for under `mode`, or null when the
// mode does not allow the conversion.
function convertToIPv4(a6: Uint8Array, mode: number): number | null {
  if (!isZero(a6, 0, 8)) return null;
  const mid = readU32(a6, 8);
  const low = readU32(a6, 12);
  if (mid === 0xffff) return mode & ConversionMode.ConvertV4MappedToIPv4 ? low : null;
  if (mid !== 0) return null;
  if (low === 0 && mode & ConversionMode.ConvertUnspecifiedAddress) return 0;
  if (low === 1 && mode & ConversionMode.ConvertLocalHost) return LOOPBACK_IPV4;
  // ::1 is the IPv6 loopback, never the v4-compatible form of 0.0.0.1.
  if (low !== 1 && mode & ConversionMode.ConvertV4CompatToIPv4) return low;
  return null;
}

// Ranges per RFC 5735 (as Qt 6 uses); no test-net or documentation classes.
function classifyIPv4(a: number): AddressClass {
  if (a >>> 24 === 127) return 'loopback';
  if (a >>> 28 === 0xe) return 'multicast';
  if (a >>> 16 === 0xa9fe) return 'linkLocal';
  if (a >>> 24 === 0) return 'localNet';
  if (a >>> 28 === 0xf) return a === BROADCAST_IPV4 ? 'broadcast' : 'unknown';
  if (a >>> 24 === 10 || a >>> 20 === 0xac1 || a >>> 16 === 0xc0a8) return 'privateNetwork';
  return 'global';
}

// Ranges per the IANA IPv6 address space registry. v4-mapped addresses never
// get here: they are classified by their IPv4 part.
function classifyIPv6(a6: Uint8Array): AddressClass {
  if (!isZero(a6, 0, 8)) {
    if (a6[0] === 0xff) return 'multicast';
    if (a6[0] === 0xfe) {
      const top10 = a6[1] & 0xc0;
      if (top10 === 0x80) return 'linkLocal';
      if (top10 === 0xc0) return 'siteLocal';
      return 'unknown'; // fe00::/9 is reserved
    }
    if ((a6[0] & 0xfe) === 0xfc) return 'uniqueLocal';
    return 'global';
  }
  if (isZero(a6, 8, 15) && a6[15] === 1) return 'loopback';
  if (isZero(a6, 8, 16)) return 'localNet';
  return 'global';
}

function isSpecialAddress(value: number): value is SpecialAddress {
  return typeof SpecialAddress[value] === 'string';
}

function checkUint32(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`QHostAddress: ${value} is not an IPv4 address as a uint32`);
  }
}

/**
 * An IPv4 or IPv6 address, held independently of any socket.
 *
 * Mirrors Qt 6's QHostAddress. Like Qt it performs no name lookups:
 * `new QHostAddress("example.com")` is a null address.
 */
export class QHostAddress {
  /** The null address (SpecialAddress.Null). */
  static readonly Null = SpecialAddress.Null;
  /** 255.255.255.255 (SpecialAddress.Broadcast). */
  static readonly Broadcast = SpecialAddress.Broadcast;
  /** 127.0.0.1 (SpecialAddress.LocalHost). */
  static readonly LocalHost = SpecialAddress.LocalHost;
  /** ::1 (SpecialAddress.LocalHostIPv6). */
  static readonly LocalHostIPv6 = SpecialAddress.LocalHostIPv6;
  /** The dual-stack any-address (SpecialAddress.Any). */
  static readonly Any = SpecialAddress.Any;
  /** :: (SpecialAddress.AnyIPv6). */
  static readonly AnyIPv6 = SpecialAddress.AnyIPv6;
  /** 0.0.0.0 (SpecialAddress.AnyIPv4). */
  static readonly AnyIPv4 = SpecialAddress.AnyIPv4;

  #protocol: NetworkLayerProtocol = NetworkLayerProtocol.UnknownNetworkLayerProtocol;
  // Qt's layout: IPv6 bytes as given; IPv4 as its v4-mapped form, except that
  // 0.0.0.0 stays all zeros; all zeros for Any and null. Never changed in
  // place once set, so that copies can share it (a copy per received
  // datagram then allocates one object, not three).
  #a6: Uint8Array = ZERO16;
  #scopeId = '';

  /** Constructs a null address. */
  constructor();
  /**
   * Constructs an address by parsing `address` (e.g. "127.0.0.1", "fe80::1%eth0").
   * See {@link QHostAddress.setAddress} for the accepted forms; unparsable
   * text gives a null address.
   */
  constructor(address: string);
  /** Constructs the given special address (`new QHostAddress(QHostAddress.LocalHost)`). */
  constructor(address: SpecialAddress);
  /**
   * Constructs an IPv4 address from its host-order uint32 value (0x7f000001 is 127.0.0.1).
   *
   * Differs from Qt: 0–6 are taken as {@link SpecialAddress} values (a number
   * cannot say which it is); use {@link QHostAddress.fromIPv4Address} for
   * 0.0.0.0–0.0.0.6. Throws RangeError unless `ip4Addr` is an integer in
   * [0, 2^32 - 1].
   */
  constructor(ip4Addr: number);
  /**
   * Constructs an address from network-order bytes: 4 bytes give IPv4, 16
   * give IPv6; any other length gives a null address.
   */
  constructor(bytes: Uint8Array);
  /** Constructs a copy of `other`. */
  constructor(other: QHostAddress);
  /** Constructs from any of the inputs above (for callers holding a union). */
  constructor(address?: QHostAddressInput);
  constructor(address?: QHostAddressInput) {
    if (address !== undefined) this.setAddress(address);
  }

  /** @internal A copy of `other`, without the constructor's overload dispatch (once per received datagram). */
  static _copy(other: QHostAddress): QHostAddress {
    const copy = new QHostAddress();
    copy.#protocol = other.#protocol;
    copy.#a6 = other.#a6;
    copy.#scopeId = other.#scopeId;
    return copy;
  }

  /**
   * Constructs an IPv4 address from its host-order uint32 value, including
   * the values 0–6 that the constructor reads as special addresses.
   * Throws RangeError unless `ip4Addr` is an integer in [0, 2^32 - 1].
   */
  static fromIPv4Address(ip4Addr: number): QHostAddress {
    checkUint32(ip4Addr);
    const address = new QHostAddress();
    address.#setIPv4(ip4Addr);
    return address;
  }

  /**
   * Sets the address, with the same overloads as the constructor; returns
   * true if it was set and false (leaving a null address) if a string could
   * not be parsed or a byte array had the wrong length.
   *
   * Strings are trimmed of surrounding whitespace, as Qt does. A string
   * containing ':' is parsed as IPv6 in any RFC 4291 text form (hex in
   * either case, `::`, a trailing dotted quad), optionally followed by
   * `%scope`: everything after the last '%' is the scope id, kept verbatim
   * (possibly empty, as Qt does). Otherwise the string must be an IPv4
   * dotted quad. Brackets ("[::1]") are refused, as in Qt.
   *
   * Differs from Qt: IPv4 text must be exactly four decimal parts 0–255
   * without leading zeros. Qt also takes inet_aton forms ("127.1",
   * "2130706433", hex "0x7f.0.0.1", octal "010.0.0.1" = 8.0.0.1); refusing
   * them means every string accepted here names the address Qt would give.
   * Qt keeps an earlier scope id when given raw IPv6 bytes; here every
   * setAddress() starts from a clean scope id. Setting
   * SpecialAddress.Null returns true (it is a valid request). Invalid
   * numbers throw RangeError and other argument types TypeError, leaving the
   * address unchanged.
   */
  setAddress(address: QHostAddressInput): boolean {
    if (typeof address === 'string') return this.#parse(address);
    if (typeof address === 'number') {
      checkUint32(address);
      if (isSpecialAddress(address)) this.#setSpecial(address);
      else this.#setIPv4(address);
      return true;
    }
    if (address instanceof Uint8Array) {
      if (address.length === 4) {
        this.#setIPv4(readU32(address, 0));
        return true;
      }
      if (address.length === 16) {
        this.#setIPv6(address, '');
        return true;
      }
      this.clear();
      return false;
    }
    if (typeof address === 'object' && address !== null && #a6 in address) {
      this.#protocol = address.#protocol;
      this.#a6 = address.#a6;
      this.#scopeId = address.#scopeId;
      return true;
    }
    throw new TypeError(
      'QHostAddress: expected a string, SpecialAddress, uint32, Uint8Array or QHostAddress',
    );
  }

  /** Makes this the null address (protocol UnknownNetworkLayerProtocol). */
  clear(): void {
    this.#protocol = NetworkLayerProtocol.UnknownNetworkLayerProtocol;
    this.#a6 = ZERO16;
    this.#scopeId = '';
  }

  /**
   * Returns the network layer protocol: IPv4Protocol, IPv6Protocol,
   * AnyIPProtocol for the dual-stack {@link SpecialAddress.Any}, or
   * UnknownNetworkLayerProtocol for a null address.
   */
  protocol(): NetworkLayerProtocol {
    return this.#protocol;
  }

  /** Returns true if this is the null address, valid for no host or interface. */
  isNull(): boolean {
    return this.#protocol === NetworkLayerProtocol.UnknownNetworkLayerProtocol;
  }

  /**
   * Returns the address as text: dotted quad for IPv4; RFC 5952 form for
   * IPv6 (lowercase, longest zero run compressed, v4-mapped as
   * "::ffff:1.2.3.4") followed by "%scope" if there is a scope id; "" for a
   * null address. As in Qt 6, the dual-stack Any gives "0.0.0.0".
   */
  toString(): string {
    switch (this.#protocol) {
      case NetworkLayerProtocol.IPv4Protocol:
      case NetworkLayerProtocol.AnyIPProtocol:
        return ipv4ToString(readU32(this.#a6, 12));
      case NetworkLayerProtocol.IPv6Protocol:
        return ipv6ToString(this.#a6) + (this.#scopeId === '' ? '' : `%${this.#scopeId}`);
      default:
        return '';
    }
  }

  /** Returns {@link QHostAddress.toString}, so JSON carries the textual address. */
  toJSON(): string {
    return this.toString();
  }

  /**
   * Returns the IPv4 address as a host-order uint32 (127.0.0.1 gives
   * 0x7f000001), or 0 when the address has no IPv4 form; use
   * {@link QHostAddress.toIPv4AddressOk} to tell 0.0.0.0 from failure.
   */
  toIPv4Address(): number {
    return this.toIPv4AddressOk().value;
  }

  /**
   * Returns the IPv4 address as a host-order uint32 together with Qt's `ok`
   * flag: ok is true for IPv4 addresses, v4-mapped IPv6 addresses
   * (`::ffff:a.b.c.d`), and, as in Qt, for the unspecified `::` and the
   * dual-stack Any (both value 0).
   *
   * Differs from Qt: returns `{ ok, value }` since TypeScript has no out-parameters.
   */
  toIPv4AddressOk(): IPv4Conversion {
    switch (this.#protocol) {
      case NetworkLayerProtocol.IPv4Protocol:
        return { ok: true, value: readU32(this.#a6, 12) };
      case NetworkLayerProtocol.AnyIPProtocol:
        return { ok: true, value: 0 };
      case NetworkLayerProtocol.IPv6Protocol: {
        const mode =
          ConversionMode.ConvertV4MappedToIPv4 | ConversionMode.ConvertUnspecifiedAddress;
        const value = convertToIPv4(this.#a6, mode);
        return value === null ? { ok: false, value: 0 } : { ok: true, value };
      }
      default:
        return { ok: false, value: 0 };
    }
  }

  /**
   * Returns the IPv6 address as 16 network-order bytes (a fresh copy). For
   * IPv4 addresses this is the v4-mapped form `::ffff:a.b.c.d`, except that,
   * as in Qt, 0.0.0.0 gives all zeros; null and Any give all zeros too.
   */
  toIPv6Address(): Uint8Array {
    return this.#a6.slice();
  }

  /**
   * Returns the IPv6 scope id (an interface name such as "eth0" or an index
   * such as "3"), or "" for IPv4 addresses and addresses without one.
   */
  scopeId(): string {
    return this.#protocol === NetworkLayerProtocol.IPv6Protocol ? this.#scopeId : '';
  }

  /**
   * Sets the IPv6 scope id; does nothing unless this is an IPv6 address.
   * An empty string removes the scope id.
   */
  setScopeId(id: string): void {
    if (typeof id !== 'string') throw new TypeError('QHostAddress: scope id must be a string');
    if (this.#protocol === NetworkLayerProtocol.IPv6Protocol) this.#scopeId = id;
  }

  /**
   * Returns true if this address is the same as `other`, applying the
   * cross-protocol conversions allowed by `mode` (default
   * TolerantConversion, under which 127.0.0.1 equals ::ffff:127.0.0.1 and
   * ::1, and Any equals 0.0.0.0 and ::). Two null addresses are equal, and
   * Any always equals Any.
   *
   * As in Qt, IPv6 scope ids are not compared. Differs from Qt: `other` may
   * also be a string, parsed as by the constructor.
   */
  isEqual(
    other: QHostAddress | SpecialAddress | string,
    mode: ConversionMode | number = ConversionMode.TolerantConversion,
  ): boolean {
    const that = QHostAddress.#coerce(other);
    const mine = this.#protocol;
    const theirs = that.#protocol;
    if (mine === theirs) {
      // Both Any or both null, else the stored bytes decide.
      return bytesEqual(this.#a6, that.#a6);
    }
    const { UnknownNetworkLayerProtocol, AnyIPProtocol, IPv4Protocol } = NetworkLayerProtocol;
    if (mine === UnknownNetworkLayerProtocol || theirs === UnknownNetworkLayerProtocol) return false;
    if (mine === AnyIPProtocol || theirs === AnyIPProtocol) {
      const concrete = mine === AnyIPProtocol ? that : this;
      return (mode & ConversionMode.ConvertUnspecifiedAddress) !== 0 && isZero(concrete.#a6);
    }
    const [v4, v6] = mine === IPv4Protocol ? [this, that] : [that, this];
    const converted = convertToIPv4(v6.#a6, mode);
    return converted !== null && converted === readU32(v4.#a6, 12);
  }

  /**
   * Returns true if this address is the same as `other`: Qt's operator==,
   * i.e. {@link QHostAddress.isEqual} with StrictConversion, so 127.0.0.1
   * does not equal ::ffff:127.0.0.1 and Any equals only Any.
   */
  equals(other: QHostAddress | SpecialAddress | string): boolean {
    return this.isEqual(other, ConversionMode.StrictConversion);
  }

  /**
   * Returns true if this address lies in the subnet given by the network
   * prefix `subnet` (any address in the subnet will do) and prefix length
   * `netmask`. Both must have the same protocol, so an IPv4 address is never
   * in an IPv6 subnet, v4-mapped or not. A negative netmask gives false; one
   * above 32 (IPv4) or 128 (IPv6) counts as a full match. Scope ids are ignored.
   *
   * Differs from Qt: a non-integer netmask throws RangeError.
   */
  isInSubnet(subnet: QHostAddress, netmask: number): boolean;
  /** Returns true if this address lies in `subnet`, a `[prefix, length]` pair as returned by {@link QHostAddress.parseSubnet}. */
  isInSubnet(subnet: readonly [QHostAddress, number]): boolean;
  isInSubnet(subnet: QHostAddress | readonly [QHostAddress, number], netmask?: number): boolean {
    let network: QHostAddress;
    let length: number | undefined;
    if (Array.isArray(subnet)) {
      [network, length] = subnet as readonly [QHostAddress, number];
    } else {
      network = subnet as QHostAddress;
      length = netmask;
    }
    if (!(typeof network === 'object' && network !== null && #a6 in network)) {
      throw new TypeError('QHostAddress.isInSubnet: subnet must be a QHostAddress');
    }
    if (typeof length !== 'number') throw new TypeError('QHostAddress.isInSubnet: netmask must be a number');
    if (!Number.isInteger(length)) throw new RangeError(`QHostAddress.isInSubnet: bad netmask ${length}`);

    if (network.#protocol !== this.#protocol || length < 0) return false;
    let offset: number;
    let bits: number;
    if (this.#protocol === NetworkLayerProtocol.IPv4Protocol) {
      offset = 12;
      bits = Math.min(length, 32);
    } else if (this.#protocol === NetworkLayerProtocol.IPv6Protocol) {
      offset = 0;
      bits = Math.min(length, 128);
    } else {
      return false;
    }
    const whole = bits >>> 3;
    for (let i = 0; i < whole; i++) {
      if (this.#a6[offset + i] !== network.#a6[offset + i]) return false;
    }
    const rest = bits & 7;
    if (rest === 0) return true;
    const mask = (0xff << (8 - rest)) & 0xff;
    return (this.#a6[offset + whole] & mask) === (network.#a6[offset + whole] & mask);
  }

  /**
   * Parses "address/prefix" into the network prefix (host bits cleared) and
   * its length, or returns `[null address, -1]` if the text is malformed.
   *
   * Accepted, as in Qt: "a.b.c.d/n" (n 0–32); "a.b.c.d/255.255.255.0" (a
   * contiguous mask); "ipv6/n" (n 0–128, default 128, scope id kept); and
   * IPv4 with trailing parts left out, with or without a final dot ("10",
   * "192.168.1.", "10.1/16"), where the default length is 8 per part given.
   * IPv4 parts here are decimal even with leading zeros, as in Qt.
   *
   * Differs from Qt: surrounding whitespace is trimmed, the prefix length
   * must be plain decimal digits, and an empty address part ("/24") is
   * refused where Qt returns 0.0.0.0.
   */
  static parseSubnet(subnet: string): [QHostAddress, number] {
    const invalid = (): [QHostAddress, number] => [new QHostAddress(), -1];
    if (typeof subnet !== 'string') throw new TypeError('QHostAddress.parseSubnet: expected a string');
    const text = subnet.trim();
    const slash = text.indexOf('/');
    const netText = slash === -1 ? text : text.slice(0, slash);
    const maskText = slash === -1 ? null : text.slice(slash + 1);
    if (netText === '') return invalid();
    const isIPv6 = netText.includes(':');

    let netmask = -1;
    if (maskText !== null) {
      if (!isIPv6 && maskText.includes('.')) {
        const mask = parseIPv4(maskText);
        if (mask === null) return invalid();
        netmask = 0;
        while (netmask < 32 && mask & (0x80000000 >>> netmask)) netmask++;
        const expected = netmask === 0 ? 0 : (0xffffffff << (32 - netmask)) >>> 0;
        if (mask !== expected) return invalid();
      } else {
        if (!DECIMAL.test(maskText)) return invalid();
        netmask = Number(maskText);
      }
    }

    if (isIPv6) {
      if (netmask > 128) return invalid();
      if (netmask < 0) netmask = 128;
      const net = new QHostAddress();
      if (!net.#parse(netText) || net.#protocol !== NetworkLayerProtocol.IPv6Protocol) return invalid();
      const masked = net.#a6.slice();
      for (let bit = netmask; bit < 128; bit++) masked[bit >>> 3] &= ~(0x80 >>> (bit & 7));
      net.#a6 = masked;
      return [net, netmask];
    }

    if (netmask > 32) return invalid();
    const parts = netText.split('.');
    if (parts.length > 4) return invalid();
    if (parts[parts.length - 1] === '') parts.pop();
    let addr = 0;
    for (const part of parts) {
      if (!DECIMAL.test(part)) return invalid();
      const octet = Number(part);
      if (octet > 255) return invalid();
      addr = addr * 256 + octet;
    }
    addr *= 256 ** (4 - parts.length);
    if (netmask < 0) netmask = 8 * parts.length;
    const keep = netmask === 0 ? 0 : (0xffffffff << (32 - netmask)) >>> 0;
    return [QHostAddress.fromIPv4Address((addr & keep) >>> 0), netmask];
  }

  /** Returns true for the IPv4 loopback network 127.0.0.0/8 (also v4-mapped) and the IPv6 loopback ::1. */
  isLoopback(): boolean {
    return this.#classify() === 'loopback';
  }

  /**
   * Returns true if the address is global, i.e. not reserved for special
   * purposes such as loopback, link-local, multicast, broadcast, 0.0.0.0/8,
   * 240.0.0.0/4 or fe00::/9. As in Qt, RFC 1918 private IPv4 addresses,
   * unique local (fc00::/7) and deprecated site-local (fec0::/10) IPv6
   * addresses count as global.
   */
  isGlobal(): boolean {
    return GLOBAL_CLASSES.has(this.#classify());
  }

  /** Returns true for link-local addresses: 169.254.0.0/16 (also v4-mapped) and fe80::/10. */
  isLinkLocal(): boolean {
    return this.#classify() === 'linkLocal';
  }

  /** Returns true for the deprecated IPv6 site-local addresses fec0::/10. */
  isSiteLocal(): boolean {
    return this.#classify() === 'siteLocal';
  }

  /** Returns true for IPv6 unique local unicast addresses fc00::/7 (RFC 4193). */
  isUniqueLocalUnicast(): boolean {
    return this.#classify() === 'uniqueLocal';
  }

  /** Returns true for multicast addresses: 224.0.0.0/4 (also v4-mapped) and ff00::/8. */
  isMulticast(): boolean {
    return this.#classify() === 'multicast';
  }

  /**
   * Returns true for the IPv4 limited broadcast address 255.255.255.255
   * (also v4-mapped, as in Qt), not for a subnet's directed broadcast address.
   */
  isBroadcast(): boolean {
    return this.#classify() === 'broadcast';
  }

  /**
   * Returns true for addresses reserved for private networks: RFC 1918
   * IPv4 (10/8, 172.16/12, 192.168/16, also v4-mapped) and IPv6 unique local
   * unicast fc00::/7.
   */
  isPrivateUse(): boolean {
    const kind = this.#classify();
    return kind === 'privateNetwork' || kind === 'uniqueLocal';
  }

  /**
   * The raw bytes for the socket layer, as a fresh copy: 4 network-order
   * bytes for IPv4, 16 for IPv6, 16 zero bytes for the dual-stack Any
   * (bind an IPv6 socket to in6addr_any without IPV6_V6ONLY), and none for
   * a null address.
   * @internal
   */
  _bytes(): Uint8Array {
    switch (this.#protocol) {
      case NetworkLayerProtocol.IPv4Protocol:
        return this.#a6.slice(12);
      case NetworkLayerProtocol.IPv6Protocol:
      case NetworkLayerProtocol.AnyIPProtocol:
        return this.#a6.slice();
      default:
        return new Uint8Array(0);
    }
  }

  /**
   * Builds an address from raw network-order bytes (4 or 16; anything else
   * gives a null address) plus an optional IPv6 scope id, e.g. from a sockaddr.
   * @internal
   */
  static _fromBytes(bytes: Uint8Array, scopeId = ''): QHostAddress {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('QHostAddress._fromBytes: expected a Uint8Array');
    const address = new QHostAddress(bytes);
    address.setScopeId(scopeId);
    return address;
  }

  /** Shows `QHostAddress("127.0.0.1")` in console.log and util.inspect. */
  [inspectCustom](): string {
    // Qt's QDebug output names Any, since "0.0.0.0" would pass for AnyIPv4.
    if (this.#protocol === NetworkLayerProtocol.AnyIPProtocol) return 'QHostAddress(QHostAddress.Any)';
    return `QHostAddress(${JSON.stringify(this.toString())})`;
  }

  static #coerce(value: QHostAddress | SpecialAddress | string): QHostAddress {
    if (typeof value === 'object' && value !== null && #a6 in value) return value;
    return new QHostAddress(value);
  }

  #parse(text: string): boolean {
    this.clear();
    const trimmed = text.trim();
    if (trimmed.includes(':')) {
      // Qt splits at the last '%', so "::1%a%b" fails (its address part is "::1%a").
      const percent = trimmed.lastIndexOf('%');
      const scope = percent === -1 ? '' : trimmed.slice(percent + 1);
      const bytes = parseIPv6(percent === -1 ? trimmed : trimmed.slice(0, percent));
      if (bytes === null) return false;
      this.#setIPv6(bytes, scope);
      return true;
    }
    const v4 = parseIPv4(trimmed);
    if (v4 === null) return false;
    this.#setIPv4(v4);
    return true;
  }

  #setIPv4(value: number): void {
    this.clear();
    this.#protocol = NetworkLayerProtocol.IPv4Protocol;
    if (value !== 0) this.#a6 = v4Mapped(value);
  }

  #setIPv6(bytes: Uint8Array, scopeId: string): void {
    this.#protocol = NetworkLayerProtocol.IPv6Protocol;
    this.#a6 = Uint8Array.from(bytes);
    this.#scopeId = scopeId;
  }

  #setSpecial(special: SpecialAddress): void {
    switch (special) {
      case SpecialAddress.Null:
        this.clear();
        return;
      case SpecialAddress.Broadcast:
        this.#setIPv4(BROADCAST_IPV4);
        return;
      case SpecialAddress.LocalHost:
        this.#setIPv4(LOOPBACK_IPV4);
        return;
      case SpecialAddress.AnyIPv4:
        this.#setIPv4(0);
        return;
      case SpecialAddress.LocalHostIPv6: {
        const bytes = new Uint8Array(16);
        bytes[15] = 1;
        this.#setIPv6(bytes, '');
        return;
      }
      case SpecialAddress.AnyIPv6:
        this.#setIPv6(new Uint8Array(16), '');
        return;
      case SpecialAddress.Any:
        this.clear();
        this.#protocol = NetworkLayerProtocol.AnyIPProtocol;
        return;
    }
  }

  #classify(): AddressClass {
    switch (this.#protocol) {
      case NetworkLayerProtocol.IPv4Protocol:
        return classifyIPv4(readU32(this.#a6, 12));
      case NetworkLayerProtocol.IPv6Protocol:
        return isV4Mapped(this.#a6) ? classifyIPv4(readU32(this.#a6, 12)) : classifyIPv6(this.#a6);
      case NetworkLayerProtocol.AnyIPProtocol:
        return 'localNet';
      default:
        return 'unknown';
    }
  }
}

// Qt's nested enums, reachable as QHostAddress.SpecialAddress.LocalHost and
// usable as types (`let s: QHostAddress.SpecialAddress`).
// eslint-disable-next-line @typescript-eslint/no-namespace
export namespace QHostAddress {
  export import SpecialAddress = enums.SpecialAddress;
  export import ConversionModeFlag = ConversionMode;
}
