import { describe, expect, it } from '@jest/globals';
import { DEFAULT_INTERVAL_MS, fetchDue, type FetchHistory } from './schedule.js';

const t0 = 1_000_000;
const done = (extra: Partial<FetchHistory> = {}): FetchHistory => ({
  originDigest: 'd1',
  request: undefined,
  finishedAt: t0,
  failures: 0,
  inFlight: false,
  ...extra,
});
const ask = (now: number, extra: { originDigest?: string; request?: string } = {}) => ({
  originDigest: 'd1',
  request: undefined,
  intervalMs: DEFAULT_INTERVAL_MS,
  now,
  ...extra,
});

describe('fetchDue', () => {
  it.each([
    ['a service this hub has not fetched yet', undefined, ask(t0), { now: true }],
    ['a changed origin', done(), ask(t0 + 1, { originDigest: 'd2' }), { now: true }],
    ['a new request', done({ request: 'a' }), ask(t0 + 1, { request: 'b' }), { now: true }],
    ['the interval after a success', done(), ask(t0 + DEFAULT_INTERVAL_MS), { now: true }],
    ['before the interval', done(), ask(t0 + 60_000), { now: false, inMs: DEFAULT_INTERVAL_MS - 60_000 }],
    ['a request already handled', done({ request: 'a' }), ask(t0 + 1, { request: 'a' }), { now: false, inMs: DEFAULT_INTERVAL_MS - 1 }],
    [
      'one running, whatever changed',
      done({ inFlight: true }),
      ask(t0 + 1, { originDigest: 'd2', request: 'x' }),
      { now: false, inMs: undefined },
    ],
    ['5 s after a first failure', done({ failures: 1 }), ask(t0 + 5_000), { now: true }],
    ['not yet 10 s after a second failure', done({ failures: 2 }), ask(t0 + 5_000), { now: false, inMs: 5_000 }],
    ['failures capped at the interval', done({ failures: 30 }), ask(t0 + DEFAULT_INTERVAL_MS), { now: true }],
  ])('%s', (_, history, input, expected) => {
    expect(fetchDue(history, input)).toEqual(expected);
  });
});
