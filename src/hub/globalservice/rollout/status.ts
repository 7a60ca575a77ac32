import type {
  ClusterAttention,
  FleetServiceCounts,
  GlobalService,
  GlobalServiceStatus,
  RolloutStatus,
  SourceStatus,
} from '../../../api/index.js';
import { conditionTypes, reasons } from '../../../api/index.js';
import { isConditionTrue, setReadiness, truncateMessage, type Condition, type ReadinessOutcome } from '../../../runtime/conditions.js';
import type { RenderError } from '../render/errors.js';
import type { ClusterRolloutState, RolloutPlan } from './plan.js';

// A GlobalService's status from its rollout plan and its targets' state: counts, the rollout's
// position, a capped worst-first list of clusters needing attention, and kstatus conditions
// (Ready; Reconciling while the rollout moves or waits; Stalled when it needs a change).

/** The schema's AttentionList maxItems. */
export const ATTENTION_LIMIT = 20;
/** The schema's maxLength of messages in the rollout status and attention entries. */
const MESSAGE_LIMIT = 1024;
/**
 * The service's Ready/Stalled/Reconciling messages: room for a halted rollout's first clusters
 * (HALTING_NAMED), each with the agent's bounded account of its failing manifests.
 */
export const SERVICE_CONDITION_MESSAGE_LIMIT = 4096;

export interface ClusterSummaryState extends ClusterRolloutState {
  /** The Work's Drifted condition is True. */
  drifted: boolean;
  /** Why the service could not be rendered for this cluster. */
  renderError?: RenderError;
  /** Why (some of) this cluster's objects are held by another source (see conflicts.ts). */
  conflict?: string;
}

export interface StatusInput {
  generation: number;
  revision: string;
  plan: RolloutPlan;
  /** The targeted clusters. */
  clusters: readonly ClusterSummaryState[];
  /** Why the source itself could not be read (no ConfigMap, unparsable YAML): nothing renders. */
  sourceError?: RenderError;
  /** Why a Git or Helm origin could not be fetched (the tool's message, scrubbed): retried on its schedule. */
  sourceUnavailable?: string;
  /** What was last fetched of a Git or Helm origin. */
  source?: SourceStatus;
  /** The flotilla.dev/requested-at value this reconcile acted on. */
  lastHandledRequest?: string;
  /** Why the revision may not ship under the fleet's restrictions (the refused manifests named): nothing of it ships. */
  refused?: string;
  /** ClusterGroups the placement names that do not exist: they place nothing until created. */
  missingGroups?: readonly string[];
  /** The Work writes the hub apiserver refused this reconcile, with its messages (describeWorkWriteFailures). */
  writeFailure?: string;
  previousConditions?: readonly Condition[];
  now: Date;
}

const cut = (text: string): string => truncateMessage(text, MESSAGE_LIMIT);

// Worst first: what halts the rollout, then what cannot render or is in conflict, then clusters
// that are broken at an older revision, then drift, then clusters held back on purpose.
function attentionFor(
  cluster: ClusterSummaryState,
  plan: RolloutPlan,
  revision: string,
): { rank: number; entry: ClusterAttention } | undefined {
  const halting = plan.halting.find((entry) => entry.cluster === cluster.name);
  const entry = (rank: number, reason: string, message: string): { rank: number; entry: ClusterAttention } => ({
    rank,
    entry: { cluster: cluster.name, reason, message: cut(message) },
  });
  if (halting) return entry(0, halting.reason, halting.message);
  if (cluster.renderError) return entry(1, cluster.renderError.reason, cluster.renderError.message);
  if (cluster.conflict !== undefined) return entry(2, 'Conflict', cluster.conflict);
  if (cluster.degraded) {
    const why = cluster.problem === undefined ? '' : `: ${cluster.problem}`;
    return entry(3, conditionTypes.Degraded, `cluster ${cluster.name} is Degraded at revision ${cluster.revision ?? '(none)'}${why}`);
  }
  if (cluster.drifted) return entry(4, conditionTypes.Drifted, `an object applied on cluster ${cluster.name} drifted`);
  if (cluster.paused && cluster.revision !== revision)
    return entry(5, 'Paused', `cluster ${cluster.name} is paused at revision ${cluster.revision ?? '(none)'}`);
  return undefined;
}

export function attentionList(clusters: readonly ClusterSummaryState[], plan: RolloutPlan, revision: string): ClusterAttention[] {
  return clusters
    .flatMap((cluster) => attentionFor(cluster, plan, revision) ?? [])
    .sort((a, b) => a.rank - b.rank || (a.entry.cluster < b.entry.cluster ? -1 : 1))
    .slice(0, ATTENTION_LIMIT)
    .map((item) => item.entry);
}

