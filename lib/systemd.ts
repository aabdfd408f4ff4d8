// systemd integration without libsystemd: socket activation (sd_listen_fds(3),
// sd_listen_fds_with_names(3)), readiness and status (sd_notify(3)), the
// service watchdog (sd_watchdog_enabled(3)) and the file descriptor store
// (FDSTORE=1). Everything here reads the environment systemd (or
// systemd-socket-activate(1)) sets; nothing needs a running systemd, and every
// function is a harmless no-op when the process was not started by one.
import { binding, C } from './binding';
import { OpenMode, SocketState } from './enums';
import { QTcpServer } from './tcp-server';
import { QTcpSocket } from './tcp-socket';
import { QUdpSocket } from './udp-socket';

/** The first passed descriptor, as in `<systemd/sd-daemon.h>`. */
export const SD_LISTEN_FDS_START = 3;

const INT_MAX = 0x7fffffff;
const IPPROTO_MPTCP = 262;
/** sockaddr_un's sun_path. */
const SUN_PATH_MAX = 108;
/** Linux's SCM_MAX_FD is 253; the native layer passes at most 64 per message. */
const MAX_NOTIFY_FDS = 64;
/** FDNAME_MAX in systemd. */
const FDNAME_MAX = 255;

/**
 * What a passed descriptor is, from the kernel (SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, SO_ACCEPTCONN and whether it has a peer):
 *
 * - `'tcp-listener'`: a listening TCP socket (IPv4 or IPv6), `ListenStream=` with `Accept=no`.
 *   → {@link serverFromListenFd}
 * - `'tcp-connection'`: a connected TCP socket, one connection of `Accept=yes`.
 *   → {@link tcpSocketFromListenFd}
 * - `'udp'`: a UDP socket (IPv4 or IPv6), `ListenDatagram=`. → {@link udpSocketFromListenFd}
 * - `'unix-stream-listener'`, `'unix-stream'`, `'unix-datagram'`: AF_UNIX sockets (a listener, a
 *   connection or unconnected stream socket, a datagram socket). qsocket's classes are TCP/UDP
 *   classes and do not wrap these; the descriptor is reported so that the caller can use it.
 * - `'other'`: anything else: a FIFO (`ListenFIFO=`), a regular file or device from the fd
 *   store, SOCK_SEQPACKET, SCTP, netlink, a TCP socket that is neither listening nor connected
 *   (for instance one whose peer already reset the connection), ...
 */
export type ListenFdKind =
  | 'tcp-listener'
  | 'tcp-connection'
  | 'udp'
  | 'unix-stream-listener'
  | 'unix-stream'
  | 'unix-datagram'
  | 'other';

/** One descriptor passed by systemd. */
export interface ListenFd {
  /** The descriptor: 3, 4, ... ({@link SD_LISTEN_FDS_START} onwards). */
  readonly fd: number;
  /**
   * Its name from LISTEN_FDNAMES (`FileDescriptorName=` in the .socket unit, `--fdname=` for
   * systemd-socket-activate), or `'unknown'` when LISTEN_FDNAMES is not set.
   */
  readonly name: string;
  /** What kind of socket it is; see {@link ListenFdKind}. */
  readonly kind: ListenFdKind;
}

/** Options of {@link listenFds}. */
export interface ListenFdsOptions {
  /**
   * Remove LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from `env` afterwards, so that child
   * processes do not see them (default true; sd_listen_fds's `unset_environment`).
   */
  unsetEnvironment?: boolean;
  /** The environment to read (and unset in); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The pid LISTEN_PID must name; default `process.pid`. */
  pid?: number;
}

