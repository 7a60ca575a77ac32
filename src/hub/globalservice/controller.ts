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
import { capabilitiesChanged } from '../../work/capabilities.js';
import { manifestIdentity, type ManifestIdentity } from '../../work/identity.js';
import {
  changedBeyondStatus,
  adoptFieldManager,
  alreadyReported,
  findCondition,
  type Condition,
  objectKey,
  setReadiness,
  soonest,
  type ReadinessOutcome,
  timestamp,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type ReconcileResult,
  type Request,
  type Store,
  mapInSlices,
} from '../../runtime/index.js';
import { resolveGroups } from '../clustergroup/controller.js';
import {
  claimConflicts,
  claimWatch,
  clusterClaims,
  createClusterTargets,
  workIndexes,
  type ClusterTargets,
  WORK_CLUSTER_INDEX,
  WORK_SOURCE_INDEX,
  type WorkObject,
} from '../works/claims.js';
import { describeConflicts, type SourceRef } from '../works/conflicts.js';
import { ensureFinalizer, removeFinalizer } from '../finalizers.js';
import { fleetOfWorkspace, workspaceIndex } from '../fleet/controller.js';
import { hubFieldManager, type FleetObject, type GroupObject, type MemberObject } from '../objects.js';
import { fleetClusters, groupsByCluster, resolvePlacement, type PlacementCluster, type PlacementResult } from '../placement.js';
import { createLruCache, type LruCache } from '../../runtime/lru.js';
import type { OriginEngine } from '../origin/origin.js';
import { hasOrigin, originContent, type OriginSources } from './origin/content.js';
import { prepareService, renderEach, serviceRevision, type PreparedService, type RenderResult } from './render/render.js';
import { sourceManifests, type ConfigMapData } from './render/source.js';
import { planRollout, type RolloutPlan } from './rollout/plan.js';
import { effectiveRollout } from './rollout/settings.js';
import { readStableRecord, stableRecord, stableRecordName, stableRecordRevision, type StableContent } from './rollout/stable-record.js';
import {
  SERVICE_CONDITION_MESSAGE_LIMIT,
  fleetServiceCounts,
  summarizeStatus,
  type ClusterSummaryState,
  type StatusInput,
} from './rollout/status.js';
import { encodeRenders, planWorkWrites, type WorkWritesInput } from './rollout/work-writes.js';
import { workRolloutState } from './rollout/work-state.js';
import { byCluster, describeWorkWriteFailures, drainWorkSets, DRAIN_REVISION, setHead, writeWorkChanges } from '../works/writer.js';

export const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const SecretType = { apiVersion: 'v1', kind: 'Secret' } as const;

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
  /** Fetches and renders Git and Helm origins (src/hub/origin/). */
  origins?: OriginEngine;
  /** Renders kept (default 4096): distinct (content, overrides, variable values) combinations. */
  renderCacheSize?: number;
}

/** The ConfigMaps a service reads: its source's and its chart's values files (a change re-renders it). */
function configMapsOfService(service: ServiceObject): string[] {
  const { source } = service.spec;
  const names = [
    ...(source.configMapRefs ?? []).map((ref) => ref.name),
    ...(source.chart?.valuesFrom ?? []).flatMap((ref) => (ref.kind === 'ConfigMap' ? [ref.name] : [])),
  ];
  return names.map((name) => `${service.metadata.namespace ?? ''}/${name}`);
}

function sourceRef(service: ServiceObject): SourceRef {
  return { kind: 'GlobalService', namespace: service.metadata.namespace ?? '', name: service.metadata.name ?? '' };
}

