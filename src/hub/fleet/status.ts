// A Fleet's status from its member clusters: counts by state, the Kubernetes versions in use,
// capacity/allocatable/requested summed over Ready clusters, and a capped list of the clusters that
// need attention, worst first. Bounded at any fleet size. Pure.
import {
  conditionTypes,
  reasons,
  type ClusterAttention,
  type Fleet,
  type FleetClusterCounts,
  type FleetStatus,
  type MemberCluster,
  type ResourceList,
  type VersionCount,
} from '../../api/index.js';
import { formatQuantity, sumQuantities } from '../../kube-semantics/quantity.js';
import { findCondition, setReadiness, type ReadinessOutcome } from '../../runtime/index.js';

export const MAX_ATTENTION = 20;
export const MAX_VERSIONS = 32;

export type MemberState = 'ready' | 'lost' | 'notReady' | 'joining';

/** Where a member stands, from the conditions the hub wrote. */
export function memberState(member: MemberCluster): MemberState {
  const conditions = member.status?.conditions;
  if (findCondition(conditions, conditionTypes.Joined)?.status !== 'True') return 'joining';
  const ready = findCondition(conditions, conditionTypes.Ready)?.status;
  if (ready === 'True') return 'ready';
  return ready === 'Unknown' ? 'lost' : 'notReady';
}

// Lower is worse: a lost cluster is the first thing a fleet's owner should see.
const severity: Record<MemberState, number> = { lost: 0, notReady: 1, joining: 2, ready: 3 };

/** `v1.36.3` > `v1.9.10` > `v1.9.2`: numeric, segment by segment; unparsable versions sort last. */
export function compareVersionsDescending(a: string, b: string): number {
  const parts = (v: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1) ?? []).map(Number);
  const pa = parts(a);
  const pb = parts(b);
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length || a.localeCompare(b);
  for (let i = 0; i < 3; i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

function sumLists(lists: (ResourceList | undefined)[]): ResourceList {
  return {
    cpu: formatQuantity(sumQuantities(lists.map((l) => l?.cpu)), 'DecimalSI'),
    memory: formatQuantity(sumQuantities(lists.map((l) => l?.memory)), 'BinarySI'),
  };
}

export interface FleetInput {
  fleet: Fleet;
  members: readonly MemberCluster[];
  /** The workspace namespace: present and ours, missing, or held by something else. */
  workspace: 'ours' | 'missing' | 'foreign';
  now?: Date;
}

/** Code-unit order: cluster names are DNS labels, and a status must not depend on the process's locale (and ICU is slow). */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The fleet's status; services and policies counts are kept as they are (the GlobalService and
 * PolicyBundle controllers write them). One pass over the members, and only the worst few become
 * attention entries: it runs on every member change of a 10,000-cluster fleet.
 */
export function fleetStatus({ fleet, members, workspace, now = new Date() }: FleetInput): FleetStatus {
  const generation = fleet.metadata.generation ?? 0;
  const namespace = fleet.spec?.workspaceNamespace ?? `fleet-${fleet.metadata.name ?? ''}`;
  const counts: Required<Pick<FleetClusterCounts, 'total' | 'ready' | 'notReady' | 'lost' | 'joining' | 'paused'>> = {
    total: members.length,
    ready: 0,
    notReady: 0,
    lost: 0,
    joining: 0,
    paused: 0,
  };
  const readiness: ReadinessCounts = { total: 0, notReady: 0, lost: 0, joining: 0, paused: 0 };
  const versions = new Map<string, number>();
  const ready: MemberCluster[] = [];
  const unwell: { state: Exclude<MemberState, 'ready'>; member: MemberCluster }[] = [];
  for (const member of members) {
    const state = memberState(member);
    const paused = member.spec.paused === true;
    counts[state]++;
    if (paused) counts.paused++;
    countReadiness(readiness, state, paused);
    const version = member.status?.kubernetesVersion;
    if (version !== undefined) versions.set(version, (versions.get(version) ?? 0) + 1);
    if (state === 'ready') ready.push(member);
    else unwell.push({ state, member });
  }
  unwell.sort((a, b) => severity[a.state] - severity[b.state] || byName(a.member.metadata.name ?? '', b.member.metadata.name ?? ''));
  const kubernetesVersions: VersionCount[] = [...versions]
    .sort(([a], [b]) => compareVersionsDescending(a, b))
    .slice(0, MAX_VERSIONS)
    .map(([version, count]) => ({ version, count }));
  const outcome = fleetReadiness(
    workspace,
    namespace,
    readiness,
    unwell
      .filter((u) => u.member.spec.paused !== true)
      .slice(0, NAMED_IN_MESSAGE)
      .map(attentionEntry),
  );

  return {
    ...fleet.status,
    observedGeneration: generation,
    conditions: setReadiness(fleet.status?.conditions, outcome, { observedGeneration: generation, now }),
    workspaceNamespace: namespace,
    clusters: counts,
    kubernetesVersions,
    resources: {
      capacity: sumLists(ready.map((m) => m.status?.resources?.capacity)),
      allocatable: sumLists(ready.map((m) => m.status?.resources?.allocatable)),
      requested: sumLists(ready.map((m) => m.status?.resources?.requested)),
    },
    attention: unwell.slice(0, MAX_ATTENTION).map(attentionEntry),
  };
}

