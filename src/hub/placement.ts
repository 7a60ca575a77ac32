import type { MemberCluster, Placement } from '../api/index.js';
import { selectClusters, type SelectableCluster } from './selection.js';

// Where a GlobalService runs: the union of its placement's ClusterGroups, selector and names, within
// its fleet. Paused clusters (MemberCluster spec.paused) stay targets — they keep what they have and
// still count in status — but receive no new revision, so the result tells the two apart.

/** What placement and rollout need to know of a member cluster. */
export interface PlacementCluster extends SelectableCluster {
  paused: boolean;
}

export function placementCluster(member: MemberCluster): PlacementCluster {
  return { name: member.metadata.name ?? '', labels: member.metadata.labels ?? {}, paused: member.spec.paused === true };
}

/** The fleet's clusters that can be targeted: members of the fleet that are not being deleted. */
export function fleetClusters(members: Iterable<MemberCluster>, fleet: string): PlacementCluster[] {
  const clusters: PlacementCluster[] = [];
  for (const member of members) {
    if (member.spec.fleet === fleet && member.metadata.deletionTimestamp === undefined) clusters.push(placementCluster(member));
  }
  return clusters;
}

export interface PlacementResult {
  /** Every targeted cluster, sorted. */
  targets: string[];
  /** The targets that may receive a new revision (not paused), sorted. */
  updatable: string[];
  /** ClusterGroups the placement names that do not exist (they select nothing), for status. */
  missingGroups: string[];
}

/**
 * The targets of a placement among the fleet's clusters. `groupMembers` holds each existing
 * ClusterGroup's resolved members; members outside `clusters` (another fleet, already gone) are
 * never targeted, whatever a group's status says.
 */
export function resolvePlacement(
  placement: Placement,
  clusters: readonly PlacementCluster[],
  groupMembers: ReadonlyMap<string, readonly string[]>,
): PlacementResult {
  const groups = placement.clusterGroups ?? [];
  const names = [...(placement.clusterNames ?? []), ...groups.flatMap((group) => groupMembers.get(group) ?? [])];
  const targets = selectClusters(clusters, {
    selector: placement.clusterSelector ?? null,
    names,
  });
  const pausedNames = new Set(clusters.filter((cluster) => cluster.paused).map((cluster) => cluster.name));
  return {
    targets,
    updatable: targets.filter((name) => !pausedNames.has(name)),
    missingGroups: groups.filter((group) => !groupMembers.has(group)),
  };
}

/** For each cluster, the ClusterGroups it belongs to (what overrides by clusterGroup match on). */
export function groupsByCluster(groupMembers: ReadonlyMap<string, readonly string[]>): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  for (const [group, members] of groupMembers) {
    for (const member of members) {
      const groups = index.get(member) ?? new Set<string>();
      groups.add(group);
      index.set(member, groups);
    }
  }
  return index;
}