/**
 * The descriptors systemd passed to this process: sd_listen_fds(3) and
 * sd_listen_fds_with_names(3) in one call.
 *
 * As the man pages describe: when LISTEN_PID names this process, LISTEN_FDS
 * descriptors starting at fd 3 ({@link SD_LISTEN_FDS_START}) are this
 * process's; FD_CLOEXEC is set on each so that they do not leak into child
 * processes (Node 20 already marks inherited descriptors close-on-exec at
 * start-up; this does it regardless, as the man page says); LISTEN_FDNAMES gives their names, colon-separated, and when it is
 * not set every name is `'unknown'`; with `unsetEnvironment` (the default) the
 * three variables are removed afterwards. The descriptors are not otherwise
 * touched (they may arrive blocking or non-blocking); the helpers
 * {@link serverFromListenFd}, {@link udpSocketFromListenFd} and
 * {@link tcpSocketFromListenFd} make them qsocket objects, which own them from
 * then on. Call it once: after it unset the variables, a second call returns `[]`.
 *
 * Returns `[]`, and never throws, when the process was not socket-activated or
 * when the variables are malformed: LISTEN_PID missing, not a positive decimal
 * pid, or another process's; LISTEN_FDS missing, not a decimal number (a sign,
 * spaces, hex, `1.5` or `3x` are refused), zero, larger than INT_MAX - 3, or
 * naming a descriptor that is not open (FD_CLOEXEC could not be set). The last
 * descriptor is checked first, so a huge LISTEN_FDS costs nothing.
 *
 * **Differs from systemd's C API:**
 * - When LISTEN_PID is a valid pid of *another* process, the variables are left
 *   untouched even with `unsetEnvironment` (sd_listen_fds unsets them on every
 *   path): they belong to that process, and they stay harmless for ours and our
 *   children, whose pids do not match either.
 * - A LISTEN_FDNAMES with fewer names than descriptors names the rest
 *   `'unknown'` and extra names are ignored, where sd_listen_fds_with_names
 *   fails with -EINVAL; the descriptors are usable either way.
 * - Parsing is stricter (decimal digits only), and errors are an empty result
 *   rather than a negative errno.
 */
export function listenFds(options: ListenFdsOptions = {}): ListenFd[] {
  if (options === null || typeof options !== 'object') throw new TypeError('listenFds: options must be an object');
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const unset = options.unsetEnvironment ?? true;
  if (env === null || typeof env !== 'object') throw new TypeError('listenFds: env must be an object');
  if (!Number.isInteger(pid)) throw new TypeError('listenFds: pid must be an integer');

  const pidText = env.LISTEN_PID;
  const fdsText = env.LISTEN_FDS;
  const namesText = env.LISTEN_FDNAMES;
  const listenPid = pidText === undefined ? null : parsePid(pidText);
  if (listenPid !== null && listenPid !== pid) return []; // another process's: left alone
  if (unset) {
    delete env.LISTEN_PID;
    delete env.LISTEN_FDS;
    delete env.LISTEN_FDNAMES;
  }
  if (listenPid === null || fdsText === undefined || !/^[0-9]+$/.test(fdsText)) return [];
  const n = Number(fdsText);
  if (n <= 0 || n > INT_MAX - SD_LISTEN_FDS_START) return [];
  // The last one first: a LISTEN_FDS far beyond the open descriptors fails at once.
  if (binding.cloexec(SD_LISTEN_FDS_START + n - 1, -1) < 0) return [];
  for (let fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
    if (binding.cloexec(fd, 1) < 0) return [];
  }

  const names = namesText === undefined ? [] : namesText.split(':');
  const out: ListenFd[] = [];
  for (let i = 0; i < n; i++) {
    const fd = SD_LISTEN_FDS_START + i;
    out.push(Object.freeze({ fd, name: names[i] ?? 'unknown', kind: classify(fd) }));
  }
  return out;
}

function parsePid(text: string): number | null {
  if (!/^[1-9][0-9]*$/.test(text)) return null;
  const v = Number(text);
  return v <= INT_MAX ? v : null;
}

