// Fuzzes the proxy reply parsers: for each negotiator, well over 100,000
// random and mutated replies fed in random splits. Every run must end in a
// well-formed step (send/wait/done/authenticate/fail with a real SocketError),
// never throw, never loop, and never lose or invent tunnel bytes.
//
// The PRNG is seeded so a failure reproduces: QSOCKET_FUZZ_SEED=<n> npx jest test/proxy-fuzz.test.ts
import { SocketError } from '../lib/enums';
import { QHostAddress } from '../lib/host-address';
import { createHttpConnectNegotiator } from '../lib/proxy/http-connect';
import type { NegotiationStep, ProxyCredentials, ProxyNegotiator, ProxyTarget } from '../lib/proxy/negotiator';
import { createSocks5Negotiator } from '../lib/proxy/socks5';
import { createSocks5UdpAssociateNegotiator, decodeSocks5UdpDatagram, encodeSocks5UdpHeader } from '../lib/proxy/socks5-udp';

const RUNS = 100_000;
const SEED = Number(process.env.QSOCKET_FUZZ_SEED ?? 0x5eed5) >>> 0;

/**
 * xorshift32 (Marsaglia): small and fast, good enough to explore byte
 * strings. The state stays a 32-bit integer, so V8 never boxes it.
 */
class Fuzz {
  #state: number;
  constructor(seed: number) {
    this.#state = seed | 0 || 0x2545f491;
  }
  #next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x | 0;
    return this.#state;
  }
  /** A float in [0, 1). */
  random(): number {
    return (this.#next() >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return (this.#next() >>> 0) % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  #pool = Buffer.alloc(1 << 20);
  #poolAt = 0;
  /** `n` random bytes: a fresh view into a rolling pool (cheaper than allocating each time). */
  bytes(n: number): Buffer {
    if (this.#poolAt + n > this.#pool.length) this.#poolAt = 0;
    const out = this.#pool.subarray(this.#poolAt, this.#poolAt + n);
    this.#poolAt += n;
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  /** Bytes a parser is most likely to trip on. */
  interesting(): number {
    return this.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0x80, 0xfe, 0xff]);
  }
  /** 1 to 4 random edits: replace, insert, delete, truncate, duplicate, swap. */
  mutate(input: Buffer): Buffer {
    let buf = Buffer.from(input);
    const edits = 1 + this.int(4);
    for (let e = 0; e < edits; e++) {
      const at = buf.length === 0 ? 0 : this.int(buf.length);
      switch (this.int(7)) {
        case 0:
          if (buf.length) buf[at] = this.int(256);
          break;
        case 1:
          if (buf.length) buf[at] = this.interesting();
          break;
        case 2:
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from([this.random() < 0.5 ? this.interesting() : this.int(256)]), buf.subarray(at)]);
          break;
        case 3:
          buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + this.int(3))]);
          break;
        case 4:
          buf = buf.subarray(0, at);
          break;
        case 5: {
          const len = 1 + this.int(8);
          buf = Buffer.concat([buf.subarray(0, at + len), buf.subarray(at, at + len), buf.subarray(at + len)]);
          break;
        }
        default:
          if (buf.length > 1) {
            const other = this.int(buf.length);
            const t = buf[at];
            buf[at] = buf[other];
            buf[other] = t;
          }
      }
    }
    return buf;
  }
  /** Cuts `buf` into 1 to 6 random pieces (sometimes one byte at a time). */
  split(buf: Buffer): Buffer[] {
    if (buf.length > 0 && this.int(10) === 0) {
      const bytes: Buffer[] = [];
      for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1));
      return bytes;
    }
    const pieces = 1 + this.int(6);
    const cuts = new Set<number>();
    for (let i = 1; i < pieces; i++) cuts.add(this.int(buf.length + 1));
    const sorted = [...cuts].sort((x, y) => x - y);
    const out: Buffer[] = [];
    let prev = 0;
    for (const c of sorted) {
      out.push(buf.subarray(prev, c));
      prev = c;
    }
    out.push(buf.subarray(prev));
    return out;
  }
}

