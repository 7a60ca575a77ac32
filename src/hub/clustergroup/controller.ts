// The ClusterGroup reconciler: resolves a group's members among its fleet's clusters (the fleet
// whose workspace namespace holds the group) and keeps them current as clusters join, leave or
// change labels — a MemberCluster event maps to every group of its fleet. Status: the count and
// the first 100 names.
import {
  changedBeyondStatus,
  objectKey,
  setReadiness,
  writeStatus,
  type ControllerSpec,
  type InformerSource,
  type KubeObject,
  type Manager,
  type ReconcileContext,
  type Request,
} from '../../runtime/index.js';
import { reasons, type ClusterGroupStatus } from '../../api/index.js';
import { fleetOfWorkspace, workspaceIndex } from '../fleet/controller.js';
import type { FleetObject, GroupObject, MemberObject } from '../objects.js';
import { selectClusters, type SelectableCluster } from '../selection.js';

export const MAX_GROUP_CLUSTERS = 100;

export interface GroupSources {
  groups: InformerSource;
  fleets: InformerSource;
  members: InformerSource;
}

/** The names of the clusters (of the group's fleet) a group selects, sorted. */
export function groupMembers(group: GroupObject, clusters: readonly SelectableCluster[]): string[] {
  return selectClusters(clusters, {
    selector: group.spec.clusterSelector ?? null,
    names: group.spec.clusterNames ?? [],
    exclude: group.spec.excludeClusterNames ?? [],
  });
}

/**
 * The one resolver of ClusterGroups for placement (GlobalServices and PolicyBundles alike): each
 * group's members among `clusters`, by the group's own spec. A group being deleted is left out, so
 * a placement naming it reports it missing rather than placing on a group that is going away.
 */
export function resolveGroups(groups: readonly GroupObject[], clusters: readonly SelectableCluster[]): Map<string, string[]> {
  return new Map(
    groups
      .filter((group) => group.metadata.deletionTimestamp === undefined)
      .map((group) => [group.metadata.name ?? '', groupMembers(group, clusters)] as const),
  );
}

/** A group's status from its fleet's clusters (undefined fleet: the workspace belongs to no fleet). */
export function groupStatus(
  group: GroupObject,
  fleet: FleetObject | undefined,
  clusters: readonly SelectableCluster[],
  now: Date = new Date(),
): ClusterGroupStatus {
  const generation = group.metadata.generation ?? 0;
  const matched = fleet ? groupMembers(group, clusters) : [];
  const outcome = fleet
    ? {
        state: 'Ready' as const,
        reason: reasons.clusterGroup.Resolved,
        message: `${matched.length} member clusters of fleet ${fleet.metadata.name ?? ''} are in the group`,
      }
    : {
        state: 'Stalled' as const,
        reason: reasons.clusterGroup.FleetNotFound,
        message: `no Fleet has ${group.metadata.namespace ?? ''} as its workspace namespace`,
      };
  return {
    observedGeneration: generation,
    conditions: setReadiness(group.status?.conditions, outcome, { observedGeneration: generation, now }),
    matchedCount: matched.length,
    clusters: matched.slice(0, MAX_GROUP_CLUSTERS),
  };
}

/** Clusters a group may select: the fleet's members that are not on their way out. */
function selectable(members: readonly MemberObject[]): SelectableCluster[] {
  return members
    .filter((m) => m.metadata.deletionTimestamp === undefined)
    .map((m) => ({ name: m.metadata.name ?? '', labels: m.metadata.labels ?? {} }));
}

export function clusterGroupController(manager: Manager, sources: GroupSources): ControllerSpec<GroupObject> {
  const fleets = manager.informer<FleetObject>(sources.fleets, { workspace: workspaceIndex }).store;
  const members = manager.informer<MemberObject>(sources.members, { fleet: (m) => [m.spec.fleet] }).store;
  const groups = manager.informer<GroupObject>(sources.groups).store;
  const groupsOfFleet = (fleet: FleetObject | undefined): string[] =>
    fleet ? groups.list({ namespace: workspaceIndex(fleet)[0] ?? '' }).map(objectKey) : [];

  async function reconcile(request: Request, ctx: ReconcileContext<GroupObject>): Promise<undefined> {
    const group = ctx.store.get(request.key);
    if (!group || group.metadata.deletionTimestamp !== undefined) return undefined;
    const fleet = fleetOfWorkspace(fleets, group.metadata.namespace);
    const clusters = fleet ? selectable(members.byIndex('fleet', fleet.metadata.name ?? '')) : [];
    const result = await writeStatus(ctx.kube, group, (current) => groupStatus(current, fleet, clusters), { signal: ctx.signal });
    if (result.written) ctx.log.info('resolved the group', { matched: result.object.status?.matchedCount ?? 0 });
    return undefined;
  }

  return {
    name: 'clustergroup',
    failureReason: reasons.common.ReconcileFailed,
    for: sources.groups,
    watches: [
      // A group selects by labels: a member's status (written on every heartbeat transition) never moves it.
      {
        source: sources.members,
        map: (member: KubeObject) => groupsOfFleet(fleets.get((member as MemberObject).spec.fleet)),
        updateFilter: changedBeyondStatus,
      },
      { source: sources.fleets, map: (fleet: KubeObject) => groupsOfFleet(fleet as FleetObject), updateFilter: changedBeyondStatus },
    ],
    reconcile,
    workers: 2,
  };
}
