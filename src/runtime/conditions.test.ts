import { describe, expect, it } from '@jest/globals';
import {
  CONDITION_MESSAGE_LIMIT,
  findCondition,
  isConditionTrue,
  jsonEqual,
  removeCondition,
  setCondition,
  setReadiness,
  timestamp,
  type Condition,
} from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-01T01:00:00.000Z');

describe('setCondition', () => {
  it('adds a new condition stamped now', () => {
    const result = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' }, { now: t0 });
    expect(result).toEqual([{ type: 'Ready', status: 'True', reason: 'Ok', message: 'fine', lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when the status stays, even if reason and message change', () => {
    const start = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, { now: t0 });
    const next = setCondition(start, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, { now: t1, observedGeneration: 3 });
    expect(next).toEqual([
      { type: 'Ready', status: 'False', reason: 'B', message: 'b', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 },
    ]);
  });

  it('moves lastTransitionTime when the status flips', () => {
    const start = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, { now: t0 });
    const next = setCondition(start, { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, { now: t1 });
    expect(next[0]?.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
  });

  it('is idempotent: setting the same condition twice yields an equal list (so no status write)', () => {
    const start = setCondition([], { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, { now: t0 });
    expect(jsonEqual(setCondition(start, { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, { now: t1 }), start)).toBe(true);
  });

  it('keeps other conditions and their order, and does not modify its input', () => {
    const start: Condition[] = [
      { type: 'A', status: 'True', reason: 'r', message: 'm', lastTransitionTime: 'x' },
      { type: 'B', status: 'True', reason: 'r', message: 'm', lastTransitionTime: 'x' },
    ];
    const copy = JSON.parse(JSON.stringify(start)) as Condition[];
    const next = setCondition(start, { type: 'A', status: 'False', reason: 'r', message: 'm' }, { now: t0 });
    expect(next.map((c) => c.type)).toEqual(['A', 'B']);
    expect(start).toEqual(copy);
    expect(findCondition(next, 'B')).toBe(start[1]);
    expect(isConditionTrue(next, 'A')).toBe(false);
    expect(isConditionTrue(next, 'B')).toBe(true);
    expect(isConditionTrue(next, 'C')).toBe(false);
    expect(removeCondition(next, 'A').map((c) => c.type)).toEqual(['B']);
  });

  it.each([
    ['a message within the default bound', 'm'.repeat(CONDITION_MESSAGE_LIMIT), {}, CONDITION_MESSAGE_LIMIT, false],
    ['a longer message, cut to the default bound', 'm'.repeat(CONDITION_MESSAGE_LIMIT + 1), {}, CONDITION_MESSAGE_LIMIT, true],
    ['a longer message, cut to the bound the writer names', 'm'.repeat(100), { messageLimit: 10 }, 10, true],
  ])('bounds %s itself', (_name, message, stamp, length, cut) => {
    const result = setCondition([], { type: 'X', status: 'True', reason: 'r', message }, { now: t0, ...stamp })[0]?.message ?? '';
    expect(result).toHaveLength(length);
    expect(result.endsWith('…')).toBe(cut);
  });

  it('stamps the generation on a condition it sets and not on the others', () => {
    const start: Condition[] = [{ type: 'B', status: 'True', reason: 'r', message: 'm', lastTransitionTime: 'x', observedGeneration: 1 }];
    const next = setCondition(start, { type: 'A', status: 'True', reason: 'r', message: 'm' }, { now: t0, observedGeneration: 4 });
    expect(next.map((c) => [c.type, c.observedGeneration])).toEqual([
      ['B', 1],
      ['A', 4],
    ]);
  });

  it('takes an explicit lastTransitionTime for a new condition', () => {
    expect(
      setCondition([], { type: 'X', status: 'True', reason: 'r', message: 'm', lastTransitionTime: 'given' }, { now: t0 })[0]
        ?.lastTransitionTime,
    ).toBe('given');
  });
});

describe('setReadiness (kstatus)', () => {
  it.each([
    ['Ready', { Ready: 'True' }],
    ['Reconciling', { Ready: 'Unknown', Reconciling: 'True' }],
    ['Stalled', { Ready: 'False', Stalled: 'True' }],
    ['Failed', { Ready: 'False' }],
  ] as const)('%s sets %j and clears the rest', (state, expected) => {
    const messy = setCondition(
      setCondition([], { type: 'Reconciling', status: 'True', reason: 'r', message: 'm' }, { now: t0 }),
      { type: 'Stalled', status: 'True', reason: 'r', message: 'm' },
      { now: t0 },
    );
    const result = setReadiness(messy, { state, reason: 'Why', message: 'because' }, { now: t1, observedGeneration: 2 });
    expect(Object.fromEntries(result.map((c) => [c.type, c.status]))).toEqual(expected);
    expect(result.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('bounds the message it copies into each condition', () => {
    const result = setReadiness([], { state: 'Stalled', reason: 'Why', message: 'x'.repeat(50) }, { now: t1, messageLimit: 20 });
    expect(result.map((c) => c.message.length)).toEqual([20, 20]);
  });
});

describe('jsonEqual', () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: 1 }, { a: 2 }, false],
    [[1, 2], [2, 1], false],
    [[1], { 0: 1 }, false],
    [null, {}, false],
    [undefined, undefined, true],
    ['1', 1, false],
  ])('%j vs %j → %s', (a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
  });
});

it('timestamp has second precision like metav1.Time', () => {
  expect(timestamp(new Date('2026-01-01T00:00:00.999Z'))).toBe('2026-01-01T00:00:00Z');
});