function classify(fd: number): ListenFdKind {
  const info = new Int32Array(5);
  if (binding.describe(fd, info) < 0) return 'other'; // ENOTSOCK: a FIFO, a file, ...
  const [type, family, protocol, listening, connected] = info;
  if (family === C.AF_INET || family === C.AF_INET6) {
    if (type === C.SOCK_STREAM && (protocol === 0 || protocol === C.IPPROTO_TCP || protocol === IPPROTO_MPTCP)) {
      if (listening) return 'tcp-listener';
      return connected ? 'tcp-connection' : 'other';
    }
    if (type === C.SOCK_DGRAM && (protocol === 0 || protocol === C.IPPROTO_UDP)) return 'udp';
    return 'other';
  }
  if (family === C.AF_UNIX) {
    if (type === C.SOCK_STREAM) return listening ? 'unix-stream-listener' : 'unix-stream';
    if (type === C.SOCK_DGRAM) return 'unix-datagram';
  }
  return 'other';
}

function checkListenFd(l: ListenFd, fn: string): void {
  if (l === null || typeof l !== 'object' || !Number.isInteger(l.fd) || l.fd < 0) {
    throw new TypeError(`${fn}: expected a ListenFd from listenFds()`);
  }
}

function describeListenFd(l: ListenFd): string {
  return `fd ${l.fd} ("${l.name}", ${l.kind})`;
}

/**
 * Makes a `'tcp-listener'` descriptor a listening {@link QTcpServer}
 * (`setSocketDescriptor(fd)`), which owns it from then on: `close()` closes it.
 *
 * Throws an Error naming the descriptor, its name and kind when it is not a
 * listening TCP socket or when the server refuses it (with the server's
 * `errorString()`); the descriptor is then left open and still the caller's.
 */
export function serverFromListenFd(l: ListenFd): QTcpServer {
  checkListenFd(l, 'serverFromListenFd');
  if (l.kind !== 'tcp-listener') {
    throw new Error(`systemd: ${describeListenFd(l)} is not a listening TCP socket${hint(l.kind)}`);
  }
  const server = new QTcpServer();
  if (!server.setSocketDescriptor(l.fd)) {
    throw new Error(`systemd: cannot adopt ${describeListenFd(l)} as a QTcpServer: ${server.errorString()}`);
  }
  return server;
}

/**
 * Makes a `'udp'` descriptor a {@link QUdpSocket} in BoundState (or
 * ConnectedState when the kernel says the socket is connected), open
 * ReadWrite; it owns the descriptor from then on.
 *
 * Throws an Error naming the descriptor, its name and kind when it is not a UDP
 * socket or when the socket refuses it (with its `errorString()`); the
 * descriptor is then left open and still the caller's.
 */
export function udpSocketFromListenFd(l: ListenFd): QUdpSocket {
  checkListenFd(l, 'udpSocketFromListenFd');
  if (l.kind !== 'udp') throw new Error(`systemd: ${describeListenFd(l)} is not a UDP socket${hint(l.kind)}`);
  const info = new Int32Array(5);
  const connected = binding.describe(l.fd, info) === 0 && info[4] !== 0;
  const socket = new QUdpSocket();
  const state = connected ? SocketState.ConnectedState : SocketState.BoundState;
  if (!socket.setSocketDescriptor(l.fd, state, OpenMode.ReadWrite)) {
    throw new Error(`systemd: cannot adopt ${describeListenFd(l)} as a QUdpSocket: ${socket.errorString()}`);
  }
  return socket;
}

/**
 * Makes a `'tcp-connection'` descriptor (a connection handed over by a socket
 * unit with `Accept=yes`, or by `systemd-socket-activate --accept`) a
 * {@link QTcpSocket} in ConnectedState, open ReadWrite; it owns the descriptor
 * from then on. As with any `setSocketDescriptor`, `connected` is not emitted.
 *
 * Throws an Error naming the descriptor, its name and kind when it is not a
 * connected TCP socket or when the socket refuses it (with its
 * `errorString()`); the descriptor is then left open and still the caller's.
 */
