// The PolicyBundle reconciler: resolves the bundle's placement within its fleet, renders it into one
// Work per target cluster — the cluster-scoped policies (ClusterRoles and bindings, admission
// policies and bindings) as manifests, the namespaced ones as a policy section the agent expands
// against the spoke's own namespaces (see src/agent/policy.ts) — and aggregates what the agents
// report into per-cluster compliance on the bundle and a summary on its Fleet. An object another
// source's Work already carries to a cluster is a Conflict on that cluster, never a tug of war: the
// bundle's Work leaves it out (claims.ts judges this, for GlobalServices too).
// Works are written, and on deletion drained then deleted, through the writer GlobalServices use
// (works/writer.ts); a write the hub apiserver refuses, a Work too large (Stalled, not retried) or
// a missing ClusterGroup shows in the bundle's conditions.
// Decisions are the pure functions below; the controller only reads caches and writes the result.
import {
  ClusterGroupType,
  conditionTypes,
  finalizer,
  FleetType,
  reasons,
  labels,
  managedBy,
  MemberClusterType,
  PolicyBundleType,
  WorkType,
  type FleetPolicyCounts,
  type Manifest,
  type ManifestStatus,
  type PolicyBundle,
  type PolicyBundleStatus,
  type PolicyViolation,
  type ViolationCount,
  type Work,
  type WorkPolicy,
} from '../../api/index.js';
import { admissionRules, describeRefusals, refusals, SYSTEM_NAMESPACES } from '../../work/admission.js';
import { identityKey, manifestIdentity, type ManifestIdentity } from '../../work/identity.js';
import {
  digestOf,
  findCondition,
  objectKey,
  setReadiness,
  TerminalError,
  timestamp,
  truncateMessage,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type ReadinessOutcome,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type ReconcileResult,
  type Request,
  type Store,
} from '../../runtime/index.js';
import {
  claimConflicts,
  claimWatch,
  clusterClaims,
  createClusterTargets,
  workIndexes,
  WORK_CLUSTER_INDEX,
  WORK_SOURCE_INDEX,
  type WorkObject,
} from '../works/claims.js';
import { describeConflicts, type ObjectConflict, type SourceRef } from '../works/conflicts.js';
import { fleetOfWorkspace, workspaceIndex } from '../fleet/controller.js';
import { resolveGroups } from '../clustergroup/controller.js';
import { hubFieldManager, type FleetObject, type GroupObject, type MemberObject } from '../objects.js';
import { fleetClusters, resolvePlacement } from '../placement.js';
import { ensureFinalizer, removeFinalizer } from '../finalizers.js';
import { sourceWorkName } from '../../work/naming.js';
import { workObjects } from '../../work/objects.js';
import { byCluster, describeWorkWriteFailures, diffWorkSet, noChanges, planDrain, setHead, writeWorkChanges } from '../works/writer.js';

export type PolicyBundleObject = PolicyBundle & KubeObject;

const RBAC = 'rbac.authorization.k8s.io/v1';
const ADMISSION = 'admissionregistration.k8s.io/v1';
const POD_SECURITY = 'pod-security.kubernetes.io';
export const MAX_WORST = 20;
export const MAX_KINDS = 16;

// ---------------------------------------------------------------------------------------------
// Rendering

export interface RenderedBundle {
  /** Cluster-scoped policy objects, applied once per cluster. */
  manifests: Manifest[];
  /** The namespaced part, for the agent to stamp into matching namespaces. */
  policy: WorkPolicy;
  /** A digest of both: the bundle's revision. */
  revision: string;
}

const object = (apiVersionOf: string, kind: string, name: string, rest: Record<string, unknown>): Manifest => ({
  apiVersion: apiVersionOf,
  kind,
  metadata: { name },
  ...rest,
});

