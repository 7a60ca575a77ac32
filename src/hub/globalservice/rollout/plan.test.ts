import { describe, expect, it } from '@jest/globals';
import type { Rollout, RolloutStage } from '../../../api/index.js';
import { planRollout, type ClusterRolloutState, type RolloutInput, type RolloutPlan } from './plan.js';
import { effectiveRollout } from './settings.js';

const NEW = 'rev-new';
const OLD = 'rev-old';
const NOW = Date.parse('2025-06-01T12:00:00Z');

type State = 'old' | 'none' | 'updating' | 'ready' | 'degraded' | 'oldDegraded' | 'oldUnavailable';

/** A cluster in one of the states a rollout meets: at the old revision, without a Work, or at the new one. */
function at(name: string, state: State, extra: Partial<ClusterRolloutState> = {}): ClusterRolloutState {
  const base = { name, labels: { env: name.startsWith('canary') ? 'canary' : 'prod' }, paused: false, degraded: false };
  const states: Record<State, Omit<ClusterRolloutState, 'name' | 'labels' | 'paused'>> = {
    old: { revision: OLD, available: true, degraded: false },
    none: { available: false, degraded: false },
    updating: { revision: NEW, available: false, degraded: false, revisionSince: NOW - 10_000 },
    ready: { revision: NEW, available: true, degraded: false, revisionSince: NOW - 60_000 },
    degraded: { revision: NEW, available: false, degraded: true, revisionSince: NOW - 10_000 },
    oldDegraded: { revision: OLD, available: false, degraded: true },
    oldUnavailable: { revision: OLD, available: false, degraded: false },
  };
  return { ...base, ...states[state], ...extra };
}

function plan(rollout: Rollout, clusters: ClusterRolloutState[], extra: Partial<RolloutInput> = {}): RolloutPlan {
  return planRollout({
    revision: NEW,
    stableRevision: OLD,
    rollout: effectiveRollout(rollout, undefined),
    clusters,
    groupMembers: new Map(),
    now: NOW,
    ...extra,
  });
}

const many = (count: number, state: State, prefix = 'c'): ClusterRolloutState[] =>
  Array.from({ length: count }, (_, i) => at(`${prefix}${String(i).padStart(2, '0')}`, state));

describe('AllAtOnce', () => {
  const allAtOnce: Rollout = { strategy: 'AllAtOnce' };

  it.each<[string, ClusterRolloutState[], Partial<RolloutPlan>]>([
    ['0 clusters: complete', [], { update: [], phase: 'Complete' }],
    ['1 cluster: updated', [at('a', 'old')], { update: ['a'], phase: 'Progressing' }],
    ['every cluster at once', [at('a', 'old'), at('b', 'old'), at('c', 'ready')], { update: ['a', 'b'], phase: 'Progressing' }],
    ['waits for availability', [at('a', 'updating'), at('b', 'ready')], { update: [], phase: 'Progressing' }],
    ['complete when all are Available', [at('a', 'ready'), at('b', 'ready')], { update: [], phase: 'Complete' }],
    [
      'a paused cluster is skipped and does not block',
      [at('a', 'ready'), at('b', 'old', { paused: true })],
      { update: [], phase: 'Complete' },
    ],
    ['a degraded cluster halts it', [at('a', 'degraded'), at('b', 'ready')], { update: [], phase: 'Halted' }],
  ])('%s', (_name, clusters, expected) => {
    expect(plan(allAtOnce, clusters)).toMatchObject(expected);
  });
});

