import { describe, expect, it } from '@jest/globals';
import type { ManifestStatus, PolicyBundle, Work } from '../../api/index.js';
import {
  clusterCompliance,
  fleetPolicyCounts,
  policyBundleStatus,
  podSecurityLabels,
  renderPolicyBundle,
  type ClusterCompliance,
} from './controller.js';

const bundle = (spec: Partial<PolicyBundle['spec']>, extra: Partial<PolicyBundle['metadata']> = {}): PolicyBundle => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'PolicyBundle',
  metadata: { name: 'base', namespace: 'fleet-a', generation: 3, ...extra },
  spec: { placement: { clusterNames: ['c1'] }, namespaceSelector: {}, ...spec },
});

describe('renderPolicyBundle', () => {
  const full = bundle({
    rbac: {
      clusterRoles: [{ name: 'cr', rules: [] }],
      roles: [{ name: 'r', rules: [] }],
      clusterRoleBindings: [{ name: 'crb', roleRef: { kind: 'ClusterRole', name: 'cr' }, subjects: [{ kind: 'Group', name: 'g' }] }],
      roleBindings: [{ name: 'rb', roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'Group', name: 'g' }] }],
    },
    networkPolicies: [{ name: 'deny', spec: { podSelector: {} } }],
    resourceQuotas: [{ name: 'q', hard: { pods: '5' } }],
    limitRanges: [{ name: 'l', limits: [{ type: 'Container', max: { cpu: '1' } }] }],
    podSecurity: { enforce: 'restricted', warn: 'baseline' },
    admission: {
      policies: [{ name: 'p', spec: { validations: [] } }],
      bindings: [{ name: 'b', policyName: 'p', validationActions: ['Deny'] }],
    },
  });

  it('puts cluster-scoped policies in the manifests and namespaced ones in the templates', () => {
    const out = renderPolicyBundle(full);
    expect(out.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'ClusterRole/cr',
      'ClusterRoleBinding/crb',
      'ValidatingAdmissionPolicy/p',
      'ValidatingAdmissionPolicyBinding/b',
    ]);
    expect(out.policy.namespaceTemplates?.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'Role/r',
      'RoleBinding/rb',
      'NetworkPolicy/deny',
      'ResourceQuota/q',
      'LimitRange/l',
    ]);
    expect(out.manifests.every((m) => m.metadata.namespace === undefined)).toBe(true);
    expect(out.manifests[3]).toMatchObject({ spec: { policyName: 'p', validationActions: ['Deny'] } });
    expect(out.policy.mode).toBe('Enforce');
    expect(out.policy.excludeNamespaces).toEqual(['kube-system', 'kube-public', 'kube-node-lease', 'flotilla-system']);
  });

  it('gives equal bundles equal revisions and a changed mode a new one', () => {
    expect(renderPolicyBundle(full).revision).toBe(renderPolicyBundle(full).revision);
    expect(renderPolicyBundle({ ...full, spec: { ...full.spec, mode: 'Audit' } }).revision).not.toBe(renderPolicyBundle(full).revision);
  });
});

describe('podSecurityLabels', () => {
  it.each([
    [
      { enforce: 'restricted' as const },
      { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' },
    ],
    [
      { audit: 'baseline' as const, version: 'v1.31' },
      { 'pod-security.kubernetes.io/audit': 'baseline', 'pod-security.kubernetes.io/audit-version': 'v1.31' },
    ],
    [undefined, {}],
  ])('%j → %j', (podSecurity, expected) => {
    expect(podSecurityLabels(bundle(podSecurity ? { podSecurity } : {}))).toEqual(expected);
  });
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
