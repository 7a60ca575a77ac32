// How the hub judges a member cluster from its heartbeat Lease and its Works, and the part of the
// MemberCluster status the hub owns (Joined, Healthy, Ready, lastHeartbeatTime, works). The agent owns the facts
// (version, nodes, resources); both write with server-side apply under their own field manager, and
// the conditions list is a map keyed by `type`, so neither ever overwrites the other's fields.
//
// Like leader election, a heartbeat is judged by the hub's *own* clock: the time at which the hub
// saw the Lease's renewTime change, never the agent's renewTime against the hub's clock, so a
// spoke whose clock is off is neither lost early nor kept alive forever.
import {
  conditionTypes,
  memberClusterConditionTypes,
  reasons,
  type ConditionType,
  type MemberCluster,
  type MemberClusterWorkCounts,
  type Work,
} from '../../api/index.js';
import { parseDuration } from '../../kube-semantics/duration.js';
import { findCondition, removeCondition, setCondition, timestamp, type Condition } from '../../runtime/index.js';

/** The fleet default (schemas/fleet.yaml) when a Fleet is missing or its value unreadable. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 5 * 60_000;

export function heartbeatTimeoutMs(fleet: { spec?: { heartbeatTimeout?: string } } | undefined): number {
  const text = fleet?.spec?.heartbeatTimeout;
  return (text !== undefined ? parseDuration(text) : undefined) ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
}

/** The last renewTime the hub saw on a member's Lease, and the hub's clock when it first saw it. */
export interface HeartbeatObservation {
  renewTime: string;
  observedAt: number;
}

/**
 * Restarts the clock only when the renewTime changed: re-reading the same Lease is not a heartbeat.
 * With no observation in memory (the hub just started), the clock starts now, unless the member's
 * status already judged this very renewal missed (Ready Unknown, HeartbeatMissed, lastHeartbeatTime
 * at this renewTime, as judgeMember writes it): then nothing was heard since, and the cluster stays
 * lost instead of reading Ready for another timeout after every restart of the hub.
 */
export function observeHeartbeat(
  previous: HeartbeatObservation | undefined,
  renewTime: string,
  now: number,
  member?: MemberCluster,
): HeartbeatObservation {
  if (previous?.renewTime === renewTime) return previous;
  if (previous === undefined && member !== undefined && judgedMissedAt(member, renewTime)) {
    return { renewTime, observedAt: Number.NEGATIVE_INFINITY };
  }
  return { renewTime, observedAt: now };
}

/**
 * Whether a renewal the hub has just heard can change the member's judgement, so deserves a visit:
 * the first this process hears (Joined and Healthy may flip), or one after the previous had gone
 * stale (the cluster is, or is about to be, judged missed). Any other renewal only moves the
 * deadline, and the visit judgeMember already scheduled for it (recheckAfterMs) finds the newer
 * observation and schedules the next: a steady heartbeat costs the hub neither a write nor a
 * reconcile, and a member is visited about once per timeout instead of once per renewal.
 */
export function renewalNeedsJudging(previous: HeartbeatObservation | undefined, now: number, timeoutMs: number): boolean {
  return previous === undefined || now - previous.observedAt >= timeoutMs;
}

function judgedMissedAt(member: MemberCluster, renewTime: string): boolean {
  const ready = findCondition(member.status?.conditions, conditionTypes.Ready);
  const renewed = Date.parse(renewTime);
  return (
    ready?.status === 'Unknown' &&
    ready.reason === reasons.memberCluster.HeartbeatMissed &&
    !Number.isNaN(renewed) &&
    member.status?.lastHeartbeatTime === timestamp(new Date(renewed))
  );
}

/** The MemberCluster status fields the hub writes (server-side apply, field manager flotilla-hub). */
export interface HubMemberStatus {
  observedGeneration: number;
  lastHeartbeatTime?: string;
  conditions: Condition[];
  works?: MemberClusterWorkCounts;
}

