import { describe, expect, it } from '@jest/globals';
import type { PolicyBundle } from '../../api/index.js';
import { podSecurityLabels, renderPolicyBundle } from './render.js';

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
