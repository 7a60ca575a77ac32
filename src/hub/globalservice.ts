// The GlobalService reconciler: places a service on its fleet's clusters, renders it per cluster
// (cached), writes one Work set per (service, cluster) in flotilla-member-CLUSTER as the rollout
// plan allows, and summarises the rollout in status. Decisions live in pure functions —
// resolvePlacement, renderCached, findConflicts, planRollout, summarizeStatus — and this file only
// gathers their inputs from the caches and makes the writes they call for, each only when the live
// object differs.
//
// - Work sets are named sourceWorkName (gs-NAME) and labelled with their source; the rollout state
//   of a cluster is read back from its Work (spec.source.revision, the agent's appliedRevision and
//   conditions, and the revisionSinceAnnotation the hub sets with a new revision).
// - Conflicts: a service's rendered objects on a cluster are judged against every other source's
//   (GlobalServices and PolicyBundles alike) as their Works there carry them (claims.ts); the later
//   claimant of an object gets no Work change on that cluster and reports it, until the holder lets go.
// - Deletion (finalizer): each cluster's Work set is first drained — rewritten to carry no manifests
//   at DRAIN_REVISION, so the agent prunes (or, per the Work's deletionPolicy, orphans) everything
//   and confirms by reporting appliedRevision DRAIN_REVISION through the Work status it already may
//   write — then deleted. The finalizer goes when every cluster confirmed, its member is gone, or
//   the cleanup timeout passed; until then a Reconciling condition names the clusters pending.
import { annotations, fieldManager, finalizer, GlobalServiceType, labels, WorkType, type GlobalService, type Manifest, type Work } from '../api/index.js';
import { admissionRules, describeRefusals, refusals, type Refusal } from '../work/admission.js';
import { manifestIdentity, type ManifestIdentity } from '../work/identity.js';
import {
  isNotFound, jsonEqual, objectKey, setReadiness, timestamp, writeStatus, type ControllerSpec, type InformerSource, type Kube,
  type KubeObject, type Logger, type Manager, type ReconcileContext, type ReconcileResult, type Request,
} from '../runtime/index.js';
import { groupMembers } from './clustergroup.js';
import { claimConflicts, claimWatch, clusterClaims, createClusterTargets, workIndexes, WORK_CLUSTER_INDEX, WORK_SOURCE_INDEX, type WorkObject } from './claims.js';
import { describeConflicts, type SourceRef } from './conflicts.js';
import { ensureFinalizer, removeFinalizer } from './finalizers.js';
import { fleetOfWorkspace, workspaceIndex } from './fleet.js';
import type { FleetObject, GroupObject, MemberObject } from './objects.js';
import { fleetClusters, groupsByCluster, resolvePlacement } from './placement.js';
import { createLruCache } from './render/cache.js';
import type { RenderError } from './render/errors.js';
import { prepareService, renderCached, serviceRevision, type RenderResult } from './render/render.js';
import { sourceManifests, type ConfigMapData } from './render/source.js';
import { planRollout } from './rollout/plan.js';
import { effectiveRollout } from './rollout/settings.js';
import { summarizeStatus, type ClusterSummaryState } from './rollout/status.js';
import { workRolloutState } from './rollout/work-state.js';
import { revisionSinceAnnotation, workObjects } from '../work/objects.js';
import { sourceWorkName } from '../work/naming.js';

export const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;

export type ServiceObject = GlobalService & KubeObject;

/** The revision of a drained Work set: no manifests, so the agent removes what the set applied. */
export const DRAIN_REVISION = 'removed';
/** How long deletion waits for spokes to confirm their cleanup before it lets go. */
export const DEFAULT_CLEANUP_TIMEOUT_MS = 10 * 60_000;
/** Work writes in flight at once, per reconcile. */
const WRITE_CONCURRENCY = 16;
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

