import { spawn } from 'child_process';
import * as path from 'path';
import { Signal, SignalTimeoutError, setSlotErrorHandler } from '../lib/signal';

describe('Signal', () => {
  test('slots run in connection order with the emitted arguments', () => {
    const s = new Signal<[number, string]>('s');
    const seen: string[] = [];
    s.connect((n, t) => seen.push(`a${n}${t}`));
    s.connect((n, t) => seen.push(`b${n}${t}`));
    s.emit(1, 'x');
    expect(seen).toEqual(['a1x', 'b1x']);
    expect(s.receivers()).toBe(2);
  });

  test('disconnect(fn) removes that slot, disconnect() removes all', () => {
    const s = new Signal<[]>();
    let a = 0;
    let b = 0;
    const fa = () => a++;
    s.connect(fa);
    s.connect(() => b++);
    expect(s.disconnect(fa)).toBe(true);
    expect(s.disconnect(fa)).toBe(false);
    s.emit();
    expect([a, b]).toEqual([0, 1]);
    expect(s.disconnect()).toBe(true);
    s.emit();
    expect(b).toBe(1);
  });

  test('a slot that disconnects another during emit does not disturb the running emit', () => {
    const s = new Signal<[]>();
    const seen: string[] = [];
    const second = () => seen.push('second');
    s.connect(() => {
      seen.push('first');
      s.disconnect(second);
    });
    s.connect(second);
    s.emit();
    s.emit();
    expect(seen).toEqual(['first', 'second', 'first']);
  });

  test('a throwing slot goes to the slot error handler and the other slots still run', () => {
    const errors: unknown[] = [];
    const previous = setSlotErrorHandler((e) => errors.push(e));
    try {
      const s = new Signal<[]>();
      let after = 0;
      s.connect(() => {
        throw new Error('boom');
      });
      s.connect(() => after++);
      expect(() => s.emit()).not.toThrow();
      expect(after).toBe(1);
      expect((errors[0] as Error).message).toBe('boom');
    } finally {
      setSlotErrorHandler(previous);
    }
  });

  test('connect rejects a non-function', () => {
    const s = new Signal<[]>('readyRead');
    expect(() => s.connect(42 as unknown as () => void)).toThrow(TypeError);
  });

  test('wait resolves with the next emission and disconnects itself', async () => {
    const s = new Signal<[number]>();
    const p = s.wait(1000);
    expect(s.receivers()).toBe(1);
    s.emit(7);
    await expect(p).resolves.toEqual([7]);
    expect(s.receivers()).toBe(0);
  });

  test('wait rejects on time-out with SignalTimeoutError', async () => {
    const s = new Signal<[]>('never');
    const t0 = Date.now();
    await expect(s.wait(30)).rejects.toBeInstanceOf(SignalTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(s.receivers()).toBe(0);
  });

  test('wait rejects with the abort reason, also when already aborted', async () => {
    const s = new Signal<[]>();
    const ac = new AbortController();
    const p = s.wait(undefined, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(s.receivers()).toBe(0);
    await expect(s.wait(100, ac.signal)).rejects.toThrow('stop');
  });
});

test('exceptions from slots and ticks in a readiness callback reach uncaughtException; the socket reads on', async () => {
  const child = spawn(
    process.execPath,
    ['-r', path.join(__dirname, 'fixtures/ts-register.js'), path.join(__dirname, 'fixtures/slot-throw-child.ts')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  expect(code).toBe(0);
  const report = JSON.parse(out.trim().split('\n').pop()!);
  expect(report.got).toBe('onetwo');
  // One readyRead per arrival (two, unless a slow machine saw both at once): each threw twice.
  const slots = report.uncaught.filter((m: string) => m.startsWith('slot'));
  expect(slots.length).toBeGreaterThanOrEqual(1);
  expect(slots[slots.length - 1]).toBe('slot after "onetwo"');
  expect(report.uncaught.filter((m: string) => m === 'tick').length).toBe(slots.length);
  expect(report.state).toBe(0);
}, 20000);
