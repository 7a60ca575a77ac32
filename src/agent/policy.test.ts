import { describe, expect, it } from '@jest/globals';
import type { WorkPolicy } from '../api/index.js';
import {
  auditResult,
  expandPolicy,
  namespaceInfo,
  namespaceLabelManager,
  planNamespaceLabels,
  restrictPolicy,
  selectedNamespaces,
  withTemplates,
  type NamespaceInfo,
} from './policy.js';

const ns = (name: string, labels: Record<string, string> = {}, extra: Partial<NamespaceInfo> = {}): NamespaceInfo => ({
  name,
  labels,
  terminating: false,
  ...extra,
});
const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader' }, rules: [] };
const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute' }, spec: { hard: { pods: '10' } } };
const policy = (extra: Partial<WorkPolicy> = {}): WorkPolicy => ({
  mode: 'Enforce',
  namespaceSelector: { matchLabels: { tier: 'app' } },
  excludeNamespaces: ['kube-system'],
  namespaceTemplates: [role, quota],
  ...extra,
});
const PSA = 'pod-security.kubernetes.io/enforce';

describe('selectedNamespaces', () => {
  it.each([
    ['matching labels', [ns('a', { tier: 'app' }), ns('b', { tier: 'db' })], ['a']],
    ['excluded names, whatever their labels', [ns('kube-system', { tier: 'app' }), ns('a', { tier: 'app' })], ['a']],
    ['not terminating ones', [ns('a', { tier: 'app' }, { terminating: true })], []],
    ['sorted', [ns('z', { tier: 'app' }), ns('a', { tier: 'app' })], ['a', 'z']],
  ])('selects %s', (_case, namespaces, expected) => {
    expect(selectedNamespaces(policy(), namespaces)).toEqual(expected);
  });

  it('selects nothing without a selector and everything (but exclusions) with {}', () => {
    expect(selectedNamespaces({ mode: 'Enforce' }, [ns('a')])).toEqual([]);
    expect(selectedNamespaces(policy({ namespaceSelector: {} }), [ns('a'), ns('kube-system')])).toEqual(['a']);
  });
});

describe('restrictPolicy', () => {
  const admitted = (name: string): boolean => !name.startsWith('kube-');
  it.each<[string, NamespaceInfo[], string[] | undefined]>([
    ['leaves a policy alone where every namespace is admitted', [ns('a'), ns('b')], ['kube-system']],
    [
      'excludes the namespaces the fleet refuses, whatever the bundle says',
      [ns('a'), ns('kube-public'), ns('kube-system')],
      ['kube-public', 'kube-system'],
    ],
  ])('%s', (_case, namespaces, excluded) => {
    expect(restrictPolicy(policy(), namespaces, admitted).excludeNamespaces).toEqual(excluded);
  });

  it('keeps a refused namespace unselected even when the bundle excludes nothing', () => {
    const open = policy({ namespaceSelector: {}, excludeNamespaces: [] });
    expect(selectedNamespaces(restrictPolicy(open, [ns('a'), ns('kube-system')], admitted), [ns('a'), ns('kube-system')])).toEqual(['a']);
  });
});

