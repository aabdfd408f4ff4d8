// Socket options beyond Qt's SocketOption, as Linux names them, with typed
// values, plus a raw escape hatch for anything else. Each entry knows its
// (level, optname) and how its value crosses as bytes or as an int.
import { C, E } from './binding';
import { NetworkLayerProtocol } from './enums';
import type { SocketEngine } from './native-engine';

/** struct linger: `seconds` applies when `on`; { on: true, seconds: 0 } makes close() send a reset. */
export interface Linger {
  on: boolean;
  seconds: number;
}

/** Each option's value type (see socket(7), tcp(7), ip(7), ipv6(7)). */
export interface LinuxOptionValues {
  /** TCP_QUICKACK: acknowledge at once (the kernel clears it again on its own). */
  TCP_QUICKACK: boolean;
  /** TCP_USER_TIMEOUT: ms unacknowledged data may wait before the connection is dropped (0: system default). */
  TCP_USER_TIMEOUT: number;
  TCP_KEEPIDLE: number;
  TCP_KEEPINTVL: number;
  TCP_KEEPCNT: number;
  /** TCP_CORK: hold partial frames until uncorked. */
  TCP_CORK: boolean;
  /** TCP_NOTSENT_LOWAT: bytes of unsent data above which the socket is not writable. */
  TCP_NOTSENT_LOWAT: number;
  TCP_NODELAY: boolean;
  SO_REUSEADDR: boolean;
  SO_REUSEPORT: boolean;
  SO_KEEPALIVE: boolean;
  /** SO_BINDTODEVICE: an interface name; '' unbinds. */
  SO_BINDTODEVICE: string;
  /** SO_PRIORITY: 0-6 for anyone, higher needs CAP_NET_ADMIN. */
  SO_PRIORITY: number;
  /** SO_MARK: needs CAP_NET_ADMIN. */
  SO_MARK: number;
  /** SO_BUSY_POLL: µs to busy-poll the device on a blocking read; raising it needs CAP_NET_ADMIN. */
  SO_BUSY_POLL: number;
  SO_LINGER: Linger;
  /** SO_TIMESTAMPNS: stamp received datagrams (QNetworkDatagram.timestampNs()). */
  SO_TIMESTAMPNS: boolean;
  SO_SNDBUF: number;
  SO_RCVBUF: number;
  /** IP_TOS on IPv4, IPV6_TCLASS on IPv6. */
  IP_TOS: number;
  /** IP_TTL on IPv4, IPV6_UNICAST_HOPS on IPv6. */
  IP_TTL: number;
  /** IP_FREEBIND: bind to an address this host does not have (yet). */
  IP_FREEBIND: boolean;
}

export type LinuxOptionName = keyof LinuxOptionValues;

type Kind = 'bool' | 'int' | 'string' | 'linger';

interface Entry {
  kind: Kind;
  v4: [string, string];
  v6?: [string, string];
  /** Why the kernel may say EPERM, for the error message. */
  privilege?: string;
}

const TABLE: Record<LinuxOptionName, Entry> = {
  TCP_QUICKACK: { kind: 'bool', v4: ['IPPROTO_TCP', 'TCP_QUICKACK'] },
  TCP_USER_TIMEOUT: { kind: 'int', v4: ['IPPROTO_TCP', 'TCP_USER_TIMEOUT'] },
  TCP_KEEPIDLE: { kind: 'int', v4: ['IPPROTO_TCP', 'TCP_KEEPIDLE'] },
  TCP_KEEPINTVL: { kind: 'int', v4: ['IPPROTO_TCP', 'TCP_KEEPINTVL'] },
  TCP_KEEPCNT: { kind: 'int', v4: ['IPPROTO_TCP', 'TCP_KEEPCNT'] },
  TCP_CORK: { kind: 'bool', v4: ['IPPROTO_TCP', 'TCP_CORK'] },
  TCP_NOTSENT_LOWAT: { kind: 'int', v4: ['IPPROTO_TCP', 'TCP_NOTSENT_LOWAT'] },
  TCP_NODELAY: { kind: 'bool', v4: ['IPPROTO_TCP', 'TCP_NODELAY'] },
  SO_REUSEADDR: { kind: 'bool', v4: ['SOL_SOCKET', 'SO_REUSEADDR'] },
  SO_REUSEPORT: { kind: 'bool', v4: ['SOL_SOCKET', 'SO_REUSEPORT'] },
  SO_KEEPALIVE: { kind: 'bool', v4: ['SOL_SOCKET', 'SO_KEEPALIVE'] },
  SO_BINDTODEVICE: { kind: 'string', v4: ['SOL_SOCKET', 'SO_BINDTODEVICE'], privilege: 'CAP_NET_RAW' },
  SO_PRIORITY: { kind: 'int', v4: ['SOL_SOCKET', 'SO_PRIORITY'], privilege: 'CAP_NET_ADMIN for values above 6' },
  SO_MARK: { kind: 'int', v4: ['SOL_SOCKET', 'SO_MARK'], privilege: 'CAP_NET_ADMIN' },
  SO_BUSY_POLL: { kind: 'int', v4: ['SOL_SOCKET', 'SO_BUSY_POLL'], privilege: 'CAP_NET_ADMIN to raise it' },
  SO_LINGER: { kind: 'linger', v4: ['SOL_SOCKET', 'SO_LINGER'] },
  SO_TIMESTAMPNS: { kind: 'bool', v4: ['SOL_SOCKET', 'SO_TIMESTAMPNS'] },
  SO_SNDBUF: { kind: 'int', v4: ['SOL_SOCKET', 'SO_SNDBUF'] },
  SO_RCVBUF: { kind: 'int', v4: ['SOL_SOCKET', 'SO_RCVBUF'] },
  IP_TOS: { kind: 'int', v4: ['IPPROTO_IP', 'IP_TOS'], v6: ['IPPROTO_IPV6', 'IPV6_TCLASS'] },
  IP_TTL: { kind: 'int', v4: ['IPPROTO_IP', 'IP_TTL'], v6: ['IPPROTO_IPV6', 'IPV6_UNICAST_HOPS'] },
  IP_FREEBIND: { kind: 'bool', v4: ['IPPROTO_IP', 'IP_FREEBIND'], v6: ['IPPROTO_IPV6', 'IP_FREEBIND'] },
};

