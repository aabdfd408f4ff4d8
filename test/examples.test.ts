// Each example runs as a user would run it (node examples/x.js), through the
// package's real entry point (dist/, built by the global setup).
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { netnsAvailable } from './netns';

const root = path.join(__dirname, '..');
const example = (name: string) => path.join(root, 'examples', name);

function runNode(args: string[], timeout = 15000) {
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout });
}

test('npm start: the demo prints the client\'s states and signals in Qt\'s order', () => {
  const r = runNode([example('demo.js')]);
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n').map((l) => l.trim());
  const order = [
    'client  stateChanged(HostLookupState)',
    'client  stateChanged(ConnectingState)',
    'client  hostFound',
    'client  stateChanged(ConnectedState)',
    'client  -> "echo: HELLO"',
    'client  -> "see you"',
    'client  errorOccurred(RemoteHostClosedError): The remote host closed the connection',
    'client  stateChanged(UnconnectedState)',
    'client  disconnected',
    'done',
  ];
  let at = -1;
  for (const want of order) {
    const i = lines.indexOf(want, at + 1);
    expect({ want, found: i > at }).toEqual({ want, found: true });
    at = i;
  }
});

test('fortune server and fortune client', async () => {
  const server = spawn(process.execPath, [example('fortune-server.js')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        const m = /running on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', () => reject(new Error(`server exited: ${out}`)));
    });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const r = runNode([example('fortune-client.js'), '127.0.0.1', String(port)]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const fortune = r.stdout.trim();
      expect(fortune.length).toBeGreaterThan(10);
      expect(fortune).toMatch(/^[A-Z].*\.$/);
      seen.add(fortune);
    }
    expect(seen.size).toBeGreaterThanOrEqual(1);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
  }
}, 30000);

test('the blocking fortune client fetches fortunes from a worker while the main loop keeps turning', async () => {
  const server = spawn(process.execPath, [example('fortune-server.js')], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        const m = /running on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [example('blocking-fortune-client.js'), '127.0.0.1', String(port), '3'], { cwd: root });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(4);
    for (const fortune of lines.slice(0, 3)) expect(fortune).toMatch(/^[A-Z].*\.$/);
    const turns = Number(/turned (\d+) times/.exec(lines[3])![1]);
    expect(turns).toBeGreaterThan(1);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
  }
}, 30000);

test('the fortune client reports a refused connection', () => {
  const r = runNode([example('fortune-client.js'), '127.0.0.1', '1']);
  expect(r.stderr).toContain('Connection refused');
  expect(r.status).toBe(1);
});

(netnsAvailable() ? test : test.skip)('multicast sender and receiver, in a private network namespace', () => {
  const node = process.execPath;
  const script = [
    'set -e',
    'ip link set lo up',
    `"${node}" "${example('multicast-receiver.js')}" 239.255.43.21 45454 3 127.0.0.1 > "$T/rx" 2>&1 &`,
    'RX=$!',
    'for i in $(seq 200); do grep -q joined "$T/rx" && break; sleep 0.02; done',
    `"${node}" "${example('multicast-sender.js')}" 239.255.43.21 45454 3 127.0.0.1`,
    'wait $RX',
    'cat "$T/rx"',
  ].join('\n');
  const r = spawnSync('unshare', ['-n', 'bash', '-c', `T=$(mktemp -d); trap 'rm -rf "$T"' EXIT; ${script}`], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20000,
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('sent Message 3');
  expect(r.stdout).toContain('joined 239.255.43.21 on port 45454');
  for (let i = 1; i <= 3; i++) expect(r.stdout).toContain(`received "Message ${i}" from 127.0.0.1`);
}, 30000);