export function tcpSocketFromListenFd(l: ListenFd): QTcpSocket {
  checkListenFd(l, 'tcpSocketFromListenFd');
  if (l.kind !== 'tcp-connection') {
    throw new Error(`systemd: ${describeListenFd(l)} is not a connected TCP socket${hint(l.kind)}`);
  }
  const socket = new QTcpSocket();
  if (!socket.setSocketDescriptor(l.fd, SocketState.ConnectedState, OpenMode.ReadWrite)) {
    throw new Error(`systemd: cannot adopt ${describeListenFd(l)} as a QTcpSocket: ${socket.errorString()}`);
  }
  return socket;
}

function hint(kind: ListenFdKind): string {
  switch (kind) {
    case 'tcp-listener':
      return ' (a listening TCP socket: use serverFromListenFd)';
    case 'tcp-connection':
      return ' (a connected TCP socket: use tcpSocketFromListenFd)';
    case 'udp':
      return ' (a UDP socket: use udpSocketFromListenFd)';
    default:
      return '';
  }
}

/** What {@link adoptListenFds} made of the passed descriptors, grouped by name. */
export interface AdoptedListenFds {
  /** Every descriptor, as {@link listenFds} returned it. */
  fds: ListenFd[];
  /** `'tcp-listener'` descriptors as listening servers. */
  servers: Map<string, QTcpServer[]>;
  /** `'udp'` descriptors as bound (or connected) UDP sockets. */
  udp: Map<string, QUdpSocket[]>;
  /** `'tcp-connection'` descriptors (Accept=yes) as connected sockets. */
  connections: Map<string, QTcpSocket[]>;
  /**
   * Descriptors left as they came (still open, still the caller's): AF_UNIX
   * sockets, `'other'`, and any whose adoption failed, with the reason in `error`.
   */
  others: Array<ListenFd & { error?: string }>;
}

/**
 * {@link listenFds} (same options), then each descriptor through the helper
 * that fits its kind. Never throws for a descriptor that cannot be adopted: it
 * lands in `others` with an `error`. Returns empty maps when the process was
 * not socket-activated.
 */
export function adoptListenFds(options: ListenFdsOptions = {}): AdoptedListenFds {
  const fds = listenFds(options);
  const result: AdoptedListenFds = { fds, servers: new Map(), udp: new Map(), connections: new Map(), others: [] };
  const add = <T>(map: Map<string, T[]>, name: string, v: T) => {
    const list = map.get(name);
    if (list) list.push(v);
    else map.set(name, [v]);
  };
  for (const l of fds) {
    try {
      switch (l.kind) {
        case 'tcp-listener':
          add(result.servers, l.name, serverFromListenFd(l));
          break;
        case 'udp':
          add(result.udp, l.name, udpSocketFromListenFd(l));
          break;
        case 'tcp-connection':
          add(result.connections, l.name, tcpSocketFromListenFd(l));
          break;
        default:
          result.others.push(l);
      }
    } catch (e) {
      result.others.push({ ...l, error: (e as Error).message });
    }
  }
  return result;
}

// ---------------------------------------------------------------------------
// sd_notify

/** Options of {@link sdNotify}. */
export interface NotifyOptions {
  /** The environment to read NOTIFY_SOCKET from (and unset it in); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Descriptors to pass along with the message (SCM_RIGHTS), at most 64; they stay open here. */
  fds?: readonly number[];
  /** Remove NOTIFY_SOCKET from `env` afterwards, whatever the outcome (default false). */
  unsetEnvironment?: boolean;
}

/** A state to send: `'READY=1\nSTATUS=...'`, or `{ READY: 1, STATUS: '...' }`. */
export type NotifyState = string | Readonly<Record<string, string | number | bigint>>;

