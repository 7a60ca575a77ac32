// The GlobalService reconciler: places a service on its fleet's clusters, renders it per cluster
// (cached), writes one Work set per (service, cluster) in flotilla-member-CLUSTER as the rollout
// plan allows, and summarises the rollout in status. Decisions live in pure functions —
// resolveGroups, resolvePlacement, renderCached, claimConflicts, planRollout, planWorkWrites,
// summarizeStatus — and this file only gathers their inputs from the caches and makes the writes
// they call for through the shared Work writer (works/writer.ts), each only when the live object
// differs. Whatever a write fails with reaches the status before the reconcile is retried.
//
// - Clusters that join mid-rollout get the last completed revision (planRollout's `join`), rendered
//   from the record of its source kept in the workspace (rollout/stable-record.ts).
//
// - Work sets are named sourceWorkName (gs-NAME) and labelled with their source; the rollout state
//   of a cluster is read back from its Work (spec.source.revision, the agent's appliedRevision and
//   conditions, and the revisionSinceAnnotation the hub sets with a new revision).
// - Conflicts: a service's rendered objects on a cluster are judged against every other source's
//   (GlobalServices and PolicyBundles alike) as their Works there carry them (claims.ts); the later
//   claimant of an object gets no Work change on that cluster and reports it, until the holder lets go.
// - Deletion (finalizer): each cluster's Work set is drained, then deleted (planDrain). The finalizer
//   goes when every cluster confirmed, its member is gone, or the cleanup timeout passed; until then
//   a Reconciling condition names the clusters pending.
import {
  annotations,
  conditionTypes,
  finalizer,
  legacyFieldManager,
  reasons,
  GlobalServiceType,
  labels,
  type GlobalService,
  type Manifest,
} from '../../api/index.js';
import { admissionRules, describeRefusals, refusals, type Refusal } from '../../work/admission.js';
import { manifestIdentity, type ManifestIdentity } from '../../work/identity.js';
import {
  adoptFieldManager,
  objectKey,
  setReadiness,
  type ReadinessOutcome,
  timestamp,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type KubeObject,
  type Logger,
  type Manager,
  type ReconcileContext,
  type ReconcileResult,
  type Request,
} from '../../runtime/index.js';
import { resolveGroups } from '../clustergroup/controller.js';
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
import { describeConflicts, type SourceRef } from '../works/conflicts.js';
import { ensureFinalizer, removeFinalizer } from '../finalizers.js';
import { fleetOfWorkspace, workspaceIndex } from '../fleet/controller.js';
import { hubFieldManager, type FleetObject, type GroupObject, type MemberObject } from '../objects.js';
import { fleetClusters, groupsByCluster, resolvePlacement } from '../placement.js';
import { createLruCache } from './render/cache.js';
import { prepareService, renderCached, serviceRevision, type PreparedService, type RenderResult } from './render/render.js';
import { sourceManifests, type ConfigMapData } from './render/source.js';
import { planRollout } from './rollout/plan.js';
import { effectiveRollout } from './rollout/settings.js';
import { readStableRecord, stableRecord, stableRecordName, stableRecordRevision, type StableContent } from './rollout/stable-record.js';
import { SERVICE_CONDITION_MESSAGE_LIMIT, fleetServiceCounts, summarizeStatus, type ClusterSummaryState } from './rollout/status.js';
import { planWorkWrites } from './rollout/work-writes.js';
import { workRolloutState } from './rollout/work-state.js';
import { byCluster, describeWorkWriteFailures, DRAIN_REVISION, planDrain, setHead, writeWorkChanges } from '../works/writer.js';

export const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

export type ServiceObject = GlobalService & KubeObject;

/** How long deletion waits for spokes to confirm their cleanup before it lets go. */
export const DEFAULT_CLEANUP_TIMEOUT_MS = 10 * 60_000;
/** Pending clusters named in the deletion condition. */
const PENDING_SHOWN = 10;
const CONFIGMAP_INDEX = 'configMap';

