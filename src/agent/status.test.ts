import { describe, expect, it } from '@jest/globals';
import { findCondition, jsonEqual } from '../runtime/conditions.js';
import type { DriftReport } from './drift.js';
import type { Health } from './health.js';
import type { ManifestIdentity } from '../work/identity.js';
import type { WorkStatus } from '../api/index.js';
import { computeWorkStatus, STATUS_LIMITS, type ContentProblem, type ManifestResult } from './status.js';

const T0 = new Date('2024-05-01T10:00:00Z');
const T1 = new Date('2024-05-01T10:05:00Z');

const healthy: Health = { status: 'Healthy', reason: 'RolloutComplete', message: 'ok' };
const progressing: Health = { status: 'Progressing', reason: 'RolloutInProgress', message: '1 of 3 replicas updated' };
const degraded: Health = { status: 'Degraded', reason: 'ProgressDeadlineExceeded', message: 'timed out' };
const unknown: Health = { status: 'Unknown', reason: 'NotFound', message: 'the object does not exist' };
const noDrift: DriftReport = { drifted: false, missing: false, paths: [], count: 0 };

const id = (name: string, kind = 'Deployment', group = 'apps'): ManifestIdentity => ({
  group,
  version: 'v1',
  kind,
  namespace: 'shop',
  name,
});

const ok = (name: string, overrides: Partial<ManifestResult> = {}): ManifestResult => ({
  identity: id(name),
  applied: true,
  health: healthy,
  drift: noDrift,
  ...overrides,
});
const drifted = (name: string, paths: string[], count = paths.length): ManifestResult =>
  ok(name, { drift: { drifted: true, missing: false, paths, count } });

type Expect = Record<string, [status: string, reason: string] | undefined>;

function conditionSummary(status: WorkStatus): Expect {
  const types = ['Applied', 'Available', 'Drifted', 'Degraded', 'Ready', 'Reconciling', 'Stalled'];
  return Object.fromEntries(
    types.map((type) => {
      const c = findCondition(status.conditions, type);
      return [type, c === undefined ? undefined : [c.status, c.reason]];
    }),
  );
}

