import { describe, expect, it } from '@jest/globals';
import { forEachLimited } from './limit.js';

/** A call that ends when the test says so, to watch what is in flight. */
function gated(): { started: number[]; release: (item: number) => void; fn: (item: number) => Promise<void> } {
  const started: number[] = [];
  const gates = new Map<number, () => void>();
  return {
    started,
    release: (item) => gates.get(item)?.(),
    fn: (item) =>
      new Promise<void>((resolve) => {
        started.push(item);
        gates.set(item, resolve);
      }),
  };
}
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('forEachLimited, bounded concurrency over a list', () => {
  it('starts at most `limit` calls, and the next as soon as any one ends', async () => {
    const calls = gated();
    const done = forEachLimited([1, 2, 3, 4, 5], 2, calls.fn);
    await flush();
    expect(calls.started).toEqual([1, 2]);
    calls.release(2); // the second ends first: a lane moves on without waiting for the first
    await flush();
    expect(calls.started).toEqual([1, 2, 3]);
    calls.release(3);
    await flush();
    expect(calls.started).toEqual([1, 2, 3, 4]);
    for (const item of [1, 4]) calls.release(item);
    await flush();
    expect(calls.started).toEqual([1, 2, 3, 4, 5]);
    calls.release(5);
    await done;
  });

  it.each([
    ['no items', [], 4, []],
    ['fewer items than lanes', [1, 2], 8, [1, 2]],
    ['a limit below 1 still runs one lane', [1, 2, 3], 0, [1, 2, 3]],
  ])('%s', async (_, items: number[], limit, expected: number[]) => {
    const seen: number[] = [];
    await forEachLimited(items, limit, (item) => {
      seen.push(item);
      return Promise.resolve();
    });
    expect(seen).toEqual(expected);
  });
});
