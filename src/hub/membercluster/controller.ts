// The MemberCluster reconciler. On create: a finalizer, then the agent's identity on the hub — its
// namespace flotilla-member-NAME, ServiceAccount, Role/RoleBinding there and a ClusterRole/Binding
// limited by resourceNames to its own MemberCluster (memberAccessObjects); the ServiceAccount is the
// join's own (named after the MemberCluster's uid), and any of a former join is deleted. While it lives: the hub's
// half of its status (Joined/Healthy/Ready from the heartbeat Lease the agent renews and the Works
// in its namespace, and those Works' counts by state). On delete:
// revocation — the ServiceAccounts go first, so their tokens stop working at once — then the rest,
// and the finalizer once the namespace (and every Work in it) is gone.
import {
  agentServiceAccount,
  conditionTypes,
  FleetType,
  heartbeatLease,
  managedBySelector,
  MemberClusterType,
  memberClusterConditionTypes,
  memberNamespace,
  WorkType,
  type Work,
} from '../../api/index.js';
import { ensureFinalizer, removeFinalizer } from '../finalizers.js';
import {
  changedBeyondStatus,
  findCondition,
  isNotFound,
  jsonEqual,
  LeaseType,
  objectKey,
  type Condition,
  type ControllerSpec,
  type InformerSource,
  type Kube,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type Request,
  type Store,
} from '../../runtime/index.js';
import { memberAccessObjects, staleAgentServiceAccounts } from './access.js';
import {
  heartbeatTimeoutMs,
  judgeMember,
  observeHeartbeat,
  renewalNeedsJudging,
  summarizeWorks,
  type HeartbeatObservation,
  type HubMemberStatus,
} from './heartbeat.js';
import { hubFieldManager, NamespaceType, needsApply, type FleetObject, type MemberObject } from '../objects.js';

/** Sources the reconciler reads from cache; the operator creates them once and shares them. */
export interface MemberSources {
  members: InformerSource;
  fleets: InformerSource;
  leases: InformerSource;
  /** Every Work, unfiltered: the same source (so the same informer) as the PolicyBundle controller's. */
  works: InformerSource;
  /** One per kind of access object, all selected by the managed-by label they carry. */
  access: InformerSource[];
}

const accessKinds = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
] as const;

export function memberSources(): MemberSources {
  return {
    members: { type: MemberClusterType },
    fleets: { type: FleetType },
    leases: { type: LeaseType, fieldSelector: `metadata.name=${heartbeatLease}` },
    works: { type: WorkType },
    access: accessKinds.map((type) => ({ type, labelSelector: managedBySelector })),
  };
}

/** The member a namespace like flotilla-member-NAME belongs to. */
export function memberOfNamespace(namespace: string | undefined): string[] {
  const prefix = memberNamespace('');
  return namespace?.startsWith(prefix) === true && namespace.length > prefix.length ? [namespace.slice(prefix.length)] : [];
}

/** The hub-owned part of a status as it is now, to compare with what the hub would write. */
function hubPart(member: MemberObject): HubMemberStatus {
  const status = member.status;
  return {
    observedGeneration: status?.observedGeneration ?? -1,
    ...(status?.lastHeartbeatTime !== undefined ? { lastHeartbeatTime: status.lastHeartbeatTime } : {}),
    conditions: ((status?.conditions ?? []) as Condition[]).filter((c) =>
      (memberClusterConditionTypes as readonly string[]).includes(c.type),
    ),
    ...(status?.works !== undefined ? { works: status.works } : {}),
  };
}

const ServiceAccountType = { apiVersion: 'v1', kind: 'ServiceAccount' } as const;

const ignoreMissing = (error: unknown): void => {
  if (!isNotFound(error)) throw error;
};

