import { describe, expect, it } from '@jest/globals';
import { mapInSlices } from './slices.js';

/** Busy-waits `ms`: a step that holds the event loop as a large render would. */
const hold = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('mapInSlices', () => {
  it('returns what map returns, in order', async () => {
    expect(await mapInSlices([3, 1, 2], (n) => n * 10)).toEqual([30, 10, 20]);
    expect(await mapInSlices([], (n: number) => n)).toEqual([]);
  });

  it('lets a timer run between slices of a loop that would otherwise hold the event loop', async () => {
    const steps: string[] = [];
    setTimeout(() => steps.push('timer'), 0);
    await mapInSlices([1, 2, 3, 4], (n) => {
      hold(15);
      steps.push(`step ${n}`);
    });
    // Each 15 ms step exceeds the 10 ms budget: the timer runs before the loop finishes.
    expect(steps.indexOf('timer')).toBeGreaterThan(0);
    expect(steps.indexOf('timer')).toBeLessThan(4);
  });

  it('does not yield while the budget lasts', async () => {
    const steps: string[] = [];
    setImmediate(() => steps.push('immediate'));
    await mapInSlices([1, 2, 3], (n) => steps.push(`step ${n}`), 1_000);
    expect(steps).toEqual(['step 1', 'step 2', 'step 3']);
  });
});
