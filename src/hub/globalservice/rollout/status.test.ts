import type { GlobalService } from '../../../api/index.js';
import { describe, expect, it } from '@jest/globals';
import { planRollout, type RolloutPlan } from './plan.js';
import { effectiveRollout } from './settings.js';
import {
  ATTENTION_LIMIT,
  SERVICE_CONDITION_MESSAGE_LIMIT,
  fleetServiceCounts,
  summarizeStatus,
  type ClusterSummaryState,
  type StatusInput,
} from './status.js';
import { PROBLEM_LIMIT } from './work-state.js';

const REV = 'rev-new';
const NOW = new Date('2025-06-01T12:00:00Z');

const cluster = (name: string, extra: Partial<ClusterSummaryState> = {}): ClusterSummaryState => ({
  name,
  labels: {},
  paused: false,
  revision: REV,
  available: true,
  degraded: false,
  drifted: false,
  ...extra,
});

const plan = (extra: Partial<RolloutPlan> = {}): RolloutPlan => ({
  update: [],
  join: [],
  phase: 'Complete',
  halting: [],
  message: 'done',
  ...extra,
});

const summarize = (extra: Partial<StatusInput>): ReturnType<typeof summarizeStatus> =>
  summarizeStatus({ generation: 3, revision: REV, plan: plan(), clusters: [], now: NOW, ...extra });