/** The result of an option call: a value, or the errno that refused it. */
export type OptionResult<T> = { ok: true; value: T } | { ok: false; errno: number; privilege?: string };

function slot(name: LinuxOptionName, family: NetworkLayerProtocol): { level: number; name: number; entry: Entry } | null {
  const entry = TABLE[name];
  if (entry === undefined) return null;
  const [level, opt] = family === NetworkLayerProtocol.IPv6Protocol && entry.v6 ? entry.v6 : entry.v4;
  // IP_FREEBIND is honoured on IPv6 sockets at the IPv4 level number as well.
  const lv = name === 'IP_FREEBIND' ? C.IPPROTO_IP : C[level];
  if (lv === undefined || C[opt] === undefined) return null;
  return { level: lv, name: C[opt], entry };
}

/** Whether `name` is an option of the table (and known to this OS). */
export function isLinuxOption(name: unknown): name is LinuxOptionName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(TABLE, name);
}

/** Validates a value for `name`; throws TypeError/RangeError on misuse. */
export function checkLinuxValue(name: LinuxOptionName, value: unknown): void {
  const kind = TABLE[name].kind;
  const fail = (want: string) => {
    throw new TypeError(`${name} takes ${want}, got ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  };
  if (kind === 'bool' && typeof value !== 'boolean') fail('a boolean');
  if (kind === 'int' && (typeof value !== 'number' || !Number.isInteger(value))) fail('an integer');
  if (kind === 'int' && ((value as number) < -0x80000000 || (value as number) > 0x7fffffff)) {
    throw new RangeError(`${name} takes a 32-bit integer, got ${String(value)}`);
  }
  if (kind === 'string' && typeof value !== 'string') fail('an interface name');
  if (kind === 'linger') {
    const l = value as Linger;
    if (typeof l !== 'object' || l === null || typeof l.on !== 'boolean' || !Number.isInteger(l.seconds) || l.seconds < 0) {
      fail('{ on: boolean, seconds: non-negative integer }');
    }
  }
}

export function getLinuxOption<K extends LinuxOptionName>(engine: SocketEngine, name: K): OptionResult<LinuxOptionValues[K]> {
  const s = slot(name, engine.family());
  if (s === null) return { ok: false, errno: E.ENOPROTOOPT };
  const raw = engine.raw();
  switch (s.entry.kind) {
    case 'bool':
    case 'int': {
      const r = engine.getOption(s.level, s.name);
      if (r.errno !== 0) return { ok: false, errno: r.errno };
      return { ok: true, value: (s.entry.kind === 'bool' ? r.value !== 0 : r.value) as LinuxOptionValues[K] };
    }
    case 'string': {
      const buf = Buffer.alloc(64);
      const n = raw.getOptionBytes(s.level, s.name, buf);
      if (n < 0) return { ok: false, errno: -n };
      const end = buf.indexOf(0);
      return { ok: true, value: buf.toString('utf8', 0, end === -1 || end > n ? n : end) as LinuxOptionValues[K] };
    }
    case 'linger': {
      const buf = new Int32Array(2);
      const n = raw.getOptionBytes(s.level, s.name, new Uint8Array(buf.buffer));
      if (n < 0) return { ok: false, errno: -n };
      return { ok: true, value: { on: buf[0] !== 0, seconds: buf[1] } as LinuxOptionValues[K] };
    }
  }
}

export function setLinuxOption<K extends LinuxOptionName>(engine: SocketEngine, name: K, value: LinuxOptionValues[K]): OptionResult<void> {
  const s = slot(name, engine.family());
  if (s === null) return { ok: false, errno: E.ENOPROTOOPT };
  const raw = engine.raw();
  let r: number;
  switch (s.entry.kind) {
    case 'bool':
      r = engine.setOption(s.level, s.name, value ? 1 : 0);
      break;
    case 'int':
      r = engine.setOption(s.level, s.name, value as number);
      break;
    case 'string':
      r = raw.setOptionBytes(s.level, s.name, Buffer.from(value as string, 'utf8'));
      break;
    case 'linger': {
      const l = value as Linger;
      r = raw.setOptionBytes(s.level, s.name, new Uint8Array(Int32Array.of(l.on ? 1 : 0, l.seconds).buffer));
      break;
    }
  }
  return r === 0 ? { ok: true, value: undefined } : { ok: false, errno: -r, privilege: s.entry.privilege };
}
