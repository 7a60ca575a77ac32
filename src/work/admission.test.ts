import { describe, expect, it } from '@jest/globals';
import { fleetSchema } from '../api/generated/schemas.js';
import type { FleetRestrictions, Manifest } from '../api/index.js';
import {
  admissionRules,
  admitManifest,
  DEFAULT_RESTRICTIONS,
  describeRefusals,
  namespaceAdmitted,
  namespaceMatches,
  refusals,
  type SourceKind,
} from './admission.js';
import { manifest } from './testing.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', role: string, namespace?: string): Manifest =>
  manifest(RBAC, kind, `bind-${role}`, namespace, {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'User', name: 'mallory' }],
  });
const role = (kind: 'Role' | 'ClusterRole', rules: unknown[], name = 'r', namespace?: string): Manifest =>
  manifest(RBAC, kind, name, namespace, { rules });
const configMap = (namespace: string): Manifest => manifest('v1', 'ConfigMap', 'settings', namespace);
const namespaceObject = (name: string): Manifest => manifest('v1', 'Namespace', name);
const webhook = manifest('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'deny-all');
const deployment = (namespace: string): Manifest => manifest('apps/v1', 'Deployment', 'web', namespace);

type Row = [string, SourceKind, FleetRestrictions | undefined, Manifest, string | undefined];

describe('admitManifest', () => {
  it.each<Row>([
    ['ships an app into its own namespace by default', 'GlobalService', undefined, deployment('web'), undefined],
    ['ships a Namespace object of an ordinary name', 'GlobalService', undefined, namespaceObject('web'), undefined],
    [
      "refuses the agent's namespace as a Namespace object",
      'GlobalService',
      undefined,
      namespaceObject('flotilla-system'),
      'agentProtection',
    ],
    [
      "refuses any object in the agent's namespace (its bootstrap Secret)",
      'GlobalService',
      undefined,
      manifest('v1', 'Secret', 'flotilla-agent-bootstrap', 'flotilla-system'),
      'agentProtection',
    ],
    [
      "refuses the agent's namespace even when namespaces are opened up",
      'GlobalService',
      { globalServices: { deniedNamespaces: [], allowedNamespaces: ['*'] } },
      configMap('flotilla-system'),
      'agentProtection',
    ],
    [
      "refuses the agent's namespace to PolicyBundles too",
      'PolicyBundle',
      { policyBundles: { deniedNamespaces: [] } },
      role('Role', [], 'r', 'flotilla-system'),
      'agentProtection',
    ],
    [
      "refuses the agent's ClusterRole",
      'GlobalService',
      { globalServices: { rbac: 'Unrestricted' } },
      role('ClusterRole', [], 'flotilla-agent'),
      'agentProtection',
    ],
    [
      'ships an ordinary ClusterRoleBinding from a PolicyBundle',
      'PolicyBundle',
      undefined,
      binding('ClusterRoleBinding', 'view'),
      undefined,
    ],
    [
      'refuses a ClusterRoleBinding named flotilla-agent-*',
      'GlobalService',
      undefined,
      { ...binding('ClusterRoleBinding', 'view'), metadata: { name: 'flotilla-agent-spoke' } },
      'agentProtection',
    ],
    [
      'refuses kube-system by default',
      'GlobalService',
      undefined,
      configMap('kube-system'),
      'restrictions.globalServices.deniedNamespaces',
    ],
    [
      'refuses a Namespace object kube-public by default',
      'GlobalService',
      undefined,
      namespaceObject('kube-public'),
      'restrictions.globalServices.deniedNamespaces',
    ],
    [
      'ships into kube-system once deniedNamespaces is []',
      'GlobalService',
      { globalServices: { deniedNamespaces: [] } },
      configMap('kube-system'),
      undefined,
    ],
    [
      'refuses a namespace outside allowedNamespaces',
      'GlobalService',
      { globalServices: { allowedNamespaces: ['team-a-*'] } },
      configMap('team-b'),
      'restrictions.globalServices.allowedNamespaces',
    ],
    [
      'ships into a namespace a prefix pattern allows',
      'GlobalService',
      { globalServices: { allowedNamespaces: ['team-a-*'] } },
      configMap('team-a-web'),
      undefined,
    ],
    [
      'judges cluster-scoped objects by kind only, not by allowedNamespaces',
      'GlobalService',
      { globalServices: { allowedNamespaces: ['team-a'] } },
      role('ClusterRole', [{ verbs: ['get'], resources: ['pods'] }]),
      undefined,
    ],
    ['refuses webhooks from GlobalServices by default', 'GlobalService', undefined, webhook, 'restrictions.globalServices.deniedKinds'],
    [
      'lets PolicyBundles ship admission objects by default',
      'PolicyBundle',
      undefined,
      manifest('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', 'p'),
      undefined,
    ],
    [
      'refuses a kind outside allowedKinds',
      'GlobalService',
      { globalServices: { allowedKinds: [{ group: 'apps', kind: '*' }] } },
      configMap('web'),
      'restrictions.globalServices.allowedKinds',
    ],
    [
      'ships a kind allowedKinds names by group wildcard',
      'GlobalService',
      { globalServices: { allowedKinds: [{ group: 'apps', kind: '*' }] } },
      deployment('web'),
      undefined,
    ],
    [
      'refuses a denied kind in the core group',
      'GlobalService',
      { globalServices: { deniedKinds: [{ group: '', kind: 'Secret' }] } },
      manifest('v1', 'Secret', 's', 'web'),
      'restrictions.globalServices.deniedKinds',
    ],
    [
      'refuses a ClusterRoleBinding to cluster-admin',
      'GlobalService',
      undefined,
      binding('ClusterRoleBinding', 'cluster-admin'),
      'restrictions.globalServices.rbac',
    ],
    [
      'refuses a RoleBinding to cluster-admin',
      'GlobalService',
      undefined,
      binding('RoleBinding', 'cluster-admin', 'web'),
      'restrictions.globalServices.rbac',
    ],
    [
      'refuses a PolicyBundle binding to cluster-admin by default',
      'PolicyBundle',
      undefined,
      binding('ClusterRoleBinding', 'cluster-admin'),
      'restrictions.policyBundles.rbac',
    ],
    ['ships a binding to view', 'GlobalService', undefined, binding('RoleBinding', 'view', 'web'), undefined],
    [
      'refuses "*" verbs on "*" resources',
      'GlobalService',
      undefined,
      role('ClusterRole', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
      'restrictions.globalServices.rbac',
    ],
    [
      'refuses the escalate verb',
      'GlobalService',
      undefined,
      role('Role', [{ resources: ['roles'], verbs: ['escalate'] }], 'r', 'web'),
      'restrictions.globalServices.rbac',
    ],
    [
      'ships "*" verbs on named resources',
      'GlobalService',
      undefined,
      role('Role', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }], 'r', 'web'),
      undefined,
    ],
    [
      'ships cluster-admin bindings under rbac Unrestricted',
      'GlobalService',
      { globalServices: { rbac: 'Unrestricted' } },
      binding('ClusterRoleBinding', 'cluster-admin'),
      undefined,
    ],
  ])('%s', (_name, kind, restrictions, subject, rule) => {
    const verdict = admitManifest(subject, admissionRules(kind, restrictions));
    expect(verdict.allowed ? undefined : verdict.rule).toBe(rule);
  });

  it('protects an agent system namespace other than flotilla-system', () => {
    expect(admitManifest(configMap('fs-member'), admissionRules('GlobalService', undefined, ['fs-member']))).toMatchObject({
      allowed: false,
      rule: 'agentProtection',
    });
    expect(
      admitManifest(
        configMap('flotilla-system'),
        admissionRules('GlobalService', { globalServices: { deniedNamespaces: [] } }, ['fs-member']),
      ),
    ).toMatchObject({ allowed: false });
  });
});