/** The caches and per-process state every step of the reconcile reads. */
interface ServiceCaches {
  fleets: Store<FleetObject>;
  members: Store<MemberObject>;
  groups: Store<GroupObject>;
  configMaps: Store;
  works: Store<WorkObject>;
  services: Store<ServiceObject>;
  renders: LruCache<RenderResult>;
  /** Identities per rendered manifest list: renders are shared between clusters, and so are these. */
  identities: WeakMap<readonly Manifest[], readonly ManifestIdentity[]>;
  targeting: ClusterTargets;
  cleanupTimeoutMs: number;
  /** Git and Helm origins: without it the hub cannot fetch them and such services say so. */
  origins: OriginSources | undefined;
}

/** Where the service goes: its fleet's clusters, its groups and the placement's targets. */
interface ServiceScope {
  fleet: FleetObject;
  fleetName: string;
  clusterByName: ReadonlyMap<string, PlacementCluster>;
  resolvedGroups: ReadonlyMap<string, readonly string[]>;
  clusterGroups: ReadonlyMap<string, Set<string>>;
  placement: PlacementResult;
  targets: readonly PlacementCluster[];
}

export function globalServiceController(
  manager: Manager,
  sources: ServiceSources,
  options: ServiceOptions = {},
): ControllerSpec<ServiceObject> {
  const caches: ServiceCaches = {
    fleets: manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store,
    members: manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store,
    groups: manager.informer<GroupObject>(sources.groups).store,
    configMaps: manager.informer(sources.configMaps).store,
    works: manager.informer<WorkObject>(sources.works, workIndexes).store,
    services: manager.informer<ServiceObject>(sources.services, { [CONFIGMAP_INDEX]: configMapsOfService }).store,
    renders: createLruCache<RenderResult>(options.renderCacheSize ?? 4096),
    identities: new WeakMap(),
    targeting: createClusterTargets(),
    cleanupTimeoutMs: options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS,
    origins: options.origins ? { engine: options.origins, records: new Map() } : undefined,
  };
  const servicesOfWorkspace = (namespace: string | undefined): string[] =>
    namespace === undefined ? [] : caches.services.list({ namespace }).map(objectKey);
  const workspaceOfFleet = (name: string): string | undefined => {
    const fleet = caches.fleets.get(name);
    return fleet ? workspaceIndex(fleet)[0] : undefined;
  };
  return {
    name: 'globalservice',
    failureReason: reasons.common.ReconcileFailed,
    for: sources.services,
    watches: [
      // Our Works map to their service; any source's changed claim re-queues the services targeting its cluster.
      { source: sources.works, ...claimWatch('GlobalService', caches.targeting) },
      { source: sources.configMaps, map: (configMap) => caches.services.indexKeys(CONFIGMAP_INDEX, objectKey(configMap)) },
      { source: sources.groups, map: (group) => servicesOfWorkspace(group.metadata.namespace) },
      {
        source: sources.fleets,
        map: (fleet) => servicesOfWorkspace(workspaceIndex(fleet as FleetObject)[0]),
        updateFilter: changedBeyondStatus,
      },
      // A member's placement inputs (labels, spec, deletion) and its charts' capabilities; not the rest
      // of its status, which the hub writes on every heartbeat transition and Work count change.
      {
        source: sources.members,
        map: (member) => servicesOfWorkspace(workspaceOfFleet((member as MemberObject).spec.fleet)),
        updateFilter: (old, current) =>
          changedBeyondStatus(old, current) || capabilitiesChanged((old as MemberObject).status, (current as MemberObject).status),
      },
    ],
    reconcile: (request, ctx) => reconcileService(caches, request, ctx),
    workers: 4,
  };
}

