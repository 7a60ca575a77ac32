import type { RolloutStatus } from '../../../api/index.js';
import { timestamp } from '../../../runtime/conditions.js';
import { parseDuration } from '../../../kube-semantics/duration.js';
import { maxUnavailableCount, type EffectiveRollout } from './settings.js';
import { approvedThrough, partitionStages, type StageClusters } from './stages.js';

// Rollout planning: which targeted clusters get the service's revision now, and where the rollout
// stands. A pure function of the spec, each target's Work state and the previous status, so every
// reconcile re-derives the same decision and a lost status write costs at most a longer wait.
//
// Decisions:
// - A revert is another revision and rolls out the same way; clusters already at it count as done.
// - "Not yet Available at the new revision" (what RollingUpdate bounds) means: given the revision,
//   not yet Available at it. Clusters still at an older revision do not use the budget.
// - Clusters that are not Available are updated first (then by name): they are broken already, and
//   after a revert they are the ones waiting for the fix.
// - A cluster at the revision that is Degraded, or not Available progressDeadlineSeconds after it
//   received the revision, halts the rollout (phase Halted): no further cluster gets the revision
//   until it recovers or the spec changes. Clusters already updated keep what they have.
// - Paused clusters (MemberCluster spec.paused) are never updated and never block progress.
// - spec.rollout.paused freezes everything: no Work changes, new clusters included.
// - New targets (no Work yet) that join while a revision is in flight get the last completed
//   revision (`stableRevision`) at once, outside the budget, and then take part in the rollout like
//   every other cluster: a cluster that joins is never the first to run unproven content. With no
//   completed revision (the first rollout) there is nothing proven, and they are ordinary candidates.
//   When no rollout is in flight, new targets get the revision directly.
// - Staged: stages are all-at-once; a stage's pause or approval gates the stages after it, also when
//   the stage selects no cluster (an empty canary stage must not wave a change through unapproved);
//   a gate is skipped only when no later cluster needs the revision.

export interface ClusterRolloutState {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** MemberCluster spec.paused. */
  paused: boolean;
  /** The revision the hub last set in the cluster's Work (spec.source.revision); undefined: no Work. */
  revision?: string;
  /** The Work's Available condition is True and its status.appliedRevision is `revision`. */
  available: boolean;
  /** The Work's Degraded condition is True. */
  degraded: boolean;
  /** When the hub set the Work to `revision` (ms since the epoch), for progressDeadlineSeconds. */
  revisionSince?: number;
  /** The agent's account of what is wrong (failing manifests and the spoke apiserver's messages). */
  problem?: string;
}

export interface RolloutInput {
  /** The revision to roll out. */
  revision: string;
  /** The last revision that completed its rollout, if any (what clusters joining mid-rollout get). */
  stableRevision?: string;
  rollout: EffectiveRollout;
  /** The targeted clusters. */
  clusters: readonly ClusterRolloutState[];
  /** Each ClusterGroup's members, for stages that name a group. */
  groupMembers: ReadonlyMap<string, readonly string[]>;
  /** The GlobalService's flotilla.dev/approved-stage annotation. */
  approvedStage?: string;
  /** The service's status as last written: where the rollout was, and for which revision. */
  previous?: { revision?: string; rollout?: RolloutStatus };
  now: number;
}

export type RolloutPhase = NonNullable<RolloutStatus['phase']>;

export interface HaltingCluster {
  cluster: string;
  reason: 'Degraded' | 'ProgressDeadlineExceeded';
  message: string;
}

export interface RolloutPlan {
  /** Clusters whose Work gets `revision` now, sorted by priority. */
  update: string[];
  /** New clusters whose Work gets `stableRevision` now. */
  join: string[];
  phase: RolloutPhase;
  /** For Staged: the current stage (unset for the implicit stage of unstaged clusters). */
  stage?: string;
  stageIndex?: number;
  /** For phase Waiting: when the stage's pause ends (RFC 3339). */
  waitingUntil?: string;
  halting: HaltingCluster[];
  /** When the plan can change with no event: a pause ends or a progress deadline passes. */
  requeueAfterMs?: number;
  /** The spec cannot be rolled out as written (a value validation should have refused). */
  invalid?: string;
  message: string;
}

interface Progress {
  update: string[];
  phase: RolloutPhase;
  message: string;
  stage?: string;
  stageIndex?: number;
  waitingUntil?: number;
  invalid?: string;
}

interface Context {
  input: RolloutInput;
  /** Not paused, and not joining with the stable revision this round. */
  candidates: ClusterRolloutState[];
  /** Clusters at the revision that are not Available yet. */
  inFlight: ClusterRolloutState[];
  byName: ReadonlyMap<string, ClusterRolloutState>;
}

const isDone = (cluster: ClusterRolloutState, revision: string): boolean =>
  cluster.revision === revision && cluster.available && !cluster.degraded;

