import { Buffer } from 'node:buffer';
import { conditionTypes, reasons, type ConditionType, type ManifestStatus, type WorkCounts, type WorkStatus } from '../api/index.js';
import { setCondition, setReadiness, truncateMessage, type ConditionInput, type ReadinessOutcome } from '../runtime/conditions.js';
import type { DriftReport } from './drift.js';
import type { Health } from './health.js';
import { identityKey, type ManifestIdentity } from '../work/identity.js';

// The Work status the agent writes (the Work schema's status), computed from what happened to each
// manifest. Bounded whatever the Work's size: counts carry the totals, messages and drift paths are
// cut, and the per-manifest list is capped by count and bytes with problems first.

/** What the agent learned about one manifest in this reconcile. */
export interface ManifestResult {
  identity: ManifestIdentity;
  /** Applied at the Work's current revision. */
  applied: boolean;
  /** The apiserver's message when the apply failed. */
  error?: string;
  /** Why the object was not applied because someone else holds it (see decideAdoption). */
  conflict?: string;
  /** Why the manifest may not ship (its fleet's restrictions, the agent's protection): not applied, not pruned. */
  refused?: string;
  health: Health;
  drift?: DriftReport;
}

/** A problem with the Work as a whole, before any manifest is applied (bad payload, duplicates). */
export interface ContentProblem {
  reason: string;
  message: string;
  /** Needs a change to the Work to resolve (duplicates), rather than time (a part still to arrive). */
  stalled: boolean;
}

export interface WorkStatusInput {
  generation: number;
  revision: string;
  results: readonly ManifestResult[];
  contentProblem?: ContentProblem;
  /** Objects dropped from the Work that could not be removed: the revision is not in place until they are. */
  pruneFailures?: readonly string[];
}

export const STATUS_LIMITS = {
  /** Manifests named in one condition message before "and N more". */
  namedInCondition: 3,
  conditionMessageChars: 1024,
  entryMessageChars: 1024,
  driftedFields: 16,
  fieldPathChars: 256,
  entries: 1000,
  /** The per-manifest list shares the Work object with up to 1 MiB of payload. */
  entriesBytes: 256 * 1024,
} as const;

const failedToApply = (r: ManifestResult): boolean => r.conflict !== undefined || r.error !== undefined || r.refused !== undefined;
const isHealthy = (r: ManifestResult): boolean => r.applied && r.health.status === 'Healthy';
const isDrifted = (r: ManifestResult): boolean => r.drift?.drifted === true;
const isFailed = (r: ManifestResult): boolean => failedToApply(r) || r.health.status === 'Degraded';
const needsAttention = (r: ManifestResult): boolean => !isHealthy(r) || isDrifted(r) || isFailed(r);

/** Why one manifest needs attention, in the words of whoever knows best. */
function problemOf(r: ManifestResult): string | undefined {
  if (r.refused !== undefined) return `refused: ${r.refused}`;
  if (r.conflict !== undefined) return `conflict: ${r.conflict}`;
  if (r.error !== undefined) return `apply failed: ${r.error}`;
  // Missing and applied: someone deleted it (Report leaves it so). Missing and never applied: an Audit bundle's object that is not there.
  if (r.drift?.missing === true) return r.applied ? 'deleted since it was applied' : 'not on the cluster';
  if (!r.applied) return 'not applied yet';
  if (r.health.status !== 'Healthy') return `${r.health.status} (${r.health.reason}): ${r.health.message}`;
  if (isDrifted(r)) return `drifted: ${(r.drift?.paths ?? []).join(', ')}`;
  return undefined;
}

function countsOf(results: readonly ManifestResult[]): WorkCounts {
  return {
    total: results.length,
    applied: results.filter((r) => r.applied).length,
    available: results.filter(isHealthy).length,
    drifted: results.filter(isDrifted).length,
    failed: results.filter(isFailed).length,
  };
}

/**
 * "2 of 5 manifests <what>: A: why; B: why; and 1 more", cut to the condition message limit. The
 * hub reads the Degraded and Available messages as the cluster's cause in the GlobalService's
 * status (src/hub/globalservice/rollout/work-state.ts): they name the manifests and carry the apiserver's words.
 */