export interface ServiceSources {
  services: InformerSource;
  /** Every Work on the hub, indexed by cluster and by source: shared with the PolicyBundle controller. */
  works: InformerSource;
  configMaps: InformerSource;
  groups: InformerSource;
  fleets: InformerSource;
  members: InformerSource;
}

export interface ServiceOptions {
  cleanupTimeoutMs?: number;
  /** Renders kept (default 4096): distinct (content, overrides, variable values) combinations. */
  renderCacheSize?: number;
}

function configMapsOfService(service: ServiceObject): string[] {
  return (service.spec.source.configMapRefs ?? []).map((ref) => `${service.metadata.namespace ?? ''}/${ref.name}`);
}

function sourceRef(service: ServiceObject): SourceRef {
  return { kind: 'GlobalService', namespace: service.metadata.namespace ?? '', name: service.metadata.name ?? '' };
}

export function globalServiceController(
  manager: Manager,
  sources: ServiceSources,
  options: ServiceOptions = {},
): ControllerSpec<ServiceObject> {
  const fleets = manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store;
  const members = manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store;
  const groups = manager.informer<GroupObject>(sources.groups).store;
  const configMaps = manager.informer(sources.configMaps).store;
  const works = manager.informer<WorkObject>(sources.works, workIndexes).store;
  const services = manager.informer<ServiceObject>(sources.services, { [CONFIGMAP_INDEX]: configMapsOfService }).store;
  const cleanupTimeoutMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
  const renders = createLruCache<RenderResult>(options.renderCacheSize ?? 4096);
  // Identities per rendered manifest list: renders are shared between clusters, and so are these.
  const identities = new WeakMap<readonly Manifest[], readonly ManifestIdentity[]>();
  const targeting = createClusterTargets();

  const servicesOfWorkspace = (namespace: string | undefined): string[] =>
    namespace === undefined ? [] : services.list({ namespace }).map(objectKey);
  const identitiesOf = (manifests: readonly Manifest[]): readonly ManifestIdentity[] => {
    let found = identities.get(manifests);
    if (!found) identities.set(manifests, (found = manifests.map((manifest) => manifestIdentity(manifest))));
    return found;
  };

  async function reconcile(request: Request, ctx: ReconcileContext<ServiceObject>): Promise<ReconcileResult | undefined> {
    const service = ctx.store.get(request.key);
    const own = works.byIndex(WORK_SOURCE_INDEX, `GlobalService/${request.key}`);
    if (!service || service.metadata.deletionTimestamp !== undefined) {
      targeting.set(request.key, []);
      return service ? cleanUp(service, own, ctx) : undefined;
    }
    await ensureFinalizer(ctx.kube, GlobalServiceType, service, ctx.signal);
    const generation = service.metadata.generation ?? 0;
    const fleet = fleetOfWorkspace(fleets, service.metadata.namespace);
    if (!fleet) {
      targeting.set(request.key, []);
      const message = `no Fleet has ${service.metadata.namespace ?? ''} as its workspace namespace`;
      await writeReadiness(ctx, service, { state: 'Stalled', reason: reasons.globalService.FleetNotFound, message });
      return undefined;
    }
    const fleetName = fleet.metadata.name ?? '';
    const clusters = fleetClusters(members.byIndex('fleet', fleetName), fleetName);
    const clusterByName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
    const resolvedGroups = resolveGroups(groups.list({ namespace: request.namespace ?? '' }), clusters);
    const placement = resolvePlacement(service.spec.placement, clusters, resolvedGroups);
    const targets = placement.targets.flatMap((name) => clusterByName.get(name) ?? []);
    targeting.set(request.key, placement.targets);

    const configMapData: ConfigMapData = new Map(
      configMapsOfService(service).flatMap((key) => {
        const configMap = configMaps.get(key);
        const data = configMap?.data as Record<string, string> | undefined;
        return configMap ? [[configMap.metadata.name ?? '', data ?? {}] as const] : [];
      }),
    );
    const source = sourceManifests(service.spec.source, configMapData);
    const prepared = source.ok ? prepareService(source.manifests, service.spec.overrides) : undefined;
    const revision = prepared ? serviceRevision(prepared) : (service.status?.revision ?? DRAIN_REVISION);

    const clusterGroups = groupsByCluster(resolvedGroups);
    const renderAll = (content: PreparedService, names: readonly string[]): Map<string, RenderResult> =>
      new Map(
        names.flatMap((name) => {
          const cluster = clusterByName.get(name);
          return cluster
            ? [
                [
                  name,
                  renderCached(renders, content, { ...cluster, groups: clusterGroups.get(name) ?? new Set(), fleet: fleetName }).result,
                ] as const,
              ]
            : [];
        }),
      );
    const rendered = prepared ? renderAll(prepared, placement.targets) : new Map<string, RenderResult>();
    const refused = refusedManifests(rendered, fleet);
    const ref = sourceRef(service);
    const conflicts = new Map<string, string>();
    for (const [cluster, result] of rendered) {
      const found = result.ok
        ? claimConflicts(ref, identitiesOf(result.manifests), clusterClaims(works.byIndex(WORK_CLUSTER_INDEX, cluster)))
        : [];
      if (found.length > 0) conflicts.set(cluster, describeConflicts(found));
    }

    const sets = byCluster(own);
    const states = targets.map((cluster): ClusterSummaryState => {
      const result = rendered.get(cluster.name);
      const conflict = conflicts.get(cluster.name);
      return {
        name: cluster.name,
        labels: cluster.labels,
        paused: cluster.paused,
        ...workRolloutState(setHead(sets.get(cluster.name) ?? [])),
        ...(result && !result.ok ? { renderError: result.error } : {}),
        ...(conflict !== undefined ? { conflict } : {}),
      };
    });
    const approvedStage = service.metadata.annotations?.[annotations.approvedStage];
    const record = configMaps.get(`${ref.namespace}/${stableRecordName(ref.name)}`);
    const stableRevision = stableRecordRevision(record);
    const plan = planRollout({
      revision,
      ...(stableRevision !== undefined ? { stableRevision } : {}),
      rollout: effectiveRollout(service.spec.rollout, fleet.spec?.rollout),
      clusters: states,
      groupMembers: resolvedGroups,
      ...(approvedStage !== undefined ? { approvedStage } : {}),
      previous: {
        ...(service.status?.revision !== undefined ? { revision: service.status.revision } : {}),
        ...(service.status?.rollout ? { rollout: service.status.rollout } : {}),
      },
      now: Date.now(),
    });
    // Joining clusters get the last completed revision, rendered for them, if it still passes the fleet's restrictions.
    const stableContent = plan.join.length > 0 ? readStableRecord(record) : undefined;
    const stableRendered = stableContent && renderAll(prepareService(stableContent.manifests, stableContent.overrides), plan.join);
    const stable =
      stableContent && stableRendered && refusedManifests(stableRendered, fleet) === undefined
        ? { revision: stableContent.revision, rendered: stableRendered }
        : undefined;

    const writes = planWorkWrites({
      service: { namespace: ref.namespace, name: ref.name, generation },
      revision,
      states,
      plan,
      rendered,
      ...(stable ? { stable } : {}),
      live: sets,
      targets: new Set(placement.targets),
      applyOptions: {
        driftPolicy: service.spec.driftPolicy ?? fleet.spec?.driftPolicy ?? 'Correct',
        deletionPolicy: service.spec.deletionPolicy ?? 'Delete',
        adoption: service.spec.adoption ?? 'Never',
        force: false,
      },
      labels: { [labels.fleet]: fleetName },
      // A refused manifest stops the whole revision: the clusters keep the last one that passed.
      blocked: !prepared || refused !== undefined,
      now: new Date(),
    });
    const outcome = await writeWorkChanges(ctx.kube, writes.changes, { fieldManager: hubFieldManager, current: own, signal: ctx.signal });
    if (outcome.applied + outcome.deleted > 0) {
      ctx.log.info("wrote the service's Works", {
        revision,
        written: outcome.applied,
        deleted: outcome.deleted,
        joined: plan.join.length,
        phase: plan.phase,
      });
    }
    const writeFailure = describeWorkWriteFailures(outcome.failures);

    const summary = (current: ServiceObject): GlobalService['status'] =>
      summarizeStatus({
        generation,
        revision,
        plan,
        clusters: writes.states,
        ...(!source.ok ? { sourceError: source.error } : {}),
        ...(refused !== undefined ? { refused } : {}),
        ...(placement.missingGroups.length > 0 ? { missingGroups: placement.missingGroups } : {}),
        ...(writeFailure !== undefined ? { writeFailure } : {}),
        ...(current.status?.conditions ? { previousConditions: current.status.conditions } : {}),
        now: new Date(),
      });
    const written = await writeStatus(ctx.kube, service, summary, { signal: ctx.signal });
    if (written.written) {
      noteReadiness(ctx.log, service, written.object);
      await updateFleetSummary(ctx, fleet, ref.namespace);
    }
    // The status says why; the failed writes are retried with backoff.
    if (outcome.failures[0]) throw outcome.failures[0].error;
    if (prepared && plan.phase === 'Complete' && stableRevision !== revision && refused === undefined) {
      await recordStable(ctx, service, { revision, manifests: prepared.manifests, overrides: service.spec.overrides ?? [] });
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfter: plan.requeueAfterMs + 100 } : undefined;
  }

  /** Records `content` as the service's last completed revision, unless the record's name is taken by someone else's ConfigMap. */
  async function recordStable(ctx: ReconcileContext<ServiceObject>, service: ServiceObject, content: StableContent): Promise<void> {
    const identity = {
      namespace: service.metadata.namespace ?? '',
      name: service.metadata.name ?? '',
      uid: service.metadata.uid ?? '',
      apiVersion: GlobalServiceType.apiVersion,
    };
    const existing = configMaps.get(`${identity.namespace}/${stableRecordName(identity.name)}`);
    if (existing && !(existing.metadata.ownerReferences ?? []).some((owner) => owner.uid === identity.uid)) {
      ctx.log.warn("a ConfigMap not ours holds the stable-revision record's name; clusters joining mid-rollout get the new revision", {
        configMap: stableRecordName(identity.name),
      });
      return;
    }
    const record = stableRecord(identity, content);
    if (!record) {
      ctx.log.info('the completed revision is too large to record; clusters joining mid-rollout get the new revision', {
        revision: content.revision,
      });
      return;
    }
    if (existing) await adoptFieldManager(ctx.kube, existing, legacyFieldManager, hubFieldManager, ctx.signal);
    await ctx.kube.apply(record, { fieldManager: hubFieldManager, force: true, signal: ctx.signal });
    ctx.log.info('recorded the completed revision for clusters that join mid-rollout', { revision: content.revision });
  }

  async function updateFleetSummary(ctx: ReconcileContext<ServiceObject>, fleet: FleetObject, namespace: string): Promise<void> {
    const counts = fleetServiceCounts(services.list({ namespace }));
    await writeStatus(ctx.kube, fleet, (current) => ({ ...current.status, services: counts }), {
      signal: ctx.signal,
      fieldManager: hubFieldManager,
    });
  }

  async function cleanUp(
    service: ServiceObject,
    own: readonly WorkObject[],
    ctx: ReconcileContext<ServiceObject>,
  ): Promise<ReconcileResult | undefined> {
    if (!service.metadata.finalizers?.includes(finalizer)) return undefined;
    const deadline = Date.parse(service.metadata.deletionTimestamp ?? '') + cleanupTimeoutMs;
    const { changes, pending, abandoned } = planDrain({
      sets: byCluster(own),
      memberGone: (cluster) => {
        const member = members.get(cluster);
        return !member || member.metadata.deletionTimestamp !== undefined;
      },
      expired: Date.now() >= deadline,
      since: timestamp(),
    });
    const outcome = await writeWorkChanges(ctx.kube, changes, { fieldManager: hubFieldManager, current: own, signal: ctx.signal });
    if (outcome.failures[0]) {
      await writeReadiness(ctx, service, {
        state: 'Reconciling',
        reason: reasons.globalService.Deleting,
        message: describeWorkWriteFailures(outcome.failures) ?? '',
      });
      throw outcome.failures[0].error;
    }
    if (abandoned.length > 0) {
      const message = `gave up waiting for ${abandoned.length} clusters to remove the service's objects: ${abandoned.slice(0, PENDING_SHOWN).join(', ')}`;
      ctx.log.warn('cleanup timed out; deleted the Works of clusters that did not confirm', { clusters: abandoned.length });
      ctx.events.event(service, 'Warning', 'CleanupTimedOut', message);
    }
    if (pending.length === 0) {
      await removeFinalizer(ctx.kube, GlobalServiceType, service, ctx.signal);
      ctx.log.info('removed the service from every cluster', { works: own.length });
      return undefined;
    }
    const shown = pending.slice(0, PENDING_SHOWN).join(', ');
    const more = pending.length > PENDING_SHOWN ? ` and ${pending.length - PENDING_SHOWN} more` : '';
    await writeReadiness(ctx, service, {
      state: 'Reconciling',
      reason: reasons.globalService.Deleting,
      message: `deleting: waiting for ${pending.length} clusters to remove the service's objects: ${shown}${more}; gives up at ${timestamp(new Date(deadline))}`,
    });
    return { requeueAfter: Math.max(1000, deadline - Date.now()) };
  }

  /** Writes one readiness outcome (and the generation it judges) into the service's status. */
  async function writeReadiness(ctx: ReconcileContext<ServiceObject>, service: ServiceObject, outcome: ReadinessOutcome): Promise<void> {
    const generation = service.metadata.generation ?? 0;
    await writeStatus(
      ctx.kube,
      service,
      (current) => ({
        ...current.status,
        observedGeneration: generation,
        conditions: setReadiness(current.status?.conditions, outcome, {
          observedGeneration: generation,
          messageLimit: SERVICE_CONDITION_MESSAGE_LIMIT,
        }),
      }),
      { signal: ctx.signal },
    );
  }

  return {
    name: 'globalservice',
    for: sources.services,
    watches: [
      // Our Works map to their service; any source's changed claim re-queues the services targeting its cluster.
      { source: sources.works, map: claimWatch(works, 'GlobalService', targeting) },
      { source: sources.configMaps, map: (configMap) => services.indexKeys(CONFIGMAP_INDEX, objectKey(configMap)) },
      { source: sources.groups, map: (group) => servicesOfWorkspace(group.metadata.namespace) },
      { source: sources.fleets, map: (fleet) => servicesOfWorkspace(workspaceIndex(fleet as FleetObject)[0]) },
      { source: sources.members, map: (member) => servicesOfWorkspace(workspaceOfFleet((member as MemberObject).spec.fleet)) },
    ],
    reconcile,
    workers: 4,
  };

  function workspaceOfFleet(name: string): string | undefined {
    const fleet = fleets.get(name);
    return fleet ? workspaceIndex(fleet)[0] : undefined;
  }
}

/**
 * Why the service may not ship under its fleet's restrictions (the first cluster whose render has a
 * refused manifest, those manifests named), or undefined. Renders are shared between clusters, and
 * so are their verdicts.
 */
function refusedManifests(rendered: ReadonlyMap<string, RenderResult>, fleet: FleetObject): string | undefined {
  const rules = admissionRules('GlobalService', fleet.spec?.restrictions);
  const judged = new Map<readonly Manifest[], Refusal[]>();
  for (const [cluster, result] of rendered) {
    if (!result.ok) continue;
    let found = judged.get(result.manifests);
    if (!found) judged.set(result.manifests, (found = refusals(result.manifests, rules)));
    if (found.length > 0) return `cluster ${cluster}: ${describeRefusals(found)}`;
  }
  return undefined;
}

function noteReadiness(log: Logger, before: ServiceObject, after: ServiceObject): void {
  const ready = (service: ServiceObject): string | undefined =>
    service.status?.conditions?.find((condition) => condition.type === conditionTypes.Ready)?.status;
  if (ready(before) !== ready(after)) log.info('service readiness changed', { ready: ready(after), revision: after.status?.revision });
}
