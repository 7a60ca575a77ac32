import { describe, expect, it } from '@jest/globals';
import type { ClusterGroup, Fleet } from '../api/index.js';
import type { KubeObject } from '../runtime/index.js';
import { groupStatus } from './clustergroup/controller.js';
import { memberOfNamespace } from './membercluster/controller.js';
import { needsApply } from './objects.js';

const role: KubeObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: {
    name: 'r',
    namespace: 'n',
    labels: { a: '1' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u1', controller: true }],
  },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
};

describe('needsApply', () => {
  it('skips an object that already holds everything we would apply, whatever the apiserver added', () => {
    const live = { ...role, metadata: { ...role.metadata, labels: { a: '1', extra: 'x' }, resourceVersion: '7', managedFields: [] } };
    expect(needsApply(role, live)).toBe(false);
  });
  it.each([
    ['missing', undefined],
    ['with other rules', { ...role, rules: [] }],
    ['without a label', { ...role, metadata: { ...role.metadata, labels: {} } }],
    [
      'owned by another object',
      {
        ...role,
        metadata: { ...role.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u2', controller: true }] },
      },
    ],
  ])('applies an object that is %s', (_name, live) => {
    expect(needsApply(role, live)).toBe(true);
  });
});

describe('memberOfNamespace', () => {
  it.each([
    ['flotilla-member-edge-1', ['edge-1']],
    ['flotilla-member-', []],
    ['kube-system', []],
    [undefined, []],
  ])('%p → %p', (ns, expected) => {
    expect(memberOfNamespace(ns)).toEqual(expected);
  });
});

describe('groupStatus', () => {
  const fleet = { apiVersion: 'flotilla.dev/v1alpha1', kind: 'Fleet', metadata: { name: 'prod' } } as Fleet & KubeObject;
  const group = (spec: ClusterGroup['spec']): ClusterGroup & KubeObject => ({
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'ClusterGroup',
    metadata: { name: 'g', namespace: 'fleet-prod', generation: 4 },
    spec,
  });
  const clusters = [
    { name: 'c', labels: { env: 'prod' } },
    { name: 'a', labels: { env: 'prod' } },
    { name: 'b', labels: { env: 'dev' } },
  ];

  it('selects by labels and names, minus exclusions, in name order', () => {
    const status = groupStatus(
      group({ clusterSelector: { matchLabels: { env: 'prod' } }, clusterNames: ['b'], excludeClusterNames: ['c'] }),
      fleet,
      clusters,
    );
    expect(status).toMatchObject({ observedGeneration: 4, matchedCount: 2, clusters: ['a', 'b'] });
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Ready=True/Resolved']);
  });

  it('caps the listed names and keeps the full count', () => {
    const many = Array.from({ length: 150 }, (_, i) => ({ name: `c${String(i).padStart(3, '0')}`, labels: {} }));
    const status = groupStatus(group({ clusterSelector: {} }), fleet, many);
    expect(status.matchedCount).toBe(150);
    expect(status.clusters).toHaveLength(100);
  });

  it('is Stalled when no fleet owns its namespace', () => {
    const status = groupStatus(group({ clusterSelector: {} }), undefined, clusters);
    expect(status.matchedCount).toBe(0);
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Ready=False/FleetNotFound',
      'Stalled=True/FleetNotFound',
    ]);
  });
});
