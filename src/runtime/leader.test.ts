import { describe, expect, it } from '@jest/globals';
import { describeLoss, judge, microTime, nextRecord, observe, renewalGivesUpAt, sameRecord, type LeaseSpec } from './leader.js';

const held = (holder: string, renew = '2026-01-01T00:00:00.000000Z', duration = 15): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: duration,
  acquireTime: '2026-01-01T00:00:00.000000Z',
  renewTime: renew,
  leaseTransitions: 2,
});

describe('lease judgement by local observation time', () => {
  it('treats a lease held by another as held until its duration passed since we saw it change', () => {
    const obs = observe(undefined, held('other'), 1_000);
    expect(judge(obs, 'me', 1_000)).toBe('held');
    expect(judge(obs, 'me', 15_999)).toBe('held');
    expect(judge(obs, 'me', 16_000)).toBe('free');
  });

  it('ignores the holder clock: a renewTime far in the past or future does not matter', () => {
    const past = observe(undefined, held('other', '1999-01-01T00:00:00.000000Z'), 50_000);
    expect(judge(past, 'me', 50_001)).toBe('held');
    const future = observe(undefined, held('other', '2999-01-01T00:00:00.000000Z'), 50_000);
    expect(judge(future, 'me', 65_000)).toBe('free');
  });

  it('restarts the clock only when the record changes (a renewal), not on every read', () => {
    const first = observe(undefined, held('other', 'r1'), 0);
    const reread = observe(first, held('other', 'r1'), 10_000);
    expect(reread.observedAt).toBe(0);
    expect(judge(reread, 'me', 15_000)).toBe('free');
    const renewed = observe(reread, held('other', 'r2'), 14_000);
    expect(renewed.observedAt).toBe(14_000);
    expect(judge(renewed, 'me', 28_999)).toBe('held');
  });

  it('answers ours for our own identity and free for an empty or released holder', () => {
    expect(judge(observe(undefined, held('me'), 0), 'me', 0)).toBe('ours');
    expect(judge(observe(undefined, held(''), 0), 'me', 0)).toBe('free');
    expect(judge(observe(undefined, {}, 0), 'me', 0)).toBe('free');
    expect(judge(observe(undefined, { holderIdentity: null }, 0), 'me', 0)).toBe('free');
  });

  it('compares every field of the record', () => {
    const base = held('a');
    expect(sameRecord(base, { ...base })).toBe(true);
    for (const change of [
      { holderIdentity: 'b' },
      { leaseDurationSeconds: 1 },
      { acquireTime: 'x' },
      { renewTime: 'x' },
      { leaseTransitions: 3 },
    ]) {
      expect(sameRecord(base, { ...base, ...change })).toBe(false);
    }
    expect(sameRecord({ holderIdentity: null }, {})).toBe(true);
  });
});

describe('the record we write', () => {
  it('keeps acquireTime and transitions when renewing our own lease', () => {
    const mine = { ...held('me'), acquireTime: 'then' };
    const next = nextRecord(mine, 'me', 15, Date.UTC(2026, 0, 2));
    expect(next).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: 'then',
      renewTime: '2026-01-02T00:00:00.000000Z',
      leaseTransitions: 2,
    });
  });

  it('counts a transition when taking over from another holder, not when creating', () => {
    expect(nextRecord(held('other'), 'me', 10, 0).leaseTransitions).toBe(3);
    expect(nextRecord({}, 'me', 10, 0)).toMatchObject({
      leaseTransitions: 0,
      holderIdentity: 'me',
      acquireTime: '1970-01-01T00:00:00.000000Z',
    });
    expect(nextRecord(held(''), 'me', 10, 0).leaseTransitions).toBe(2);
  });

  it('writes MicroTime with six fraction digits', () => {
    expect(microTime(Date.UTC(2026, 4, 6, 7, 8, 9, 123))).toBe('2026-05-06T07:08:09.123000Z');
  });
});

describe('when a leader that cannot renew gives up', () => {
  it.each([
    ["client-go's defaults (15 s / 10 s / 2 s): a round starts 2 s after the renewal and has 10 s", 15, 10_000, 2_000, 12_000],
    ["the hub's (15 s / 10 s / 15 s / 7)", 15, 10_000, 2_143, 12_143],
    ['short test timings (4 s / 3 s / 0.5 s)', 4, 3_000, 500, 3_500],
    ['never after the lease could pass to another (4 s / 3 s / 1.5 s)', 4, 3_000, 1_500, 4_000],
  ])('%s', (_name, durationSeconds, renewDeadlineMs, retryMs, after) => {
    expect(renewalGivesUpAt(100_000, { durationSeconds, renewDeadlineMs, retryMs })).toBe(100_000 + after);
  });
});

describe('why a leader lost its lease', () => {
  it.each([
    [
      'a blocked event loop, and an error when the request finally went out',
      12_500,
      9_000,
      [{ requestMs: 800, error: 'Error: write EPIPE' }],
      'no renewal for 12.5 s; 1 renewal round failed: the event loop was blocked for up to 9.0 s; renewals failed: Error: write EPIPE',
    ],
    [
      'an unanswered request on a free event loop',
      12_000,
      40,
      [{ requestMs: 9_990 }],
      'no renewal for 12.0 s; 1 renewal round failed: a renewal went unanswered for 10.0 s',
    ],
    [
      'repeated errors, each named once',
      12_100,
      0,
      [
        { requestMs: 30, error: 'HTTP 500' },
        { requestMs: 25, error: 'HTTP 500' },
        { requestMs: 40, error: 'ECONNRESET' },
      ],
      'no renewal for 12.1 s; 3 renewal rounds failed: renewals failed: HTTP 500; ECONNRESET',
    ],
  ])('%s', (_name, sinceMs, worstDelayMs, rounds, expected) => {
    expect(describeLoss(sinceMs, worstDelayMs, rounds)).toBe(expected);
  });
});