describe('RollingUpdate', () => {
  it.each<[string, Rollout['maxUnavailable'], ClusterRolloutState[], string[]]>([
    ['0 clusters', 1, [], []],
    ['1 cluster, budget 1', 1, [at('a', 'old')], ['a']],
    ['maxUnavailable 1 of 10', 1, many(10, 'old'), ['c00']],
    ['maxUnavailable 0 still progresses by one', 0, many(3, 'old'), ['c00']],
    ['100% updates every cluster', '100%', many(10, 'old'), many(10, 'old').map((c) => c.name)],
    ['33% of 10 rounds down to 3', '33%', many(10, 'old'), ['c00', 'c01', 'c02']],
    ['33% of 2 is still 1', '33%', many(2, 'old'), ['c00']],
    ['in-flight clusters use the budget', 2, [at('a', 'updating'), at('b', 'old'), at('c', 'old')], ['b']],
    ['a full budget updates nothing', 2, [at('a', 'updating'), at('b', 'updating'), at('c', 'old')], []],
    ['Available clusters free the budget', 2, [at('a', 'ready'), at('b', 'updating'), at('c', 'old'), at('d', 'old')], ['c']],
    ['unavailable clusters go first', 1, [at('a', 'old'), at('b', 'oldUnavailable')], ['b']],
    ['paused clusters are never picked', 5, [at('a', 'old', { paused: true }), at('b', 'old')], ['b']],
  ])('%s', (_name, maxUnavailable, clusters, update) => {
    expect(plan({ strategy: 'RollingUpdate', maxUnavailable }, clusters).update).toEqual(update);
  });

  it('never has more than maxUnavailable clusters not yet Available, step after step', () => {
    let clusters = many(10, 'old');
    for (let step = 0; step < 20; step += 1) {
      const next = plan({ strategy: 'RollingUpdate', maxUnavailable: '30%' }, clusters);
      clusters = clusters.map((c) => (next.update.includes(c.name) ? at(c.name, 'updating') : c));
      expect(clusters.filter((c) => c.revision === NEW && !c.available).length).toBeLessThanOrEqual(3);
      // The agents report back: every updating cluster becomes Available before the next step.
      clusters = clusters.map((c) => (c.revision === NEW ? at(c.name, 'ready') : c));
      if (next.phase === 'Complete') break;
    }
    expect(plan({ strategy: 'RollingUpdate', maxUnavailable: '30%' }, clusters).phase).toBe('Complete');
  });

  it('refuses a maxUnavailable that is neither a count nor a percentage', () => {
    expect(plan({ strategy: 'RollingUpdate', maxUnavailable: 'lots' }, many(3, 'old'))).toMatchObject({
      update: [],
      invalid: expect.stringContaining('lots') as unknown,
    });
  });
});