// Shared constants: Buffer allocation is slow inside jest's VM context.
const EMPTY = Buffer.alloc(0);
const PROBE = Buffer.from([0x05, 0x00]);

const ERRORS = new Set(Object.values(SocketError).filter((v): v is number => typeof v === 'number'));

/** Throws (with `context`) unless `step` is exactly one well-formed step. */
function checkStep(step: NegotiationStep, context: () => string): void {
  const fail = (why: string): never => {
    throw new Error(`${why}: ${JSON.stringify(step)}\n${context()}`);
  };
  if (step === null || typeof step !== 'object') fail('not an object');
  const kinds = +('send' in step) + +('wait' in step) + +('done' in step) + +('authenticate' in step) + +('fail' in step);
  if (kinds !== 1) fail(`expected exactly one of send/wait/done/authenticate/fail`);
  if ('send' in step) {
    if (!Buffer.isBuffer(step.send) || step.send.length === 0 || (step.more !== undefined && step.more !== true)) fail('bad send');
  } else if ('wait' in step) {
    if (step.wait !== true) fail('bad wait');
  } else if ('done' in step) {
    if (step.done !== true || !Buffer.isBuffer(step.leftover)) fail('bad done');
    if (step.bound !== undefined && (typeof step.bound.host !== 'string' || !Number.isInteger(step.bound.port))) fail('bad bound');
  } else if ('authenticate' in step) {
    if (step.authenticate !== true || typeof step.realm !== 'string') fail('bad authenticate');
  } else if ('fail' in step) {
    if (step.fail !== true || !ERRORS.has(step.error) || typeof step.message !== 'string' || step.message === '') fail('bad fail');
    // feed() turns an internal exception into a failure; the fuzz must never see one.
    if (step.message.includes('internal error')) fail('an exception was thrown inside feed()');
  }
}

type Outcome = 'send' | 'wait' | 'done' | 'authenticate' | 'fail';
const outcomeOf = (step: NegotiationStep): Outcome =>
  'send' in step ? 'send' : 'wait' in step ? 'wait' : 'done' in step ? 'done' : 'authenticate' in step ? 'authenticate' : 'fail';

/**
 * Feeds `chunks` (and an empty feed after each send: it must give `wait`
 * unless the send said `more`), checking every step. Returns the last step. Also checks that after
 * a terminal step the negotiator stays put and that `done` never loses or
 * invents bytes: the leftover is a suffix of everything fed.
 */
function run(n: ProxyNegotiator, input: Buffer, chunks: Buffer[], context: () => string): NegotiationStep {
  let step: NegotiationStep = { wait: true };
  let fed = 0;
  let feeds = 0;
  const limit = chunks.length * 12 + 4; // each send is followed by at most a few empty feeds
  for (const chunk of chunks) {
    step = n.feed(chunk);
    fed += chunk.length;
    feeds++;
    checkStep(step, context);
    while ('send' in step) {
      if (++feeds > limit) throw new Error(`no progress after ${feeds} feeds\n${context()}`);
      const more = step.more === true;
      step = n.feed(EMPTY);
      checkStep(step, context);
      // Without `more`, nothing may be waiting inside the negotiator.
      if (!more && !('wait' in step)) throw new Error(`bytes were buffered after a send without \`more\`\n${context()}`);
    }
    if ('done' in step) {
      const leftover = step.leftover;
      if (leftover.length > fed || !leftover.equals(input.subarray(fed - leftover.length, fed))) {
        throw new Error(`done.leftover is not the tail of what was fed\n${context()}`);
      }
      // The rest of the input is tunnel data and must come back untouched.
      const rest = input.subarray(fed);
      const later = n.feed(rest);
      checkStep(later, context);
      if (!('done' in later) || !later.leftover.equals(rest)) throw new Error(`bytes after done were not handed back\n${context()}`);
      return step;
    }
    if ('fail' in step || 'authenticate' in step) {
      const again = n.feed(PROBE);
      if (again !== step) throw new Error(`terminal step changed\n${context()}`);
      return step;
    }
  }
  return step;
}