/** The Pod Security labels of a bundle's levels (version defaults to latest for each level set). */
export function podSecurityLabels(bundle: Pick<PolicyBundle, 'spec'>): Record<string, string> {
  const levels = bundle.spec.podSecurity;
  if (!levels) return {};
  const out: Record<string, string> = {};
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level = levels[mode];
    if (level === undefined) continue;
    out[`${POD_SECURITY}/${mode}`] = level;
    out[`${POD_SECURITY}/${mode}-version`] = levels.version ?? 'latest';
  }
  return out;
}

/** A bundle as one cluster's Work content: cluster-scoped manifests and the namespaced templates. */
export function renderPolicyBundle(bundle: Pick<PolicyBundle, 'spec'>): RenderedBundle {
  const { spec } = bundle;
  const manifests: Manifest[] = [
    ...(spec.rbac?.clusterRoles ?? []).map((r) => object(RBAC, 'ClusterRole', r.name, { rules: r.rules })),
    ...(spec.rbac?.clusterRoleBindings ?? []).map((b) =>
      object(RBAC, 'ClusterRoleBinding', b.name, {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...b.roleRef },
        subjects: b.subjects,
      }),
    ),
    ...(spec.admission?.policies ?? []).map((p) => object(ADMISSION, 'ValidatingAdmissionPolicy', p.name, { spec: p.spec })),
    ...(spec.admission?.bindings ?? []).map((b) =>
      object(ADMISSION, 'ValidatingAdmissionPolicyBinding', b.name, {
        spec: {
          policyName: b.policyName,
          validationActions: b.validationActions,
          ...(b.matchResources ? { matchResources: b.matchResources } : {}),
          ...(b.paramRef ? { paramRef: b.paramRef } : {}),
        },
      }),
    ),
  ];
  const templates: Manifest[] = [
    ...(spec.rbac?.roles ?? []).map((r) => object(RBAC, 'Role', r.name, { rules: r.rules })),
    ...(spec.rbac?.roleBindings ?? []).map((b) =>
      object(RBAC, 'RoleBinding', b.name, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...b.roleRef }, subjects: b.subjects }),
    ),
    ...(spec.networkPolicies ?? []).map((n) => object('networking.k8s.io/v1', 'NetworkPolicy', n.name, { spec: n.spec })),
    ...(spec.resourceQuotas ?? []).map((q) =>
      object('v1', 'ResourceQuota', q.name, { spec: { hard: q.hard, ...(q.scopes ? { scopes: q.scopes } : {}) } }),
    ),
    ...(spec.limitRanges ?? []).map((l) => object('v1', 'LimitRange', l.name, { spec: { limits: l.limits } })),
  ];
  const namespaceLabels = podSecurityLabels(bundle);
  const policy: WorkPolicy = {
    mode: spec.mode ?? 'Enforce',
    ...(spec.namespaceSelector ? { namespaceSelector: spec.namespaceSelector } : {}),
    excludeNamespaces: spec.excludeNamespaces ?? [...SYSTEM_NAMESPACES],
    ...(templates.length > 0 ? { namespaceTemplates: templates } : {}),
    ...(Object.keys(namespaceLabels).length > 0 ? { namespaceLabels } : {}),
  };
  const revision = digestOf({ manifests, policy }).slice(0, 16);
  return { manifests, policy, revision };
}

// ---------------------------------------------------------------------------------------------
// Compliance

export type ClusterState = 'compliant' | 'nonCompliant' | 'unknown';

export interface ClusterCompliance {
  cluster: string;
  state: ClusterState;
  /** Violations on this cluster, one per policy object (count: in how many namespaces). */
  violations: PolicyViolation[];
}

const isViolation = (entry: ManifestStatus): boolean => entry.applied !== true || entry.drifted === true || entry.health === 'Degraded';

function violationMessage(entry: ManifestStatus): string {
  if (entry.message !== undefined) return entry.message;
  if (entry.drifted === true) return `drifted: ${(entry.driftedFields ?? []).join(', ')}`;
  return entry.applied === true ? (entry.health ?? 'Unknown') : 'not in place';
}

/** A policy object another source holds on a cluster. */
export interface HeldObject {
  identity: ManifestIdentity;
  conflict: ObjectConflict;
}