describe('computeWorkStatus conditions', () => {
  it.each<[string, ManifestResult[], ContentProblem | undefined, Expect]>([
    [
      'everything applied, healthy and unchanged',
      [ok('a'), ok('b')],
      undefined,
      {
        Applied: ['True', 'AllApplied'],
        Available: ['True', 'AllHealthy'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['False', 'NoFailures'],
        Ready: ['True', 'Ready'],
        Reconciling: undefined,
        Stalled: undefined,
      },
    ],
    [
      'an empty Work',
      [],
      undefined,
      {
        Applied: ['True', 'AllApplied'],
        Available: ['True', 'AllHealthy'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['False', 'NoFailures'],
        Ready: ['True', 'Ready'],
        Reconciling: undefined,
        Stalled: undefined,
      },
    ],
    [
      'a rollout in progress',
      [ok('a'), ok('b', { health: progressing })],
      undefined,
      {
        Applied: ['True', 'AllApplied'],
        Available: ['False', 'Progressing'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['False', 'NoFailures'],
        Ready: ['Unknown', 'Progressing'],
        Reconciling: ['True', 'Progressing'],
        Stalled: undefined,
      },
    ],
    [
      'a manifest not applied yet',
      [ok('a'), ok('b', { applied: false, health: unknown, drift: undefined })],
      undefined,
      {
        Applied: ['False', 'Applying'],
        Available: ['False', 'NotApplied'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['False', 'NoFailures'],
        Ready: ['Unknown', 'Applying'],
        Reconciling: ['True', 'Applying'],
        Stalled: undefined,
      },
    ],
    [
      'an apply error (a kind the spoke does not serve, a webhook that denies): kstatus Failed, not InProgress',
      [ok('a'), ok('b', { applied: false, error: 'admission webhook denied', health: unknown })],
      undefined,
      {
        Applied: ['False', 'ApplyFailed'],
        Available: ['False', 'NotApplied'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'ApplyFailed'],
        Ready: ['False', 'ApplyFailed'],
        Reconciling: undefined,
        Stalled: ['True', 'ApplyFailed'],
      },
    ],
    [
      'a conflict, which needs a change to resolve',
      [
        ok('a', { applied: false, conflict: 'already managed by Work x/y', health: healthy }),
        ok('b', { applied: false, error: 'boom', health: unknown }),
      ],
      undefined,
      {
        Applied: ['False', 'Conflict'],
        Available: ['False', 'NotApplied'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'Conflict'],
        Ready: ['False', 'Conflict'],
        Reconciling: undefined,
        Stalled: ['True', 'Conflict'],
      },
    ],
    [
      'a manifest refused by the fleet, while the others apply',
      [
        ok('a'),
        ok('b', { applied: false, refused: 'it binds the ClusterRole cluster-admin (restrictions.globalServices.rbac)', health: unknown }),
      ],
      undefined,
      {
        Applied: ['False', 'Refused'],
        Available: ['False', 'NotApplied'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'Refused'],
        Ready: ['False', 'Refused'],
        Reconciling: undefined,
        Stalled: ['True', 'Refused'],
      },
    ],
    [
      'a degraded object',
      [ok('a', { health: degraded }), ok('b', { health: progressing })],
      undefined,
      {
        Applied: ['True', 'AllApplied'],
        Available: ['False', 'Degraded'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'Unhealthy'],
        Ready: ['False', 'Unhealthy'],
        Reconciling: undefined,
        Stalled: ['True', 'Unhealthy'],
      },
    ],
    [
      'drift left in place',
      [ok('a'), drifted('b', ['spec.replicas'])],
      undefined,
      {
        Applied: ['True', 'AllApplied'],
        Available: ['True', 'AllHealthy'],
        Drifted: ['True', 'DriftDetected'],
        Degraded: ['False', 'NoFailures'],
        Ready: ['False', 'DriftDetected'],
        Reconciling: undefined,
        Stalled: ['True', 'DriftDetected'],
      },
    ],
    [
      'a payload part still to arrive',
      [],
      { reason: 'MissingParts', message: '1 of 3 parts missing: 2', stalled: false },
      {
        Applied: ['False', 'MissingParts'],
        Available: ['Unknown', 'MissingParts'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'MissingParts'],
        Ready: ['Unknown', 'MissingParts'],
        Reconciling: ['True', 'MissingParts'],
        Stalled: undefined,
      },
    ],
    [
      'duplicate manifests in the Work',
      [],
      { reason: 'DuplicateManifests', message: 'ConfigMap/shop/a appears at 0, 3', stalled: true },
      {
        Applied: ['False', 'DuplicateManifests'],
        Available: ['Unknown', 'DuplicateManifests'],
        Drifted: ['False', 'NoDrift'],
        Degraded: ['True', 'DuplicateManifests'],
        Ready: ['False', 'DuplicateManifests'],
        Reconciling: undefined,
        Stalled: ['True', 'DuplicateManifests'],
      },
    ],
  ])('%s', (_name, results, contentProblem, expected) => {
    const status = computeWorkStatus(
      undefined,
      { generation: 3, revision: 'r1', results, ...(contentProblem ? { contentProblem } : {}) },
      T0,
    );
    expect(conditionSummary(status)).toEqual(expected);
    for (const c of status.conditions ?? []) {
      expect(c.observedGeneration).toBe(3);
      expect(c.reason).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
    }
  });

  it('names the first failing manifests and how many more there are', () => {
    const results = [ok('a'), ...['b', 'c', 'd', 'e', 'f'].map((n) => ok(n, { applied: false, error: `no ${n}`, health: unknown }))];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r1', results }, T0);
    expect(findCondition(status.conditions, 'Applied')?.message).toBe(
      '5 of 6 manifests not applied: Deployment.apps/shop/b: apply failed: no b; Deployment.apps/shop/c: apply failed: no c; Deployment.apps/shop/d: apply failed: no d; and 2 more',
    );
  });

  it('describes drift by path, deletion and uncapped count', () => {
    const results = [
      drifted('a', ['spec.replicas', 'spec.template.spec.containers[name=web].image'], 7),
      ok('b', { drift: { drifted: true, missing: true, paths: [], count: 0 } }),
    ];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r1', results }, T0);
    expect(findCondition(status.conditions, 'Drifted')?.message).toBe(
      '2 of 2 manifests drifted: Deployment.apps/shop/a: spec.replicas, spec.template.spec.containers[name=web].image and 5 more; Deployment.apps/shop/b: deleted',
    );
  });

  it('says an object that was never applied (Audit) is missing, and one deleted after it was applied is deleted', () => {
    const gone = { drifted: true, missing: true, paths: [], count: 0 };
    const results = [ok('deleted', { drift: gone }), ok('audited', { applied: false, drift: gone })];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r1', results }, T0);
    expect(status.manifests?.map((m) => `${m.name}: ${m.message ?? ''}`)).toEqual([
      'deleted: deleted since it was applied',
      'audited: not on the cluster',
    ]);
    expect(findCondition(status.conditions, 'Drifted')?.message).toBe(
      '2 of 2 manifests drifted: Deployment.apps/shop/deleted: deleted; Deployment.apps/shop/audited: missing',
    );
  });

  it('bounds condition messages however long the apiserver errors are', () => {
    const results = [ok('a', { applied: false, error: 'x'.repeat(50_000), health: unknown })];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r1', results, contentProblem: undefined }, T0);
    for (const c of status.conditions ?? []) expect(c.message.length).toBeLessThanOrEqual(STATUS_LIMITS.conditionMessageChars);
    expect(findCondition(status.conditions, 'Applied')?.message.endsWith('…')).toBe(true);
  });
});

describe('computeWorkStatus transitions and writes', () => {
  const input = { generation: 2, revision: 'r2', results: [ok('a'), ok('b', { health: progressing })] };

  it('recomputing an unchanged outcome later gives an equal status (no write)', () => {
    const first = computeWorkStatus(undefined, input, T0);
    const again = computeWorkStatus(first, input, T1);
    expect(jsonEqual(first, again)).toBe(true);
  });

  it('moves lastTransitionTime only for conditions whose status flips', () => {
    const first = computeWorkStatus(undefined, input, T0);
    const healed = computeWorkStatus(first, { ...input, results: [ok('a'), ok('b')] }, T1);
    expect(jsonEqual(first, healed)).toBe(false);
    expect(findCondition(healed.conditions, 'Applied')?.lastTransitionTime).toBe('2024-05-01T10:00:00Z');
    expect(findCondition(healed.conditions, 'Available')?.lastTransitionTime).toBe('2024-05-01T10:05:00Z');
    expect(findCondition(healed.conditions, 'Reconciling')).toBeUndefined();
  });

  it('records the revision once it is applied in full, and keeps the previous one until then', () => {
    const first = computeWorkStatus(undefined, input, T0);
    expect(first.appliedRevision).toBe('r2');
    const partial = computeWorkStatus(
      first,
      { generation: 3, revision: 'r3', results: [ok('a'), ok('b', { applied: false, health: unknown })] },
      T1,
    );
    expect(partial.appliedRevision).toBe('r2');
    expect(partial.observedGeneration).toBe(3);
    const none = computeWorkStatus(
      undefined,
      { generation: 3, revision: 'r3', results: [ok('a', { applied: false, health: unknown })] },
      T1,
    );
    expect(none).not.toHaveProperty('appliedRevision');
  });

  it('holds the revision back and says so while objects dropped from the Work cannot be removed', () => {
    const first = computeWorkStatus(undefined, input, T0);
    const stuck = computeWorkStatus(
      first,
      { generation: 3, revision: 'removed', results: [], pruneFailures: ['ConfigMap shop/a: 403 Forbidden'] },
      T1,
    );
    expect(stuck.appliedRevision).toBe('r2');
    expect(findCondition(stuck.conditions, 'Applied')).toMatchObject({ status: 'False', reason: 'PruneFailed' });
    expect(findCondition(stuck.conditions, 'Applied')?.message).toContain('ConfigMap shop/a: 403 Forbidden');
    expect(findCondition(stuck.conditions, 'Ready')?.status).toBe('False');
    expect(findCondition(stuck.conditions, 'Stalled')).toMatchObject({ status: 'True', reason: 'PruneFailed' });
    const cleaned = computeWorkStatus(stuck, { generation: 3, revision: 'removed', results: [] }, T1);
    expect(cleaned.appliedRevision).toBe('removed');
  });

  it('keeps conditions others set', () => {
    const previous: WorkStatus = {
      conditions: [{ type: 'Custom', status: 'True', reason: 'X', message: 'x', lastTransitionTime: '2020-01-01T00:00:00Z' }],
    };
    const status = computeWorkStatus(previous, input, T0);
    expect(findCondition(status.conditions, 'Custom')?.lastTransitionTime).toBe('2020-01-01T00:00:00Z');
  });
});

describe('computeWorkStatus counts and entries', () => {
  it('counts every manifest by state', () => {
    const results = [
      ok('a'),
      ok('b', { health: progressing }),
      ok('c', { health: degraded }),
      drifted('d', ['spec.replicas']),
      ok('e', { applied: false, error: 'denied', health: unknown }),
      ok('f', { applied: false, conflict: 'not ours', health: healthy }),
    ];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r', results }, T0);
    expect(status.counts).toEqual({ total: 6, applied: 4, available: 2, drifted: 1, failed: 3 });
  });

  it('lists problems first with their reasons, omitting empty group and namespace', () => {
    const results = [
      { ...ok('cfg'), identity: { group: '', version: 'v1', kind: 'Namespace', namespace: '', name: 'shop' } },
      drifted('web', ['spec.replicas']),
      ok('api', { health: progressing }),
    ];
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r', results }, T0);
    expect(status.manifests).toEqual([
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: 'shop',
        name: 'web',
        applied: true,
        health: 'Healthy',
        drifted: true,
        driftedFields: ['.spec.replicas'],
        message: 'drifted: spec.replicas',
      },
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: 'shop',
        name: 'api',
        applied: true,
        health: 'Progressing',
        drifted: false,
        message: 'Progressing (RolloutInProgress): 1 of 3 replicas updated',
      },
      { version: 'v1', kind: 'Namespace', name: 'shop', applied: true, health: 'Healthy', drifted: false },
    ]);
  });

  it('caps drifted fields, their length and entry messages', () => {
    const paths = Array.from({ length: 40 }, (_, i) => `data.${'k'.repeat(300)}${i}`);
    const results = [drifted('a', paths), ok('b', { applied: false, error: 'e'.repeat(5000), health: unknown })];
    const [first, second] = computeWorkStatus(undefined, { generation: 1, revision: 'r', results }, T0).manifests ?? [];
    expect(first?.driftedFields).toHaveLength(STATUS_LIMITS.driftedFields);
    for (const path of first?.driftedFields ?? []) expect(path.length).toBeLessThanOrEqual(STATUS_LIMITS.fieldPathChars);
    expect(second?.message?.length).toBe(STATUS_LIMITS.entryMessageChars);
  });

  it.each([
    ['many small entries', 1500, () => healthy, STATUS_LIMITS.entries],
    ['fewer entries when each is large', 1000, () => ({ ...degraded, message: 'm'.repeat(2000) }), undefined],
  ])('bounds the list: %s', (_name, n, health, expectedLength) => {
    const results = Array.from({ length: n }, (_, i) => ok(`svc-${i}`, { health: health() }));
    const status = computeWorkStatus(undefined, { generation: 1, revision: 'r', results }, T0);
    const entries = status.manifests ?? [];
    if (expectedLength !== undefined) expect(entries).toHaveLength(expectedLength);
    else expect(entries.length).toBeLessThan(n);
    expect(Buffer.byteLength(JSON.stringify(entries))).toBeLessThanOrEqual(STATUS_LIMITS.entriesBytes + entries.length + 2);
    expect(status.counts?.total).toBe(n);
  });

  it('keeps the problems when the list is cut', () => {
    const results = Array.from({ length: 1200 }, (_, i) => (i === 1100 ? ok('broken', { health: degraded }) : ok(`svc-${i}`)));
    const entries = computeWorkStatus(undefined, { generation: 1, revision: 'r', results }, T0).manifests ?? [];
    expect(entries[0]?.name).toBe('broken');
    expect(entries).toHaveLength(1000);
  });
});