/** Deletes what revokes the agent; answers true once nothing is left and the finalizer may go. */
async function revoke(kube: Kube, member: MemberObject, serviceAccounts: Store, signal: AbortSignal): Promise<boolean> {
  const name = member.metadata.name ?? '';
  const namespace = memberNamespace(name);
  const uid = member.metadata.uid ?? '';
  // The ServiceAccounts first, this join's and any former one's: their tokens are refused as soon as they are gone.
  const accounts = [agentServiceAccount(uid), ...staleAgentServiceAccounts(serviceAccounts.list({ namespace }), uid)];
  for (const account of accounts) await kube.delete(ServiceAccountType, account, namespace, { signal }).catch(ignoreMissing);
  for (const object of memberAccessObjects({ cluster: name, fleet: member.spec.fleet, uid })) {
    // Namespaced objects go with their namespace; the namespace itself is deleted last, below.
    if (object.metadata.namespace !== undefined || object.kind === 'Namespace') continue;
    await kube.delete(object, object.metadata.name, undefined, { signal }).catch(ignoreMissing);
  }
  const live = await kube.getOrNull(NamespaceType, namespace, undefined, { signal });
  if (live === null) return true;
  // Deleting a namespace that is already terminating is refused (409); it is on its way.
  if (live.metadata.deletionTimestamp === undefined)
    await kube.delete(NamespaceType, namespace, undefined, { signal }).catch(ignoreMissing);
  return false;
}

export function accessSource(sources: MemberSources, kind: string): InformerSource {
  const source = sources.access.find((s) => s.type.kind === kind);
  if (!source) throw new Error(`the member sources have no ${kind} informer`);
  return source;
}

interface MemberDeps {
  fleets: Store<FleetObject>;
  leases: Store;
  works: Store<Work & KubeObject>;
  access: Store[];
  serviceAccounts: Store;
}

/** The member agent's identity and RBAC on the hub, as this join's uid wants them; a former join's account goes. */
async function ensureAccess(deps: MemberDeps, ctx: ReconcileContext<MemberObject>, member: MemberObject): Promise<void> {
  const { kube, signal, log } = ctx;
  const name = member.metadata.name ?? '';
  const uid = member.metadata.uid ?? '';
  // A former join's account (as left by a release before identities were per join) authenticates
  // until it is gone, even with nothing bound to it any more.
  for (const stale of staleAgentServiceAccounts(deps.serviceAccounts.list({ namespace: memberNamespace(name) }), uid)) {
    const deleted = await kube.delete(ServiceAccountType, stale, memberNamespace(name), { signal }).then(
      () => true,
      (error: unknown) => {
        ignoreMissing(error);
        return false;
      },
    );
    if (deleted) log.info("deleted a former join's ServiceAccount of the member agent", { cluster: name, serviceAccount: stale });
  }
  for (const object of memberAccessObjects({ cluster: name, fleet: member.spec.fleet, uid })) {
    const live = deps.access.map((store) => store.get(objectKey(object))).find((o) => o?.kind === object.kind);
    if (!needsApply(object, live)) continue;
    await kube.apply(object, { fieldManager: hubFieldManager, force: true, signal });
    log.info('applied an access object of the member agent', { cluster: name, object: `${object.kind}/${object.metadata.name}` });
  }
}

const renewTimeOf = (lease: KubeObject): string | undefined => (lease.spec as { renewTime?: string } | undefined)?.renewTime;

/** The member judged from the hub's own observation of its heartbeat Lease and its Works' health. */
function judgeHeartbeat(
  deps: MemberDeps,
  observations: Map<string, HeartbeatObservation>,
  member: MemberObject,
): ReturnType<typeof judgeMember> {
  const name = member.metadata.name ?? '';
  const lease = deps.leases.get(`${memberNamespace(name)}/${heartbeatLease}`);
  const renewTime = lease !== undefined ? renewTimeOf(lease) : undefined;
  const heartbeat = renewTime !== undefined ? observeHeartbeat(observations.get(name), renewTime, Date.now(), member) : undefined;
  if (heartbeat) observations.set(name, heartbeat);
  else observations.delete(name);
  return judgeMember({
    member,
    heartbeat,
    timeoutMs: heartbeatTimeoutMs(deps.fleets.get(member.spec.fleet)),
    now: Date.now(),
    works: summarizeWorks(deps.works.list({ namespace: memberNamespace(name) })),
  });
}

/** The hub's part of the status, by server-side apply, when it changed; a readiness flip is an Event. */
async function writeJudgement(
  ctx: ReconcileContext<MemberObject>,
  member: MemberObject,
  status: ReturnType<typeof judgeMember>['status'],
): Promise<void> {
  if (jsonEqual(hubPart(member), status)) return;
  const name = member.metadata.name ?? '';
  await ctx.kube.apply(
    { ...MemberClusterType, metadata: { name }, status },
    { fieldManager: hubFieldManager, force: true, subresource: 'status', signal: ctx.signal },
  );
  const before = findCondition(hubPart(member).conditions, conditionTypes.Ready);
  const after = findCondition(status.conditions, conditionTypes.Ready);
  if (after && before?.status !== after.status) {
    ctx.events.event(member, after.status === 'True' ? 'Normal' : 'Warning', after.reason, after.message);
    ctx.log.info('member cluster readiness changed', { cluster: name, ready: after.status, reason: after.reason });
  }
}