/** How many unwell clusters the Ready message names. */
const NAMED_IN_MESSAGE = 5;

/** A cluster that needs attention, with the condition that says why. */
function attentionEntry({ state, member }: { state: Exclude<MemberState, 'ready'>; member: MemberCluster }): ClusterAttention {
  const condition = findCondition(member.status?.conditions, state === 'joining' ? conditionTypes.Joined : conditionTypes.Ready);
  return {
    cluster: member.metadata.name ?? '',
    reason: condition?.reason ?? reasons.memberCluster.AwaitingAgent,
    ...(condition?.message ? { message: condition.message.slice(0, 1024) } : {}),
    ...(condition?.lastTransitionTime ? { since: condition.lastTransitionTime } : {}),
  };
}

/**
 * Counts one member toward the fleet's readiness: a paused member is left out, whatever its state.
 * Its admin holds it back on purpose and it may never join (a cluster registered ahead of time), so
 * counting it would keep the fleet Reconciling forever — kstatus InProgress after all is done.
 */
function countReadiness(counts: ReadinessCounts, state: MemberState, paused: boolean): void {
  if (paused) {
    counts.paused++;
    return;
  }
  counts.total++;
  if (state !== 'ready') counts[state]++;
}

type ReadinessCounts = Required<Pick<FleetClusterCounts, 'total' | 'notReady' | 'lost' | 'joining' | 'paused'>>;

/** The fleet's readiness: its workspace first, then its unpaused clusters' (the unwell named, the worst first). */
function fleetReadiness(
  workspace: FleetInput['workspace'],
  namespace: string,
  counts: ReadinessCounts,
  named: readonly ClusterAttention[],
): ReadinessOutcome {
  const held = counts.paused > 0 ? ` (paused, not counted: ${counts.paused})` : '';
  if (workspace === 'foreign') {
    return {
      state: 'Stalled',
      reason: reasons.fleet.WorkspaceNamespaceConflict,
      message: `namespace ${namespace} exists and does not belong to this fleet`,
    };
  }
  if (workspace === 'missing')
    return { state: 'Reconciling', reason: reasons.fleet.CreatingWorkspace, message: `creating namespace ${namespace}` };
  const unwell = counts.lost + counts.notReady;
  // Stalled, not Failed: kstatus reads Ready=False alone as InProgress, and a lost or unwell
  // cluster comes back only when someone mends it.
  if (unwell > 0) {
    return {
      state: 'Stalled',
      reason: reasons.fleet.ClustersNotReady,
      message: `${unwell} of ${counts.total} clusters are not ready: ${named.map((a) => `${a.cluster} (${a.reason})`).join(', ')}${held}`,
    };
  }
  if (counts.joining > 0)
    return {
      state: 'Reconciling',
      reason: reasons.fleet.ClustersJoining,
      message: `${counts.joining} of ${counts.total} clusters have not joined yet${held}`,
    };
  return { state: 'Ready', reason: reasons.fleet.ClustersReady, message: `all ${counts.total} clusters are ready${held}` };
}