describe('namespaceMatches', () => {
  it.each([
    ['web', 'web', true],
    ['web', 'web2', false],
    ['team-*', 'team-a', true],
    ['team-*', 'tea', false],
    ['*', 'anything', true],
  ])('%s against %s is %s', (pattern, name, expected) => {
    expect(namespaceMatches(pattern, name)).toBe(expected);
  });
});

describe('namespaceAdmitted', () => {
  it.each<[string, FleetRestrictions | undefined, boolean]>([
    ['kube-system', undefined, false],
    ['flotilla-system', { policyBundles: { deniedNamespaces: [] } }, false],
    ['kube-system', { policyBundles: { deniedNamespaces: [] } }, true],
    ['apps', undefined, true],
    ['apps', { policyBundles: { allowedNamespaces: ['team-*'] } }, false],
  ])('%s under %j: %s', (namespace, restrictions, expected) => {
    expect(namespaceAdmitted(namespace, admissionRules('PolicyBundle', restrictions))).toBe(expected);
  });
});

describe('refusals', () => {
  it('names each refused manifest with its position, the reason and the rule', () => {
    const found = refusals(
      [deployment('web'), binding('ClusterRoleBinding', 'cluster-admin'), configMap('kube-system')],
      admissionRules('GlobalService', undefined),
    );
    expect(found.map((r) => r.index)).toEqual([1, 2]);
    expect(found[0]?.message).toBe(
      'ClusterRoleBinding.rbac.authorization.k8s.io/bind-cluster-admin: it binds the ClusterRole cluster-admin (restrictions.globalServices.rbac)',
    );
    expect(describeRefusals(found, 1)).toBe(`2 manifests refused by the fleet's restrictions: ${found[0]?.message ?? ''}; and 1 more`);
  });
});

describe('DEFAULT_RESTRICTIONS', () => {
  it('are the defaults the Fleet schema declares, so a Fleet without restrictions means the same to hub, agent and kubectl', () => {
    const sections = (
      fleetSchema as { properties: { spec: { properties: { restrictions: { properties: Record<string, { default: unknown }> } } } } }
    ).properties.spec.properties.restrictions.properties;
    expect(sections.globalServices?.default).toEqual(DEFAULT_RESTRICTIONS.GlobalService);
    expect(sections.policyBundles?.default).toEqual(DEFAULT_RESTRICTIONS.PolicyBundle);
  });
});
