// Shared test helpers: real node:net peers on loopback, a QSignalSpy-like
// recorder, and descriptor accounting.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { binding } from '../lib/binding';
import type { Signal } from '../lib/signal';

/** Records every emission of the signals it watches, in order (Qt's QSignalSpy for several signals). */
export class Recorder {
  readonly events: string[] = [];
  readonly #detach: Array<() => void> = [];

  watch<A extends unknown[]>(name: string, signal: Signal<A>, format?: (...args: A) => string): this {
    const slot = (...args: A) => this.events.push(format ? `${name}(${format(...args)})` : args.length ? `${name}(${args.join(',')})` : name);
    signal.connect(slot);
    this.#detach.push(() => signal.disconnect(slot));
    return this;
  }

  count(name: string): number {
    return this.events.filter((e) => e === name || e.startsWith(name + '(')).length;
  }

  stop(): void {
    for (const d of this.#detach) d();
  }
}

/** Resolves on the signal's next emission; rejects after `ms`. */
export function next<A extends unknown[]>(signal: Signal<A>, ms = 5000): Promise<A> {
  return signal.wait(ms);
}

/** Polls `cond` every few ms until it holds, or fails after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Peer {
  server: net.Server;
  port: number;
  host: string;
  /** Server-side sockets, in accept order. */
  conns: net.Socket[];
  nextConnection(): Promise<net.Socket>;
  close(): Promise<void>;
}

/** A node:net server on `host`, port 0; `onConn` runs for each accepted socket. */
export async function startPeer(host = '127.0.0.1', onConn?: (s: net.Socket) => void): Promise<Peer> {
  const conns: net.Socket[] = [];
  const waiters: Array<(s: net.Socket) => void> = [];
  const server = net.createServer((s) => {
    conns.push(s);
    s.on('error', () => {});
    onConn?.(s);
    const w = waiters.shift();
    if (w) w(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let taken = 0;
  return {
    server,
    port,
    host,
    conns,
    nextConnection() {
      if (conns.length > taken) return Promise.resolve(conns[taken++]);
      return new Promise((resolve) => waiters.push((s) => (taken++, resolve(s))));
    },
    close() {
      for (const c of conns) c.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An echo server: every byte received is sent back. */
export function startEcho(host = '127.0.0.1'): Promise<Peer> {
  return startPeer(host, (s) => s.pipe(s));
}

/** A port on `host` that nothing listens on (bound, then closed). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const p = await startPeer(host);
  await p.close();
  return p.port;
}

let ipv6: boolean | undefined;
/** Whether ::1 can be bound here (Qt's tests skip IPv6 the same way). */
export async function hasIPv6(): Promise<boolean> {
  if (ipv6 === undefined) {
    try {
      const p = await startPeer('::1');
      await p.close();
      ipv6 = true;
    } catch {
      ipv6 = false;
    }
  }
  return ipv6;
}

/** The process's open descriptors. */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Engines of this environment still holding a descriptor. */
export function liveEngines(): number {
  return binding.liveEngines();
}

/** The descriptor under a node:net socket (its libuv handle's fd). */
export function fdOf(sock: net.Socket): number {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fd = (sock as any)._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('node:net socket has no descriptor');
  return fd;
}

/** test/fixtures/peer.js running in a process of its own (blocking waits need their peer elsewhere). */
export interface ChildPeer {
  port: number;
  proc: ChildProcess;
  /** The next JSON line the peer prints after the first. */
  line(): Promise<Record<string, unknown>>;
}

/** Starts fixtures/peer.js with `args`; the process is pushed onto `children` for the caller to kill. */
export async function startChildPeer(children: ChildProcess[], ...args: string[]): Promise<ChildPeer> {
  const proc = spawn(process.execPath, [path.join(__dirname, 'fixtures/peer.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<(l: Record<string, unknown>) => void> = [];
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const obj = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(obj);
      else lines.push(obj);
    }
  });
  const line = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<Record<string, unknown>>((r) => waiters.push(r)));
  const first = await line();
  return { port: first.port as number, proc, line };
}

// Global lookups are slow inside jest's vm context; prng's loop uses this copy.
const { imul } = Math;

/** A small seeded PRNG (mulberry32): a failure reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