/**
 * Sends a state to the service manager, as sd_notify(3) and
 * sd_pid_notify_with_fds(3): one datagram to the AF_UNIX socket named by
 * $NOTIFY_SOCKET, either a filesystem path (`/run/systemd/notify`) or an
 * abstract name written `@name` (sent as a leading NUL byte), with `fds`
 * attached as SCM_RIGHTS when given. The kernel adds the sender's credentials
 * the manager checks against `NotifyAccess=`.
 *
 * `state` is newline-separated `VARIABLE=value` assignments (READY=1,
 * RELOADING=1, STOPPING=1, STATUS=..., ERRNO=..., MAINPID=..., WATCHDOG=1,
 * WATCHDOG=trigger, WATCHDOG_USEC=..., EXTEND_TIMEOUT_USEC=..., FDSTORE=1,
 * FDSTOREREMOVE=1, FDNAME=..., BARRIER=1 ...), sent as UTF-8 exactly as given;
 * or an object, sent as `KEY=value` lines in its key order (keys must not
 * contain `=` or a newline, values must not contain a newline).
 *
 * Returns true when the datagram was sent. Returns false, and does nothing,
 * when NOTIFY_SOCKET is unset or empty: the process is not running under a
 * service manager that wants notifications (sd_notify returns 0 then). Also
 * returns false, without throwing, when sending fails: an address that is
 * neither absolute nor `@abstract` or is too long, no socket there
 * (ENOENT/ECONNREFUSED), a full receive queue (EAGAIN), ... A state or option
 * of the wrong type is a TypeError, more than 64 descriptors a RangeError.
 *
 * **Differs from systemd's C API:** the socket is non-blocking, so a manager
 * whose queue is full gets nothing and the call returns false instead of
 * blocking; `vsock:` addresses (systemd 253+) are not supported (false); there
 * is no `pid` argument (sd_pid_notify's SCM_CREDENTIALS for another process);
 * failures are `false` rather than a negative errno.
 */
export function sdNotify(state: NotifyState, options: NotifyOptions = {}): boolean {
  const text = formatState(state);
  if (options === null || typeof options !== 'object') throw new TypeError('sdNotify: options must be an object');
  const fds = checkFds(options.fds);
  const env = options.env ?? process.env;
  if (env === null || typeof env !== 'object') throw new TypeError('sdNotify: env must be an object');
  const where = env.NOTIFY_SOCKET;
  try {
    if (where === undefined || where === '') return false;
    const addr = encodeNotifyAddress(where);
    if (addr === null) return false;
    return binding.notifySocket(addr, Buffer.from(text, 'utf8'), fds) === 0;
  } finally {
    if (options.unsetEnvironment) delete env.NOTIFY_SOCKET;
  }
}

function formatState(state: unknown): string {
  if (typeof state === 'string') return state;
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new TypeError(`sdNotify: state must be a string or an object of assignments, got ${state === null ? 'null' : typeof state}`);
  }
  const lines: string[] = [];
  for (const [key, value] of Object.entries(state as Record<string, unknown>)) {
    if (key === '' || /[=\n]/.test(key)) throw new TypeError(`sdNotify: bad variable name ${JSON.stringify(key)}`);
    let v: string;
    if (typeof value === 'string') v = value;
    else if (typeof value === 'number' && Number.isFinite(value)) v = String(value);
    else if (typeof value === 'bigint') v = value.toString();
    else throw new TypeError(`sdNotify: the value of ${key} must be a string or a number, got ${typeof value}`);
    if (v.includes('\n')) throw new TypeError(`sdNotify: the value of ${key} contains a newline`);
    lines.push(`${key}=${v}`);
  }
  return lines.join('\n');
}

function checkFds(fds: readonly number[] | undefined): Int32Array {
  if (fds === undefined) return new Int32Array(0);
  if (!Array.isArray(fds) || fds.some((fd) => !Number.isInteger(fd) || fd < 0 || fd > INT_MAX)) {
    throw new TypeError('sdNotify: fds must be an array of descriptors');
  }
  if (fds.length > MAX_NOTIFY_FDS) throw new RangeError(`sdNotify: at most ${MAX_NOTIFY_FDS} descriptors per message`);
  return Int32Array.from(fds);
}

