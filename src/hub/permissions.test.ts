import { describe, expect, it } from '@jest/globals';
import { memberAccessObjects } from './membercluster/access.js';
import { memberSources } from './membercluster/controller.js';
import { policyBundleSources } from './policybundle/controller.js';
import { ConfigMapType } from './globalservice/controller.js';
import { allows, clusterRules, namespaceRules, workspaceSecretsRules, type PermissionRule } from './permissions.js';
import { ClusterGroupType, GlobalServiceType, WorkType } from '../api/index.js';
import type { InformerSource, TypeRef } from '../runtime/index.js';

// Every kind the hub touches has a plural of its lowercased kind plus "s" (Namespace, Role, Lease, Work, ...).
const resourceOf = (type: TypeRef): { apiGroup: string; resource: string } => ({
  apiGroup: type.apiVersion.includes('/') ? (type.apiVersion.split('/')[0] ?? '') : '',
  resource: `${type.kind.toLowerCase()}s`,
});

const member = memberAccessObjects({ cluster: 'one', fleet: 'prod', uid: '0b7e8f4c-2d3a-4e5f-8a9b-1c2d3e4f5a6b' });

describe('the hub permissions table', () => {
  const member_ = memberSources();
  const bundle = policyBundleSources();
  const sources: InformerSource[] = [
    member_.members,
    member_.fleets,
    member_.leases,
    member_.works,
    ...member_.access,
    bundle.bundles,
    bundle.groups,
    bundle.works,
    ...[GlobalServiceType, WorkType, ConfigMapType, ClusterGroupType].map((type) => ({ type })),
  ];
  const watched = sources.map((source) => source.type);

  it.each(watched.map((type) => [`${type.kind}.${type.apiVersion}`, type] as const))(
    'lets the hub list and watch every %s its informers cache',
    (_name, type) => {
      const { apiGroup, resource } = resourceOf(type);
      expect([allows(clusterRules, apiGroup, resource, 'list'), allows(clusterRules, apiGroup, resource, 'watch')]).toEqual([true, true]);
    },
  );

  it.each(member.map((object) => [object.kind, object] as const))(
    "lets the hub create, apply and delete a member's %s",
    (_kind, object) => {
      const { apiGroup, resource } = resourceOf(object);
      expect(['create', 'patch', 'delete'].filter((verb) => !allows(clusterRules, apiGroup, resource, verb))).toEqual([]);
    },
  );

  it("holds every rule of a member's ClusterRole, so that it grants it without escalate", () => {
    const clusterRole = member.find((object) => object.kind === 'ClusterRole');
    const rules = (clusterRole?.['rules'] ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const missing = rules.flatMap((rule) =>
      rule.apiGroups.flatMap((apiGroup) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.filter((verb) => !allows(clusterRules, apiGroup, resource, verb)).map((verb) => `${verb} ${apiGroup}/${resource}`),
        ),
      ),
    );
    expect(rules.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('gives the hub no Secret access, no Pods and no wildcard anywhere but through the per-workspace Secret reader', () => {
    const all: PermissionRule[] = [...clusterRules, ...namespaceRules];
    expect(all.filter((rule) => rule.resource === 'secrets' || rule.resource === 'pods')).toEqual([]);
    expect(all.filter((rule) => [rule.apiGroup, rule.resource, ...rule.verbs].includes('*'))).toEqual([]);
    expect(workspaceSecretsRules.map((rule) => [rule.resource, rule.verbs])).toEqual([['secrets', ['get']]]);
  });

  it('allows escalate and bind only on named roles', () => {
    expect(clusterRules.filter((rule) => rule.verbs.some((verb) => verb === 'escalate' || verb === 'bind') && !rule.resourceNames)).toEqual(
      [],
    );
  });
});