describe('halting', () => {
  const rolling: Rollout = { strategy: 'RollingUpdate', maxUnavailable: 5, progressDeadlineSeconds: 60 };

  it('halts on a cluster Degraded mid-rollout, naming it, and updates no more', () => {
    const result = plan(rolling, [at('a', 'ready'), at('b', 'degraded'), at('c', 'old'), at('d', 'old')]);
    expect(result).toMatchObject({ phase: 'Halted', update: [], halting: [{ cluster: 'b', reason: 'Degraded' }] });
    expect(result.message).toContain('cluster b is Degraded at revision rev-new');
  });

  it.each<[string, ClusterRolloutState, string]>([
    [
      'a Degraded cluster',
      at('b', 'degraded', { problem: '1 of 1 manifests failed: ConfigMap/gone/x: apply failed: namespaces "gone" not found' }),
      'cluster b is Degraded at revision rev-new: 1 of 1 manifests failed: ConfigMap/gone/x: apply failed: namespaces "gone" not found',
    ],
    [
      'a cluster past its deadline',
      at('b', 'updating', { revisionSince: NOW - 61_000, problem: '1 of 1 manifests not healthy: Deployment.apps/web/api: Progressing' }),
      'cluster b is not Available 60s after receiving revision rev-new: 1 of 1 manifests not healthy: Deployment.apps/web/api: Progressing',
    ],
    ['a Degraded cluster the agent said nothing about', at('b', 'degraded'), 'cluster b is Degraded at revision rev-new'],
  ])("says why it halts on %s, in the agent's words", (_name, cluster, message) => {
    const result = plan(rolling, [cluster, at('c', 'old')]);
    expect(result.halting.map((entry) => entry.message)).toEqual([message]);
    expect(result.message).toBe(`halted: ${message}`);
  });

  it.each<[number, string]>([
    [3, ''],
    [4, '; and 1 more cluster'],
    [6, '; and 3 more clusters'],
  ])('names the first %i halting clusters with their causes, and counts the rest', (count, tail) => {
    const clusters = many(count, 'degraded').map((cluster) => ({ ...cluster, problem: `cause on ${cluster.name}` }));
    const named = ['c00', 'c01', 'c02'].map((name) => `cluster ${name} is Degraded at revision rev-new: cause on ${name}`).join('; ');
    expect(plan(rolling, clusters).message).toBe(`halted: ${named}${tail}`);
  });

  it('halts on a cluster past its progress deadline', () => {
    const late = at('b', 'updating', { revisionSince: NOW - 61_000 });
    expect(plan(rolling, [late, at('c', 'old')])).toMatchObject({
      phase: 'Halted',
      halting: [{ cluster: 'b', reason: 'ProgressDeadlineExceeded' }],
    });
  });

  it('asks to be woken when the next progress deadline passes', () => {
    expect(plan(rolling, [at('b', 'updating', { revisionSince: NOW - 45_000 }), at('c', 'old')]).requeueAfterMs).toBe(15_000);
  });

  it('has no deadline without progressDeadlineSeconds', () => {
    const result = plan({ strategy: 'RollingUpdate', maxUnavailable: 1 }, [at('b', 'updating', { revisionSince: 0 }), at('c', 'old')]);
    expect(result).toMatchObject({ phase: 'Progressing', halting: [] });
    expect(result.requeueAfterMs).toBeUndefined();
  });

  it('is not halted by a cluster that is Degraded at an older revision, which it updates first', () => {
    expect(plan({ strategy: 'RollingUpdate', maxUnavailable: 1 }, [at('a', 'old'), at('b', 'oldDegraded')])).toMatchObject({
      phase: 'Progressing',
      update: ['b'],
    });
  });

  it('resumes by itself when the cluster recovers', () => {
    expect(plan(rolling, [at('a', 'ready'), at('b', 'ready'), at('c', 'old')])).toMatchObject({ phase: 'Progressing', update: ['c'] });
  });

  it('halts a paused cluster that is Degraded at the revision too', () => {
    expect(plan(rolling, [at('a', 'degraded', { paused: true }), at('c', 'old')]).phase).toBe('Halted');
  });
});

describe('revert mid-rollout', () => {
  it('rolls the previous content out the same way, fixing broken clusters first', () => {
    // rev-new was rolling out and broke b; the spec is reverted, so rev-old is the revision again.
    const clusters = [at('a', 'ready'), at('b', 'degraded'), at('c', 'old'), at('d', 'old')];
    const result = planRollout({
      revision: OLD,
      stableRevision: OLD,
      rollout: effectiveRollout({ strategy: 'RollingUpdate', maxUnavailable: 1 }, undefined),
      clusters,
      groupMembers: new Map(),
      now: NOW,
    });
    expect(result).toMatchObject({ phase: 'Progressing', update: ['b'], halting: [] });
  });
});

describe('membership changes', () => {
  const rolling: Rollout = { strategy: 'RollingUpdate', maxUnavailable: 1 };

  it('gives a cluster that joins mid-rollout the stable revision, outside the budget', () => {
    expect(plan(rolling, [at('a', 'updating'), at('b', 'old'), at('new', 'none')])).toMatchObject({ update: [], join: ['new'] });
  });

  it('gives a joining cluster the revision when no rollout is in flight', () => {
    expect(plan(rolling, [at('a', 'ready'), at('new', 'none')], { stableRevision: NEW })).toMatchObject({ update: ['new'], join: [] });
  });

  it('rolls the first revision out to clusters without a Work as ordinary candidates', () => {
    expect(
      planRollout({
        revision: NEW,
        rollout: effectiveRollout(rolling, undefined),
        clusters: [at('a', 'none'), at('b', 'none')],
        groupMembers: new Map(),
        now: NOW,
      }),
    ).toMatchObject({ update: ['a'], join: [] });
  });

  it('does not give a paused new cluster anything', () => {
    expect(plan(rolling, [at('a', 'updating'), at('new', 'none', { paused: true })])).toMatchObject({ update: [], join: [] });
  });

  it('completes when the only remaining cluster leaves the placement', () => {
    expect(plan(rolling, [at('a', 'ready')]).phase).toBe('Complete');
  });
});

