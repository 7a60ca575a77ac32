import { describe, expect, it } from '@jest/globals';
import type { ManifestStatus, PolicyBundle, Work } from '../../api/index.js';
import { clusterCompliance, fleetPolicyCounts, policyBundleStatus, type ClusterCompliance } from './compliance.js';

const bundle = (spec: Partial<PolicyBundle['spec']>, extra: Partial<PolicyBundle['metadata']> = {}): PolicyBundle => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'PolicyBundle',
  metadata: { name: 'base', namespace: 'fleet-a', generation: 3, ...extra },
  spec: { placement: { clusterNames: ['c1'] }, namespaceSelector: {}, ...spec },
});

const work = (manifests: ManifestStatus[], observed = 1): Work => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'Work',
  metadata: { name: 'pb-base', generation: 1 },
  spec: { source: { kind: 'PolicyBundle', namespace: 'fleet-a', name: 'base', generation: 1, revision: 'r' } },
  status: { observedGeneration: observed, manifests },
});
const entry = (kind: string, name: string, namespace: string | undefined, extra: Partial<ManifestStatus>): ManifestStatus => ({
  version: 'v1',
  kind,
  name,
  ...(namespace ? { namespace } : {}),
  applied: true,
  health: 'Healthy',
  drifted: false,
  ...extra,
});

describe('clusterCompliance', () => {
  it.each([
    ['unknown without a Work', undefined, 'unknown', 0],
    ['unknown while the agent has not seen the current generation', work([], 0), 'unknown', 0],
    ['compliant when everything is in place', work([entry('Role', 'r', 'a', {})]), 'compliant', 0],
    [
      'non-compliant with a drifted or missing object',
      work([entry('Role', 'r', 'a', { applied: false, drifted: true, message: 'deleted' }), entry('Role', 'r', 'b', { drifted: true })]),
      'nonCompliant',
      1,
    ],
  ])('%s', (_case, w, state, violations) => {
    const out = clusterCompliance('c1', w, []);
    expect(out.state).toBe(state);
    expect(out.violations).toHaveLength(violations);
  });

  it('groups one policy object over namespaces with a count', () => {
    const out = clusterCompliance(
      'c1',
      work([entry('Role', 'r', 'a', { applied: false }), entry('Role', 'r', 'b', { applied: false })]),
      [],
    );
    expect(out.violations).toEqual([{ cluster: 'c1', kind: 'Role', policy: 'r', namespace: 'a', count: 2, message: 'not in place' }]);
  });

  it('counts a conflict as a violation even before the agent reports', () => {
    const conflict = {
      identity: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', namespace: '', name: 'cr' },
      conflict: {
        object: 'ClusterRole.rbac.authorization.k8s.io/cr',
        heldBy: { kind: 'GlobalService' as const, namespace: 'fleet-a', name: 'web' },
      },
    };
    const out = clusterCompliance('c1', undefined, [conflict]);
    expect(out.state).toBe('nonCompliant');
    expect(out.violations[0]?.message).toContain('held by GlobalService fleet-a/web');
  });
});

describe('policyBundleStatus', () => {
  const violation = (cluster: string, kind: string, count: number) => ({ cluster, kind, policy: 'p', count, message: 'm' });
  const compliance: ClusterCompliance[] = [
    { cluster: 'c1', state: 'compliant', violations: [] },
    { cluster: 'c2', state: 'nonCompliant', violations: [violation('c2', 'Role', 1), violation('c2', 'NetworkPolicy', 5)] },
    { cluster: 'c3', state: 'unknown', violations: [] },
  ];
  it('counts clusters and violations by kind, worst first, and is not Ready', () => {
    const status = policyBundleStatus({ bundle: bundle({}), revision: 'r', compliance, now: new Date(0) });
    expect(status.clusters).toEqual({ targeted: 3, compliant: 1, nonCompliant: 1, unknown: 1 });
    expect(status.violationsByKind).toEqual([
      { kind: 'NetworkPolicy', count: 5 },
      { kind: 'Role', count: 1 },
    ]);
    expect(status.worst?.map((v) => v.kind)).toEqual(['NetworkPolicy', 'Role']);
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NonCompliant' });
    // A violation stays until someone acts: kstatus must read Failed (Stalled), not InProgress.
    expect(status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'NonCompliant' });
    expect(status.observedGeneration).toBe(3);
  });
  it('caps the worst list at 20', () => {
    const many = Array.from({ length: 30 }, (_, i): ClusterCompliance => ({
      cluster: `c${i}`,
      state: 'nonCompliant',
      violations: [violation(`c${i}`, 'Role', 1)],
    }));
    expect(policyBundleStatus({ bundle: bundle({}), revision: 'r', compliance: many }).worst).toHaveLength(20);
  });
  it('is Ready when every targeted cluster is compliant, Reconciling while some are unknown, Stalled without a fleet', () => {
    const ready = (c: ClusterCompliance[], stalled?: { reason: string; message: string }) =>
      policyBundleStatus({ bundle: bundle({}), revision: 'r', compliance: c, ...(stalled ? { stalled } : {}) }).conditions?.find(
        (x) => x.type === 'Ready',
      );
    expect(ready([{ cluster: 'c1', state: 'compliant', violations: [] }])?.status).toBe('True');
    expect(ready([{ cluster: 'c1', state: 'unknown', violations: [] }])?.reason).toBe('AwaitingAgents');
    expect(ready([], { reason: 'FleetNotFound', message: 'm' })?.reason).toBe('FleetNotFound');
  });
});

describe('fleetPolicyCounts', () => {
  it('counts live bundles by compliance', () => {
    const ready = (status: 'True' | 'False', nonCompliant: number, deleting = false): PolicyBundle => ({
      ...bundle({}, deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
      status: {
        conditions: [{ type: 'Ready', status, reason: 'x', message: '', lastTransitionTime: '2024-01-01T00:00:00Z' }],
        clusters: { nonCompliant },
      },
    });
    expect(fleetPolicyCounts([ready('True', 0), ready('False', 2), ready('False', 0), ready('True', 0, true)])).toEqual({
      total: 3,
      compliant: 1,
      nonCompliant: 1,
    });
  });
});