/** The cluster's Works by state, and the names of the Degraded ones (sorted). */
export interface WorksSummary {
  counts: Required<MemberClusterWorkCounts>;
  degraded: string[];
}

/** How many Degraded Works a Healthy message names before it says "and N more". */
export const MAX_NAMED_WORKS = 3;

/**
 * A condition of a Work that is True as its agent last reported it, for whichever generation that
 * was: the counts say what is on the cluster, and a new spec changes nothing there until the agent
 * applies it. So a fan-out (a new generation on every Work, then the agents' reports) leaves the
 * counts where they were and costs no MemberCluster write; which clusters run the new revision is
 * the source's status (GlobalService `updated`), not the member's.
 */
function holds(work: Work, type: ConditionType): boolean {
  return findCondition(work.status?.conditions, type)?.status === 'True';
}

/** Counts a cluster's Works by the conditions its agent last reported. */
export function summarizeWorks(works: readonly Work[]): WorksSummary {
  const count = (type: ConditionType): number => works.filter((w) => holds(w, type)).length;
  const degraded = works
    .filter((w) => holds(w, conditionTypes.Degraded))
    .map((w) => w.metadata.name ?? '')
    .sort();
  return {
    counts: {
      total: works.length,
      applied: count(conditionTypes.Applied),
      available: count(conditionTypes.Available),
      degraded: degraded.length,
    },
    degraded,
  };
}

function degradedMessage({ counts, degraded }: WorksSummary): string {
  const named = degraded.slice(0, MAX_NAMED_WORKS).join(', ');
  const more = degraded.length > MAX_NAMED_WORKS ? ` and ${degraded.length - MAX_NAMED_WORKS} more` : '';
  return `${degraded.length} of ${counts.total} Works are Degraded: ${named}${more}`;
}

export interface MemberJudgement {
  status: HubMemberStatus;
  /** Judge again after this long (ms): when the current heartbeat would go stale. */
  recheckAfterMs?: number;
}