/**
 * One cluster's compliance from its Work (as the agent last reported) and the conflicts the hub
 * found there. Unknown until the agent has reported on the Work's current generation.
 */
export function clusterCompliance(cluster: string, work: Work | undefined, conflicts: readonly HeldObject[]): ClusterCompliance {
  const conflictViolations: PolicyViolation[] = conflicts.map(({ identity, conflict }) => ({
    cluster,
    kind: identity.kind,
    policy: identity.name,
    count: 1,
    message: truncateMessage(`conflict: ${describeConflicts([conflict])}`, 1024),
  }));
  const status = work?.status;
  if (!work || status?.observedGeneration === undefined || status.observedGeneration !== work.metadata.generation) {
    return { cluster, state: conflictViolations.length > 0 ? 'nonCompliant' : 'unknown', violations: conflictViolations };
  }
  const grouped = new Map<string, PolicyViolation>();
  for (const entry of (status.manifests ?? []).filter(isViolation)) {
    const key = `${entry.kind}/${entry.name}`;
    const seen = grouped.get(key);
    if (seen) {
      seen.count = (seen.count ?? 1) + 1;
      continue;
    }
    grouped.set(key, {
      cluster,
      kind: entry.kind,
      policy: entry.name,
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      count: 1,
      message: truncateMessage(violationMessage(entry), 1024),
    });
  }
  const applied = findCondition(status.conditions, conditionTypes.Applied);
  if (applied?.status === 'False' && grouped.size === 0 && (status.manifests ?? []).length === 0) {
    grouped.set('Work', {
      cluster,
      kind: 'Work',
      policy: work.metadata.name ?? '',
      count: 1,
      message: truncateMessage(applied.message, 1024),
    });
  }
  const violations = [...conflictViolations, ...grouped.values()];
  return { cluster, state: violations.length > 0 ? 'nonCompliant' : 'compliant', violations };
}

export interface BundleStatusInput {
  bundle: PolicyBundle;
  revision: string;
  compliance: readonly ClusterCompliance[];
  /** Why the bundle cannot be placed as written (no fleet, a refused manifest, a missing ClusterGroup), if so. */
  stalled?: { reason: string; message: string };
  /** Why this reconcile failed and will be retried (the hub apiserver refused a Work write), if so. */
  failed?: { reason: string; message: string };
  now?: Date;
}

/** The bundle's status: counts by compliance, violations by kind, the worst 20. Bounded. */
export function policyBundleStatus({
  bundle,
  revision,
  compliance,
  stalled,
  failed,
  now = new Date(),
}: BundleStatusInput): PolicyBundleStatus {
  const generation = bundle.metadata.generation ?? 0;
  const count = (state: ClusterState): number => compliance.filter((c) => c.state === state).length;
  const clusters = {
    targeted: compliance.length,
    compliant: count('compliant'),
    nonCompliant: count('nonCompliant'),
    unknown: count('unknown'),
  };
  const byKind = new Map<string, number>();
  const all = compliance.flatMap((c) => c.violations);
  for (const v of all) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + (v.count ?? 1));
  const violationsByKind: ViolationCount[] = [...byKind]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, MAX_KINDS)
    .map(([kind, n]) => ({ kind, count: n }));
  const worst = [...all]
    .sort(
      (a, b) =>
        (b.count ?? 1) - (a.count ?? 1) ||
        a.cluster.localeCompare(b.cluster) ||
        a.kind.localeCompare(b.kind) ||
        (a.policy ?? '').localeCompare(b.policy ?? ''),
    )
    .slice(0, MAX_WORST);
  const outcome = ((): ReadinessOutcome => {
    if (stalled) return { state: 'Stalled', ...stalled };
    if (failed) return { state: 'Failed', ...failed };
    if (clusters.nonCompliant > 0) {
      const names = compliance
        .filter((c) => c.state === 'nonCompliant')
        .slice(0, 5)
        .map((c) => `${c.cluster} (${c.violations.length})`);
      return {
        state: 'Failed',
        reason: reasons.policyBundle.NonCompliant,
        message: `${clusters.nonCompliant} of ${clusters.targeted} clusters violate the bundle: ${names.join(', ')}`,
      };
    }
    if (clusters.unknown > 0)
      return {
        state: 'Reconciling',
        reason: reasons.policyBundle.AwaitingAgents,
        message: `${clusters.unknown} of ${clusters.targeted} clusters have not reported yet`,
      };
    return { state: 'Ready', reason: reasons.policyBundle.Compliant, message: `all ${clusters.targeted} targeted clusters are compliant` };
  })();
  return {
    observedGeneration: generation,
    conditions: setReadiness(bundle.status?.conditions, outcome, { observedGeneration: generation, now }),
    revision,
    clusters,
    violationsByKind,
    worst,
  };
}

