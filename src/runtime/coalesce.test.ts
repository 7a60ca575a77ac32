import { describe, expect, it } from '@jest/globals';
import { coalesceDelay, type Coalesce } from './coalesce.js';

describe('coalesceDelay, how long a watch waits before visiting a key', () => {
  const fixed: Coalesce = { minMs: 1000 };
  const byCost: Coalesce = { minMs: 0, passCostFactor: 2, maxMs: 10_000 };
  it.each<[string, Coalesce | undefined, number | undefined, number]>([
    ['no policy: at once', undefined, 500, 0],
    ['a fixed window whatever the last pass cost', fixed, 5000, 1000],
    ['a fixed window before any pass', fixed, undefined, 1000],
    ['by cost, before any pass: the minimum', byCost, undefined, 0],
    ['by cost: twice the last pass', byCost, 40, 80],
    ['by cost: a pass of 1.5 s waits 3 s', byCost, 1500, 3000],
    ['by cost, capped: a 60 s write pass waits at most the cap', byCost, 60_000, 10_000],
    ['by cost, never below the minimum', { minMs: 200, passCostFactor: 2 }, 10, 200],
    ['by cost without a cap', { minMs: 0, passCostFactor: 3 }, 60_000, 180_000],
    ['rounded to whole milliseconds', byCost, 0.3, 1],
  ])('%s', (_, policy, lastPassMs, expected) => {
    expect(coalesceDelay(policy, lastPassMs)).toBe(expected);
  });
});