function describe(what: string, matching: readonly ManifestResult[], total: number, why: (r: ManifestResult) => string): string {
  const named = matching.slice(0, STATUS_LIMITS.namedInCondition).map((r) => `${identityKey(r.identity)}: ${why(r)}`);
  const more = matching.length - named.length;
  return `${matching.length} of ${total} manifests ${what}: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

const problemText = (r: ManifestResult): string => problemOf(r) ?? '';

function driftText(r: ManifestResult): string {
  if (r.drift?.missing === true) return r.applied ? 'deleted' : 'missing';
  const paths = r.drift?.paths ?? [];
  const unnamed = (r.drift?.count ?? 0) - paths.length;
  return `${paths.join(', ')}${unnamed > 0 ? ` and ${unnamed} more` : ''}`;
}

type DesiredCondition = ConditionInput;

function appliedCondition(
  results: readonly ManifestResult[],
  problem: ContentProblem | undefined,
  pruneFailures: readonly string[],
): DesiredCondition {
  if (problem) return { type: conditionTypes.Applied, status: 'False', reason: problem.reason, message: problem.message };
  const notApplied = results.filter((r) => !r.applied);
  if (notApplied.length === 0 && pruneFailures.length > 0) {
    const named = pruneFailures.slice(0, STATUS_LIMITS.namedInCondition).join('; ');
    const more =
      pruneFailures.length > STATUS_LIMITS.namedInCondition ? ` and ${pruneFailures.length - STATUS_LIMITS.namedInCondition} more` : '';
    return {
      type: conditionTypes.Applied,
      status: 'False',
      reason: reasons.work.PruneFailed,
      message: `${pruneFailures.length} object(s) dropped from the Work could not be removed: ${named}${more}`,
    };
  }
  if (notApplied.length === 0) {
    return {
      type: conditionTypes.Applied,
      status: 'True',
      reason: reasons.work.AllApplied,
      message: `${results.length} of ${results.length} manifests applied`,
    };
  }
  const { Refused, Conflict, ApplyFailed, Applying } = reasons.work;
  const reason = notApplied.some((r) => r.refused !== undefined)
    ? Refused
    : notApplied.some((r) => r.conflict !== undefined)
      ? Conflict
      : notApplied.some((r) => r.error !== undefined)
        ? ApplyFailed
        : Applying;
  return {
    type: conditionTypes.Applied,
    status: 'False',
    reason,
    message: describe('not applied', notApplied, results.length, problemText),
  };
}

function availableCondition(results: readonly ManifestResult[], problem: ContentProblem | undefined): DesiredCondition {
  if (problem)
    return { type: conditionTypes.Available, status: 'Unknown', reason: problem.reason, message: 'the Work content could not be read' };
  const unhealthy = results.filter((r) => !isHealthy(r));
  if (unhealthy.length === 0) {
    return {
      type: conditionTypes.Available,
      status: 'True',
      reason: reasons.work.AllHealthy,
      message: `${results.length} of ${results.length} manifests healthy`,
    };
  }
  const worst = (['Degraded', 'Unknown', 'Progressing'] as const).find((s) => unhealthy.some((r) => r.applied && r.health.status === s));
  const reason = worst ?? reasons.work.NotApplied;
  return {
    type: conditionTypes.Available,
    status: 'False',
    reason,
    message: describe('not healthy', unhealthy, results.length, problemText),
  };
}

function driftedCondition(results: readonly ManifestResult[]): DesiredCondition {
  const drifted = results.filter(isDrifted);
  return drifted.length === 0
    ? { type: conditionTypes.Drifted, status: 'False', reason: reasons.work.NoDrift, message: 'every applied object matches its manifest' }
    : {
        type: conditionTypes.Drifted,
        status: 'True',
        reason: reasons.work.DriftDetected,
        message: describe('drifted', drifted, results.length, driftText),
      };
}

function degradedCondition(results: readonly ManifestResult[], problem: ContentProblem | undefined): DesiredCondition {
  if (problem) return { type: conditionTypes.Degraded, status: 'True', reason: problem.reason, message: problem.message };
  const failed = results.filter(isFailed);
  if (failed.length === 0)
    return { type: conditionTypes.Degraded, status: 'False', reason: reasons.work.NoFailures, message: 'no manifest failed' };
  const { Refused, Conflict, ApplyFailed, Unhealthy } = reasons.work;
  const reason = failed.some((r) => r.refused !== undefined)
    ? Refused
    : failed.some((r) => r.conflict !== undefined)
      ? Conflict
      : failed.some((r) => r.error !== undefined)
        ? ApplyFailed
        : Unhealthy;
  return { type: conditionTypes.Degraded, status: 'True', reason, message: describe('failed', failed, results.length, problemText) };
}

/**
 * kstatus: Stalled (read as Failed) whenever the Work is Degraded or left drifted — a conflict, a
 * refusal, an apply the spoke's apiserver rejects (a kind it does not serve), an object that failed,
 * an object that could not be pruned, drift under a Report policy: the agent keeps retrying, but
 * only a change to the Work or to the spoke resolves them, and a tool waiting on the Work must see a
 * failure rather than wait forever. Reconciling while objects are still being applied or becoming
 * healthy, Ready when all is in place and unchanged.
 */
function readinessOf(
  conditions: readonly DesiredCondition[],
  results: readonly ManifestResult[],
  problem: ContentProblem | undefined,
  pruneFailures: readonly string[],
): ReadinessOutcome {
  const { Applied, Available, Degraded, Drifted } = conditionTypes;
  const byType = (type: ConditionType): DesiredCondition | undefined => conditions.find((c) => c.type === type);
  const summary = (type: ConditionType, state: ReadinessOutcome['state']): ReadinessOutcome => ({
    state,
    reason: byType(type)?.reason ?? type,
    message: byType(type)?.message ?? '',
  });
  if (problem) return summary(Applied, problem.stalled ? 'Stalled' : 'Reconciling');
  // Only a change to the Work (or to its fleet's restrictions) resolves a refusal or a conflict.
  if (results.some((r) => r.refused !== undefined || r.conflict !== undefined)) return summary(Applied, 'Stalled');
  if (results.some((r) => r.health.status === 'Degraded')) return summary(Degraded, 'Stalled');
  if (results.some((r) => r.error !== undefined) || pruneFailures.length > 0) return summary(Applied, 'Stalled');
  if (byType(Applied)?.status !== 'True') return summary(Applied, 'Reconciling');
  if (byType(Available)?.status !== 'True') return summary(Available, 'Reconciling');
  if (byType(Drifted)?.status === 'True') return summary(Drifted, 'Stalled');
  return { state: 'Ready', reason: reasons.work.Ready, message: byType(Available)?.message ?? '' };
}

function entryOf(r: ManifestResult): ManifestStatus {
  const { group, version, kind, namespace, name } = r.identity;
  const problem = problemOf(r);
  const paths =
    r.drift?.paths.slice(0, STATUS_LIMITS.driftedFields).map((p) => truncateMessage(`.${p}`, STATUS_LIMITS.fieldPathChars)) ?? [];
  return {
    ...(group === '' ? {} : { group }),
    version,
    kind,
    ...(namespace === '' ? {} : { namespace }),
    name,
    applied: r.applied,
    health: r.health.status,
    drifted: isDrifted(r),
    ...(paths.length > 0 ? { driftedFields: paths } : {}),
    ...(problem === undefined ? {} : { message: truncateMessage(problem, STATUS_LIMITS.entryMessageChars) }),
  };
}

/** Problems first (each group in manifest order), cut to the entry count and byte budget. */
function entriesOf(results: readonly ManifestResult[]): ManifestStatus[] {
  const prioritised = [...results.filter(needsAttention), ...results.filter((r) => !needsAttention(r))];
  const entries: ManifestStatus[] = [];
  let bytes = 0;
  for (const result of prioritised.slice(0, STATUS_LIMITS.entries)) {
    const entry = entryOf(result);
    bytes += Buffer.byteLength(JSON.stringify(entry));
    if (bytes > STATUS_LIMITS.entriesBytes) break;
    entries.push(entry);
  }
  return entries;
}

/**
 * The status to write for this reconcile. Conditions keep their transition times unless their
 * status flips, so recomputing an unchanged outcome yields an equal status and no write.
 */
export function computeWorkStatus(previous: WorkStatus | undefined, input: WorkStatusInput, now: Date = new Date()): WorkStatus {
  const { results, contentProblem: problem, generation } = input;
  const pruneFailures = input.pruneFailures ?? [];
  const desired = [
    appliedCondition(results, problem, pruneFailures),
    availableCondition(results, problem),
    driftedCondition(results),
    degradedCondition(results, problem),
  ];
  let conditions = previous?.conditions ?? [];
  const stamp = { observedGeneration: generation, now, messageLimit: STATUS_LIMITS.conditionMessageChars };
  for (const condition of desired) conditions = setCondition(conditions, condition, stamp);
  conditions = setReadiness(conditions, readinessOf(desired, results, problem, pruneFailures), stamp);
  // The hub reads appliedRevision as "this revision is in place", cleanup included.
  const appliedInFull = problem === undefined && pruneFailures.length === 0 && results.every((r) => r.applied);
  const appliedRevision = appliedInFull ? input.revision : previous?.appliedRevision;
  return {
    observedGeneration: generation,
    ...(appliedRevision === undefined ? {} : { appliedRevision }),
    conditions,
    counts: countsOf(results),
    manifests: entriesOf(results),
  };
}