/** The Fleet's policies summary from its workspace's bundles. */
export function fleetPolicyCounts(bundles: readonly PolicyBundle[]): FleetPolicyCounts {
  const live = bundles.filter((b) => b.metadata.deletionTimestamp === undefined);
  return {
    total: live.length,
    compliant: live.filter((b) => findCondition(b.status?.conditions, conditionTypes.Ready)?.status === 'True').length,
    nonCompliant: live.filter((b) => (b.status?.clusters?.nonCompliant ?? 0) > 0).length,
  };
}

// ---------------------------------------------------------------------------------------------
// The controller

export interface PolicyBundleSources {
  bundles: InformerSource;
  fleets: InformerSource;
  members: InformerSource;
  groups: InformerSource;
  /** Every Work on the hub, indexed by cluster and by source: shared with the GlobalService controller. */
  works: InformerSource;
}

export function policyBundleSources(): PolicyBundleSources {
  return {
    bundles: { type: PolicyBundleType },
    fleets: { type: FleetType },
    members: { type: MemberClusterType },
    groups: { type: ClusterGroupType },
    works: { type: WorkType },
  };
}

export interface PolicyBundleOptions {
  /** How long a deleted bundle waits for spokes to confirm their cleanup (default 10 min). */
  cleanupTimeoutMs?: number;
}

/** How long deletion waits for spokes to confirm their cleanup before it lets go. */
const DEFAULT_CLEANUP_TIMEOUT_MS = 10 * 60_000;

