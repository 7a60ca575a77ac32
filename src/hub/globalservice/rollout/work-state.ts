import { conditionTypes, type Work } from '../../../api/index.js';
import { findCondition, isConditionTrue, truncateMessage } from '../../../runtime/conditions.js';
import { revisionSinceAnnotation } from '../../../work/objects.js';

// A cluster's rollout state, read from its Work (part 0 of the set, whose status the agent writes
// like every part's): the revision the hub set, whether the agent reports it Available there, and
// when the hub set it. Everything comes from the Work, so a restarted hub resumes where it was.
//
// Why a cluster fails comes from the agent's conditions, not its per-manifest list: the agent's
// Degraded message (and Available message, while not Available) names the first failing manifests
// (kind, namespace/name) with the spoke apiserver's own message, bounded (computeWorkStatus,
// STATUS_LIMITS in src/agent/status.ts). That bounded summary is the contract; the manifest list is
// a larger, capped view for people reading the Work.

/** The most characters of the agent's message a cluster's state carries (the agent's own bound). */
export const PROBLEM_LIMIT = 1024;

export interface WorkRolloutState {
  /** spec.source.revision; undefined: the cluster has no Work. */
  revision?: string;
  /** Available is True and status.appliedRevision is `revision`: content not yet applied never counts. */
  available: boolean;
  /** Degraded is True in a status written for the Work's current generation (a stale one never halts). */
  degraded: boolean;
  drifted: boolean;
  /** The revisionSinceAnnotation, in ms since the epoch. */
  revisionSince?: number;
  /**
   * What the agent says is wrong, in a status written for the current generation: its Degraded
   * message when Degraded, else its Available message while not Available.
   */
  problem?: string;
}

function problemOf(work: Work, current: boolean, degraded: boolean): string | undefined {
  if (!current) return undefined;
  const conditions = work.status?.conditions;
  const telling = degraded ? findCondition(conditions, conditionTypes.Degraded) : findCondition(conditions, conditionTypes.Available);
  if (!telling || (!degraded && telling.status === 'True') || telling.message === '') return undefined;
  return truncateMessage(telling.message, PROBLEM_LIMIT);
}

export function workRolloutState(work: Work | undefined): WorkRolloutState {
  if (!work) return { available: false, degraded: false, drifted: false };
  const revision = work.spec.source.revision;
  const status = work.status;
  const conditions = status?.conditions;
  const current = status?.observedGeneration !== undefined && status.observedGeneration === work.metadata.generation;
  const since = Date.parse(work.metadata.annotations?.[revisionSinceAnnotation] ?? '');
  const available = status?.appliedRevision === revision && isConditionTrue(conditions, conditionTypes.Available);
  const degraded = current && isConditionTrue(conditions, conditionTypes.Degraded);
  const problem = problemOf(work, current, degraded);
  return {
    revision,
    available,
    degraded,
    drifted: isConditionTrue(conditions, conditionTypes.Drifted),
    ...(Number.isNaN(since) ? {} : { revisionSince: since }),
    ...(problem === undefined ? {} : { problem }),
  };
}
