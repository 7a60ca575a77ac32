import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../runtime/index.js';
import { memberAccessObjects, staleAgentServiceAccounts } from './access.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const uid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const account = `flotilla-agent-${uid}`;
const objects = memberAccessObjects({ cluster: 'paris', fleet: 'prod', uid });
const rules = objects.flatMap((o) => (o.rules as Rule[] | undefined) ?? []);

describe('memberAccessObjects', () => {
  it("creates the namespace first and binds both roles to this join's ServiceAccount only", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'Namespace//flotilla-member-paris',
      `ServiceAccount/flotilla-member-paris/${account}`,
      'Role/flotilla-member-paris/flotilla-agent',
      'RoleBinding/flotilla-member-paris/flotilla-agent',
      'ClusterRole//flotilla:member:paris',
      'ClusterRoleBinding//flotilla:member:paris',
    ]);
    for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'flotilla-member-paris' }]);
    }
  });

  it('gives a MemberCluster made anew under the same name another ServiceAccount, bound alone', () => {
    const rejoined = memberAccessObjects({ cluster: 'paris', fleet: 'prod', uid: '7c9e6679-7425-40de-944b-e07fc1f90ae7' });
    const subjects = rejoined.filter((o) => o.kind.endsWith('Binding')).flatMap((o) => o.subjects as { name: string }[]);
    expect(subjects.map((s) => s.name)).toEqual([
      'flotilla-agent-7c9e6679-7425-40de-944b-e07fc1f90ae7',
      'flotilla-agent-7c9e6679-7425-40de-944b-e07fc1f90ae7',
    ]);
  });

  it('is owned by the MemberCluster, so deleting it collects everything', () => {
    for (const o of objects) {
      expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'MemberCluster', name: 'paris', uid })]);
    }
  });

  it('grants no wildcard, no Secret, no RBAC and no fleet-level resource but a read of its own Fleet', () => {
    for (const rule of rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.apiGroups).not.toContain('rbac.authorization.k8s.io');
      expect(rule.resources).not.toContain('secrets');
      for (const resource of ['clustergroups', 'globalservices', 'policybundles']) {
        expect(rule.resources).not.toContain(resource);
      }
    }
    const fleetRules = rules.filter((rule) => rule.resources.includes('fleets'));
    expect(fleetRules).toEqual([
      { apiGroups: ['flotilla.dev'], resources: ['fleets'], resourceNames: ['prod'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('limits every MemberCluster, Lease-update and token rule to its own name', () => {
    const named = rules.filter(
      (r) =>
        r.resources.some((res) => res.startsWith('memberclusters') || res === 'serviceaccounts/token') ||
        (r.resources.includes('leases') && !r.verbs.every((v) => v === 'create')),
    );
    expect(named.length).toBe(4);
    for (const rule of named) {
      expect(rule.resourceNames?.length).toBe(1);
      expect(['paris', account, 'flotilla-agent-heartbeat']).toContain(rule.resourceNames?.[0]);
    }
  });

  it('lets the agent write Work status but never Work itself', () => {
    const works = rules.filter((r) => r.resources.includes('works'));
    expect(works.flatMap((r) => r.verbs).sort()).toEqual(['get', 'list', 'watch']);
  });
});

describe('staleAgentServiceAccounts', () => {
  const sa = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: 'flotilla-member-paris' },
  });
  it.each<[string, string[], string[]]>([
    ['none but the current one', [account], []],
    ['nothing there yet', [], []],
    ['the fixed name of a release before per-join identities', ['flotilla-agent', account], ['flotilla-agent']],
    ["a former join's, sorted", ['flotilla-agent-b', account, 'flotilla-agent-a'], ['flotilla-agent-a', 'flotilla-agent-b']],
  ])('answers the former ones when there are %s', (_what, live, stale) => {
    expect(staleAgentServiceAccounts(live.map(sa), uid)).toEqual(stale);
  });
});
