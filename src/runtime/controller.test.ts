import { describe, expect, it } from '@jest/globals';
import { manualClock } from './clock.js';
import { changedBeyondStatus, runWorkers, type ReconcileOutcome, type ReconcileResult } from './controller.js';
import { silentLogger } from './log.js';
import { createWorkQueue } from './queue.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs one reconcile of key `k` through runWorkers and reports what the loop did with the key. */
async function once(
  reconcile: () => Promise<ReconcileResult | undefined>,
  abortDuring = false,
): Promise<{ outcome: ReconcileOutcome | undefined; failures: number; visitedAgain: boolean; metrics: string[] }> {
  const clock = manualClock();
  const queue = createWorkQueue({ clock, backoff: { baseMs: 100, maxMs: 1000 } });
  const controller = new AbortController();
  const outcomes: ReconcileOutcome[] = [];
  const metrics: string[] = [];
  let runs = 0;
  queue.add('k');
  const loop = runWorkers(
    queue,
    async () => {
      runs++;
      if (abortDuring) controller.abort();
      return runs === 1 ? reconcile() : undefined;
    },
    {
      name: 'test',
      workers: 1,
      signal: controller.signal,
      logger: silentLogger(),
      metrics: {
        reconciled: (name, result) => {
          metrics.push(`${name}:${result}`);
        },
      },
      onResult: (outcome) => {
        outcomes.push(outcome);
      },
    },
  );
  await flush();
  const failures = queue.failures('k');
  clock.advance(1000);
  await flush();
  controller.abort();
  await loop;
  return { outcome: outcomes[0], failures, visitedAgain: runs > 1, metrics: metrics.slice(0, 1) };
}

describe('runWorkers, the one worker loop of controllers and the agent', () => {
  it.each<[string, () => Promise<ReconcileResult | undefined>, Awaited<ReturnType<typeof once>>]>([
    [
      'a success forgets the key',
      () => Promise.resolve(undefined),
      { outcome: 'success', failures: 0, visitedAgain: false, metrics: ['test:success'] },
    ],
    [
      'requeueAfter visits the key again later',
      () => Promise.resolve({ requeueAfter: 500 }),
      { outcome: 'requeue', failures: 0, visitedAgain: true, metrics: ['test:requeue'] },
    ],
    [
      'requeueAfter 0 is a plain success',
      () => Promise.resolve({ requeueAfter: 0 }),
      { outcome: 'success', failures: 0, visitedAgain: false, metrics: ['test:success'] },
    ],
    [
      'an error retries with backoff',
      () => Promise.reject(new Error('boom')),
      { outcome: 'error', failures: 1, visitedAgain: true, metrics: ['test:error'] },
    ],
  ])('%s', async (_, reconcile, expected) => {
    expect(await once(reconcile)).toEqual(expected);
  });

  it('neither counts nor retries an error during shutdown', async () => {
    expect(await once(() => Promise.reject(new Error('aborted')), true)).toEqual({
      outcome: 'aborted',
      failures: 0,
      visitedAgain: false,
      metrics: [],
    });
  });

  it('never hands one key to two workers, and reconciles a key added meanwhile once more', async () => {
    const queue = createWorkQueue();
    const controller = new AbortController();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    queue.add('k');
    const loop = runWorkers(
      queue,
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) queue.add('k');
        await flush();
        active--;
        return undefined;
      },
      { name: 'test', workers: 4, signal: controller.signal, logger: silentLogger() },
    );
    for (let i = 0; i < 10; i++) await flush();
    controller.abort();
    await loop;
    expect({ maxActive, runs }).toEqual({ maxActive: 1, runs: 2 });
  });
});

describe('changedBeyondStatus, which updates of a watched object deserve a visit', () => {
  const fleet = {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'Fleet',
    metadata: { name: 'prod', generation: 3, labels: { tier: 'a' }, resourceVersion: '10' },
    status: { clusters: { ready: 9 } },
  };
  it.each([
    [
      'its status only (a new resourceVersion, new counts)',
      { metadata: { ...fleet.metadata, resourceVersion: '11' }, status: { clusters: { ready: 10 } } },
      false,
    ],
    ['its spec (the generation)', { metadata: { ...fleet.metadata, generation: 4 } }, true],
    ['a label', { metadata: { ...fleet.metadata, labels: { tier: 'b' } } }, true],
    ['an annotation', { metadata: { ...fleet.metadata, annotations: { note: 'x' } } }, true],
    ['a finalizer', { metadata: { ...fleet.metadata, finalizers: ['flotilla.dev/cleanup'] } }, true],
    ['its deletion', { metadata: { ...fleet.metadata, deletionTimestamp: '2026-12-05T06:00:00Z' } }, true],
  ])('an update of %s: %s', (_, change, visit) => {
    expect(changedBeyondStatus(fleet, { ...fleet, ...change })).toBe(visit);
  });
});