describe('spec.rollout.paused', () => {
  it('freezes everything, joining clusters included', () => {
    const result = plan({ strategy: 'AllAtOnce', paused: true }, [at('a', 'old'), at('b', 'degraded'), at('new', 'none')]);
    expect(result).toMatchObject({ phase: 'Paused', update: [], join: [] });
    expect(result.message).toContain('1 of 3 clusters at revision rev-new');
  });
});

describe('Staged', () => {
  const canary: RolloutStage = { name: 'canary', clusterSelector: { matchLabels: { env: 'canary' } } };
  const europe: RolloutStage = { name: 'europe', clusterGroup: 'eu' };
  const groupMembers = new Map([['eu', ['paris', 'berlin']]]);
  const staged = (...stages: RolloutStage[]): Rollout => ({ strategy: 'Staged', stages, progressDeadlineSeconds: 600 });
  const run = (rollout: Rollout, clusters: ClusterRolloutState[], extra: Partial<RolloutInput> = {}): RolloutPlan =>
    plan(rollout, clusters, { groupMembers, ...extra });

  it('updates the first stage only', () => {
    expect(run(staged(canary, europe), [at('canary-1', 'old'), at('paris', 'old'), at('ohio', 'old')])).toMatchObject({
      update: ['canary-1'],
      phase: 'Progressing',
      stage: 'canary',
      stageIndex: 0,
    });
  });

  it('moves to the next stage when a stage without a gate is Available', () => {
    expect(
      run(staged(canary, europe), [at('canary-1', 'ready'), at('paris', 'old'), at('berlin', 'old'), at('ohio', 'old')]),
    ).toMatchObject({ update: ['berlin', 'paris'], stage: 'europe', stageIndex: 1 });
  });

  it('updates clusters no stage selects after the last stage', () => {
    expect(
      run(staged(canary, europe), [at('canary-1', 'ready'), at('paris', 'ready'), at('berlin', 'ready'), at('ohio', 'old')]),
    ).toMatchObject({ update: ['ohio'], stageIndex: 2, phase: 'Progressing' });
  });

  it('completes when every stage is done', () => {
    expect(run(staged(canary, europe), [at('canary-1', 'ready'), at('paris', 'ready')]).phase).toBe('Complete');
  });

  it('completes on 0 clusters', () => {
    expect(run(staged(canary), []).phase).toBe('Complete');
  });

  describe('a pause', () => {
    const paused = staged({ ...canary, pause: { duration: '30m' } }, europe);
    const done = [at('canary-1', 'ready'), at('paris', 'old')];

    it('waits after the stage, and asks to be woken when it ends', () => {
      const result = run(paused, done);
      expect(result).toMatchObject({
        update: [],
        phase: 'Waiting',
        stage: 'canary',
        stageIndex: 0,
        waitingUntil: '2025-06-01T12:30:00Z',
        requeueAfterMs: 30 * 60_000,
      });
    });

    it('keeps the end it recorded rather than restarting the pause', () => {
      const previous = { revision: NEW, rollout: { phase: 'Waiting' as const, stageIndex: 0, waitingUntil: '2025-06-01T12:10:00Z' } };
      expect(run(paused, done, { previous })).toMatchObject({
        phase: 'Waiting',
        waitingUntil: '2025-06-01T12:10:00Z',
        requeueAfterMs: 10 * 60_000,
      });
    });

    it('starts the next stage once the pause is over', () => {
      const previous = { revision: NEW, rollout: { phase: 'Waiting' as const, stageIndex: 0, waitingUntil: '2025-06-01T11:59:00Z' } };
      expect(run(paused, done, { previous })).toMatchObject({ phase: 'Progressing', update: ['paris'], stage: 'europe' });
    });

    it('restarts the pause for a different revision', () => {
      const previous = {
        revision: 'rev-other',
        rollout: { phase: 'Waiting' as const, stageIndex: 0, waitingUntil: '2025-06-01T11:59:00Z' },
      };
      expect(run(paused, done, { previous }).phase).toBe('Waiting');
    });

    it('is skipped when no later cluster needs the revision', () => {
      expect(run(paused, [at('canary-1', 'ready'), at('paris', 'ready')]).phase).toBe('Complete');
    });

    it('refuses an unreadable duration', () => {
      expect(run(staged({ ...canary, pause: { duration: 'soon' } }, europe), done).invalid).toContain('soon');
    });
  });

  describe('an approval', () => {
    const gated = staged({ ...canary, approval: { message: 'check the canary dashboards' } }, europe, {
      name: 'rest',
      clusterSelector: {},
      approval: {},
    });
    const canaryDone = [at('canary-1', 'ready'), at('paris', 'old'), at('ohio', 'old')];

    it('waits for the annotation, saying how to give it', () => {
      const result = run(gated, canaryDone);
      expect(result).toMatchObject({ update: [], phase: 'AwaitingApproval', stage: 'canary' });
      expect(result.message).toContain(
        'check the canary dashboards; approve the next stage by annotating the GlobalService with flotilla.dev/approved-stage=canary@rev-new',
      );
    });

    it.each<[string, string | undefined, string[]]>([
      ['no annotation', undefined, []],
      ['an approval of another revision', 'canary@rev-old', []],
      ['an approval of an unknown stage', 'staging@rev-new', []],
      ['the approval arriving', 'canary@rev-new', ['paris']],
      ['a later stage approved: earlier gates too', 'europe@rev-new', ['paris']],
    ])('%s', (_name, approvedStage, update) => {
      expect(run(gated, canaryDone, approvedStage === undefined ? {} : { approvedStage }).update).toEqual(update);
    });

    it('does not close a passed gate when the annotation moves on', () => {
      const previous = { revision: NEW, rollout: { phase: 'Progressing' as const, stageIndex: 1 } };
      expect(
        run(gated, [at('canary-1', 'ready'), at('paris', 'updating'), at('ohio', 'old')], { previous, approvedStage: 'other@rev-new' }),
      ).toMatchObject({ phase: 'Progressing', stage: 'europe', update: [] });
    });

    it('still gates after a stage that selects no cluster', () => {
      expect(run(gated, [at('paris', 'old')])).toMatchObject({ phase: 'AwaitingApproval', stage: 'canary', update: [] });
    });
  });

  it('updates a cluster that joins an already passed stage right away', () => {
    const previous = { revision: NEW, rollout: { phase: 'Progressing' as const, stageIndex: 1 } };
    expect(
      run(staged(canary, europe), [at('canary-1', 'ready'), at('canary-2', 'old'), at('paris', 'updating')], {
        previous,
        stableRevision: NEW,
      }),
    ).toMatchObject({ update: ['canary-2'], stage: 'europe' });
  });

  it('halts on a Degraded cluster in the current stage', () => {
    expect(run(staged(canary, europe), [at('canary-1', 'degraded'), at('paris', 'old')])).toMatchObject({
      phase: 'Halted',
      stage: 'canary',
      update: [],
    });
  });

  it('reads a stage naming a missing group as empty', () => {
    expect(run(staged({ name: 'ghost', clusterGroup: 'nope' }), [at('ohio', 'old')])).toMatchObject({ update: ['ohio'], stageIndex: 1 });
  });
});
