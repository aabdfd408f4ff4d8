// The addon is context-aware: sockets work inside worker threads, several at
// once, and a worker that ends with open sockets closes their descriptors.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { startEcho, openFds, until } from './helpers';

const script = path.join(__dirname, 'fixtures/worker-client.js');

function run(data: object): { worker: Worker; message: Promise<Record<string, unknown>>; exit: Promise<number> } {
  const worker = new Worker(script, { workerData: data });
  const message = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, message, exit };
}

test('sockets in several workers at once each echo through the main thread\'s server', async () => {
  const peer = await startEcho();
  try {
    const runs = [1, 2, 3].map((id) => run({ port: peer.port, id }));
    const replies = await Promise.all(runs.map((r) => r.message));
    expect(replies.map((r) => r.reply).sort()).toEqual(['hello from worker 1', 'hello from worker 2', 'hello from worker 3']);
    await Promise.all(runs.map((r) => r.worker.terminate()));
  } finally {
    await peer.close();
  }
}, 30000);

test('a worker terminated with a connected socket closes its descriptor and the process lives on', async () => {
  const peer = await startEcho();
  try {
    // Warm up once so lazily opened descriptors of Node itself are counted.
    const warm = run({ port: peer.port, id: 0 });
    await warm.message;
    await warm.worker.terminate();
    const before = openFds();
    const r = run({ port: peer.port, id: 9, leave: true });
    const { fd } = (await r.message) as { fd: number };
    expect(fd).toBeGreaterThan(2);
    expect(fs.fstatSync(fd).isSocket()).toBe(true);
    await r.worker.terminate();
    await r.exit;
    // The environment's cleanup hook closed it; the peer sees the close too.
    await until(() => peer.conns.every((c) => c.destroyed || c.readableEnded), 5000, 'peer to see the close');
    await until(() => openFds() <= before, 5000, 'descriptors to return to the baseline');
  } finally {
    await peer.close();
  }
}, 30000);

test('blocking waits in a worker against a server on the main thread', async () => {
  const peer = await startEcho();
  try {
    const rounds = 50;
    const worker = new Worker(path.join(__dirname, 'fixtures/worker-blocking.js'), { workerData: { port: peer.port, rounds } });
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(result).toEqual({
      connected: true,
      replies: Array.from({ length: rounds }, (_, i) => `round ${i};`),
      disconnected: true,
    });
    await worker.terminate();
  } finally {
    await peer.close();
  }
}, 30000);
