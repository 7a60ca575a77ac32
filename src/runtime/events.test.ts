import { describe, expect, it } from '@jest/globals';
import { createEventAggregator } from './events.js';

const names = (): (() => string) => {
  let n = 0;
  return () => `s${n++}`;
};

describe('event aggregation', () => {
  it('creates once, then counts repeats and patches at most once per interval', () => {
    const agg = createEventAggregator({ patchIntervalMs: 1000, windowMs: 60_000 }, names());
    expect(agg.decide('obj', 'k', 0, 'w')).toEqual({ action: 'create', name: 'w.s0', count: 1 });
    expect(agg.decide('obj', 'k', 100, 'w')).toEqual({ action: 'defer', name: 'w.s0', count: 2 });
    expect(agg.decide('obj', 'k', 200, 'w')).toEqual({ action: 'defer', name: 'w.s0', count: 3 });
    expect(agg.due(500)).toEqual([]);
    expect(agg.due(1000)).toEqual([{ aggregationKey: 'k', name: 'w.s0', count: 3 }]);
    expect(agg.decide('obj', 'k', 1100, 'w')).toEqual({ action: 'patch', name: 'w.s0', count: 4 });
    expect(agg.due(5000)).toEqual([]);
  });

  it('a hot loop of 10 000 identical events writes one create and a patch per interval', () => {
    const agg = createEventAggregator({ patchIntervalMs: 30_000 }, names());
    const writes = { create: 0, patch: 0 };
    for (let i = 0; i < 10_000; i++) {
      const d = agg.decide('obj', 'same', i * 10, 'w'); // 100 s of a 100 Hz loop
      if (d.action === 'create') writes.create++;
      if (d.action === 'patch') writes.patch++;
    }
    expect(writes).toEqual({ create: 1, patch: 3 });
  });

  it('starts a new series after the window', () => {
    const agg = createEventAggregator({ windowMs: 1000 }, names());
    agg.decide('obj', 'k', 0);
    expect(agg.decide('obj', 'k', 2000)).toMatchObject({ action: 'create', name: 'event.s1' });
  });

  it('drops distinct events about one object beyond the burst, then refills slowly; other objects are unaffected', () => {
    const agg = createEventAggregator({ burst: 3, refillPerSecond: 1 }, names());
    const actions = [0, 1, 2, 3, 4].map((i) => agg.decide('obj', `k${i}`, 0).action);
    expect(actions).toEqual(['create', 'create', 'create', 'drop', 'drop']);
    expect(agg.decide('other', 'o', 0).action).toBe('create');
    // Two dropped events took tokens too, so the object stays quiet a little longer.
    expect(agg.decide('obj', 'k9', 2000).action).toBe('drop');
    expect(agg.decide('obj', 'k10', 4000).action).toBe('create');
  });

  it('markWritten clears a pending count', () => {
    const agg = createEventAggregator({ patchIntervalMs: 10 }, names());
    agg.decide('o', 'k', 0);
    agg.decide('o', 'k', 1);
    agg.markWritten('k', 20);
    expect(agg.due(100)).toEqual([]);
    expect(agg.size()).toBe(1);
  });
});
