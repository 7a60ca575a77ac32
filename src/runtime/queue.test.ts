import { describe, expect, it } from '@jest/globals';
import { backoffDelay, tokenBucket } from './backoff.js';
import { manualClock } from './clock.js';
import { createWorkQueue } from './queue.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('backoffDelay', () => {
  it.each([
    [0, 0],
    [1, 5],
    [2, 10],
    [3, 20],
    [8, 640],
    [9, 1000],
    [20, 1000],
    [5000, 1000],
  ])('after %i failures waits %i ms (base 5, cap 1000)', (failures, expected) => {
    expect(backoffDelay({ baseMs: 5, maxMs: 1000 }, failures)).toBe(expected);
  });

  it('adds bounded jitter and never exceeds the cap', () => {
    expect(backoffDelay({ baseMs: 100, maxMs: 10_000, jitter: 0.5 }, 1, () => 1)).toBe(150);
    expect(backoffDelay({ baseMs: 100, maxMs: 120, jitter: 0.5 }, 1, () => 1)).toBe(120);
    expect(backoffDelay({ baseMs: 100, maxMs: 10_000, factor: 3 }, 3)).toBe(900);
  });
});

describe('tokenBucket', () => {
  it('allows a burst, then paces at qps, and refills over time up to the burst', () => {
    const bucket = tokenBucket(10, 3);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([0, 0, 0]);
    expect(bucket.reserve(0)).toBe(100);
    expect(bucket.reserve(0)).toBe(200);
    // After 1 s the debt (2 tokens) is repaid and 8 more accrued, but only up to the burst of 3.
    expect(bucket.reserve(1000)).toBe(0);
    expect(bucket.reserve(1000)).toBe(0);
    expect(bucket.reserve(1000)).toBe(0);
    expect(bucket.reserve(1000)).toBe(100);
  });
});

describe('work queue', () => {
  it('holds a key at most once however often it is added, in FIFO order', async () => {
    const q = createWorkQueue();
    for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(key);
    expect(q.len()).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
  });

  it('never hands a key to two workers; a re-add during processing queues it once after done', async () => {
    const q = createWorkQueue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // not handed out while in process
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await flush();
    expect(second).toBeUndefined();
    q.done('a');
    await flush();
    expect(second).toBe('a');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(q.processing()).toBe(0);
  });

  it('wakes a waiting worker on add', async () => {
    const q = createWorkQueue();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('addAfter delays without sleeping, and the earliest of several delays wins', async () => {
    const clock = manualClock();
    const q = createWorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 500);
    q.addAfter('a', 2000);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(499);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.addAfter('b', 0);
    expect(q.len()).toBe(1);
  });

  it('backs off per key exponentially up to a cap, and forget resets it', async () => {
    const clock = manualClock();
    const q = createWorkQueue({ clock, backoff: { baseMs: 10, maxMs: 50 }, overall: { qps: 1000, burst: 1000 } });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = clock.now();
      q.addRateLimited('k');
      for (let waited = 0; q.len() === 0 && waited < 1000; waited++) clock.advance(1);
      delays.push(clock.now() - start);
      q.done((await q.get()) ?? '');
    }
    expect(delays).toEqual([10, 20, 40, 50, 50]);
    expect(q.failures('k')).toBe(5);
    q.forget('k');
    expect(q.failures('k')).toBe(0);
  });

  it('applies the overall rate limit across keys when it is the later of the two', () => {
    const clock = manualClock();
    const q = createWorkQueue({ clock, backoff: { baseMs: 1, maxMs: 1 }, overall: { qps: 10, burst: 2 } });
    for (const key of ['a', 'b', 'c', 'd']) q.addRateLimited(key);
    clock.advance(1);
    expect(q.len()).toBe(2);
    clock.advance(99);
    expect(q.len()).toBe(3);
    clock.advance(100);
    expect(q.len()).toBe(4);
  });

  it('reports depth, adds, latency, work time and retries', async () => {
    const clock = manualClock();
    const seen = { depth: [] as number[], added: 0, queued: [] as number[], worked: [] as number[], retried: 0 };
    const q = createWorkQueue({
      clock,
      metrics: {
        depth: (n) => seen.depth.push(n),
        added: () => {
          seen.added++;
        },
        queued: (s) => seen.queued.push(s),
        worked: (s) => seen.worked.push(s),
        retried: () => {
          seen.retried++;
        },
      },
    });
    q.add('a');
    q.add('a');
    clock.advance(250);
    const key = await q.get();
    clock.advance(500);
    q.done(key ?? '');
    q.addRateLimited('a');
    expect(seen).toEqual({ depth: [1, 0], added: 1, queued: [0.25], worked: [0.5], retried: 1 });
  });

  it('shutdown releases waiting workers, drops delayed adds and hands out nothing more', async () => {
    const clock = manualClock();
    const q = createWorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('later', 100);
    q.shutdown();
    expect(await waiting).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
    q.add('x');
    expect(await q.get()).toBeUndefined();
    expect(q.isShutdown()).toBe(true);
  });

  it('stays correct over many keys (compaction of the backing array)', async () => {
    const q = createWorkQueue();
    for (let i = 0; i < 5000; i++) q.add(`k${i}`);
    for (let i = 0; i < 5000; i++) {
      const key = await q.get();
      expect(key).toBe(`k${i}`);
      q.done(key ?? '');
    }
    expect(q.len()).toBe(0);
  });
});