/** Part 0 of a Work set (the Work named like the set), whose source and status speak for it. */
function setHead(works: readonly WorkObject[]): WorkObject | undefined {
  return works.find((work) => work.metadata.name === work.metadata.labels?.[labels.work]) ?? works[0];
}

function byCluster(works: readonly WorkObject[]): Map<string, WorkObject[]> {
  const sets = new Map<string, WorkObject[]>();
  for (const work of works) {
    const cluster = work.metadata.labels?.[labels.cluster] ?? '';
    sets.set(cluster, [...(sets.get(cluster) ?? []), work]);
  }
  return sets;
}

function sourceRef(service: ServiceObject): SourceRef {
  return { kind: 'GlobalService', namespace: service.metadata.namespace ?? '', name: service.metadata.name ?? '' };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure once all settled. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item).catch((error: unknown) => { failures.push(error); });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failures.length > 0) throw failures[0];
}

interface WorkChanges {
  apply: Work[];
  remove: WorkObject[];
}

async function writeWorks(kube: Kube, changes: WorkChanges, signal: AbortSignal): Promise<void> {
  await forEachLimit(changes.apply, WRITE_CONCURRENCY, (work) => kube.apply(work as KubeObject & Work, { fieldManager, force: true, signal }));
  await forEachLimit(changes.remove, WRITE_CONCURRENCY, (work) => kube.delete(WorkType, work.metadata.name ?? '', work.metadata.namespace, { signal })
    .catch((error: unknown) => { if (!isNotFound(error)) throw error; }));
}

/** The changes that make a cluster's live Work set equal `desired`: writes of what differs, deletes of parts no longer wanted. */
function diffSet(desired: readonly Work[], live: readonly WorkObject[], into: WorkChanges): void {
  const liveByName = new Map(live.map((work) => [work.metadata.name ?? '', work]));
  for (const work of desired) {
    const current = liveByName.get(work.metadata.name ?? '');
    if (!current || workDiffers(work, current)) into.apply.push(work);
  }
  const wanted = new Set(desired.map((work) => work.metadata.name));
  into.remove.push(...live.filter((work) => !wanted.has(work.metadata.name)));
}

/** Whether a live Work lacks something of the desired one (spec, labels, annotations); apiserver-added fields do not count. */
export function workDiffers(desired: Work, live: Work): boolean {
  const missing = (want: Record<string, string> | undefined, have: Record<string, string> | undefined): boolean =>
    Object.entries(want ?? {}).some(([key, value]) => have?.[key] !== value);
  return !jsonEqual(desired.spec, live.spec)
    || missing(desired.metadata.labels, live.metadata.labels)
    || missing(desired.metadata.annotations, live.metadata.annotations);
}