async function reconcileService(
  caches: ServiceCaches,
  request: Request,
  ctx: ReconcileContext<ServiceObject>,
): Promise<ReconcileResult | undefined> {
  const service = ctx.store.get(request.key);
  const own = caches.works.byIndex(WORK_SOURCE_INDEX, `GlobalService/${request.key}`);
  if (!service || service.metadata.deletionTimestamp !== undefined) {
    caches.targeting.set(request.key, new Map());
    return service ? cleanUp(caches, service, own, ctx) : undefined;
  }
  await ensureFinalizer(ctx.kube, GlobalServiceType, service, ctx.signal);
  const fleet = fleetOfWorkspace(caches.fleets, service.metadata.namespace);
  if (!fleet) {
    caches.targeting.set(request.key, new Map());
    const message = `no Fleet has ${service.metadata.namespace ?? ''} as its workspace namespace`;
    await writeReadiness(ctx, service, { state: 'Stalled', reason: reasons.globalService.FleetNotFound, message });
    return undefined;
  }
  const scope = serviceScope(caches, service, fleet);
  const content = await serviceContent(caches, ctx, service, scope);
  const { revision, rendered } = content;
  caches.targeting.set(request.key, wantedObjects(caches, rendered));
  const refused = refusedManifests(rendered, fleet);
  const sets = byCluster(own);
  const states = await clusterStates(caches, sourceRef(service), scope, rendered, sets);
  const record = caches.configMaps.get(`${service.metadata.namespace ?? ''}/${stableRecordName(service.metadata.name ?? '')}`);
  const plan = planServiceRollout(service, scope, { revision, states, stableRevision: stableRecordRevision(record) });
  const stable = await stableFor(caches, scope, plan.join, record);
  await encodeRenders([rendered, stable.stable?.rendered]);
  const writes = await planWorkWrites({
    ...serviceWorkInput(service, scope, revision),
    states,
    plan,
    rendered,
    ...stable,
    live: sets,
    // A refused manifest stops the whole revision: the clusters keep the last one that passed.
    blocked: content.blocked || refused !== undefined,
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
  await writeServiceStatus(caches, ctx, service, scope, {
    generation: service.metadata.generation ?? 0,
    revision,
    plan,
    clusters: writes.states,
    ...content.status,
    ...(refused !== undefined ? { refused } : {}),
    ...(scope.placement.missingGroups.length > 0 ? { missingGroups: scope.placement.missingGroups } : {}),
    ...optional('writeFailure', describeWorkWriteFailures(outcome.failures)),
  });
  // The status says why; the failed writes are retried with backoff.
  if (outcome.failures[0]) throw alreadyReported(outcome.failures[0].error);
  if (content.recordable && plan.phase === 'Complete' && stableRecordRevision(record) !== revision && refused === undefined) {
    await recordStable(caches, ctx, service, { revision, manifests: content.recordable, overrides: service.spec.overrides ?? [] });
  }
  const requeueAfter = soonest(plan.requeueAfterMs !== undefined ? plan.requeueAfterMs + 100 : undefined, content.requeueAfterMs);
  return requeueAfter !== undefined ? { requeueAfter } : undefined;
}

/** The service's content for its targets, whatever its source, and what the status says of the source. */
interface ServiceContent {
  revision: string;
  rendered: Map<string, RenderResult>;
  /** Nothing may be written: the source cannot be read or fetched (every cluster keeps what it has). */
  blocked: boolean;
  /** The manifests to record as the stable revision once it completes. */
  recordable?: readonly Manifest[];
  status: Pick<StatusInput, 'sourceError' | 'sourceUnavailable' | 'source' | 'lastHandledRequest'>;
  requeueAfterMs?: number;
}

async function serviceContent(
  caches: ServiceCaches,
  ctx: ReconcileContext<ServiceObject>,
  service: ServiceObject,
  scope: ServiceScope,
): Promise<ServiceContent> {
  const lastRevision = service.status?.revision ?? DRAIN_REVISION;
  if (!hasOrigin(service.spec.source)) {
    const source = sourceManifests(service.spec.source, configMapData(caches, service));
    if (!source.ok) return { revision: lastRevision, rendered: new Map(), blocked: true, status: { sourceError: source.error } };
    const prepared = prepareService(source.manifests, service.spec.overrides);
    const rendered = await renderFor(caches, prepared, scope, scope.placement.targets);
    return { revision: serviceRevision(prepared), rendered, blocked: false, recordable: prepared.manifests, status: {} };
  }
  if (!caches.origins) {
    const message = 'this hub runs without the tools to fetch Git and Helm origins (flotilla hub --git, --helm, --kustomize)';
    return { revision: lastRevision, rendered: new Map(), blocked: true, status: { sourceUnavailable: message } };
  }
  const namespace = service.metadata.namespace ?? '';
  const origin = await originContent(
    caches.origins,
    {
      secret: async (name) => (await ctx.kube.getOrNull(SecretType, name, namespace, { signal: ctx.signal })) ?? undefined,
      configMap: (name) => caches.configMaps.get(`${namespace}/${name}`),
      member: (name) => caches.members.get(name),
      renders: caches.renders,
      signal: ctx.signal,
    },
    service,
  );
  const timing = origin.requeueAfterMs !== undefined ? { requeueAfterMs: origin.requeueAfterMs } : {};
  const handled = optional('lastHandledRequest', origin.lastHandledRequest);
  if (!origin.ok) {
    const why = origin.sourceError ? { sourceError: origin.sourceError } : { sourceUnavailable: origin.unavailable ?? 'not fetched yet' };
    return {
      revision: lastRevision,
      rendered: new Map(),
      blocked: true,
      status: { ...optional('source', origin.source), ...handled, ...why },
      ...timing,
    };
  }
  const clusters = scope.placement.targets.flatMap((name) => {
    const cluster = scope.clusterByName.get(name);
    return cluster ? [{ ...cluster, groups: scope.clusterGroups.get(name) ?? new Set<string>(), fleet: scope.fleetName }] : [];
  });
  const { rendered, source } = await origin.render(clusters);
  return {
    revision: origin.revision,
    rendered,
    blocked: false,
    ...optional('recordable', origin.recordable),
    status: { ...handled, source },
    ...timing,
  };
}

/** `{ [key]: value }`, or nothing when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function serviceScope(caches: ServiceCaches, service: ServiceObject, fleet: FleetObject): ServiceScope {
  const fleetName = fleet.metadata.name ?? '';
  const clusters = fleetClusters(caches.members.byIndex('fleet', fleetName), fleetName);
  const clusterByName = new Map(clusters.map((cluster) => [cluster.name, cluster]));
  const resolvedGroups = resolveGroups(caches.groups.list({ namespace: service.metadata.namespace ?? '' }), clusters);
  const placement = resolvePlacement(service.spec.placement, clusters, resolvedGroups);
  return {
    fleet,
    fleetName,
    clusterByName,
    resolvedGroups,
    clusterGroups: groupsByCluster(resolvedGroups),
    placement,
    targets: placement.targets.flatMap((name) => clusterByName.get(name) ?? []),
  };
}

function configMapData(caches: ServiceCaches, service: ServiceObject): ConfigMapData {
  return new Map(
    configMapsOfService(service).flatMap((key) => {
      const configMap = caches.configMaps.get(key);
      const data = configMap?.data as Record<string, string> | undefined;
      return configMap ? [[configMap.metadata.name ?? '', data ?? {}] as const] : [];
    }),
  );
}

/** The content rendered for each named cluster of the scope (cached: clusters with equal inputs share one render). */
function renderFor(
  caches: ServiceCaches,
  content: PreparedService,
  scope: ServiceScope,
  names: readonly string[],
): Promise<Map<string, RenderResult>> {
  const clusters = names.flatMap((name) => {
    const cluster = scope.clusterByName.get(name);
    return cluster ? [{ ...cluster, groups: scope.clusterGroups.get(name) ?? new Set<string>(), fleet: scope.fleetName }] : [];
  });
  return renderEach(caches.renders, content, clusters);
}

/** Each target's rollout state as its Work tells it, with its render error and its conflicts with other sources. */
function clusterStates(
  caches: ServiceCaches,
  ref: SourceRef,
  scope: ServiceScope,
  rendered: ReadonlyMap<string, RenderResult>,
  sets: ReadonlyMap<string, readonly WorkObject[]>,
): Promise<ClusterSummaryState[]> {
  return mapInSlices(scope.targets, (cluster): ClusterSummaryState => {
    const result = rendered.get(cluster.name);
    const found = result?.ok
      ? claimConflicts(ref, identitiesOf(caches, result.manifests), clusterClaims(caches.works.byIndex(WORK_CLUSTER_INDEX, cluster.name)))
      : [];
    return {
      name: cluster.name,
      labels: cluster.labels,
      paused: cluster.paused,
      ...workRolloutState(setHead(sets.get(cluster.name) ?? [])),
      ...(result && !result.ok ? { renderError: result.error } : {}),
      ...(found.length > 0 ? { conflict: describeConflicts(found) } : {}),
    };
  });
}

/** The objects the service wants on each cluster it renders for: what another source's changed claim there is checked against. */
function wantedObjects(caches: ServiceCaches, rendered: ReadonlyMap<string, RenderResult>): Map<string, readonly ManifestIdentity[]> {
  const wanted = new Map<string, readonly ManifestIdentity[]>();
  for (const [cluster, result] of rendered) if (result.ok) wanted.set(cluster, identitiesOf(caches, result.manifests));
  return wanted;
}

function identitiesOf(caches: ServiceCaches, manifests: readonly Manifest[]): readonly ManifestIdentity[] {
  let found = caches.identities.get(manifests);
  if (!found) caches.identities.set(manifests, (found = manifests.map((manifest) => manifestIdentity(manifest))));
  return found;
}

function planServiceRollout(
  service: ServiceObject,
  scope: ServiceScope,
  input: { revision: string; states: readonly ClusterSummaryState[]; stableRevision: string | undefined },
): RolloutPlan {
  const approvedStage = service.metadata.annotations?.[annotations.approvedStage];
  return planRollout({
    revision: input.revision,
    ...optional('stableRevision', input.stableRevision),
    rollout: effectiveRollout(service.spec.rollout, scope.fleet.spec?.rollout),
    clusters: input.states,
    groupMembers: scope.resolvedGroups,
    ...optional('approvedStage', approvedStage),
    previous: {
      ...optional('revision', service.status?.revision),
      ...optional('rollout', service.status?.rollout),
    },
    now: Date.now(),
  });
}

/** What every Work of the service carries, whatever the cluster. */
function serviceWorkInput(
  service: ServiceObject,
  scope: ServiceScope,
  revision: string,
): Pick<WorkWritesInput, 'service' | 'revision' | 'targets' | 'applyOptions' | 'labels'> {
  return {
    service: {
      namespace: service.metadata.namespace ?? '',
      name: service.metadata.name ?? '',
      generation: service.metadata.generation ?? 0,
    },
    revision,
    targets: new Set(scope.placement.targets),
    applyOptions: {
      driftPolicy: service.spec.driftPolicy ?? scope.fleet.spec?.driftPolicy ?? 'Correct',
      deletionPolicy: service.spec.deletionPolicy ?? 'Delete',
      adoption: service.spec.adoption ?? 'Never',
      force: false,
    },
    labels: { [labels.fleet]: scope.fleetName },
  };
}

/** Joining clusters get the last completed revision, rendered for them, if it still passes the fleet's restrictions. */
async function stableFor(
  caches: ServiceCaches,
  scope: ServiceScope,
  join: readonly string[],
  record: KubeObject | undefined,
): Promise<Pick<WorkWritesInput, 'stable'>> {
  const content = join.length > 0 ? readStableRecord(record) : undefined;
  if (!content) return {};
  const rendered = await renderFor(caches, prepareService(content.manifests, content.overrides), scope, join);
  return refusedManifests(rendered, scope.fleet) === undefined ? { stable: { revision: content.revision, rendered } } : {};
}

async function writeServiceStatus(
  caches: ServiceCaches,
  ctx: ReconcileContext<ServiceObject>,
  service: ServiceObject,
  scope: ServiceScope,
  input: Omit<StatusInput, 'previousConditions' | 'now'>,
): Promise<void> {
  const written = await writeStatus(
    ctx.kube,
    service,
    (current) => summarizeStatus({ ...input, ...optional('previousConditions', current.status?.conditions), now: new Date() }),
    { signal: ctx.signal },
  );
  if (!written.written) return;
  noteReadiness(ctx, service, written.object);
  const namespace = service.metadata.namespace ?? '';
  const counts = fleetServiceCounts(caches.services.list({ namespace }));
  await writeStatus(ctx.kube, scope.fleet, (current) => ({ ...current.status, services: counts }), {
    signal: ctx.signal,
    fieldManager: hubFieldManager,
  });
}

/** Records `content` as the service's last completed revision, unless the record's name is taken by someone else's ConfigMap. */
async function recordStable(
  caches: ServiceCaches,
  ctx: ReconcileContext<ServiceObject>,
  service: ServiceObject,
  content: StableContent,
): Promise<void> {
  const identity = {
    namespace: service.metadata.namespace ?? '',
    name: service.metadata.name ?? '',
    uid: service.metadata.uid ?? '',
    apiVersion: GlobalServiceType.apiVersion,
  };
  const existing = caches.configMaps.get(`${identity.namespace}/${stableRecordName(identity.name)}`);
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

async function cleanUp(
  caches: ServiceCaches,
  service: ServiceObject,
  own: readonly WorkObject[],
  ctx: ReconcileContext<ServiceObject>,
): Promise<ReconcileResult | undefined> {
  if (!service.metadata.finalizers?.includes(finalizer)) return undefined;
  const deadline = Date.parse(service.metadata.deletionTimestamp ?? '') + caches.cleanupTimeoutMs;
  const { outcome, pending, abandoned } = await drainWorkSets(ctx.kube, {
    own,
    member: (cluster) => caches.members.get(cluster),
    deadline,
    fieldManager: hubFieldManager,
    signal: ctx.signal,
  });
  if (outcome.failures[0]) {
    await writeReadiness(ctx, service, {
      state: 'Reconciling',
      reason: reasons.globalService.Deleting,
      message: describeWorkWriteFailures(outcome.failures) ?? '',
    });
    throw alreadyReported(outcome.failures[0].error);
  }
  if (abandoned.length > 0) {
    const message = `gave up waiting for ${abandoned.length} clusters to remove the service's objects: ${abandoned.slice(0, PENDING_SHOWN).join(', ')}`;
    ctx.log.warn('cleanup timed out; deleted the Works of clusters that did not confirm', { clusters: abandoned.length });
    ctx.events.event(service, 'Warning', 'CleanupTimedOut', message);
  }
  if (pending.length === 0) {
    await removeFinalizer(ctx.kube, GlobalServiceType, service, ctx.signal);
    const key = objectKey(service);
    caches.origins?.records.delete(key);
    await caches.origins?.engine.release(key);
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

/**
 * A readiness change is logged; one to True or False is also an Event on the service (`kubectl
 * describe`, `kubectl events`), as for MemberClusters: an origin that cannot be fetched or a halted
 * rollout is news to whoever watches the workspace. Unknown is a rollout under way, not news.
 */
function noteReadiness(ctx: ReconcileContext<ServiceObject>, before: ServiceObject, after: ServiceObject): void {
  const ready = (service: ServiceObject): Condition | undefined => findCondition(service.status?.conditions, conditionTypes.Ready);
  const now = ready(after);
  if (ready(before)?.status === now?.status) return;
  ctx.log.info('service readiness changed', { ready: now?.status, reason: now?.reason, revision: after.status?.revision });
  if (now && now.status !== 'Unknown') ctx.events.event(after, now.status === 'True' ? 'Normal' : 'Warning', now.reason, now.message);
}