function tally(): Record<Outcome, number> {
  return { send: 0, wait: 0, done: 0, authenticate: 0, fail: 0 };
}

// ----------------------------------------------------------------- SOCKS5 ---

const TARGETS: ProxyTarget[] = [
  { host: '127.0.0.1', port: 80, isName: false },
  { host: '2001:db8::1', port: 443, isName: false },
  { host: 'example.com', port: 8080, isName: true },
];
const CREDENTIALS: Array<ProxyCredentials | null> = [null, { user: 'user', password: 'pass' }];

/** A plausible SOCKS5 server transcript: method choice, maybe auth status, reply, tunnel bytes. */
function socksTranscript(f: Fuzz, withCreds: boolean): Buffer {
  const out = Buffer.allocUnsafe(64);
  let at = 0;
  const put = (byte: number): void => {
    out[at++] = byte;
  };
  const auth = withCreds && f.int(2) === 0;
  put(5);
  put(auth ? 2 : f.pick([0, 0, 0, 2, 0xff]));
  if (auth) {
    put(1);
    put(f.pick([0, 0, 0, 1]));
  }
  put(5);
  put(f.int(4) === 0 ? f.int(10) : 0); // REP
  put(0);
  const atyp = f.pick([1, 3, 4]);
  put(atyp);
  if (atyp === 3) {
    const len = f.int(20);
    put(len);
    for (let i = 0; i < len; i++) put(0x61);
  } else {
    for (let i = atyp === 1 ? 4 : 16; i > 0; i--) put(f.int(256));
  }
  put(f.int(256));
  put(f.int(256));
  for (let i = f.int(12); i > 0; i--) put(f.int(256)); // tunnel bytes
  return out.subarray(0, at);
}

function fuzzSocks(make: (f: Fuzz, c: ProxyCredentials | null) => ProxyNegotiator, seed: number): Record<Outcome, number> {
  const f = new Fuzz(seed);
  const outcomes = tally();
  for (let i = 0; i < RUNS; i++) {
    const c = f.pick(CREDENTIALS);
    const n = make(f, c);
    n.start();
    const mode = f.int(10);
    const input = mode < 2 ? f.bytes(f.int(40)) : mode < 9 ? f.mutate(socksTranscript(f, c !== null)) : socksTranscript(f, c !== null);
    const chunks = f.split(input);
    const step = run(n, input, chunks, () => `seed=${seed} run=${i} creds=${c !== null} input=${input.toString('hex')}`);
    outcomes[outcomeOf(step)]++;
  }
  return outcomes;
}

// ------------------------------------------------------------------- HTTP ---

const STATUS = [100, 101, 103, 200, 201, 204, 299, 301, 400, 401, 403, 404, 405, 407, 500, 502, 503, 504, 999];
const HEADERS = [
  'Proxy-Agent: tinyproxy/1.11.1',
  'Proxy-Authenticate: Basic realm="Tinyproxy"',
  'Proxy-Authenticate: Digest realm="d", nonce="abc", Basic realm="r\\"x"',
  'Proxy-Authenticate: NTLM',
  'WWW-Authenticate: Basic realm=squid',
  'Content-Length: 12',
  'Connection: close',
  'Via: 1.1 squid',
  ' folded continuation',
  'no-colon-line',
  'X-Long: ' + 'v'.repeat(200),
];