const conditionsOf = (status: ReturnType<typeof summarizeStatus>): Record<string, string> =>
  Object.fromEntries((status.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe('summarizeStatus', () => {
  it('counts clusters by state', () => {
    const status = summarize({
      clusters: [
        cluster('a'),
        cluster('b', { available: false }),
        cluster('c', { revision: 'rev-old', degraded: true }),
        cluster('d', { drifted: true }),
        cluster('e', { revision: undefined, available: false, renderError: { reason: 'UnresolvedVariable', message: 'x' } }),
      ],
    });
    expect(status.clusters).toEqual({ targeted: 5, updated: 3, available: 2, failed: 2, drifted: 1 });
    expect(status).toMatchObject({ observedGeneration: 3, revision: REV });
  });

  it.each<[string, Partial<StatusInput>, Record<string, string>]>([
    ['complete', {}, { Ready: 'True/RolloutComplete' }],
    [
      'progressing',
      { plan: plan({ phase: 'Progressing' }) },
      { Ready: 'Unknown/RolloutProgressing', Reconciling: 'True/RolloutProgressing' },
    ],
    ['waiting on a pause', { plan: plan({ phase: 'Waiting' }) }, { Ready: 'Unknown/StagePause', Reconciling: 'True/StagePause' }],
    [
      'awaiting approval',
      { plan: plan({ phase: 'AwaitingApproval' }) },
      { Ready: 'Unknown/AwaitingApproval', Reconciling: 'True/AwaitingApproval' },
    ],
    ['paused', { plan: plan({ phase: 'Paused' }) }, { Ready: 'Unknown/RolloutPaused', Reconciling: 'True/RolloutPaused' }],
    [
      'halted on a Degraded cluster',
      { plan: plan({ phase: 'Halted', halting: [{ cluster: 'a', reason: 'Degraded', message: 'm' }] }) },
      { Ready: 'False/ClusterDegraded', Stalled: 'True/ClusterDegraded' },
    ],
    [
      'halted past a deadline',
      { plan: plan({ phase: 'Halted', halting: [{ cluster: 'a', reason: 'ProgressDeadlineExceeded', message: 'm' }] }) },
      { Ready: 'False/ProgressDeadlineExceeded', Stalled: 'True/ProgressDeadlineExceeded' },
    ],
    [
      'an invalid rollout',
      { plan: plan({ phase: 'Progressing', invalid: 'bad' }) },
      { Ready: 'False/InvalidRollout', Stalled: 'True/InvalidRollout' },
    ],
    [
      'an unreadable source',
      { sourceError: { reason: 'ConfigMapNotFound', message: 'gone' } },
      { Ready: 'False/ConfigMapNotFound', Stalled: 'True/ConfigMapNotFound' },
    ],
    [
      'a cluster that cannot render',
      { clusters: [cluster('a', { renderError: { reason: 'PatchFailed', message: 'p' } })] },
      { Ready: 'False/RenderFailed', Stalled: 'True/RenderFailed' },
    ],
    [
      'a manifest refused by the fleet',
      { refused: 'cluster a: 1 manifest refused', plan: plan({ phase: 'Progressing' }) },
      { Ready: 'False/ManifestRefused', Stalled: 'True/ManifestRefused' },
    ],
    [
      'a conflict',
      { clusters: [cluster('a', { conflict: 'Deployment.apps/web/api is held by GlobalService fleet/x' })] },
      { Ready: 'False/Conflict', Stalled: 'True/Conflict' },
    ],
    [
      'a ClusterGroup the placement names is missing',
      { missingGroups: ['europe'] },
      { Ready: 'False/ClusterGroupNotFound', Stalled: 'True/ClusterGroupNotFound' },
    ],
    [
      'a Git or Helm origin cannot be fetched (retried on its schedule, yet Stalled so kstatus reads Failed)',
      { sourceUnavailable: 'git ls-remote: 503 Service Unavailable', plan: plan({ phase: 'Complete' }) },
      { Ready: 'False/SourceUnavailable', Stalled: 'True/SourceUnavailable' },
    ],
    [
      'the hub apiserver refused a Work write (retried, yet Stalled so kstatus reads Failed)',
      { writeFailure: 'could not apply Work x/y: Forbidden: no', plan: plan({ phase: 'Progressing' }) },
      { Ready: 'False/WorkWriteFailed', Stalled: 'True/WorkWriteFailed' },
    ],
  ])('conditions when %s', (_name, input, expected) => {
    expect(conditionsOf(summarize(input))).toEqual(expected);
  });

  it('names the missing ClusterGroups', () => {
    expect(summarize({ missingGroups: ['asia', 'europe'] }).conditions?.find((c) => c.type === 'Stalled')?.message).toBe(
      'spec.placement.clusterGroups names ClusterGroups that do not exist: asia, europe',
    );
  });

  it('names the first failing cluster and counts the others', () => {
    const status = summarize({
      clusters: ['a', 'b', 'c'].map((name) => cluster(name, { renderError: { reason: 'PatchFailed', message: 'boom' } })),
    });
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.message).toBe('cluster a: boom (and 2 more clusters)');
  });

  it('keeps the transition time of a condition that did not flip', () => {
    const first = summarize({});
    const later = summarizeStatus({
      generation: 4,
      revision: REV,
      plan: plan(),
      clusters: [],
      now: new Date('2025-06-02T00:00:00Z'),
      previousConditions: first.conditions ?? [],
    });
    expect(later.conditions?.[0]?.lastTransitionTime).toBe('2025-06-01T12:00:00Z');
  });

  it('lists clusters needing attention worst first, capped', () => {
    const clusters = [
      cluster('paused', { paused: true, revision: 'rev-old' }),
      cluster('drift', { drifted: true }),
      cluster('olddeg', { revision: 'rev-old', degraded: true }),
      cluster('conflict', { conflict: 'c' }),
      cluster('render', { renderError: { reason: 'UnresolvedVariable', message: 'r' } }),
      cluster('halting', { degraded: true }),
      cluster('fine'),
      ...Array.from({ length: 30 }, (_, i) => cluster(`z${i}`, { drifted: true })),
    ];
    const status = summarize({
      clusters,
      plan: plan({ phase: 'Halted', halting: [{ cluster: 'halting', reason: 'Degraded', message: 'h' }] }),
    });
    expect(status.attention).toHaveLength(ATTENTION_LIMIT);
    expect(status.attention?.slice(0, 5).map((a) => `${a.cluster}:${a.reason}`)).toEqual([
      'halting:Degraded',
      'render:UnresolvedVariable',
      'conflict:Conflict',
      'olddeg:Degraded',
      'drift:Drifted',
    ]);
    expect(status.attention?.some((a) => a.cluster === 'fine' || a.cluster === 'paused')).toBe(false);
  });

  it('cuts long messages to the schema limit', () => {
    const status = summarize({ plan: plan({ message: 'x'.repeat(5000) }), clusters: [cluster('a', { conflict: 'y'.repeat(5000) })] });
    expect(status.rollout?.message).toHaveLength(1024);
    expect(status.attention?.[0]?.message).toHaveLength(1024);
  });

  describe('a rollout halted by failing manifests', () => {
    const refused = (name: string): string =>
      `1 of 1 manifests failed: ConfigMap/gone/cfg: apply failed: namespaces "gone" not found on ${name}`;
    const failing = ['a', 'b', 'c', 'd', 'e'].map((name) => cluster(name, { available: false, degraded: true, problem: refused(name) }));
    const halted = (clusters: ClusterSummaryState[]): ReturnType<typeof summarizeStatus> =>
      summarize({
        clusters,
        plan: planRollout({
          revision: REV,
          rollout: effectiveRollout({ strategy: 'AllAtOnce' }, undefined),
          clusters,
          groupMembers: new Map(),
          now: NOW.getTime(),
        }),
      });

    it("names in its Stalled condition the first clusters, their failing manifests and the apiserver's messages, and counts the rest", () => {
      const stalled = halted(failing).conditions?.find((c) => c.type === 'Stalled');
      expect(stalled?.reason).toBe('ClusterDegraded');
      expect(stalled?.message).toBe(
        `halted: ${['a', 'b', 'c'].map((name) => `cluster ${name} is Degraded at revision ${REV}: ${refused(name)}`).join('; ')}; and 2 more clusters`,
      );
      expect(halted(failing).conditions?.find((c) => c.type === 'Ready')?.message).toBe(stalled?.message);
    });

    it('gives each failing cluster its cause in the attention list', () => {
      expect(halted(failing).attention?.map((entry) => entry.message)).toEqual(
        failing.map((c) => `cluster ${c.name} is Degraded at revision ${REV}: ${refused(c.name)}`),
      );
    });

    it('has room for three causes as long as the agents may write them', () => {
      const long = failing.map((c) => ({ ...c, name: `${c.name}${'n'.repeat(62)}`, problem: 'p'.repeat(PROBLEM_LIMIT) }));
      const message = halted(long).conditions?.find((c) => c.type === 'Stalled')?.message ?? '';
      expect(message.length).toBeLessThanOrEqual(SERVICE_CONDITION_MESSAGE_LIMIT);
      expect(message.endsWith(`${'p'.repeat(PROBLEM_LIMIT)}; and 2 more clusters`)).toBe(true);
    });

    it('cuts a longer condition message to its bound', () => {
      const status = summarize({
        plan: plan({
          phase: 'Halted',
          halting: [{ cluster: 'a', reason: 'Degraded', message: 'm' }],
          message: 'x'.repeat(3 * SERVICE_CONDITION_MESSAGE_LIMIT),
        }),
      });
      expect(status.conditions?.find((c) => c.type === 'Stalled')?.message).toHaveLength(SERVICE_CONDITION_MESSAGE_LIMIT);
    });

    it('says why a cluster is Degraded at an older revision', () => {
      const status = summarize({
        clusters: [cluster('old', { revision: 'rev-old', available: false, degraded: true, problem: refused('old') })],
      });
      expect(status.attention?.[0]?.message).toBe(`cluster old is Degraded at revision rev-old: ${refused('old')}`);
    });
  });

  it('reports the stage and the end of a pause', () => {
    const status = summarize({ plan: plan({ phase: 'Waiting', stage: 'canary', stageIndex: 0, waitingUntil: '2025-06-01T12:30:00Z' }) });
    expect(status.rollout).toMatchObject({ phase: 'Waiting', stage: 'canary', stageIndex: 0, waitingUntil: '2025-06-01T12:30:00Z' });
  });
});

describe('fleetServiceCounts', () => {
  const service = (conditions: Record<string, 'True' | 'False'>, deleting = false): GlobalService => ({
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'GlobalService',
    metadata: { name: 'x', ...(deleting ? { deletionTimestamp: '2025-06-01T00:00:00Z' } : {}) },
    spec: { placement: {}, source: { manifests: [] } },
    status: {
      conditions: Object.entries(conditions).map(([type, status]) => ({
        type,
        status,
        reason: 'R',
        message: '',
        lastTransitionTime: '2025-06-01T00:00:00Z',
      })),
    },
  });
  it('counts services by their conditions, leaving out those being deleted', () => {
    expect(
      fleetServiceCounts([
        service({ Ready: 'True' }),
        service({ Ready: 'True' }, true),
        service({ Ready: 'False', Reconciling: 'True' }),
        service({ Ready: 'False', Stalled: 'True' }),
        service({}),
      ]),
    ).toEqual({ total: 4, ready: 1, progressing: 1, failed: 1 });
  });
});

describe('the origin in status', () => {
  it('reports what was fetched and the request handled, and nothing of either for other sources', () => {
    const source = {
      revision: 'main@sha1:' + 'a'.repeat(40),
      digest: 'sha256:' + 'b'.repeat(64),
      url: 'https://git.example/r.git',
      fetchedAt: '2026-01-01T00:00:00Z',
    };
    const status = summarize({ source, lastHandledRequest: '2026-01-01T00:00:01Z' });
    expect(status.source).toEqual(source);
    expect(status.lastHandledRequest).toBe('2026-01-01T00:00:01Z');
    expect(Object.keys(summarize({}))).not.toContain('source');
  });
});