/** $NOTIFY_SOCKET → the neutral address layout (kind 1 = UNIX), or null when it cannot be one. */
function encodeNotifyAddress(where: string): Uint8Array | null {
  let path: Buffer;
  if (where[0] === '@') path = Buffer.concat([Buffer.from([0]), Buffer.from(where.slice(1), 'utf8')]);
  else if (where[0] === '/' && !where.includes('\0')) path = Buffer.from(where, 'utf8');
  else return null;
  if (path.length < 2 || path.length > SUN_PATH_MAX || 8 + path.length > C.ADDR_SIZE) return null;
  const out = new Uint8Array(C.ADDR_SIZE);
  out[0] = 1;
  new DataView(out.buffer).setUint32(4, path.length, false);
  out.set(path, 8);
  return out;
}

/** Options of the sdNotify* shorthands. */
export type NotifyShorthandOptions = Omit<NotifyOptions, 'fds'>;

function checkText(what: string, text: unknown): string {
  if (typeof text !== 'string') throw new TypeError(`${what}: the status must be a string`);
  if (text.includes('\n')) throw new TypeError(`${what}: the status must be one line`);
  return text;
}

/**
 * `READY=1`, plus `STATUS=<status>` when given: start-up is finished (for
 * `Type=notify` services, systemd starts the units ordered after this one).
 * Also sent after a reload is complete. Returns what {@link sdNotify} returns.
 */
export function sdNotifyReady(status?: string, options?: NotifyShorthandOptions): boolean {
  const msg = status === undefined ? 'READY=1' : `READY=1\nSTATUS=${checkText('sdNotifyReady', status)}`;
  return sdNotify(msg, options);
}

/** `STATUS=<text>`: a one-line status shown by `systemctl status`. Returns what {@link sdNotify} returns. */
export function sdNotifyStatus(text: string, options?: NotifyShorthandOptions): boolean {
  return sdNotify(`STATUS=${checkText('sdNotifyStatus', text)}`, options);
}

/** `STOPPING=1`: the service is shutting down. Returns what {@link sdNotify} returns. */
export function sdNotifyStopping(options?: NotifyShorthandOptions): boolean {
  return sdNotify('STOPPING=1', options);
}

/**
 * `RELOADING=1` with `MONOTONIC_USEC=<now>`: the service is reloading its
 * configuration; send {@link sdNotifyReady} when done. systemd 253+ requires
 * MONOTONIC_USEC (CLOCK_MONOTONIC in µs, here from `process.hrtime.bigint()`,
 * which is CLOCK_MONOTONIC on Linux) for `Type=notify-reload`; older versions
 * ignore it. Returns what {@link sdNotify} returns.
 */
export function sdNotifyReloading(options?: NotifyShorthandOptions): boolean {
  return sdNotify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, options);
}

/** `WATCHDOG=1`: one keep-alive ping; see {@link startWatchdog}. Returns what {@link sdNotify} returns. */
export function sdNotifyWatchdog(options?: NotifyShorthandOptions): boolean {
  return sdNotify('WATCHDOG=1', options);
}

/**
 * `FDSTORE=1` (plus `FDNAME=<name>`): hands `fds` to the service manager's
 * file descriptor store (`FileDescriptorStoreMax=` must be non-zero in the
 * service unit), so that a restarted instance gets them back through
 * LISTEN_FDS/LISTEN_FDNAMES ({@link listenFds}) and no connection is dropped.
 * The descriptors stay open in this process too. Without a name systemd calls
 * them "stored". Returns what {@link sdNotify} returns.
 *
 * A name is at most 255 printable ASCII characters without `:` (systemd's
 * fdname_is_valid); otherwise, or for an empty `fds`, a TypeError. To drop
 * stored descriptors: `sdNotify({ FDSTOREREMOVE: 1, FDNAME: name })`.
 */
