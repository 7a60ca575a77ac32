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
// Decisions are pure functions (render.ts, work-writes.ts, compliance.ts); this file only reads
// caches and makes the writes they call for.
import {
  ClusterGroupType,
  finalizer,
  FleetType,
  reasons,
  MemberClusterType,
  PolicyBundleType,
  WorkType,
  type PolicyBundle,
} from '../../api/index.js';
import { admissionRules, describeRefusals, refusals } from '../../work/admission.js';
import { identityKey, manifestIdentity, type ManifestIdentity } from '../../work/identity.js';
import {
  changedBeyondStatus,
  alreadyReported,
  objectKey,
  TerminalError,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type ReconcileResult,
  type Request,
  type StatusWriteResult,
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
  type ClusterTargets,
  type WorkObject,
} from '../works/claims.js';
import type { SourceRef } from '../works/conflicts.js';
import { fleetOfWorkspace, workspaceIndex } from '../fleet/controller.js';
import { resolveGroups } from '../clustergroup/controller.js';
import { hubFieldManager, type FleetObject, type GroupObject, type MemberObject } from '../objects.js';
import { fleetClusters, resolvePlacement } from '../placement.js';
import { ensureFinalizer, removeFinalizer } from '../finalizers.js';
import { byCluster, describeWorkWriteFailures, drainWorkSets, setHead, writeWorkChanges } from '../works/writer.js';
import { clusterCompliance, fleetPolicyCounts, policyBundleStatus, type BundleStatusInput, type HeldObject } from './compliance.js';
import { renderPolicyBundle } from './render.js';
import { planBundleWorkWrites } from './work-writes.js';

export type PolicyBundleObject = PolicyBundle & KubeObject;

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

/** The caches and per-process state every step of the reconcile reads. */
interface BundleCaches {
  fleets: Store<FleetObject>;
  members: Store<MemberObject>;
  groups: Store<GroupObject>;
  works: Store<WorkObject>;
  bundles: Store<PolicyBundleObject>;
  targeting: ClusterTargets;
  cleanupTimeoutMs: number;
}

export function policyBundleController(
  manager: Manager,
  sources: PolicyBundleSources,
  options: PolicyBundleOptions = {},
): ControllerSpec<PolicyBundleObject> {
  const caches: BundleCaches = {
    fleets: manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store,
    members: manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store,
    groups: manager.informer<GroupObject>(sources.groups).store,
    works: manager.informer<WorkObject>(sources.works, workIndexes).store,
    bundles: manager.informer<PolicyBundleObject>(sources.bundles).store,
    targeting: createClusterTargets(),
    cleanupTimeoutMs: options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS,
  };
  const bundlesIn = (namespace: string): string[] => caches.bundles.list({ namespace }).map(objectKey);
  const bundlesOfFleet = (name: string): string[] => {
    const fleet = caches.fleets.get(name);
    return fleet ? bundlesIn(workspaceIndex(fleet)[0] ?? '') : [];
  };
  return {
    name: 'policybundle',
    failureReason: reasons.common.ReconcileFailed,
    for: sources.bundles,
    watches: [
      // Our Works map to their bundle; any source's changed claim re-queues the bundles targeting its cluster.
      { source: sources.works, ...claimWatch('PolicyBundle', caches.targeting) },
      // Placement reads a member's labels, spec and deletion, never its status (written on every heartbeat transition).
      { source: sources.members, map: (m) => bundlesOfFleet((m as MemberObject).spec.fleet), updateFilter: changedBeyondStatus },
      { source: sources.groups, map: (g) => bundlesIn(g.metadata.namespace ?? '') },
      { source: sources.fleets, map: (f) => bundlesIn(workspaceIndex(f as FleetObject)[0] ?? ''), updateFilter: changedBeyondStatus },
    ],
    reconcile: (request, ctx) => reconcileBundle(caches, request, ctx),
    workers: 2,
  };
}

