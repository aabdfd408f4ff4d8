import { inspect } from 'node:util';
import { NetworkLayerProtocol, SpecialAddress } from '../lib/enums';
import { ConversionMode, QHostAddress } from '../lib/host-address';

const { IPv4Protocol, IPv6Protocol, AnyIPProtocol, UnknownNetworkLayerProtocol } = NetworkLayerProtocol;

const addr = (text: string): QHostAddress => new QHostAddress(text);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('QHostAddress construction and parsing', () => {
  test('default constructor gives a null address', () => {
    const a = new QHostAddress();
    expect(a.isNull()).toBe(true);
    expect(a.protocol()).toBe(UnknownNetworkLayerProtocol);
    expect(a.toString()).toBe('');
    expect(new QHostAddress(undefined).isNull()).toBe(true);
  });

  test.each([
    ['0.0.0.0', 0],
    ['1.2.3.4', 0x01020304],
    ['127.0.0.1', 0x7f000001],
    ['10.20.30.40', 0x0a141e28],
    ['192.168.100.200', 0xc0a864c8],
    ['255.255.255.255', 0xffffffff],
  ])('IPv4 %s round-trips', (text, value) => {
    const a = addr(text);
    expect(a.protocol()).toBe(IPv4Protocol);
    expect(a.isNull()).toBe(false);
    expect(a.toString()).toBe(text);
    expect(a.toIPv4Address()).toBe(value);
  });

  test('surrounding whitespace is ignored, as Qt simplifies the input', () => {
    expect(addr('  10.0.0.1\t').toString()).toBe('10.0.0.1');
    expect(addr('\n::1 ').toString()).toBe('::1');
  });

  test.each([
    // [input, canonical RFC 5952 output]
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: leftmost run
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run wins over leftmost
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // single zero group stays
    ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // "::" for one group is accepted, not produced
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1:2:3::4:5:6:7', '1:2:3:0:4:5:6:7'],
    ['1:0:0:2:0:0:0:0', '1:0:0:2::'],
    ['abcd:ef01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    ['fe80::0001', 'fe80::1'],
    ['ff02::1:ff00:1', 'ff02::1:ff00:1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:192.168.0.1', '::ffff:192.168.0.1'],
    ['0:0:0:0:0:ffff:0102:0304', '::ffff:1.2.3.4'],
    ['::ffff:0.0.0.0', '::ffff:0.0.0.0'],
    ['::1.2.3.4', '::1.2.3.4'], // v4-compatible: mixed notation, as Qt prints it
    ['::0.0.1.2', '::102'], // ...unless the IPv4 part's top half is zero
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('IPv6 %s prints as %s', (text, expected) => {
    const a = addr(text);
    expect(a.protocol()).toBe(IPv6Protocol);
    expect(a.toString()).toBe(expected);
    // The canonical form must parse back to the same bytes.
    expect(hex(addr(expected).toIPv6Address())).toBe(hex(a.toIPv6Address()));
  });

  test('IPv6 bytes are stored in network order', () => {
    expect(hex(addr('2001:db8::ff00:42:8329').toIPv6Address())).toBe('20010db8000000000000ff0000428329');
    expect(hex(addr('::ffff:1.2.3.4').toIPv6Address())).toBe('00000000000000000000ffff01020304');
  });

  test('scope ids are kept as strings and printed after %', () => {
    const a = addr('fe80::1%eth0');
    expect(a.protocol()).toBe(IPv6Protocol);
    expect(a.scopeId()).toBe('eth0');
    expect(a.toString()).toBe('fe80::1%eth0');

    const b = addr('FE80:0:0:0:0:0:0:1%3');
    expect(b.scopeId()).toBe('3');
    expect(b.toString()).toBe('fe80::1%3');

    expect(addr('::ffff:1.2.3.4%lo').toString()).toBe('::ffff:1.2.3.4%lo');
    // Qt takes everything after the last '%', even if empty.
    expect(addr('fe80::1%').toString()).toBe('fe80::1');
    expect(addr('fe80::1%').scopeId()).toBe('');
    expect(addr('fe80::1').scopeId()).toBe('');
  });

  test('setScopeId works on IPv6 and is ignored elsewhere', () => {
    const a = addr('fe80::1');
    a.setScopeId('en1');
    expect(a.scopeId()).toBe('en1');
    expect(a.toString()).toBe('fe80::1%en1');
    a.setScopeId('');
    expect(a.toString()).toBe('fe80::1');

    const v4 = addr('1.2.3.4');
    v4.setScopeId('eth0');
    expect(v4.scopeId()).toBe('');
    expect(v4.toString()).toBe('1.2.3.4');

    const any = new QHostAddress(SpecialAddress.Any);
    any.setScopeId('eth0');
    expect(any.scopeId()).toBe('');

    expect(() => a.setScopeId(3 as unknown as string)).toThrow(TypeError);
  });

  test('a new address does not inherit a previous scope id', () => {
    const a = addr('fe80::1%eth0');
    a.setAddress('fe80::2');
    expect(a.scopeId()).toBe('');
    a.setAddress('fe80::3%wlan0');
    a.setAddress(new Uint8Array(16));
    expect(a.scopeId()).toBe('');
  });

  test.each([
    '',
    '   ',
    'hello',
    'localhost',
    '1.2.3',
    '1.2.3.256',
    '1.2.3.4.5',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.-1',
    '1.2.3.+4',
    '1.2.3.4 5',
    '256.0.0.0',
    '01.2.3.4', // octal in Qt, refused here
    '1.2.3.00',
    '127.1', // inet_aton short form: refused here
    '2130706433',
    '0x7f.0.0.1',
    '１.２.３.４', // full-width digits
    ':',
    ':::',
    '::1::',
    '1::2::3',
    '12345::',
    '::12345',
    'g::1',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '1:2:3:4::5:6:7:8',
    ':1::',
    '1::2:',
    ':1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:',
    '[::1]',
    '::1]',
    '::ffff:1.2.3',
    '::ffff:1.2.3.4.5',
    '::ffff:256.1.1.1',
    '::ffff:01.2.3.4',
    '1.2.3.4::',
    '1.2.3.4::1',
    '::1.2.3.4:5',
    '::1.2.3.4.5',
    '1:2:3:4:5:6:7:1.2.3.4',
    '%',
    '%eth0',
    '1.2.3.4%eth0',
    'hello%eth0',
    '::1%a%b',
    '%::1',
    '::1 %eth0x',
    '::1 2',
  ])('%j is not an address (null, no throw)', (text) => {
    let a!: QHostAddress;
    expect(() => {
      a = new QHostAddress(text);
    }).not.toThrow();
    expect(a.isNull()).toBe(true);
    expect(a.protocol()).toBe(UnknownNetworkLayerProtocol);
    expect(a.toString()).toBe('');
  });

  test('uint32 constructor', () => {
    expect(new QHostAddress(0x7f000001).toString()).toBe('127.0.0.1');
    expect(new QHostAddress(0xffffffff).toString()).toBe('255.255.255.255');
    expect(new QHostAddress(0x0a000001).protocol()).toBe(IPv4Protocol);
    expect(new QHostAddress(7).toString()).toBe('0.0.0.7');
  });

  test('numbers 0-6 are special addresses; fromIPv4Address covers them as IPv4', () => {
    expect(new QHostAddress(2).toString()).toBe('127.0.0.1');
    expect(new QHostAddress(0).isNull()).toBe(true);
    const zero = QHostAddress.fromIPv4Address(0);
    expect(zero.protocol()).toBe(IPv4Protocol);
    expect(zero.toString()).toBe('0.0.0.0');
    expect(QHostAddress.fromIPv4Address(2).toString()).toBe('0.0.0.2');
    expect(QHostAddress.fromIPv4Address(0xc0a80001).toString()).toBe('192.168.0.1');
  });

  test.each([-1, 2 ** 32, 1.5, NaN, Infinity, -Infinity])('uint32 %p is a RangeError', (n) => {
    expect(() => new QHostAddress(n)).toThrow(RangeError);
    expect(() => QHostAddress.fromIPv4Address(n)).toThrow(RangeError);
    const a = addr('1.2.3.4');
    expect(() => a.setAddress(n)).toThrow(RangeError);
    expect(a.toString()).toBe('1.2.3.4'); // unchanged on misuse
  });

  test.each([null, {}, [1, 2, 3, 4], true, 10n])('argument %p is a TypeError', (bad) => {
    expect(() => new QHostAddress(bad as unknown as string)).toThrow(TypeError);
  });

  test('byte-array constructor', () => {
    const v4 = new QHostAddress(new Uint8Array([192, 168, 1, 2]));
    expect(v4.protocol()).toBe(IPv4Protocol);
    expect(v4.toString()).toBe('192.168.1.2');

    const bytes = new Uint8Array(16);
    bytes[0] = 0x20;
    bytes[1] = 0x01;
    bytes[15] = 0x09;
    const v6 = new QHostAddress(bytes);
    expect(v6.protocol()).toBe(IPv6Protocol);
    expect(v6.toString()).toBe('2001::9');
    // The address must not alias the caller's array.
    bytes[15] = 0x0a;
    expect(v6.toString()).toBe('2001::9');

    // Buffer is a Uint8Array, and a view with an offset must read its own bytes.
    const big = Buffer.from([9, 9, 10, 0, 0, 1, 9]);
    expect(new QHostAddress(big.subarray(2, 6)).toString()).toBe('10.0.0.1');

    for (const length of [0, 3, 5, 15, 17]) {
      expect(new QHostAddress(new Uint8Array(length)).isNull()).toBe(true);
    }
  });

  test('copy constructor copies, including the scope id, and is independent', () => {
    const original = addr('fe80::1%eth0');
    const copy = new QHostAddress(original);
    expect(copy.toString()).toBe('fe80::1%eth0');
    expect(copy.scopeId()).toBe('eth0');
    original.setAddress('1.2.3.4');
    expect(copy.toString()).toBe('fe80::1%eth0');
    expect(new QHostAddress(new QHostAddress(SpecialAddress.Any)).protocol()).toBe(AnyIPProtocol);
    expect(new QHostAddress(new QHostAddress()).isNull()).toBe(true);
  });

  test('setAddress returns success and leaves a null address on failure', () => {
    const a = addr('1.2.3.4');
    expect(a.setAddress('::1')).toBe(true);
    expect(a.toString()).toBe('::1');
    expect(a.setAddress('not an address')).toBe(false);
    expect(a.isNull()).toBe(true);
    expect(a.setAddress(SpecialAddress.LocalHost)).toBe(true);
    expect(a.toString()).toBe('127.0.0.1');
    expect(a.setAddress(new Uint8Array(5))).toBe(false);
    expect(a.isNull()).toBe(true);
    expect(a.setAddress(0x01020304)).toBe(true);
    expect(a.toString()).toBe('1.2.3.4');
    expect(a.setAddress(new QHostAddress('::2'))).toBe(true);
    expect(a.toString()).toBe('::2');
    expect(a.setAddress(SpecialAddress.Null)).toBe(true);
    expect(a.isNull()).toBe(true);
  });

  test('clear() makes the address null', () => {
    const a = addr('fe80::1%eth0');
    a.clear();
    expect(a.isNull()).toBe(true);
    expect(a.toString()).toBe('');
    expect(a.scopeId()).toBe('');
    expect(hex(a.toIPv6Address())).toBe('0'.repeat(32));
  });
});

describe('special addresses', () => {
  test.each([
    [SpecialAddress.Null, UnknownNetworkLayerProtocol, ''],
    [SpecialAddress.Broadcast, IPv4Protocol, '255.255.255.255'],
    [SpecialAddress.LocalHost, IPv4Protocol, '127.0.0.1'],
    [SpecialAddress.LocalHostIPv6, IPv6Protocol, '::1'],
    [SpecialAddress.Any, AnyIPProtocol, '0.0.0.0'], // Qt 6 prints Any's IPv4 form
    [SpecialAddress.AnyIPv6, IPv6Protocol, '::'],
    [SpecialAddress.AnyIPv4, IPv4Protocol, '0.0.0.0'],
  ])('SpecialAddress %p: protocol %p, text %j', (special, protocol, text) => {
    const a = new QHostAddress(special);
    expect(a.protocol()).toBe(protocol);
    expect(a.toString()).toBe(text);
    expect(a.isNull()).toBe(special === SpecialAddress.Null);
    expect(a.equals(special)).toBe(true);
    expect(a.isEqual(special, ConversionMode.StrictConversion)).toBe(true);
    const viaSetter = new QHostAddress('9.9.9.9');
    viaSetter.setAddress(special);
    expect(viaSetter.equals(a)).toBe(true);
  });

  test('static aliases equal the enum values and are accepted by the constructor', () => {
    expect(QHostAddress.Null).toBe(SpecialAddress.Null);
    expect(QHostAddress.Broadcast).toBe(SpecialAddress.Broadcast);
    expect(QHostAddress.LocalHost).toBe(SpecialAddress.LocalHost);
    expect(QHostAddress.LocalHostIPv6).toBe(SpecialAddress.LocalHostIPv6);
    expect(QHostAddress.Any).toBe(SpecialAddress.Any);
    expect(QHostAddress.AnyIPv6).toBe(SpecialAddress.AnyIPv6);
    expect(QHostAddress.AnyIPv4).toBe(SpecialAddress.AnyIPv4);
    expect(new QHostAddress(QHostAddress.LocalHost).toString()).toBe('127.0.0.1');
    expect(new QHostAddress(QHostAddress.LocalHostIPv6).toString()).toBe('::1');
  });

  test('nested enums are reachable as values and as types', () => {
    expect(QHostAddress.SpecialAddress).toBe(SpecialAddress);
    expect(QHostAddress.ConversionModeFlag).toBe(ConversionMode);
    const special: QHostAddress.SpecialAddress = QHostAddress.SpecialAddress.LocalHost;
    const mode: QHostAddress.ConversionModeFlag = QHostAddress.ConversionModeFlag.ConvertLocalHost;
    expect(new QHostAddress(special).toString()).toBe('127.0.0.1');
    expect(addr('::1').isEqual(addr('127.0.0.1'), mode)).toBe(true);
  });

  test('ConversionMode has Qt values', () => {
    expect(ConversionMode.StrictConversion).toBe(0);
    expect(ConversionMode.ConvertV4MappedToIPv4).toBe(1);
    expect(ConversionMode.ConvertV4CompatToIPv4).toBe(2);
    expect(ConversionMode.ConvertUnspecifiedAddress).toBe(4);
    expect(ConversionMode.ConvertLocalHost).toBe(8);
    expect(ConversionMode.TolerantConversion).toBe(0xff);
  });
});

describe('toIPv4Address / toIPv6Address', () => {
  test.each([
    ['127.0.0.1', true, 0x7f000001],
    ['255.255.255.255', true, 0xffffffff],
    ['0.0.0.0', true, 0],
    ['::ffff:192.168.1.1', true, 0xc0a80101],
    ['::ffff:0.0.0.0', true, 0],
    ['::', true, 0], // Qt reports the unspecified address as convertible
    ['::1', false, 0],
    ['::1.2.3.4', false, 0], // v4-compatible is not converted
    ['2001:db8::1', false, 0],
    ['garbage', false, 0],
  ])('%s gives ok=%p value=%p', (text, ok, value) => {
    const a = addr(text);
    expect(a.toIPv4AddressOk()).toEqual({ ok, value });
    expect(a.toIPv4Address()).toBe(value);
  });

  test('special addresses', () => {
    expect(new QHostAddress(SpecialAddress.AnyIPv4).toIPv4AddressOk()).toEqual({ ok: true, value: 0 });
    expect(new QHostAddress(SpecialAddress.Any).toIPv4AddressOk()).toEqual({ ok: true, value: 0 });
    expect(new QHostAddress(SpecialAddress.LocalHost).toIPv4Address()).toBe(0x7f000001);
    expect(new QHostAddress().toIPv4AddressOk()).toEqual({ ok: false, value: 0 });
  });

  test('IPv4 addresses give the v4-mapped IPv6 form (0.0.0.0 gives ::, as in Qt)', () => {
    expect(hex(addr('1.2.3.4').toIPv6Address())).toBe('00000000000000000000ffff01020304');
    expect(hex(addr('0.0.0.0').toIPv6Address())).toBe('0'.repeat(32));
    expect(hex(new QHostAddress(SpecialAddress.Any).toIPv6Address())).toBe('0'.repeat(32));
  });

  test('toIPv6Address returns a copy', () => {
    const a = addr('::1');
    const bytes = a.toIPv6Address();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(16);
    bytes[0] = 0xff;
    expect(a.toString()).toBe('::1');
  });
});

describe('classification predicates', () => {
  type Flag =
    | 'loopback'
    | 'multicast'
    | 'broadcast'
    | 'linkLocal'
    | 'siteLocal'
    | 'uniqueLocal'
    | 'privateUse'
    | 'global';
  const check = (a: QHostAddress): Flag[] => {
    const flags: Flag[] = [];
    if (a.isLoopback()) flags.push('loopback');
    if (a.isMulticast()) flags.push('multicast');
    if (a.isBroadcast()) flags.push('broadcast');
    if (a.isLinkLocal()) flags.push('linkLocal');
    if (a.isSiteLocal()) flags.push('siteLocal');
    if (a.isUniqueLocalUnicast()) flags.push('uniqueLocal');
    if (a.isPrivateUse()) flags.push('privateUse');
    if (a.isGlobal()) flags.push('global');
    return flags;
  };

  test.each<[string, Flag[]]>([
    ['127.0.0.1', ['loopback']],
    ['127.255.255.254', ['loopback']],
    ['128.0.0.1', ['global']],
    ['126.255.255.255', ['global']],
    ['::1', ['loopback']],
    ['::ffff:127.0.0.1', ['loopback']],
    ['::2', ['global']],
    ['224.0.0.1', ['multicast']],
    ['239.255.255.255', ['multicast']],
    ['223.255.255.255', ['global']],
    ['ff02::1', ['multicast']],
    ['ff00::', ['multicast']],
    ['fe00::1', []], // reserved fe00::/9
    ['::ffff:224.0.0.251', ['multicast']],
    ['255.255.255.255', ['broadcast']],
    ['255.255.255.254', []], // 240.0.0.0/4 is reserved
    ['240.0.0.1', []],
    ['::ffff:255.255.255.255', ['broadcast']],
    ['169.254.1.1', ['linkLocal']],
    ['169.253.1.1', ['global']],
    ['fe80::1', ['linkLocal']],
    ['febf:ffff::1', ['linkLocal']],
    ['fec0::1', ['siteLocal', 'global']],
    ['feff::1', ['siteLocal', 'global']],
    ['fc00::1', ['uniqueLocal', 'privateUse', 'global']],
    ['fdff:1234::1', ['uniqueLocal', 'privateUse', 'global']],
    ['fe00::', []],
    ['fbff::1', ['global']],
    ['10.0.0.1', ['privateUse', 'global']],
    ['10.255.255.255', ['privateUse', 'global']],
    ['11.0.0.1', ['global']],
    ['172.16.0.1', ['privateUse', 'global']],
    ['172.31.255.255', ['privateUse', 'global']],
    ['172.15.255.255', ['global']],
    ['172.32.0.0', ['global']],
    ['192.168.0.1', ['privateUse', 'global']],
    ['192.169.0.1', ['global']],
    ['::ffff:10.1.2.3', ['privateUse', 'global']],
    ['8.8.8.8', ['global']],
    ['2001:4860:4860::8888', ['global']],
    ['0.0.0.0', []],
    ['0.1.2.3', []], // "this network" 0.0.0.0/8
    ['::', []],
    ['::ffff:0.0.0.0', []],
    ['::1.2.3.4', ['global']],
  ])('%s is %j', (text, flags) => {
    expect(check(addr(text))).toEqual(flags);
  });

  test('null and Any are nothing', () => {
    expect(check(new QHostAddress())).toEqual([]);
    expect(check(new QHostAddress(SpecialAddress.Any))).toEqual([]);
    expect(check(new QHostAddress(SpecialAddress.LocalHostIPv6))).toEqual(['loopback']);
    expect(check(new QHostAddress(SpecialAddress.Broadcast))).toEqual(['broadcast']);
  });
});

describe('isEqual / equals', () => {
  const any = () => new QHostAddress(SpecialAddress.Any);

  test('same-protocol comparisons', () => {
    expect(addr('1.2.3.4').equals(addr('1.2.3.4'))).toBe(true);
    expect(addr('1.2.3.4').equals(addr('1.2.3.5'))).toBe(false);
    expect(addr('2001:db8::1').equals(addr('2001:DB8:0::1'))).toBe(true);
    expect(addr('2001:db8::1').equals(addr('2001:db8::2'))).toBe(false);
    expect(new QHostAddress().equals(new QHostAddress())).toBe(true);
    expect(new QHostAddress().equals(addr('1.2.3.4'))).toBe(false);
    expect(addr('1.2.3.4').equals(new QHostAddress())).toBe(false);
    expect(any().equals(any())).toBe(true);
  });

  test('scope ids are not compared, as in Qt', () => {
    expect(addr('fe80::1%eth0').equals(addr('fe80::1%eth1'))).toBe(true);
    expect(addr('fe80::1%eth0').equals(addr('fe80::1'))).toBe(true);
  });

  test('v4-mapped: strict vs tolerant', () => {
    const v4 = addr('127.0.0.1');
    const mapped = addr('::ffff:127.0.0.1');
    expect(v4.equals(mapped)).toBe(false);
    expect(v4.isEqual(mapped, ConversionMode.StrictConversion)).toBe(false);
    expect(v4.isEqual(mapped)).toBe(true);
    expect(mapped.isEqual(v4)).toBe(true);
    expect(v4.isEqual(mapped, ConversionMode.ConvertV4MappedToIPv4)).toBe(true);
    expect(v4.isEqual(mapped, ConversionMode.ConvertV4CompatToIPv4)).toBe(false);
    expect(v4.isEqual(addr('::ffff:127.0.0.2'))).toBe(false);
    expect(v4.isEqual('::ffff:127.0.0.1')).toBe(true);
    expect(v4.equals('127.0.0.1')).toBe(true);
  });

  test('v4-compatible and localhost conversions', () => {
    const v4 = addr('1.2.3.4');
    const compat = addr('::1.2.3.4');
    expect(v4.isEqual(compat, ConversionMode.ConvertV4CompatToIPv4)).toBe(true);
    expect(v4.isEqual(compat, ConversionMode.ConvertV4MappedToIPv4)).toBe(false);
    expect(v4.isEqual(compat)).toBe(true);

    const lo6 = addr('::1');
    const lo4 = addr('127.0.0.1');
    expect(lo6.isEqual(lo4, ConversionMode.ConvertLocalHost)).toBe(true);
    expect(lo6.isEqual(lo4)).toBe(true);
    expect(lo6.isEqual(lo4, ConversionMode.ConvertV4CompatToIPv4)).toBe(false); // ::1 is not 0.0.0.1
    expect(lo6.isEqual(QHostAddress.fromIPv4Address(1))).toBe(false);
    expect(lo6.equals(lo4)).toBe(false);
    // ::1 is the loopback, never the v4-compatible form of 0.0.0.1.
    expect(lo6.isEqual(QHostAddress.fromIPv4Address(1), ConversionMode.ConvertV4CompatToIPv4)).toBe(false);
    expect(addr('::2').isEqual(QHostAddress.fromIPv4Address(2), ConversionMode.ConvertV4CompatToIPv4)).toBe(true);
  });

  test('addresses outside ::/64 never convert to IPv4', () => {
    const T = ConversionMode.TolerantConversion;
    expect(addr('1::ffff:1.2.3.4').isEqual(addr('1.2.3.4'), T)).toBe(false);
    expect(addr('1:0:0:0::1.2.3.4').isEqual(addr('1.2.3.4'), T)).toBe(false);
    expect(addr('0:0:0:1::1').isEqual(addr('127.0.0.1'), T)).toBe(false);
    expect(addr('0:0:0:1::').isEqual(addr('0.0.0.0'), T)).toBe(false);
    expect(addr('1::ffff:1.2.3.4').toIPv4AddressOk()).toEqual({ ok: false, value: 0 });
  });

  test('unspecified addresses', () => {
    const v4any = new QHostAddress(SpecialAddress.AnyIPv4);
    const v6any = new QHostAddress(SpecialAddress.AnyIPv6);
    const U = ConversionMode.ConvertUnspecifiedAddress;
    expect(any().isEqual(v4any)).toBe(true);
    expect(v4any.isEqual(any())).toBe(true);
    expect(any().isEqual(v6any)).toBe(true);
    expect(v6any.isEqual(any())).toBe(true);
    expect(v4any.isEqual(v6any)).toBe(true);
    expect(any().isEqual(v4any, U)).toBe(true);
    expect(v6any.isEqual(v4any, U)).toBe(true);

    expect(any().equals(v4any)).toBe(false);
    expect(any().equals(v6any)).toBe(false);
    expect(v4any.equals(v6any)).toBe(false);
    expect(any().isEqual(v4any, ConversionMode.ConvertV4MappedToIPv4)).toBe(false);

    expect(any().isEqual(addr('1.2.3.4'))).toBe(false);
    expect(addr('::1').isEqual(any())).toBe(false);
    expect(addr('::ffff:0.0.0.0').isEqual(any())).toBe(false);
    expect(any().isEqual(new QHostAddress())).toBe(false);
    expect(new QHostAddress().isEqual(any())).toBe(false);
  });

  test('special-address operands follow Qt operator==(SpecialAddress)', () => {
    expect(addr('127.0.0.1').equals(SpecialAddress.LocalHost)).toBe(true);
    expect(addr('::ffff:127.0.0.1').equals(SpecialAddress.LocalHost)).toBe(false);
    expect(addr('::ffff:127.0.0.1').isEqual(SpecialAddress.LocalHost)).toBe(true);
    expect(addr('::1%lo').equals(SpecialAddress.LocalHostIPv6)).toBe(true);
    expect(addr('0.0.0.0').equals(SpecialAddress.Any)).toBe(false);
    expect(addr('0.0.0.0').equals(SpecialAddress.AnyIPv4)).toBe(true);
    expect(addr('::').equals(SpecialAddress.AnyIPv6)).toBe(true);
    expect(addr('bogus').equals(SpecialAddress.Null)).toBe(true);
    expect(addr('255.255.255.255').equals(QHostAddress.Broadcast)).toBe(true);
  });
});

describe('isInSubnet / parseSubnet', () => {
  test('IPv4 subnets', () => {
    const a = addr('192.168.1.77');
    expect(a.isInSubnet(addr('192.168.1.0'), 24)).toBe(true);
    expect(a.isInSubnet(addr('192.168.1.200'), 24)).toBe(true); // any member names the subnet
    expect(a.isInSubnet(addr('192.168.2.0'), 24)).toBe(false);
    expect(a.isInSubnet(addr('192.168.0.0'), 23)).toBe(true);
    expect(a.isInSubnet(addr('192.168.2.0'), 23)).toBe(false);
    expect(a.isInSubnet(addr('192.168.1.64'), 26)).toBe(true);
    expect(a.isInSubnet(addr('192.168.1.128'), 26)).toBe(false);
    expect(a.isInSubnet(addr('192.168.1.76'), 31)).toBe(true);
    expect(a.isInSubnet(addr('192.168.1.76'), 32)).toBe(false);
    expect(a.isInSubnet(addr('192.168.1.77'), 32)).toBe(true);
    expect(a.isInSubnet(addr('192.168.1.76'), 99)).toBe(false); // clamped to 32
    expect(a.isInSubnet(addr('1.1.1.1'), 0)).toBe(true);
    expect(a.isInSubnet(addr('192.168.1.77'), -1)).toBe(false);
    expect(addr('0.0.0.0').isInSubnet(addr('0.0.0.0'), 8)).toBe(true);
    expect(addr('0.0.0.1').isInSubnet(addr('0.0.0.0'), 31)).toBe(true);
  });

  test('IPv6 subnets', () => {
    const a = addr('2001:db8:abcd:12::1');
    expect(a.isInSubnet(addr('2001:db8::'), 32)).toBe(true);
    expect(a.isInSubnet(addr('2001:db9::'), 32)).toBe(false);
    expect(a.isInSubnet(addr('2001:db8:abcd:10::'), 62)).toBe(true);
    expect(a.isInSubnet(addr('2001:db8:abcd:10::'), 63)).toBe(false);
    expect(a.isInSubnet(addr('2001:db8:abcd:12::1'), 128)).toBe(true);
    expect(a.isInSubnet(addr('2001:db8:abcd:12::'), 128)).toBe(false);
    expect(a.isInSubnet(addr('2001:db8:abcd:12::'), 1000)).toBe(false);
    expect(addr('fe80::1%eth0').isInSubnet(addr('fe80::%eth1'), 10)).toBe(true);
  });

  test('protocols must match exactly', () => {
    expect(addr('1.2.3.4').isInSubnet(addr('::ffff:1.2.3.0'), 120)).toBe(false);
    expect(addr('::ffff:1.2.3.4').isInSubnet(addr('1.2.3.0'), 24)).toBe(false);
    const any = new QHostAddress(SpecialAddress.Any);
    expect(any.isInSubnet(any, 0)).toBe(false);
    expect(new QHostAddress().isInSubnet(new QHostAddress(), 0)).toBe(false);
  });

  test('tuple overload and misuse', () => {
    expect(addr('10.1.2.3').isInSubnet([addr('10.0.0.0'), 8])).toBe(true);
    expect(addr('11.1.2.3').isInSubnet([addr('10.0.0.0'), 8])).toBe(false);
    expect(addr('10.1.2.3').isInSubnet(QHostAddress.parseSubnet('10.0.0.0/8'))).toBe(true);
    expect(addr('10.1.2.3').isInSubnet(QHostAddress.parseSubnet('bad'))).toBe(false);
    expect(() => addr('10.1.2.3').isInSubnet(addr('10.0.0.0'), 8.5)).toThrow(RangeError);
    expect(() => addr('10.1.2.3').isInSubnet(addr('10.0.0.0'), NaN)).toThrow(RangeError);
    expect(() => addr('10.1.2.3').isInSubnet('10.0.0.0' as unknown as QHostAddress, 8)).toThrow(TypeError);
  });

  test.each([
    ['1.2.3.0/24', '1.2.3.0', 24],
    ['1.2.3.4/24', '1.2.3.0', 24], // host bits cleared
    ['1.2.3.4', '1.2.3.4', 32],
    ['1.2.3.4/32', '1.2.3.4', 32],
    ['10.255.255.255/0', '0.0.0.0', 0],
    ['172.31.1.1/12', '172.16.0.0', 12],
    ['1.2.3.0/255.255.255.0', '1.2.3.0', 24],
    ['1.2.3.77/255.255.255.192', '1.2.3.64', 26],
    ['1.2.3.4/255.255.255.255', '1.2.3.4', 32],
    ['1.2.3.4/0.0.0.0', '0.0.0.0', 0],
    ['192.168.1', '192.168.1.0', 24],
    ['192.168.1.', '192.168.1.0', 24],
    ['10', '10.0.0.0', 8],
    ['10.', '10.0.0.0', 8],
    ['10.1/16', '10.1.0.0', 16],
    ['010.1.1.1/8', '10.0.0.0', 8], // decimal here, as in Qt
    [' 10.0.0.0/8 ', '10.0.0.0', 8],
    ['2001:db8::/32', '2001:db8::', 32],
    ['2001:db8:1234:5678::1/32', '2001:db8::', 32],
    ['2001:db8:ffff::/33', '2001:db8:8000::', 33],
    ['2001:db8::1', '2001:db8::1', 128],
    ['::/0', '::', 0],
    ['fe80::1%eth0/64', 'fe80::%eth0', 64],
    ['::ffff:1.2.3.4/120', '::ffff:1.2.3.0', 120],
  ])('parseSubnet(%j) = [%s, %p]', (text, network, length) => {
    const [net, netmask] = QHostAddress.parseSubnet(text);
    expect(net.toString()).toBe(network);
    expect(netmask).toBe(length);
    expect(net.isNull()).toBe(false);
  });

  test.each([
    '',
    '/',
    '/24',
    'bogus',
    'bogus/24',
    '1.2.3.4/',
    '1.2.3.4/33',
    '1.2.3.4/-1',
    '1.2.3.4/+8',
    '1.2.3.4/24/1',
    '1.2.3.4/abc',
    '1.2.3.4/0x10',
    '1.2.3.4/255.0.255.0',
    '1.2.3.4/255.255.255.1',
    '1.2.3.4/255.255.255',
    '1.2.3.4/::',
    '1.2.3.256/24',
    '1.2.3.4.5/24',
    '1.2.3.4./24',
    '1..3.4',
    '.',
    '2001:db8::/129',
    '2001:db8::/255.0.0.0',
    '2001:db8::/',
    '2001:db8::1::/64',
    '12345::/16',
  ])('parseSubnet(%j) is invalid', (text) => {
    const [net, netmask] = QHostAddress.parseSubnet(text);
    expect(net.isNull()).toBe(true);
    expect(netmask).toBe(-1);
  });
});

describe('internal helpers and presentation', () => {
  test('_bytes gives the stored form', () => {
    expect(Array.from(addr('10.0.0.1')._bytes())).toEqual([10, 0, 0, 1]);
    expect(Array.from(addr('0.0.0.0')._bytes())).toEqual([0, 0, 0, 0]);
    expect(hex(addr('2001:db8::1')._bytes())).toBe('20010db8000000000000000000000001');
    expect(addr('::ffff:1.2.3.4')._bytes().length).toBe(16);
    expect(hex(new QHostAddress(SpecialAddress.Any)._bytes())).toBe('0'.repeat(32));
    expect(new QHostAddress()._bytes().length).toBe(0);
    const a = addr('10.0.0.1');
    a._bytes()[0] = 99;
    expect(a.toString()).toBe('10.0.0.1');
  });

  test('_fromBytes builds IPv4/IPv6 with an optional scope', () => {
    expect(QHostAddress._fromBytes(new Uint8Array([127, 0, 0, 1])).toString()).toBe('127.0.0.1');
    expect(QHostAddress._fromBytes(new Uint8Array([127, 0, 0, 1]), 'eth0').scopeId()).toBe('');
    const ll = new Uint8Array(16);
    ll[0] = 0xfe;
    ll[1] = 0x80;
    ll[15] = 5;
    const a = QHostAddress._fromBytes(ll, '2');
    expect(a.toString()).toBe('fe80::5%2');
    expect(a.protocol()).toBe(IPv6Protocol);
    expect(QHostAddress._fromBytes(new Uint8Array(7)).isNull()).toBe(true);
    expect(() => QHostAddress._fromBytes([1, 2, 3, 4] as unknown as Uint8Array)).toThrow(TypeError);
  });

  test('JSON and util.inspect', () => {
    expect(JSON.stringify({ host: addr('fe80::1%eth0') })).toBe('{"host":"fe80::1%eth0"}');
    expect(JSON.stringify([new QHostAddress()])).toBe('[""]');
    expect(inspect(addr('127.0.0.1'))).toBe('QHostAddress("127.0.0.1")');
    expect(inspect(addr('::1'))).toBe('QHostAddress("::1")');
    expect(inspect(new QHostAddress())).toBe('QHostAddress("")');
    expect(inspect(new QHostAddress(SpecialAddress.Any))).toBe('QHostAddress(QHostAddress.Any)');
    expect(`${addr('1.2.3.4')}`).toBe('1.2.3.4');
  });
});