describe('expandPolicy', () => {
  it('stamps every template into every selected namespace, leaving the templates alone', () => {
    const out = expandPolicy(policy(), [ns('b', { tier: 'app' }), ns('a', { tier: 'app' }), ns('c')]);
    expect(out.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`)).toEqual([
      'Role/a/reader',
      'ResourceQuota/a/compute',
      'Role/b/reader',
      'ResourceQuota/b/compute',
    ]);
    expect(role.metadata).toEqual({ name: 'reader' });
  });

  it('expands to nothing without a policy or templates', () => {
    expect(expandPolicy(undefined, [ns('a', { tier: 'app' })])).toEqual([]);
    expect(expandPolicy(policy({ namespaceTemplates: [] }), [ns('a', { tier: 'app' })])).toEqual([]);
  });
});

describe('planNamespaceLabels', () => {
  const labelled = policy({ namespaceLabels: { [PSA]: 'restricted' } });
  it.each([
    [
      'labels a selected namespace that lacks them',
      labelled,
      ns('a', { tier: 'app' }),
      [{ namespace: 'a', action: 'Apply', labels: { [PSA]: 'restricted' }, selected: true }],
    ],
    [
      'leaves a labelled one alone',
      labelled,
      ns('a', { tier: 'app', [PSA]: 'restricted' }, { ownedLabels: [PSA] }),
      [{ namespace: 'a', action: 'InPlace' }],
    ],
    [
      're-applies when we own a label no longer wanted',
      labelled,
      ns('a', { tier: 'app', [PSA]: 'restricted', x: '1' }, { ownedLabels: [PSA, 'x'] }),
      [{ namespace: 'a', action: 'Apply', labels: { [PSA]: 'restricted' }, selected: true }],
    ],
    [
      'clears our labels from a namespace that left the selection',
      labelled,
      ns('a', { [PSA]: 'restricted' }, { ownedLabels: [PSA] }),
      [{ namespace: 'a', action: 'Apply', labels: {}, selected: false }],
    ],
    [
      'clears them when the policy is gone',
      undefined,
      ns('a', { tier: 'app', [PSA]: 'restricted' }, { ownedLabels: [PSA] }),
      [{ namespace: 'a', action: 'Apply', labels: {}, selected: false }],
    ],
    ['ignores unselected namespaces we never labelled', labelled, ns('a'), []],
    [
      'in Audit reports a missing label and writes nothing',
      { ...labelled, mode: 'Audit' as const },
      ns('a', { tier: 'app' }),
      [{ namespace: 'a', action: 'Violation', paths: [`metadata.labels["${PSA}"]`] }],
    ],
    ['in Audit never clears', { ...labelled, mode: 'Audit' as const }, ns('a', {}, { ownedLabels: [PSA] }), []],
  ])('%s', (_case, p, namespace, expected) => {
    expect(planNamespaceLabels(p, [namespace])).toEqual(expected);
  });
});

describe('namespaceInfo', () => {
  it('reads the labels our manager owns from managedFields', () => {
    const manager = namespaceLabelManager('pb-x');
    const info = namespaceInfo(
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'a',
          labels: { [PSA]: 'restricted', team: 't' },
          managedFields: [
            { manager, operation: 'Apply', fieldsV1: { 'f:metadata': { 'f:labels': { [`f:${PSA}`]: {} } } } },
            { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } } } },
          ],
        },
      },
      manager,
    );
    expect(info).toEqual({ name: 'a', labels: { [PSA]: 'restricted', team: 't' }, ownedLabels: [PSA], terminating: false });
    expect(namespaceInfo({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } }, manager).ownedLabels).toBeUndefined();
  });
});

describe('auditResult', () => {
  const manifest = {
    ...role,
    metadata: { name: 'reader', namespace: 'a' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  };
  it('reports a missing object as a violation', () => {
    const result = auditResult(manifest, undefined);
    expect(result).toMatchObject({ applied: false, drift: { drifted: true, missing: true } });
  });
  it('reports the fields that differ', () => {
    const live = { ...manifest, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }] };
    expect(auditResult(manifest, live)).toMatchObject({ applied: false, drift: { drifted: true, paths: ['rules'] } });
  });
  it('finds an object in place compliant', () => {
    const result = auditResult(manifest, { ...manifest, metadata: { ...manifest.metadata, labels: { other: 'x' } } });
    expect(result.applied).toBe(true);
    expect(result.drift).toBeUndefined();
  });
});

describe('withTemplates', () => {
  const own = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'p' } };

  it('appends the templates stamped into the namespaces selected now and counts them', () => {
    const result = withTemplates([own], policy(), [ns('b', { tier: 'app' }), ns('a', { tier: 'app' }), ns('c')]);
    expect(result.manifests.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}`)).toEqual([
      'ValidatingAdmissionPolicy/',
      'Role/a',
      'ResourceQuota/a',
      'Role/b',
      'ResourceQuota/b',
    ]);
    expect(result.policy).toEqual({ spec: policy(), stamped: 4 });
  });

  it('follows the namespaces: one relabelled out loses its copies, none selected leaves the own manifests', () => {
    expect(withTemplates([own], policy(), [ns('a', { tier: 'app' }), ns('b', { tier: 'db' })]).policy.stamped).toBe(2);
    expect(withTemplates([own], policy(), [ns('a', { tier: 'db' })])).toEqual({ manifests: [own], policy: { spec: policy(), stamped: 0 } });
  });
});