export interface JudgeInput {
  member: MemberCluster;
  /** The heartbeat Lease as last seen (undefined: the agent never created it). */
  heartbeat: HeartbeatObservation | undefined;
  timeoutMs: number;
  now: number;
  works: WorksSummary;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/**
 * The hub's part of a member's status: Joined once the agent has reported (its Lease or its facts),
 * Healthy while heartbeats arrive within the fleet's timeout (Unknown after it, reason
 * HeartbeatMissed) and none of its Works is Degraded (False, reason WorksDegraded, naming them),
 * Ready when both hold. A silent cluster's Works are judged stale, so a missed heartbeat wins.
 * Conditions keep their transition times unless they flip. For kstatus, Reconciling is True until
 * the agent heartbeats, and Stalled while heartbeats are missed or Works are Degraded: Ready alone
 * (False or Unknown) reads InProgress, and neither mends itself without someone acting on the cluster.
 */
export function judgeMember({ member, heartbeat, timeoutMs, now, works }: JudgeInput): MemberJudgement {
  const current = member.status;
  const generation = member.metadata.generation ?? 0;
  const joined = heartbeat !== undefined || current?.agentVersion !== undefined;
  const at = new Date(now);
  const existing = (current?.conditions ?? []).filter((c) =>
    (memberClusterConditionTypes as readonly string[]).includes(c.type),
  ) as Condition[];
  const set = (list: Condition[], type: ConditionType, status: Condition['status'], reason: string, message: string): Condition[] =>
    setCondition(list, { type, status, reason, message }, { observedGeneration: generation, now: at });
  const { Joined, Healthy, Ready } = conditionTypes;
  const { AgentReported, AwaitingAgent, NoHeartbeat, WorksDegraded, HeartbeatReceived, HeartbeatMissed } = reasons.memberCluster;

  let conditions = set(
    existing,
    Joined,
    joined ? 'True' : 'False',
    joined ? AgentReported : AwaitingAgent,
    joined
      ? 'the agent has connected with its credentials'
      : 'the agent has not connected yet; apply the bootstrap from `flotilla join` on the cluster',
  );
  let recheckAfterMs: number | undefined;
  if (!heartbeat) {
    const reason = joined ? NoHeartbeat : AwaitingAgent;
    const message = joined ? 'the agent reported but keeps no heartbeat Lease' : 'no heartbeat yet';
    conditions = set(conditions, Healthy, 'Unknown', reason, message);
    conditions = set(conditions, Ready, joined ? 'Unknown' : 'False', reason, message);
  } else {
    const silentFor = now - heartbeat.observedAt;
    if (silentFor < timeoutMs) {
      recheckAfterMs = timeoutMs - silentFor;
      if (works.counts.degraded > 0) {
        const message = degradedMessage(works);
        conditions = set(conditions, Healthy, 'False', WorksDegraded, message);
        conditions = set(conditions, Ready, 'False', WorksDegraded, message);
      } else {
        conditions = set(
          conditions,
          Healthy,
          'True',
          HeartbeatReceived,
          `heartbeats arrive within the fleet's timeout of ${seconds(timeoutMs)}`,
        );
        conditions = set(conditions, Ready, 'True', reasons.memberCluster.Ready, 'the cluster has joined and its agent is heartbeating');
      }
    } else {
      // No running "for Ns" here: a message that changes on every visit would be a status write on every visit.
      const message = `no heartbeat within the timeout of ${seconds(timeoutMs)}; last renewed at ${heartbeat.renewTime}`;
      conditions = set(conditions, Healthy, 'Unknown', HeartbeatMissed, message);
      conditions = set(conditions, Ready, 'Unknown', HeartbeatMissed, message);
    }
  }
  conditions = kstatusPair(conditions, heartbeat === undefined, generation, at);

  const lastHeartbeatTime = heartbeat
    ? heartbeatTime(current?.lastHeartbeatTime, heartbeat.renewTime, findCondition(existing, Ready), findCondition(conditions, Ready))
    : current?.lastHeartbeatTime;
  return {
    status: {
      observedGeneration: generation,
      ...(lastHeartbeatTime !== undefined ? { lastHeartbeatTime } : {}),
      conditions,
      works: works.counts,
    },
    ...(recheckAfterMs !== undefined ? { recheckAfterMs } : {}),
  };
}

/** Reconciling while the agent has yet to heartbeat, Stalled while Ready is not True after it has; each present only when True. */
function kstatusPair(conditions: Condition[], awaitingHeartbeat: boolean, generation: number, now: Date): Condition[] {
  const ready = findCondition(conditions, conditionTypes.Ready);
  const state = ready?.status === 'True' ? undefined : awaitingHeartbeat ? conditionTypes.Reconciling : conditionTypes.Stalled;
  let next = conditions;
  for (const type of [conditionTypes.Reconciling, conditionTypes.Stalled]) {
    next =
      type === state && ready
        ? setCondition(
            next,
            { type, status: 'True', reason: ready.reason, message: ready.message },
            { observedGeneration: generation, now },
          )
        : removeCondition(next, type);
  }
  return next;
}

/**
 * lastHeartbeatTime follows the Lease only when Ready changes (or on the first heartbeat): the Lease
 * itself is the exact record (`flotilla status` reads it), and any status write per heartbeat would
 * cost a 10,000-cluster hub one write per cluster per interval for nothing. A heartbeat that changes
 * no judgement therefore makes no write at all.
 */
function heartbeatTime(
  current: string | undefined,
  renewTime: string,
  readyBefore: Condition | undefined,
  readyAfter: Condition | undefined,
): string {
  if (current === undefined || readyBefore?.status !== readyAfter?.status) return timestamp(new Date(renewTime));
  return current;
}
