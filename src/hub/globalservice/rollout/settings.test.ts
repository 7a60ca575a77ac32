import { describe, expect, it } from '@jest/globals';
import type { FleetRolloutDefaults, MaxUnavailable, Rollout } from '../../../api/index.js';
import { effectiveRollout, maxUnavailableCount } from './settings.js';

describe('maxUnavailableCount', () => {
  it.each<[MaxUnavailable, number, number | undefined]>([
    [1, 10, 1],
    [3, 10, 3],
    [0, 10, 1],
    [20, 10, 20],
    ['100%', 10, 10],
    ['33%', 10, 3],
    ['33%', 3, 1],
    ['25%', 7, 1],
    ['50%', 7, 3],
    ['1%', 1000, 10],
    ['10%', 0, 1],
    ['100%', 1, 1],
    ['0%', 10, 1],
    ['250%', 10, 10],
    ['abc', 10, undefined],
    ['5', 10, undefined],
    [1.5, 10, undefined],
  ])('%s of %i targets is %s', (value, targets, expected) => {
    expect(maxUnavailableCount(value, targets)).toBe(expected);
  });
});

describe('effectiveRollout', () => {
  it.each<[string, Rollout | undefined, FleetRolloutDefaults | undefined, object]>([
    [
      'nothing set: RollingUpdate 25%',
      undefined,
      undefined,
      { strategy: 'RollingUpdate', maxUnavailable: '25%', stages: [], paused: false },
    ],
    [
      'the fleet default',
      {},
      { strategy: 'AllAtOnce', progressDeadlineSeconds: 60 },
      { strategy: 'AllAtOnce', progressDeadlineSeconds: 60 },
    ],
    ['the fleet maxUnavailable under the same strategy', { strategy: 'RollingUpdate' }, { maxUnavailable: 2 }, { maxUnavailable: 2 }],
    [
      'the service overrides the fleet',
      { maxUnavailable: '50%', progressDeadlineSeconds: 30 },
      { maxUnavailable: 2, progressDeadlineSeconds: 60 },
      { maxUnavailable: '50%', progressDeadlineSeconds: 30 },
    ],
    ['paused', { paused: true }, undefined, { paused: true }],
  ])('%s', (_name, service, fleet, expected) => {
    expect(effectiveRollout(service, fleet)).toMatchObject(expected);
  });
});
