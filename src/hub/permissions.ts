// What the hub operator may do on the hub apiserver: the ONE table its Helm chart's ClusterRoles and
// Role are generated from (`make generate` writes charts/flotilla-hub/templates/rbac.yaml), so the
// chart grants exactly what the code uses. Each row says why the operator needs it; permissions.test.ts
// fails when a resource the controllers watch is missing here, and the charts e2e runs the operator
// with nothing but these rules.
import { agentRoleName } from './membercluster/access.js';
import { flotillaNamespace, group, labels } from '../api/index.js';

export interface PermissionRule {
  apiGroup: string;
  resource: string;
  verbs: readonly string[];
  /** Only these objects (RBAC's resourceNames). */
  resourceNames?: readonly string[];
  why: string;
}

/** The leader-election Lease of the hub's replicas, in flotilla-system. */
export const hubLeaseName = 'flotilla-hub';

/** The chart's names for the hub's roles; fixed, since one hub runs per cluster (its CRDs and Lease are cluster-wide too). */
export const hubRoleName = 'flotilla-hub';
/** The ClusterRole (Secret get) the hub binds to itself in each fleet workspace, and nowhere else. */
export const workspaceSecretsRole = 'flotilla-hub-workspace-secrets';
/** The name of that RoleBinding in each workspace. */
export const workspaceSecretsBinding = 'flotilla-hub-workspace-secrets';

const read = ['get', 'list', 'watch'] as const;
const watch = ['list', 'watch'] as const;
const own = ['list', 'watch', 'create', 'patch', 'delete'] as const;

/** Rules the hub holds in every namespace (a ClusterRole bound by a ClusterRoleBinding). */
export const clusterRules: readonly PermissionRule[] = [
  ...(['fleets', 'memberclusters', 'clustergroups', 'globalservices', 'policybundles'] as const).map((resource) => ({
    apiGroup: group,
    resource,
    verbs: read,
    why: 'the informers of every hub kind; get re-reads one on a status conflict',
  })),
  ...(['memberclusters', 'globalservices', 'policybundles'] as const).map((resource) => ({
    apiGroup: group,
    resource,
    verbs: ['patch'],
    why: 'adds and removes its finalizer (JSON patch)',
  })),
  ...(['fleets', 'memberclusters', 'clustergroups', 'globalservices', 'policybundles'] as const).map((resource) => ({
    apiGroup: group,
    resource: `${resource}/status`,
    verbs: ['get', 'update'],
    why: "writes status through the subresource; a member's ClusterRole grants get on its status, which the hub must hold to grant",
  })),
  {
    apiGroup: group,
    resource: 'memberclusters/status',
    verbs: ['patch'],
    why: "a member's ClusterRole grants patch on its status: the hub holds it so that it can grant it without escalate",
  },
  { apiGroup: group, resource: 'works', verbs: own, why: 'writes one Work per cluster and source, deletes those no longer placed' },
  {
    apiGroup: '',
    resource: 'namespaces',
    verbs: ['get', ...own],
    why: "creates member and workspace namespaces, deletes a member's on revocation",
  },
  { apiGroup: '', resource: 'serviceaccounts', verbs: own, why: "each member agent's hub identity" },
  { apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', verbs: own, why: "each member agent's Role in its namespace" },
  {
    apiGroup: 'rbac.authorization.k8s.io',
    resource: 'rolebindings',
    verbs: own,
    why: "binds the agent's Role; binds the hub's Secret reader in workspaces",
  },
  {
    apiGroup: 'rbac.authorization.k8s.io',
    resource: 'clusterroles',
    verbs: own,
    why: "each member agent's ClusterRole (its own MemberCluster and Fleet)",
  },
  { apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verbs: own, why: "binds each member agent's ClusterRole" },
  {
    apiGroup: 'rbac.authorization.k8s.io',
    resource: 'roles',
    verbs: ['escalate', 'bind'],
    resourceNames: [agentRoleName],
    why: "the agent's Role lets it request tokens for its own ServiceAccount, which the hub itself may not; the admission policy bounds what such a Role may hold and where",
  },
  {
    apiGroup: 'rbac.authorization.k8s.io',
    resource: 'clusterroles',
    verbs: ['bind'],
    resourceNames: [workspaceSecretsRole],
    why: 'binds its Secret reader to itself in each workspace it creates; the admission policy bounds where',
  },
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: watch, why: "watches the members' heartbeat Leases" },
  { apiGroup: '', resource: 'configmaps', verbs: watch, why: "GlobalServices' source.configMapRefs" },
  { apiGroup: '', resource: 'configmaps', verbs: ['create', 'patch'], why: "keeps a service's last completed revision (gs-NAME-stable)" },
  { apiGroup: '', resource: 'events', verbs: ['create', 'patch'], why: 'Events on the hub kinds' },
  {
    apiGroup: 'authentication.k8s.io',
    resource: 'selfsubjectreviews',
    verbs: ['create'],
    why: 'learns its own ServiceAccount, to bind the Secret reader to it',
  },
];

/** Rules the hub holds in flotilla-system only (a Role). */
export const namespaceRules: readonly PermissionRule[] = [
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], why: 'the first replica creates the leader Lease' },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'update'],
    resourceNames: [hubLeaseName],
    why: 'leader election',
  },
];
export const namespaceRulesNamespace = flotillaNamespace;

/** The Secret reader's one rule: bound per workspace, it is all the hub may do with Secrets. */
export const workspaceSecretsRules: readonly PermissionRule[] = [
  { apiGroup: '', resource: 'secrets', verbs: ['get'], why: "credentials of a GlobalService's origin (secretRef) and chart valuesFrom" },
];

/** The label a workspace namespace carries, and a member namespace carries besides `labels.cluster`. */
export const workspaceLabel = labels.fleet;

/** Rules as RBAC writes them, one per row, in table order. */
export function rbacRules(rules: readonly PermissionRule[]): Record<string, unknown>[] {
  return rules.map((rule) => ({
    apiGroups: [rule.apiGroup],
    resources: [rule.resource],
    ...(rule.resourceNames ? { resourceNames: [...rule.resourceNames] } : {}),
    verbs: [...rule.verbs],
  }));
}

/** Whether `rules` let `verb` on `apiGroup`/`resource` (any name), as RBAC decides it. */
export function allows(rules: readonly PermissionRule[], apiGroup: string, resource: string, verb: string): boolean {
  return rules.some((rule) => rule.apiGroup === apiGroup && rule.resource === resource && !rule.resourceNames && rule.verbs.includes(verb));
}