function clusterProblems(clusters: readonly ClusterSummaryState[], kind: 'renderError' | 'conflict'): string | undefined {
  const failing = clusters.filter((cluster) => cluster[kind] !== undefined);
  const first = failing[0];
  if (!first) return undefined;
  const detail = kind === 'renderError' ? first.renderError?.message : first.conflict;
  const more = failing.length > 1 ? ` (and ${failing.length - 1} more clusters)` : '';
  return `cluster ${first.name}: ${detail ?? ''}${more}`;
}

const progressReasons: Record<Exclude<RolloutPlan['phase'], 'Halted' | 'Complete'>, string> = {
  Progressing: reasons.globalService.RolloutProgressing,
  Waiting: reasons.globalService.StagePause,
  AwaitingApproval: reasons.globalService.AwaitingApproval,
  Paused: reasons.globalService.RolloutPaused,
};

/**
 * The kstatus outcome, most serious first. An unreachable origin and a refused Work write are
 * Stalled though they are retried: kstatus reads Ready=False alone as InProgress, and a pipeline
 * waiting on the service must see that it cannot progress until the environment changes.
 */
function readiness(input: StatusInput): ReadinessOutcome {
  const { plan, sourceError, clusters } = input;
  if (sourceError) return { state: 'Stalled', reason: sourceError.reason, message: sourceError.message };
  if (input.sourceUnavailable !== undefined)
    return { state: 'Stalled', reason: reasons.globalService.SourceUnavailable, message: cut(input.sourceUnavailable) };
  if (input.refused !== undefined) return { state: 'Stalled', reason: reasons.globalService.ManifestRefused, message: cut(input.refused) };
  if (input.writeFailure !== undefined)
    return { state: 'Stalled', reason: reasons.globalService.WorkWriteFailed, message: input.writeFailure };
  const missing = input.missingGroups ?? [];
  if (missing.length > 0) {
    return {
      state: 'Stalled',
      reason: reasons.globalService.ClusterGroupNotFound,
      message: `spec.placement.clusterGroups names ClusterGroups that do not exist: ${missing.join(', ')}`,
    };
  }
  if (plan.invalid !== undefined) return { state: 'Stalled', reason: reasons.globalService.InvalidRollout, message: plan.invalid };
  if (plan.phase === 'Halted') {
    const reason = plan.halting[0]?.reason === 'ProgressDeadlineExceeded' ? 'ProgressDeadlineExceeded' : 'ClusterDegraded';
    return { state: 'Stalled', reason, message: plan.message };
  }
  const renderProblem = clusterProblems(clusters, 'renderError');
  if (renderProblem !== undefined) return { state: 'Stalled', reason: reasons.globalService.RenderFailed, message: renderProblem };
  const conflict = clusterProblems(clusters, 'conflict');
  if (conflict !== undefined) return { state: 'Stalled', reason: reasons.globalService.Conflict, message: conflict };
  if (plan.phase === 'Complete') return { state: 'Ready', reason: reasons.globalService.RolloutComplete, message: plan.message };
  return { state: 'Reconciling', reason: progressReasons[plan.phase], message: plan.message };
}

export function summarizeStatus(input: StatusInput): GlobalServiceStatus {
  const { clusters, revision, plan } = input;
  const atRevision = clusters.filter((cluster) => cluster.revision === revision);
  const outcome = readiness(input);
  const rollout: RolloutStatus = {
    phase: plan.phase,
    ...(plan.stage !== undefined ? { stage: plan.stage } : {}),
    ...(plan.stageIndex !== undefined ? { stageIndex: plan.stageIndex } : {}),
    ...(plan.waitingUntil !== undefined ? { waitingUntil: plan.waitingUntil } : {}),
    message: cut(plan.message),
  };
  return {
    observedGeneration: input.generation,
    conditions: setReadiness(input.previousConditions, outcome, {
      observedGeneration: input.generation,
      now: input.now,
      messageLimit: SERVICE_CONDITION_MESSAGE_LIMIT,
    }),
    revision,
    ...(input.source ? { source: input.source } : {}),
    ...(input.lastHandledRequest !== undefined ? { lastHandledRequest: input.lastHandledRequest } : {}),
    clusters: {
      targeted: clusters.length,
      updated: atRevision.length,
      available: atRevision.filter((cluster) => cluster.available).length,
      failed: clusters.filter((cluster) => cluster.degraded || cluster.renderError !== undefined || cluster.conflict !== undefined).length,
      drifted: clusters.filter((cluster) => cluster.drifted).length,
    },
    rollout,
    attention: attentionList(clusters, plan, revision),
  };
}

/** The Fleet's services summary from its workspace's GlobalServices (those being deleted left out), by their conditions. */
export function fleetServiceCounts(services: readonly GlobalService[]): FleetServiceCounts {
  const live = services.filter((service) => service.metadata.deletionTimestamp === undefined);
  const withCondition = (type: string): number => live.filter((service) => isConditionTrue(service.status?.conditions, type)).length;
  return {
    total: live.length,
    ready: withCondition(conditionTypes.Ready),
    progressing: withCondition(conditionTypes.Reconciling),
    failed: withCondition(conditionTypes.Stalled),
  };
}
