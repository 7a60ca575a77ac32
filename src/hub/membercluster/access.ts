/**
 * The identity the hub gives one member cluster's agent, and nothing more: the objects that let it
 * read its own Work, report Work status, keep a heartbeat Lease and rotate its own token in its own
 * namespace, write the status of its own MemberCluster, and read its own Fleet (the restrictions it
 * enforces). No rule grants any other name, any Secret, any other fleet-level resource or any RBAC
 * verb, so the agent cannot escalate. The identity is one per join: its ServiceAccount is named after
 * the MemberCluster's uid (agentServiceAccount), and the bindings name that account alone, so the
 * Role and bindings keep fixed names.
 */
import {
  agentServiceAccount,
  apiVersion,
  group,
  heartbeatLease,
  labels as apiLabels,
  managedBy,
  memberClusterRoleName,
  memberNamespace,
} from '../../api/index.js';
import type { KubeObject, OwnerReference } from '../../runtime/index.js';

/** The name of the Role and RoleBinding in a member's namespace; the same for every join. */
export const agentRoleName = 'flotilla-agent';

export interface AccessObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  [field: string]: unknown;
}

export interface MemberIdentity {
  cluster: string;
  fleet: string;
  /** The MemberCluster's uid: every object is owned by it, so the garbage collector is the backstop. */
  uid: string;
}

/** The objects, in creation order, that make up a member agent's identity and permissions on the hub. */
export function memberAccessObjects({ cluster, fleet, uid }: MemberIdentity): AccessObject[] {
  const namespace = memberNamespace(cluster);
  const labels = { ...managedBy, [apiLabels.cluster]: cluster, [apiLabels.fleet]: fleet };
  const ownerReferences: OwnerReference[] = [
    { apiVersion, kind: 'MemberCluster', name: cluster, uid, controller: true, blockOwnerDeletion: true },
  ];
  const meta = (name: string, ns?: string) => ({ name, ...(ns ? { namespace: ns } : {}), labels, ownerReferences });
  const serviceAccount = agentServiceAccount(uid);
  const subject = { kind: 'ServiceAccount', name: serviceAccount, namespace };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(namespace) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(serviceAccount, namespace), automountServiceAccountToken: false },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(agentRoleName, namespace),
      rules: [
        { apiGroups: [group], resources: ['works'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [group], resources: ['works/status'], verbs: ['get', 'update', 'patch'] },
        // create cannot be limited by name; every other verb is, to the one heartbeat Lease.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [heartbeatLease], verbs: ['get', 'update', 'patch'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [serviceAccount], verbs: ['create'] },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(agentRoleName, namespace),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: agentRoleName },
      subjects: [subject],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(memberClusterRoleName(cluster)),
      rules: [
        { apiGroups: [group], resources: ['memberclusters'], resourceNames: [cluster], verbs: ['get', 'watch'] },
        { apiGroups: [group], resources: ['memberclusters/status'], resourceNames: [cluster], verbs: ['get', 'update', 'patch'] },
        // Its own Fleet, read only, for the restrictions it must enforce on every Work.
        { apiGroups: [group], resources: ['fleets'], resourceNames: [fleet], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(memberClusterRoleName(cluster)),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: memberClusterRoleName(cluster) },
      subjects: [subject],
    },
  ];
}

/**
 * The ServiceAccounts of former identities among those flotilla keeps in a member's namespace:
 * every one but the current join's. Deleting them makes their tokens unauthenticated.
 */
export function staleAgentServiceAccounts(serviceAccounts: readonly KubeObject[], memberUID: string): string[] {
  const current = agentServiceAccount(memberUID);
  return serviceAccounts
    .map((sa) => sa.metadata.name ?? '')
    .filter((name) => name !== '' && name !== current)
    .sort();
}