function httpTranscript(f: Fuzz): Buffer {
  const eol = f.int(5) === 0 ? '\n' : '\r\n';
  let head = '';
  const interim = f.int(8) === 0 ? 1 + f.int(2) : 0;
  for (let k = 0; k < interim; k++) head += `HTTP/1.1 100 Continue${eol}${eol}`;
  head += `HTTP/1.${f.int(2)} ${f.pick(STATUS)}${f.int(4) ? ` ${f.pick(['OK', 'Connection established', 'Proxy Authentication Required', 'Forbidden', ''])}` : ''}${eol}`;
  const count = f.int(5);
  for (let k = 0; k < count; k++) head += f.pick(HEADERS) + eol;
  head += eol;
  return Buffer.concat([Buffer.from(head, 'latin1'), f.bytes(f.int(16))]);
}

function fuzzHttp(seed: number): Record<Outcome, number> {
  const f = new Fuzz(seed);
  const outcomes = tally();
  for (let i = 0; i < RUNS; i++) {
    const c = f.pick(CREDENTIALS);
    const n = createHttpConnectNegotiator(f.pick(TARGETS), c);
    n.start();
    const mode = f.int(10);
    let input: Buffer;
    if (mode < 2) input = f.bytes(f.int(60));
    else if (mode < 3) input = Buffer.concat([Buffer.from('HTTP/1.1 '), f.bytes(f.int(60))]);
    else if (mode < 9) input = f.mutate(httpTranscript(f));
    else input = httpTranscript(f);
    const chunks = f.split(input);
    const step = run(n, input, chunks, () => `seed=${seed} run=${i} input=${JSON.stringify(input.toString('latin1'))}`);
    outcomes[outcomeOf(step)]++;
  }
  return outcomes;
}

// ----------------------------------------------------------------- tests ---

describe(`proxy reply fuzzing (seed ${SEED}, ${RUNS} runs per parser)`, () => {
  jest.setTimeout(60_000);

  test('SOCKS5 CONNECT', () => {
    const outcomes = fuzzSocks((f, c) => createSocks5Negotiator(f.pick(TARGETS), c), SEED);
    // The generator must actually reach every kind of ending.
    for (const kind of ['wait', 'done', 'authenticate', 'fail'] as const) expect(outcomes[kind]).toBeGreaterThan(100);
  });

  test('SOCKS5 UDP ASSOCIATE', () => {
    const outcomes = fuzzSocks((f, c) => createSocks5UdpAssociateNegotiator(c, f.int(2) ? undefined : { host: '10.0.0.1', port: 5353 }), SEED + 1);
    for (const kind of ['wait', 'done', 'authenticate', 'fail'] as const) expect(outcomes[kind]).toBeGreaterThan(100);
  });

  test('HTTP CONNECT', () => {
    const outcomes = fuzzHttp(SEED + 2);
    for (const kind of ['wait', 'done', 'authenticate', 'fail'] as const) expect(outcomes[kind]).toBeGreaterThan(100);
  });

  test('SOCKS5 UDP datagram decoding', () => {
    const f = new Fuzz(SEED + 3);
    let decoded = 0;
    for (let i = 0; i < RUNS; i++) {
      let input: Buffer;
      if (f.int(3) === 0) {
        input = f.bytes(f.int(40));
      } else {
        const to = f.pick<QHostAddress | string>([new QHostAddress('10.1.2.3'), new QHostAddress('::1'), 'peer.lan']);
        input = Buffer.concat([encodeSocks5UdpHeader(to, f.int(65536)), f.bytes(f.int(20))]);
        if (f.int(2)) input = f.mutate(input);
      }
      const d = decodeSocks5UdpDatagram(input);
      if (d === null) continue;
      decoded++;
      const where = () => `seed=${SEED + 3} run=${i} input=${input.toString('hex')}`;
      if (!Number.isInteger(d.port) || d.port < 0 || d.port > 65535) throw new Error(`bad port ${where()}`);
      if (!(d.address instanceof QHostAddress) && typeof d.address !== 'string') throw new Error(`bad address ${where()}`);
      // The payload is exactly the tail of the datagram.
      if (!d.payload.equals(input.subarray(input.length - d.payload.length))) throw new Error(`bad payload ${where()}`);
    }
    expect(decoded).toBeGreaterThan(RUNS / 4);
  });
});