export function memberClusterController(manager: Manager, sources: MemberSources): ControllerSpec<MemberObject> {
  const deps: MemberDeps = {
    fleets: manager.informer<FleetObject>(sources.fleets).store,
    leases: manager.informer(sources.leases).store,
    works: manager.informer<Work & KubeObject>(sources.works).store,
    access: sources.access.map((source) => manager.informer(source).store),
    serviceAccounts: manager.informer(accessSource(sources, ServiceAccountType.kind)).store,
  };
  const members = manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] });
  // The hub's own observations of each member's Lease: in memory, like a leader elector's.
  const observations = new Map<string, HeartbeatObservation>();
  /**
   * Records a renewal by the hub's clock the moment the Lease watch delivers it (a visit may come
   * much later, or not at all) and answers whether it deserves a visit (renewalNeedsJudging).
   */
  const heard = (lease: KubeObject): boolean => {
    const [name] = memberOfNamespace(lease.metadata.namespace);
    const renewTime = renewTimeOf(lease);
    if (name === undefined || renewTime === undefined) return true;
    const member = members.store.get(name);
    const previous = observations.get(name);
    const now = Date.now();
    observations.set(name, observeHeartbeat(previous, renewTime, now, member));
    return renewalNeedsJudging(previous, now, heartbeatTimeoutMs(member && deps.fleets.get(member.spec.fleet)));
  };

  async function reconcile(request: Request, ctx: ReconcileContext<MemberObject>): Promise<{ requeueAfter?: number } | undefined> {
    const { kube, signal, log } = ctx;
    const member = ctx.store.get(request.key);
    if (!member) {
      observations.delete(request.name);
      return undefined;
    }
    const name = request.name;
    if (member.metadata.deletionTimestamp !== undefined) {
      if (!(await revoke(kube, member, deps.serviceAccounts, signal))) return { requeueAfter: 1000 };
      await removeFinalizer(kube, MemberClusterType, member, signal);
      observations.delete(name);
      log.info('revoked the member cluster: its identity, RBAC and namespace are gone', { cluster: name });
      return undefined;
    }
    await ensureFinalizer(kube, MemberClusterType, member, signal);
    await ensureAccess(deps, ctx, member);
    const judgement = judgeHeartbeat(deps, observations, member);
    await writeJudgement(ctx, member, judgement.status);
    // A little past the moment the heartbeat would go stale, so that one recheck is enough.
    return judgement.recheckAfterMs !== undefined ? { requeueAfter: judgement.recheckAfterMs + 250 } : undefined;
  }

  return {
    // No failureReason: a MemberCluster's status is shared by server-side apply between the hub and
    // the agent, and its Ready is judged afresh from the heartbeat on every visit; a failure is logged.
    name: 'membercluster',
    for: sources.members,
    owns: [{ type: NamespaceType, labelSelector: managedBySelector }],
    watches: [
      // A renewal only when it can change the judgement: a visit per renewal would be 167
      // reconciles/s at 10,000 clusters renewing every 60 s, each judging what it judged before.
      {
        source: sources.leases,
        map: (lease) => memberOfNamespace(lease.metadata.namespace),
        updateFilter: (_, lease) => heard(lease),
      },
      // A Work's status (Degraded, Available) changes how its cluster is judged and counted. A fan-out
      // changes each Work twice in quick succession (the hub's new spec, then the agent's report of
      // it), and the counts are usually back where they were: judged once at the end of a 1 s window,
      // the member's status is written once or not at all, instead of twice per service change.
      { source: sources.works, map: (work) => memberOfNamespace(work.metadata.namespace), coalesce: { minMs: 1000 } },
      // A fleet's heartbeat timeout changes how its members are judged.
      // Not its status: the hub writes that once a second while members change, and each write would
      // visit every member of the fleet.
      {
        source: sources.fleets,
        map: (fleet) => members.store.byIndex('fleet', fleet.metadata.name ?? '').map(objectKey),
        updateFilter: changedBeyondStatus,
      },
    ],
    reconcile,
    workers: 4,
  };
}
