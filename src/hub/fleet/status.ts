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

/** The fleet's status; services and policies counts are kept as they are (the GlobalService and PolicyBundle controllers write them). */
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
  const versions = new Map<string, number>();
  const ready: MemberCluster[] = [];
  const attention: { state: MemberState; entry: ClusterAttention }[] = [];
  for (const member of members) {
    const state = memberState(member);
    counts[state]++;
    if (member.spec.paused === true) counts.paused++;
    const version = member.status?.kubernetesVersion;
    if (version !== undefined) versions.set(version, (versions.get(version) ?? 0) + 1);
    if (state === 'ready') {
      ready.push(member);
      continue;
    }
    const condition = findCondition(member.status?.conditions, state === 'joining' ? conditionTypes.Joined : conditionTypes.Ready);
    attention.push({
      state,
      entry: {
        cluster: member.metadata.name ?? '',
        reason: condition?.reason ?? reasons.memberCluster.AwaitingAgent,
        ...(condition?.message ? { message: condition.message.slice(0, 1024) } : {}),
        ...(condition?.lastTransitionTime ? { since: condition.lastTransitionTime } : {}),
      },
    });
  }
  attention.sort((a, b) => severity[a.state] - severity[b.state] || a.entry.cluster.localeCompare(b.entry.cluster));
  const kubernetesVersions: VersionCount[] = [...versions]
    .sort(([a], [b]) => compareVersionsDescending(a, b))
    .slice(0, MAX_VERSIONS)
    .map(([version, count]) => ({ version, count }));

  const paused = new Set(members.filter((m) => m.spec.paused === true).map((m) => m.metadata.name ?? ''));
  const outcome = fleetReadiness(
    workspace,
    namespace,
    readinessCounts(members),
    attention.filter((a) => !paused.has(a.entry.cluster)),
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
    attention: attention.slice(0, MAX_ATTENTION).map((a) => a.entry),
  };
}

/**
 * The counts the fleet's readiness is judged on: a paused member is left out, whatever its state.
 * Its admin holds it back on purpose and it may never join (a cluster registered ahead of time), so
 * counting it would keep the fleet Reconciling forever — kstatus InProgress after all is done.
 */
function readinessCounts(members: readonly MemberCluster[]): ReadinessCounts {
  const counts: ReadinessCounts = { total: 0, notReady: 0, lost: 0, joining: 0, paused: 0 };
  for (const member of members) {
    if (member.spec.paused === true) {
      counts.paused++;
      continue;
    }
    counts.total++;
    const state = memberState(member);
    if (state !== 'ready') counts[state]++;
  }
  return counts;
}

type ReadinessCounts = Required<Pick<FleetClusterCounts, 'total' | 'notReady' | 'lost' | 'joining' | 'paused'>>;

/** The fleet's readiness: its workspace first, then its unpaused clusters' (the unwell named, the worst first). */
function fleetReadiness(
  workspace: FleetInput['workspace'],
  namespace: string,
  counts: ReadinessCounts,
  attention: readonly { entry: ClusterAttention }[],
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
      message: `${unwell} of ${counts.total} clusters are not ready: ${attention
        .slice(0, 5)
        .map((a) => `${a.entry.cluster} (${a.entry.reason})`)
        .join(', ')}${held}`,
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
