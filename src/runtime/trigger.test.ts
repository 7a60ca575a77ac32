import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { trigger } from './trigger.js';

/** How many times the loop woke by `ms` from now, with `fires` at the given offsets. */
async function wakes(debounceMs: number, fires: number[], ms: number): Promise<number[]> {
  const woke: number[] = [];
  const wake = trigger(debounceMs);
  const start = Date.now();
  const state = { stopped: false };
  const loop = (async () => {
    while (!state.stopped) {
      await wake.next();
      woke.push(Date.now() - start);
    }
  })();
  for (const at of fires) setTimeout(wake.fire, at);
  await jest.advanceTimersByTimeAsync(ms);
  state.stopped = true;
  wake.fire();
  await jest.advanceTimersByTimeAsync(debounceMs);
  await loop;
  // The last wake is the one that stopped the loop.
  return woke.slice(0, -1);
}

describe('trigger', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it.each([
    { name: 'no fire, no wake', fires: [], expected: [] },
    { name: 'one fire wakes once, a debounce later', fires: [100], expected: [600] },
    { name: 'a burst within the debounce wakes once', fires: [100, 200, 300, 550], expected: [600] },
    { name: 'a fire just after a wake wakes again', fires: [100, 650], expected: [600, 1150] },
    { name: 'fires far apart wake once each', fires: [100, 2000], expected: [600, 2500] },
  ])('$name', async ({ fires, expected }) => {
    expect(await wakes(500, fires, 5000)).toEqual(expected);
  });
});