export function policyBundleController(
  manager: Manager,
  sources: PolicyBundleSources,
  options: PolicyBundleOptions = {},
): ControllerSpec<PolicyBundleObject> {
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
  const fleets: Store<FleetObject> = manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store;
  const members: Store<MemberObject> = manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store;
  const groups: Store<GroupObject> = manager.informer<GroupObject>(sources.groups).store;
  const works: Store<WorkObject> = manager.informer<WorkObject>(sources.works, workIndexes).store;
  const bundles: Store<PolicyBundleObject> = manager.informer<PolicyBundleObject>(sources.bundles).store;
  const targeting = createClusterTargets();
  const bundlesIn = (namespace: string): string[] => bundles.list({ namespace }).map(objectKey);
  const bundleRef = (b: PolicyBundleObject): SourceRef => ({
    kind: 'PolicyBundle',
    namespace: b.metadata.namespace ?? '',
    name: b.metadata.name ?? '',
  });

  async function updateFleetSummary(ctx: ReconcileContext<PolicyBundleObject>, namespace: string): Promise<void> {
    const fleet = fleetOfWorkspace(fleets, namespace);
    if (!fleet) return;
    const policies = fleetPolicyCounts(bundles.list({ namespace }));
    await writeStatus(ctx.kube, fleet, (current) => ({ ...current.status, policies }), {
      signal: ctx.signal,
      fieldManager: hubFieldManager,
    });
  }

  const writeBundleStatus = (
    ctx: ReconcileContext<PolicyBundleObject>,
    bundle: PolicyBundleObject,
    input: Omit<BundleStatusInput, 'bundle'>,
  ) =>
    writeStatus(ctx.kube, bundle, (current) => policyBundleStatus({ ...input, bundle: current }), {
      signal: ctx.signal,
      fieldManager: hubFieldManager,
    });

  async function reconcile(request: Request, ctx: ReconcileContext<PolicyBundleObject>): Promise<ReconcileResult | undefined> {
    const bundle = ctx.store.get(request.key);
    const namespace = request.namespace ?? '';
    const ours = works.byIndex(WORK_SOURCE_INDEX, `PolicyBundle/${namespace}/${request.name}`);
    if (!bundle || bundle.metadata.deletionTimestamp !== undefined) {
      targeting.set(request.key, []);
      const result = bundle ? await cleanUp(ctx, bundle, ours) : undefined;
      await updateFleetSummary(ctx, namespace);
      return result;
    }
    await ensureFinalizer(ctx.kube, PolicyBundleType, bundle, ctx.signal);
    const fleet = fleetOfWorkspace(fleets, namespace);
    const rendered = renderPolicyBundle(bundle);
    if (!fleet) {
      targeting.set(request.key, []);
      await writeBundleStatus(ctx, bundle, {
        revision: rendered.revision,
        compliance: [],
        stalled: { reason: 'FleetNotFound', message: `no Fleet has ${namespace} as its workspace namespace` },
      });
      return undefined;
    }
    // Templates are judged by kind and RBAC here; the agent stamps them only where the fleet allows.
    const refused = refusals(
      [...rendered.manifests, ...(rendered.policy.namespaceTemplates ?? [])],
      admissionRules('PolicyBundle', fleet.spec?.restrictions),
    );
    if (refused.length > 0) {
      // Nothing of this revision ships: the clusters keep the Works of the last one that passed.
      await writeBundleStatus(ctx, bundle, {
        revision: rendered.revision,
        compliance: [],
        stalled: { reason: 'ManifestRefused', message: describeRefusals(refused) },
      });
      return undefined;
    }
    const fleetName = fleet.metadata.name ?? '';
    const clusters = fleetClusters(members.byIndex('fleet', fleetName), fleetName);
    const placement = resolvePlacement(bundle.spec.placement, clusters, resolveGroups(groups.list({ namespace }), clusters));
    targeting.set(request.key, placement.targets);
    const ref = bundleRef(bundle);
    const sets = byCluster(ours);
    const identities = new Map(rendered.manifests.map((m) => [identityKey(manifestIdentity(m)), manifestIdentity(m)]));
    const conflicts = new Map<string, HeldObject[]>();
    for (const cluster of placement.targets) {
      const found = claimConflicts(ref, [...identities.values()], clusterClaims(works.byIndex(WORK_CLUSTER_INDEX, cluster)));
      conflicts.set(
        cluster,
        found.flatMap((conflict) => {
          const identity = identities.get(conflict.object);
          return identity ? [{ identity, conflict }] : [];
        }),
      );
    }
    const name = sourceWorkName({ kind: 'PolicyBundle', name: bundle.metadata.name ?? '' });
    const changes = noChanges();
    for (const cluster of placement.updatable) {
      const held = new Set((conflicts.get(cluster) ?? []).map((c) => c.conflict.object));
      const manifests = rendered.manifests.filter((m) => !held.has(identityKey(manifestIdentity(m))));
      const result = workObjects({
        cluster,
        name,
        manifests,
        policy: rendered.policy,
        source: {
          kind: 'PolicyBundle',
          namespace,
          name: request.name,
          generation: bundle.metadata.generation ?? 1,
          revision: rendered.revision,
        },
        // Every option spelled out, defaults included, so the live Work compares equal and idle writes nothing.
        applyOptions: { driftPolicy: 'Correct', deletionPolicy: 'Delete', adoption: 'Always', force: false },
        labels: { [labels.fleet]: fleetName, ...managedBy },
      });
      if (!result.ok) {
        // The same content for every cluster: too large for one is too large for all, until the spec changes.
        await writeBundleStatus(ctx, bundle, {
          revision: rendered.revision,
          compliance: [],
          stalled: { reason: result.reason, message: `the bundle's Work for cluster ${cluster}: ${result.message}` },
        });
        throw new TerminalError(`the bundle's Work does not fit: ${result.message}`);
      }
      diffWorkSet(result.works, sets.get(cluster) ?? [], changes);
    }
    const targets = new Set(placement.targets);
    for (const [cluster, live] of sets) if (!targets.has(cluster)) changes.remove.push(...live);
    const outcome = await writeWorkChanges(ctx.kube, changes, { fieldManager: hubFieldManager, signal: ctx.signal });
    const writeFailure = describeWorkWriteFailures(outcome.failures);
    const missing = placement.missingGroups;
    const compliance = placement.targets.map((cluster) =>
      clusterCompliance(cluster, setHead(sets.get(cluster) ?? []), conflicts.get(cluster) ?? []),
    );
    const written = await writeBundleStatus(ctx, bundle, {
      revision: rendered.revision,
      compliance,
      ...(missing.length > 0
        ? {
            stalled: {
              reason: 'ClusterGroupNotFound',
              message: `spec.placement.clusterGroups names ClusterGroups that do not exist: ${missing.join(', ')}`,
            },
          }
        : {}),
      ...(writeFailure !== undefined ? { failed: { reason: 'WorkWriteFailed', message: writeFailure } } : {}),
    });
    if (written.written) {
      ctx.log.info('wrote policy bundle status', {
        targeted: placement.targets.length,
        nonCompliant: written.object.status?.clusters?.nonCompliant ?? 0,
      });
      await updateFleetSummary(ctx, namespace);
    }
    // The status says why; the failed writes are retried with backoff.
    if (outcome.failures[0]) throw outcome.failures[0].error;
    return undefined;
  }

  /** Drain then delete the bundle's Work sets (planDrain), then let the bundle go. */
  async function cleanUp(
    ctx: ReconcileContext<PolicyBundleObject>,
    bundle: PolicyBundleObject,
    ours: readonly WorkObject[],
  ): Promise<ReconcileResult | undefined> {
    if (!bundle.metadata.finalizers?.includes(finalizer)) return undefined;
    const deadline = Date.parse(bundle.metadata.deletionTimestamp ?? '') + cleanupTimeoutMs;
    const { changes, pending, abandoned } = planDrain({
      sets: byCluster(ours),
      memberGone: (cluster) => {
        const member = members.get(cluster);
        return !member || member.metadata.deletionTimestamp !== undefined;
      },
      expired: Date.now() >= deadline,
      since: timestamp(),
    });
    const outcome = await writeWorkChanges(ctx.kube, changes, { fieldManager: hubFieldManager, signal: ctx.signal });
    if (abandoned.length > 0)
      ctx.events.event(
        bundle,
        'Warning',
        'CleanupTimedOut',
        `gave up waiting for ${abandoned.length} clusters to remove the bundle's objects: ${abandoned.slice(0, 10).join(', ')}`,
      );
    if (outcome.failures[0]) throw outcome.failures[0].error;
    if (pending.length === 0) {
      await removeFinalizer(ctx.kube, PolicyBundleType, bundle, ctx.signal);
      return undefined;
    }
    return { requeueAfter: Math.max(1000, deadline - Date.now()) };
  }

  return {
    name: 'policybundle',
    for: sources.bundles,
    watches: [
      // Our Works map to their bundle; any source's changed claim re-queues the bundles targeting its cluster.
      { source: sources.works, map: claimWatch(works, 'PolicyBundle', targeting) },
      {
        source: sources.members,
        map: (m) => {
          const f = fleets.get((m as MemberObject).spec.fleet);
          return f ? bundlesIn(workspaceIndex(f)[0] ?? '') : [];
        },
      },
      { source: sources.groups, map: (g) => bundlesIn(g.metadata.namespace ?? '') },
      { source: sources.fleets, map: (f) => bundlesIn(workspaceIndex(f as FleetObject)[0] ?? '') },
    ],
    reconcile,
    workers: 2,
  };
}
