import type { Work } from '../../api/index.js';
import { isConditionTrue } from '../../runtime/conditions.js';
import { revisionSinceAnnotation } from '../work-objects.js';

// A cluster's rollout state, read from its Work (part 0 of the set, whose status the agent writes
// like every part's): the revision the hub set, whether the agent reports it Available there, and
// when the hub set it. Everything comes from the Work, so a restarted hub resumes where it was.

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
}

export function workRolloutState(work: Work | undefined): WorkRolloutState {
  if (!work) return { available: false, degraded: false, drifted: false };
  const revision = work.spec.source.revision;
  const status = work.status;
  const conditions = status?.conditions;
  const current = status?.observedGeneration !== undefined && status.observedGeneration === work.metadata.generation;
  const since = Date.parse(work.metadata.annotations?.[revisionSinceAnnotation] ?? '');
  return {
    revision,
    available: status?.appliedRevision === revision && isConditionTrue(conditions, 'Available'),
    degraded: current && isConditionTrue(conditions, 'Degraded'),
    drifted: isConditionTrue(conditions, 'Drifted'),
    ...(Number.isNaN(since) ? {} : { revisionSince: since }),
  };
}
