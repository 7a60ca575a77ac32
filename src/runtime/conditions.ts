// Conditions per the Kubernetes API conventions (and kstatus, which Argo CD and Flux read):
// `lastTransitionTime` moves only when `status` flips, so re-asserting a condition is a no-op and
// a status write can be skipped when nothing really changed.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  /** For humans. */
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** A condition as its writer decides it; the setter stamps the generation and the transition time, and bounds the message. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> & { lastTransitionTime?: string };

/** The condition types kstatus defines, which setReadiness writes (src/api names them with the rest of the vocabulary). */
export const kstatusConditionTypes = { Ready: 'Ready', Reconciling: 'Reconciling', Stalled: 'Stalled' } as const;

/** The default bound on a condition message, in characters: room for a few named causes, however long their input. */
export const CONDITION_MESSAGE_LIMIT = 1024;

/** What the setter adds to every condition it sets. */
export interface ConditionStamp {
  /** The `metadata.generation` the conditions describe, written as their `observedGeneration`. */
  observedGeneration?: number;
  /** The transition time of a new or flipped condition. */
  now?: Date;
  /** The longest message kept (default CONDITION_MESSAGE_LIMIT); a longer one is cut, the cut marked. */
  messageLimit?: number;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function timestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Returns the conditions with `input` set: a new entry gets `now` as its transition time; an
 * existing one keeps its time unless the status flips. The message is cut to the stamp's bound and
 * the stamp's generation recorded. Other conditions and their order are kept. The input array is
 * not modified.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, stamp: ConditionStamp = {}): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === input.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === input.status ? existing.lastTransitionTime : (input.lastTransitionTime ?? timestamp(stamp.now));
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncateMessage(input.message, stamp.messageLimit ?? CONDITION_MESSAGE_LIMIT),
    lastTransitionTime,
    ...(stamp.observedGeneration !== undefined ? { observedGeneration: stamp.observedGeneration } : {}),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * One reconcile's outcome, as setReadiness summarises it, and what kstatus reads from it:
 * Ready → Current; Reconciling → InProgress; Stalled → Failed; Failed (Ready False and neither of
 * the others) → InProgress. So Failed is only for an error retried with backoff that may pass by
 * itself (the runtime's ReconcileFailed); a failure the user must act on — or wait out in the
 * environment — is Stalled, or kstatus-based tools wait on it until they time out.
 */
export interface ReadinessOutcome {
  state: 'Ready' | 'Reconciling' | 'Stalled' | 'Failed';
  reason: string;
  message: string;
}

/**
 * kstatus' summary for one reconcile outcome: Ready, plus Reconciling while in progress and
 * Stalled when it cannot progress without a change. Absent Reconciling/Stalled mean False.
 */
export function setReadiness(
  conditions: readonly Condition[] | undefined,
  outcome: ReadinessOutcome,
  stamp: ConditionStamp = {},
): Condition[] {
  const { Ready, Reconciling, Stalled } = kstatusConditionTypes;
  const { reason, message } = outcome;
  let next = setCondition(
    conditions,
    {
      type: Ready,
      status: outcome.state === 'Ready' ? 'True' : outcome.state === 'Reconciling' ? 'Unknown' : 'False',
      reason,
      message,
    },
    stamp,
  );
  next =
    outcome.state === 'Reconciling'
      ? setCondition(next, { type: Reconciling, status: 'True', reason, message }, stamp)
      : removeCondition(next, Reconciling);
  next =
    outcome.state === 'Stalled'
      ? setCondition(next, { type: Stalled, status: 'True', reason, message }, stamp)
      : removeCondition(next, Stalled);
  return next;
}

/** Deep equality of JSON values, ignoring key order: "would this status write change anything?" */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // Absent and undefined are the same once serialised.
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) if (!jsonEqual(ao[key], bo[key])) return false;
  return true;
}

/** Cuts a message to `max` characters, marking the cut, so a status stays bounded however long its input. */
export function truncateMessage(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
