// The flotilla.dev API: group and version, kinds, the labels and annotations flotilla reads and
// writes, and the generated types and validators (src/api/generated/, from schemas/).
export * from './generated/types.js';
export * from './generated/validators.js';
export { pinnedVersions } from './generated/versions.js';
export type { FieldError, KindValidator, ValidationResult } from './validation.js';
export * from './conditions.js';

export const group = 'flotilla.dev';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

/** Each kind's plural resource name, as in its CRD (crds/flotilla.dev_PLURAL.yaml). */
export const plurals = {
  Fleet: 'fleets',
  MemberCluster: 'memberclusters',
  ClusterGroup: 'clustergroups',
  GlobalService: 'globalservices',
  PolicyBundle: 'policybundles',
  Work: 'works',
} as const;

export type Kind = keyof typeof plurals;
export const kinds = Object.keys(plurals) as Kind[];

/** The type reference of each kind, as the Kube client and informers take it. */
export const FleetType = { apiVersion, kind: 'Fleet' } as const;
export const MemberClusterType = { apiVersion, kind: 'MemberCluster' } as const;
export const ClusterGroupType = { apiVersion, kind: 'ClusterGroup' } as const;
export const GlobalServiceType = { apiVersion, kind: 'GlobalService' } as const;
export const PolicyBundleType = { apiVersion, kind: 'PolicyBundle' } as const;
export const WorkType = { apiVersion, kind: 'Work' } as const;

/** The namespace flotilla runs in on every cluster: the hub's leader Lease; a member's agent, bootstrap Secret and local copies. */
export const flotillaNamespace = 'flotilla-system';

/** On everything flotilla creates outside its own kinds (namespaces, access objects, Works, local copies, the bootstrap): one cache per kind sees it all. */
export const managedBy = { 'app.kubernetes.io/managed-by': 'flotilla' } as const;
/** `managedBy` as a label selector. */
export const managedBySelector = Object.entries(managedBy)
  .map(([key, value]) => `${key}=${value}`)
  .join(',');

/** Labels flotilla sets on hub namespaces and Works and on every object an agent applies. */
export const labels = {
  /** The fleet a member namespace, Work or applied object belongs to. */
  fleet: 'flotilla.dev/fleet',
  /** The member cluster a hub namespace or Work is for. */
  cluster: 'flotilla.dev/cluster',
  /** The Work that applied an object on a member cluster. */
  work: 'flotilla.dev/work',
  /** The kind (GlobalService or PolicyBundle) of the source a Work renders. */
  sourceKind: 'flotilla.dev/source-kind',
  /** The name of the source a Work renders. */
  sourceName: 'flotilla.dev/source-name',
  /** The workspace namespace of the source a Work renders. */
  sourceNamespace: 'flotilla.dev/source-namespace',
} as const;

/** Annotations flotilla reads or writes. */
export const annotations = {
  /** On a GlobalService: approves a Staged rollout's stage, as STAGE@REVISION. */
  approvedStage: 'flotilla.dev/approved-stage',
  /** On an applied object: the full `namespace/name` of the Work that owns it (its label may be shortened). */
  work: 'flotilla.dev/work',
  /** On an applied object: the revision of the Work that last applied it. */
  revision: 'flotilla.dev/revision',
  /**
   * On a GlobalService with a Git or Helm origin: a new value (any string; `flotilla reconcile
   * source` writes the time) asks the hub to fetch the origin now, as Flux's reconcile.fluxcd.io/requestedAt.
   */
  requestedAt: 'flotilla.dev/requested-at',
  /**
   * On a manifest of a GlobalService's source: `disabled` ships it exactly as written, with no
   * `${cluster.…}`/`${fleet.…}` substitution and no `$${` unescaping (as Flux's
   * `kustomize.toolkit.fluxcd.io/substitute: disabled`).
   */
  substitute: 'flotilla.dev/substitute',
  /**
   * On a manifest: `disabled` keeps the applied object when it leaves the desired state (released
   * without flotilla's marks, as under the Orphan deletion policy), in the style of Flux's
   * `kustomize.toolkit.fluxcd.io/prune: disabled`.
   */
  prune: 'flotilla.dev/prune',
  /** On a manifest: Helm's `keep`, honoured as `flotilla.dev/prune: disabled` is (charts put it on their CRDs). */
  helmResourcePolicy: 'helm.sh/resource-policy',
} as const;

/** The finalizer that lets the hub remove what a GlobalService or PolicyBundle created everywhere. */
export const finalizer = 'flotilla.dev/cleanup';

export const agentServiceAccountPrefix = 'flotilla-agent-';
const kubernetesUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A member agent's ServiceAccount in its hub namespace: its identity on the hub, one per join. It is
 * named after its MemberCluster's uid, so a cluster deleted and joined again under the same name gets
 * another account, and a token of the former one is never granted anything of the new one (the
 * apiserver keeps accepting a token for ~10 s after its account is gone, from its cache). The whole
 * uid, not a piece: no two joins can share a name; 51 characters, still a DNS label.
 */
export function agentServiceAccount(memberUID: string): string {
  if (!kubernetesUID.test(memberUID))
    throw new Error(`a MemberCluster uid must be a lowercase UUID to name its agent's ServiceAccount, not "${memberUID}"`);
  return `${agentServiceAccountPrefix}${memberUID}`;
}
/** The name of the cluster-scoped Role and binding for one member's own MemberCluster. */
export function memberClusterRoleName(cluster: string): string {
  return `flotilla:member:${cluster}`;
}

/** The Lease in a member's hub namespace that its agent renews as its heartbeat. */
export const heartbeatLease = 'flotilla-agent-heartbeat';
/**
 * How often an agent renews that Lease unless told otherwise: once a minute, as OCM's agents do — at
 * 10s a 10,000-cluster hub would take 1,000 Lease writes/s, more than its apiserver's write budget.
 */
export const defaultHeartbeatInterval = '60s';

/**
 * The field manager of each flotilla component, so an object's managedFields tell who wrote what:
 * the hub operator (Works, member access, hub namespaces, statuses it computes), the member agent
 * (everything it applies on its cluster, Work status, heartbeat, facts) and the CLI (CRDs in
 * `flotilla install`, the MemberCluster in `flotilla join`). The agent's namespace labels of a
 * PolicyBundle are applied under a manager per policy set (see agent/policy.ts namespaceLabelManager).
 */
export const fieldManagers = { hub: 'flotilla-hub', agent: 'flotilla-agent', cli: 'flotilla-cli' } as const;

/**
 * The field manager flotilla's hub and agent applied as before each got its own: an Apply entry of
 * it is renamed to the component's manager before that component applies the object (adoptFieldManager).
 */
export const legacyFieldManager = 'flotilla';

const memberNamespacePrefix = 'flotilla-member-';
const workspacePrefix = 'fleet-';

/** The hub namespace that holds a member cluster's Works (its names fit: see ClusterName). */
export function memberNamespace(cluster: string): string {
  return `${memberNamespacePrefix}${cluster}`;
}

/** The workspace namespace of a fleet: spec.workspaceNamespace, or fleet-NAME. */
export function workspaceNamespace(fleet: { metadata: { name?: string }; spec?: { workspaceNamespace?: string } }): string {
  return fleet.spec?.workspaceNamespace ?? `${workspacePrefix}${fleet.metadata.name ?? ''}`;
}