export function globalServiceController(manager: Manager, sources: ServiceSources, options: ServiceOptions = {}): ControllerSpec<ServiceObject> {
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
      await writeStatus(ctx.kube, service, (current) => ({
        ...current.status, observedGeneration: generation,
        conditions: setReadiness(current.status?.conditions, { state: 'Stalled', reason: 'FleetNotFound', message, observedGeneration: generation }),
      }), { signal: ctx.signal });
      return undefined;
    }
    const fleetName = fleet.metadata.name ?? '';
    const clusters = fleetClusters(members.byIndex('fleet', fleetName), fleetName);
    const clusterByName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
    const resolvedGroups = new Map(groups.list({ namespace: request.namespace ?? '' })
      .filter((group) => group.metadata.deletionTimestamp === undefined)
      .map((group) => [group.metadata.name ?? '', groupMembers(group, clusters)] as const));
    const placement = resolvePlacement(service.spec.placement, clusters, resolvedGroups);
    const targets = placement.targets.flatMap((name) => clusterByName.get(name) ?? []);
    targeting.set(request.key, placement.targets);

    const configMapData: ConfigMapData = new Map(configMapsOfService(service).flatMap((key) => {
      const configMap = configMaps.get(key);
      const data = configMap?.data as Record<string, string> | undefined;
      return configMap ? [[configMap.metadata.name ?? '', data ?? {}] as const] : [];
    }));
    const source = sourceManifests(service.spec.source, configMapData);
    const prepared = source.ok ? prepareService(source.manifests, service.spec.overrides) : undefined;
    const revision = prepared ? serviceRevision(prepared) : service.status?.revision ?? DRAIN_REVISION;

    const clusterGroups = groupsByCluster(resolvedGroups);
    const rendered = new Map<string, RenderResult>();
    if (prepared) {
      for (const cluster of targets) {
        rendered.set(cluster.name, renderCached(renders, prepared, { ...cluster, groups: clusterGroups.get(cluster.name) ?? new Set(), fleet: fleetName }).result);
      }
    }
    const refused = refusedManifests(rendered, fleet);
    const ref = sourceRef(service);
    const conflicts = new Map<string, string>();
    for (const [cluster, result] of rendered) {
      const found = result.ok ? claimConflicts(ref, identitiesOf(result.manifests), clusterClaims(works.byIndex(WORK_CLUSTER_INDEX, cluster))) : [];
      if (found.length > 0) conflicts.set(cluster, describeConflicts(found));
    }

    const sets = byCluster(own);
    const states = targets.map((cluster): ClusterSummaryState => {
      const result = rendered.get(cluster.name);
      const conflict = conflicts.get(cluster.name);
      return {
        name: cluster.name, labels: cluster.labels, paused: cluster.paused,
        ...workRolloutState(setHead(sets.get(cluster.name) ?? [])),
        ...(result && !result.ok ? { renderError: result.error } : {}),
        ...(conflict !== undefined ? { conflict } : {}),
      };
    });
    const approvedStage = service.metadata.annotations?.[annotations.approvedStage];
    const plan = planRollout({
      revision,
      rollout: effectiveRollout(service.spec.rollout, fleet.spec?.rollout),
      clusters: states,
      groupMembers: resolvedGroups,
      ...(approvedStage !== undefined ? { approvedStage } : {}),
      previous: { ...(service.status?.revision !== undefined ? { revision: service.status.revision } : {}), ...(service.status?.rollout ? { rollout: service.status.rollout } : {}) },
      now: Date.now(),
    });

    const changes: WorkChanges = { apply: [], remove: [] };
    // A refused manifest stops the whole revision: the clusters keep the last one that passed.
    if (prepared && refused === undefined) {
      const update = new Set(plan.update);
      const since = timestamp();
      for (const state of states) {
        const result = rendered.get(state.name);
        const atRevision = state.revision === revision;
        // Clusters at the revision keep their content current (a label change re-renders them); others wait for the plan.
        if (!result?.ok || state.conflict !== undefined || state.paused || (!atRevision && !update.has(state.name))) continue;
        const live = sets.get(state.name) ?? [];
        const head = setHead(live);
        const desired = workObjects({
          cluster: state.name,
          name: sourceWorkName(ref),
          source: { kind: 'GlobalService', namespace: ref.namespace, name: ref.name, generation: atRevision && head ? head.spec.source.generation : generation, revision },
          manifests: result.manifests,
          applyOptions: {
            driftPolicy: service.spec.driftPolicy ?? fleet.spec?.driftPolicy ?? 'Correct',
            deletionPolicy: service.spec.deletionPolicy ?? 'Delete',
            adoption: service.spec.adoption ?? 'Never',
            force: false,
          },
          labels: { [labels.fleet]: fleetName },
          annotations: { [revisionSinceAnnotation]: (atRevision ? head?.metadata.annotations?.[revisionSinceAnnotation] : undefined) ?? since },
        });
        if (!desired.ok) {
          state.renderError = { reason: desired.reason, message: desired.message } satisfies RenderError;
          continue;
        }
        diffSet(desired.works, live, changes);
        if (!atRevision) Object.assign(state, { revision, available: false, degraded: false, problem: undefined, revisionSince: Date.parse(since) });
      }
      const targeted = new Set(placement.targets);
      for (const [cluster, live] of sets) if (!targeted.has(cluster)) changes.remove.push(...live);
    }
    await writeWorks(ctx.kube, changes, ctx.signal);
    if (changes.apply.length + changes.remove.length > 0) {
      ctx.log.info('wrote the service\'s Works', { revision, written: changes.apply.length, deleted: changes.remove.length, phase: plan.phase });
    }

    const summary = (current: ServiceObject): GlobalService['status'] => summarizeStatus({
      generation, revision, plan, clusters: states,
      ...(!source.ok ? { sourceError: source.error } : {}),
      ...(refused !== undefined ? { refused } : {}),
      ...(current.status?.conditions ? { previousConditions: current.status.conditions } : {}),
      now: new Date(),
    });
    const written = await writeStatus(ctx.kube, service, summary, { signal: ctx.signal });
    if (written.written) noteReadiness(ctx.log, service, written.object);
    return plan.requeueAfterMs !== undefined ? { requeueAfter: plan.requeueAfterMs + 100 } : undefined;
  }

  async function cleanUp(service: ServiceObject, own: readonly WorkObject[], ctx: ReconcileContext<ServiceObject>): Promise<ReconcileResult | undefined> {
    if (!service.metadata.finalizers?.includes(finalizer)) return undefined;
    const deadline = Date.parse(service.metadata.deletionTimestamp ?? '') + cleanupTimeoutMs;
    const expired = Date.now() >= deadline;
    const changes: WorkChanges = { apply: [], remove: [] };
    const pending: string[] = [];
    const abandoned: string[] = [];
    const since = timestamp();
    for (const [cluster, live] of byCluster(own)) {
      const head = setHead(live);
      if (!head) continue;
      const member = members.get(cluster);
      const memberGone = !member || member.metadata.deletionTimestamp !== undefined;
      const drained = head.spec.source.revision === DRAIN_REVISION && head.status?.appliedRevision === DRAIN_REVISION;
      if (drained || memberGone || expired) {
        changes.remove.push(...live);
        if (!drained && !memberGone) abandoned.push(cluster);
        continue;
      }
      pending.push(cluster);
      if (head.spec.source.revision === DRAIN_REVISION) continue;
      const fleet = head.metadata.labels?.[labels.fleet];
      const drain = workObjects({
        cluster, name: head.metadata.labels?.[labels.work] ?? head.metadata.name ?? '',
        source: { ...head.spec.source, revision: DRAIN_REVISION },
        manifests: [],
        ...(head.spec.applyOptions ? { applyOptions: head.spec.applyOptions } : {}),
        ...(fleet !== undefined ? { labels: { [labels.fleet]: fleet } } : {}),
        annotations: { [revisionSinceAnnotation]: since },
      });
      if (drain.ok) diffSet(drain.works, live, changes);
    }
    await writeWorks(ctx.kube, changes, ctx.signal);
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
    const shown = pending.sort().slice(0, PENDING_SHOWN).join(', ');
    const more = pending.length > PENDING_SHOWN ? ` and ${pending.length - PENDING_SHOWN} more` : '';
    const message = `deleting: waiting for ${pending.length} clusters to remove the service's objects: ${shown}${more}; gives up at ${timestamp(new Date(deadline))}`;
    const generation = service.metadata.generation ?? 0;
    await writeStatus(ctx.kube, service, (current) => ({
      ...current.status, observedGeneration: generation,
      conditions: setReadiness(current.status?.conditions, { state: 'Reconciling', reason: 'Deleting', message, observedGeneration: generation }),
    }), { signal: ctx.signal });
    return { requeueAfter: Math.max(1000, deadline - Date.now()) };
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
    (service.status?.conditions)?.find((condition) => condition.type === 'Ready')?.status;
  if (ready(before) !== ready(after)) log.info('service readiness changed', { ready: ready(after), revision: after.status?.revision });
}