async function reconcileBundle(
  caches: BundleCaches,
  request: Request,
  ctx: ReconcileContext<PolicyBundleObject>,
): Promise<ReconcileResult | undefined> {
  const bundle = ctx.store.get(request.key);
  const namespace = request.namespace ?? '';
  const ours = caches.works.byIndex(WORK_SOURCE_INDEX, `PolicyBundle/${namespace}/${request.name}`);
  if (!bundle || bundle.metadata.deletionTimestamp !== undefined) {
    caches.targeting.set(request.key, new Map());
    const result = bundle ? await cleanUp(caches, ctx, bundle, ours) : undefined;
    await updateFleetSummary(caches, ctx, namespace);
    return result;
  }
  await ensureFinalizer(ctx.kube, PolicyBundleType, bundle, ctx.signal);
  const fleet = fleetOfWorkspace(caches.fleets, namespace);
  const rendered = renderPolicyBundle(bundle);
  const stalled = (reason: string, message: string) =>
    writeBundleStatus(ctx, bundle, { revision: rendered.revision, compliance: [], stalled: { reason, message } });
  if (!fleet) {
    caches.targeting.set(request.key, new Map());
    await stalled(reasons.policyBundle.FleetNotFound, `no Fleet has ${namespace} as its workspace namespace`);
    return undefined;
  }
  // Templates are judged by kind and RBAC here; the agent stamps them only where the fleet allows.
  const refused = refusals(
    [...rendered.manifests, ...(rendered.policy.namespaceTemplates ?? [])],
    admissionRules('PolicyBundle', fleet.spec?.restrictions),
  );
  if (refused.length > 0) {
    // Nothing of this revision ships: the clusters keep the Works of the last one that passed.
    await stalled(reasons.policyBundle.ManifestRefused, describeRefusals(refused));
    return undefined;
  }
  const fleetName = fleet.metadata.name ?? '';
  const clusters = fleetClusters(caches.members.byIndex('fleet', fleetName), fleetName);
  const placement = resolvePlacement(bundle.spec.placement, clusters, resolveGroups(caches.groups.list({ namespace }), clusters));
  const identities = rendered.manifests.map((manifest) => manifestIdentity(manifest));
  caches.targeting.set(request.key, new Map(placement.targets.map((cluster) => [cluster, identities])));
  const sets = byCluster(ours);
  const held = heldObjects(caches, bundleRef(bundle), identities, placement.targets);
  const writes = planBundleWorkWrites({
    bundle: { namespace, name: request.name, generation: bundle.metadata.generation ?? 1 },
    fleet: fleetName,
    rendered,
    updatable: placement.updatable,
    targets: new Set(placement.targets),
    held,
    live: sets,
  });
  if (!writes.ok) {
    await stalled(writes.reason, writes.message);
    throw new TerminalError(writes.message);
  }
  const outcome = await writeWorkChanges(ctx.kube, writes.changes, { fieldManager: hubFieldManager, signal: ctx.signal });
  const writeFailure = describeWorkWriteFailures(outcome.failures);
  const missing = placement.missingGroups;
  const written = await writeBundleStatus(ctx, bundle, {
    revision: rendered.revision,
    compliance: placement.targets.map((cluster) => clusterCompliance(cluster, setHead(sets.get(cluster) ?? []), held.get(cluster) ?? [])),
    ...(missing.length > 0
      ? {
          stalled: {
            reason: reasons.policyBundle.ClusterGroupNotFound,
            message: `spec.placement.clusterGroups names ClusterGroups that do not exist: ${missing.join(', ')}`,
          },
        }
      : {}),
    ...(writeFailure !== undefined ? { failed: { reason: reasons.policyBundle.WorkWriteFailed, message: writeFailure } } : {}),
  });
  if (written.written) {
    ctx.log.info('wrote policy bundle status', {
      targeted: placement.targets.length,
      nonCompliant: written.object.status?.clusters?.nonCompliant ?? 0,
    });
    await updateFleetSummary(caches, ctx, namespace);
  }
  // The status says why; the failed writes are retried with backoff.
  if (outcome.failures[0]) throw alreadyReported(outcome.failures[0].error);
  return undefined;
}

function bundleRef(bundle: PolicyBundleObject): SourceRef {
  return { kind: 'PolicyBundle', namespace: bundle.metadata.namespace ?? '', name: bundle.metadata.name ?? '' };
}

/** Per target cluster, the bundle's objects another source's Work already carries there. */
function heldObjects(
  caches: BundleCaches,
  ref: SourceRef,
  wanted: readonly ManifestIdentity[],
  targets: readonly string[],
): Map<string, HeldObject[]> {
  const identities = new Map(wanted.map((identity) => [identityKey(identity), identity]));
  const held = new Map<string, HeldObject[]>();
  for (const cluster of targets) {
    const found = claimConflicts(ref, [...identities.values()], clusterClaims(caches.works.byIndex(WORK_CLUSTER_INDEX, cluster)));
    held.set(
      cluster,
      found.flatMap((conflict) => {
        const identity = identities.get(conflict.object);
        return identity ? [{ identity, conflict }] : [];
      }),
    );
  }
  return held;
}

function writeBundleStatus(
  ctx: ReconcileContext<PolicyBundleObject>,
  bundle: PolicyBundleObject,
  input: Omit<BundleStatusInput, 'bundle'>,
): Promise<StatusWriteResult<PolicyBundleObject>> {
  return writeStatus(ctx.kube, bundle, (current) => policyBundleStatus({ ...input, bundle: current }), {
    signal: ctx.signal,
    fieldManager: hubFieldManager,
  });
}

async function updateFleetSummary(caches: BundleCaches, ctx: ReconcileContext<PolicyBundleObject>, namespace: string): Promise<void> {
  const fleet = fleetOfWorkspace(caches.fleets, namespace);
  if (!fleet) return;
  const policies = fleetPolicyCounts(caches.bundles.list({ namespace }));
  await writeStatus(ctx.kube, fleet, (current) => ({ ...current.status, policies }), {
    signal: ctx.signal,
    fieldManager: hubFieldManager,
  });
}

/** Drain then delete the bundle's Work sets (planDrain), then let the bundle go. */
async function cleanUp(
  caches: BundleCaches,
  ctx: ReconcileContext<PolicyBundleObject>,
  bundle: PolicyBundleObject,
  ours: readonly WorkObject[],
): Promise<ReconcileResult | undefined> {
  if (!bundle.metadata.finalizers?.includes(finalizer)) return undefined;
  const deadline = Date.parse(bundle.metadata.deletionTimestamp ?? '') + caches.cleanupTimeoutMs;
  const { outcome, pending, abandoned } = await drainWorkSets(ctx.kube, {
    own: ours,
    member: (cluster) => caches.members.get(cluster),
    deadline,
    fieldManager: hubFieldManager,
    signal: ctx.signal,
  });
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