function haltReason(cluster: ClusterRolloutState, input: RolloutInput): HaltingCluster | undefined {
  if (cluster.revision !== input.revision || (cluster.available && !cluster.degraded)) return undefined;
  const why = cluster.problem === undefined ? '' : `: ${cluster.problem}`;
  if (cluster.degraded) {
    return {
      cluster: cluster.name,
      reason: 'Degraded',
      message: `cluster ${cluster.name} is Degraded at revision ${input.revision}${why}`,
    };
  }
  const deadline = input.rollout.progressDeadlineSeconds;
  if (deadline === undefined || cluster.revisionSince === undefined || input.now < cluster.revisionSince + deadline * 1000)
    return undefined;
  return {
    cluster: cluster.name,
    reason: 'ProgressDeadlineExceeded',
    message: `cluster ${cluster.name} is not Available ${deadline}s after receiving revision ${input.revision}${why}`,
  };
}

/** Unavailable clusters first, then by name. */
function byPriority(a: ClusterRolloutState, b: ClusterRolloutState): number {
  return Number(a.available) - Number(b.available) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function counts(context: Context): string {
  const { clusters, revision } = context.input;
  const updated = clusters.filter((cluster) => cluster.revision === revision).length;
  const available = clusters.filter((cluster) => isDone(cluster, revision)).length;
  return `${updated} of ${clusters.length} clusters at revision ${revision}, ${available} Available`;
}

function allDone(context: Context, names?: readonly string[]): boolean {
  const { input } = context;
  const clusters = names ? names.flatMap((name) => context.byName.get(name) ?? []) : input.clusters;
  return clusters.every((cluster) => cluster.paused || isDone(cluster, input.revision));
}

function finished(context: Context, progress: Omit<Progress, 'phase' | 'message' | 'update'>): Progress {
  const paused = context.input.clusters.filter((cluster) => cluster.paused && cluster.revision !== context.input.revision).length;
  const held = paused > 0 ? `; ${paused} paused clusters keep their revision` : '';
  return { ...progress, update: [], phase: 'Complete', message: `revision ${context.input.revision} is Available on every cluster${held}` };
}

function planAllAtOnce(context: Context): Progress {
  if (context.candidates.length === 0 && allDone(context)) return finished(context, {});
  return {
    update: context.candidates.map((cluster) => cluster.name),
    phase: 'Progressing',
    message: `updating every cluster: ${counts(context)}`,
  };
}

function planRollingUpdate(context: Context): Progress {
  const { input } = context;
  const budget = maxUnavailableCount(input.rollout.maxUnavailable, input.clusters.length);
  if (budget === undefined) {
    const invalid = `maxUnavailable ${String(input.rollout.maxUnavailable)} is neither a count nor a percentage`;
    return { update: [], phase: 'Progressing', message: invalid, invalid };
  }
  if (context.candidates.length === 0 && allDone(context)) return finished(context, {});
  const slots = Math.max(0, budget - context.inFlight.length);
  return {
    update: context.candidates.slice(0, slots).map((cluster) => cluster.name),
    phase: 'Progressing',
    message: `rolling update, at most ${budget} clusters not yet Available: ${counts(context)}`,
  };
}

/** The index the walk resumes from: where the last status left this revision, else the start. */
function resumeIndex(input: RolloutInput, stageCount: number): number {
  const previous = input.previous;
  const index = previous?.revision === input.revision ? (previous.rollout?.stageIndex ?? 0) : 0;
  return Math.min(Math.max(0, index), stageCount - 1);
}

/** When the pause after stage `index` ends: kept from the last status while it waits there. */
function pauseEnd(input: RolloutInput, index: number, durationMs: number): number {
  const previous = input.previous;
  const kept =
    previous?.revision === input.revision && previous.rollout?.phase === 'Waiting' && previous.rollout.stageIndex === index
      ? Date.parse(previous.rollout.waitingUntil ?? '')
      : Number.NaN;
  // Status times have second precision: round up, so that reading it back never ends a pause early.
  return Number.isNaN(kept) ? Math.ceil((input.now + durationMs) / 1000) * 1000 : kept;
}

function stageFields(stages: readonly StageClusters[], index: number): Pick<Progress, 'stage' | 'stageIndex'> {
  const name = stages[index]?.stage?.name;
  return { stageIndex: index, ...(name !== undefined ? { stage: name } : {}) };
}

function planStaged(context: Context): Progress {
  const { input } = context;
  const stages = partitionStages(input.rollout.stages, input.clusters, input.groupMembers);
  if (stages.length === 0) return finished(context, {});
  const approved = approvedThrough(input.approvedStage, input.rollout.stages, input.revision);
  const inStages = (from: number, to: number): string[] => stages.slice(from, to).flatMap((entry) => entry.clusters);
  const update = (through: number): string[] => {
    const eligible = new Set(inStages(0, through + 1));
    return context.candidates.filter((cluster) => eligible.has(cluster.name)).map((cluster) => cluster.name);
  };
  let index = resumeIndex(input, stages.length);
  for (;;) {
    const here = stageFields(stages, index);
    const label = here.stage ?? 'of clusters no stage selects';
    // Every cluster of the stages passed so far must be done, new members included.
    if (!allDone(context, inStages(0, index + 1))) {
      return { ...here, update: update(index), phase: 'Progressing', message: `stage ${label}: ${counts(context)}` };
    }
    const stage = stages[index]?.stage;
    if (index === stages.length - 1 || allDone(context, inStages(index + 1, stages.length))) return finished(context, here);
    if (stage?.pause) {
      const durationMs = parseDuration(stage.pause.duration);
      if (durationMs === undefined) {
        const invalid = `stage ${stage.name} has an invalid pause duration ${stage.pause.duration}`;
        return { ...here, update: [], phase: 'Progressing', message: invalid, invalid };
      }
      const until = pauseEnd(input, index, durationMs);
      if (input.now < until) {
        return {
          ...here,
          update: [],
          phase: 'Waiting',
          waitingUntil: until,
          message: `stage ${stage.name} is done; waiting until ${new Date(until).toISOString()} before the next stage: ${counts(context)}`,
        };
      }
    }
    if (stage?.approval && approved < index) {
      const note = stage.approval.message !== undefined ? `${stage.approval.message}; ` : '';
      return {
        ...here,
        update: [],
        phase: 'AwaitingApproval',
        message: `stage ${stage.name} is done; ${note}approve the next stage by annotating the GlobalService with flotilla.dev/approved-stage=${stage.name}@${input.revision}`,
      };
    }
    index += 1;
  }
}

const strategies = { AllAtOnce: planAllAtOnce, RollingUpdate: planRollingUpdate, Staged: planStaged } as const;

function firstDeadline(context: Context): number | undefined {
  const { input } = context;
  const seconds = input.rollout.progressDeadlineSeconds;
  if (seconds === undefined) return undefined;
  const pending = context.inFlight.flatMap((cluster) =>
    cluster.revisionSince === undefined ? [] : [cluster.revisionSince + seconds * 1000 - input.now],
  );
  const future = pending.filter((ms) => ms > 0);
  return future.length > 0 ? Math.min(...future) : undefined;
}

/** Clusters a halted rollout's message names, each with its cause, before "and N more clusters". */
export const HALTING_NAMED = 3;

function summarizeHalting(halting: readonly HaltingCluster[]): string {
  const shown = halting
    .slice(0, HALTING_NAMED)
    .map((entry) => entry.message)
    .join('; ');
  const more = halting.length - HALTING_NAMED;
  return more > 0 ? `${shown}; and ${more} more cluster${more === 1 ? '' : 's'}` : shown;
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const { revision, rollout, stableRevision } = input;
  if (rollout.paused) {
    const updated = input.clusters.filter((cluster) => cluster.revision === revision).length;
    return {
      update: [],
      join: [],
      phase: 'Paused',
      halting: [],
      message: `paused by spec.rollout.paused with ${updated} of ${input.clusters.length} clusters at revision ${revision}`,
    };
  }
  const active = input.clusters.filter((cluster) => !cluster.paused);
  const joining =
    stableRevision !== undefined && stableRevision !== revision ? active.filter((cluster) => cluster.revision === undefined) : [];
  const joiningNames = new Set(joining.map((cluster) => cluster.name));
  const context: Context = {
    input,
    candidates: active.filter((cluster) => cluster.revision !== revision && !joiningNames.has(cluster.name)).sort(byPriority),
    inFlight: input.clusters.filter((cluster) => cluster.revision === revision && !cluster.available),
    byName: new Map(input.clusters.map((cluster) => [cluster.name, cluster])),
  };
  const progress = strategies[rollout.strategy](context);
  const halting = input.clusters.flatMap((cluster) => haltReason(cluster, input) ?? []);
  const halted = halting.length > 0;
  const requeue = [progress.waitingUntil === undefined ? undefined : progress.waitingUntil - input.now, firstDeadline(context)].filter(
    (ms): ms is number => ms !== undefined && !halted,
  );
  return {
    update: halted || progress.invalid !== undefined ? [] : progress.update,
    join: joining.map((cluster) => cluster.name),
    phase: halted ? 'Halted' : progress.phase,
    ...(progress.stage !== undefined ? { stage: progress.stage } : {}),
    ...(progress.stageIndex !== undefined ? { stageIndex: progress.stageIndex } : {}),
    ...(progress.waitingUntil !== undefined && !halted ? { waitingUntil: timestamp(new Date(progress.waitingUntil)) } : {}),
    halting,
    ...(requeue.length > 0 ? { requeueAfterMs: Math.min(...requeue) } : {}),
    ...(progress.invalid !== undefined ? { invalid: progress.invalid } : {}),
    message: halted ? `halted: ${summarizeHalting(halting)}` : progress.message,
  };
}