export function sdStoreFds(fds: number[], name?: string, options?: NotifyShorthandOptions): boolean {
  if (!Array.isArray(fds) || fds.length === 0) throw new TypeError('sdStoreFds: needs at least one descriptor');
  if (name !== undefined && !fdNameIsValid(name)) {
    throw new TypeError(`sdStoreFds: bad descriptor name ${JSON.stringify(name)} (at most 255 printable ASCII characters, no ':')`);
  }
  const msg = name === undefined ? 'FDSTORE=1' : `FDSTORE=1\nFDNAME=${name}`;
  return sdNotify(msg, { ...options, fds });
}

function fdNameIsValid(name: unknown): boolean {
  return typeof name === 'string' && name.length <= FDNAME_MAX && /^[\x20-\x39\x3b-\x7e]*$/.test(name);
}

// ---------------------------------------------------------------------------
// Watchdog

/**
 * The watchdog interval in µs when the service manager expects keep-alive
 * pings from this process, else 0: sd_watchdog_enabled(3). WATCHDOG_USEC must
 * be a positive decimal number, and WATCHDOG_PID, when set, must name `pid`.
 * Malformed values give 0, never a throw, and so do intervals beyond 2^53 µs
 * (285 years) and systemd's "infinity".
 *
 * **Differs from systemd's C API:** the variables are never unset (no
 * `unset_environment`): {@link startWatchdog} reads them, and WATCHDOG_PID
 * already keeps children from acting on them.
 */
export function watchdogEnabled(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number {
  if (env === null || typeof env !== 'object') throw new TypeError('watchdogEnabled: env must be an object');
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^[0-9]+$/.test(usecText)) return 0;
  const usec = Number(usecText);
  if (usec === 0 || !Number.isSafeInteger(usec)) return 0;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && parsePid(pidText) !== pid) return 0;
  return usec;
}

/** Options of {@link startWatchdog}. */
export interface WatchdogOptions {
  /** Where to read WATCHDOG_USEC, WATCHDOG_PID and NOTIFY_SOCKET; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The pid WATCHDOG_PID must name; default `process.pid`. */
  pid?: number;
}

/** A running watchdog pinger. */
export interface WatchdogHandle {
  /** WATCHDOG_USEC. */
  readonly usec: number;
  /** Time between pings: half of WATCHDOG_USEC, in ms (at least 1). */
  readonly intervalMs: number;
  /** Sends one WATCHDOG=1 now; what {@link sdNotify} returns. */
  ping(): boolean;
  /** Stops the pings (idempotent). */
  stop(): void;
}

/**
 * Pings the service manager's watchdog (`WatchdogSec=`) with WATCHDOG=1: once
 * at once, then every WATCHDOG_USEC / 2, as sd_watchdog_enabled(3) advises.
 * Returns null, and starts nothing, when {@link watchdogEnabled} says the
 * watchdog is not enabled for this process.
 *
 * The timer is unref'd: it never keeps the process alive by itself. Because
 * the pings come from the event loop, a loop blocked for longer than
 * WatchdogSec stops them and systemd restarts the service, which is the point.
 * A ping that cannot be sent (NOTIFY_SOCKET unset, ...) is skipped silently;
 * NOTIFY_SOCKET is read for every ping.
 */
export function startWatchdog(options: WatchdogOptions = {}): WatchdogHandle | null {
  if (options === null || typeof options !== 'object') throw new TypeError('startWatchdog: options must be an object');
  const env = options.env ?? process.env;
  const usec = watchdogEnabled(env, options.pid ?? process.pid);
  if (usec === 0) return null;
  // setInterval accepts at most 2^31-1 ms (about 24.8 days).
  const intervalMs = Math.min(INT_MAX, Math.max(1, Math.floor(usec / 2000)));
  const ping = () => sdNotify('WATCHDOG=1', { env });
  let timer: NodeJS.Timeout | null = setInterval(ping, intervalMs);
  timer.unref();
  ping();
  return {
    usec,
    intervalMs,
    ping,
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
