import type { EventType } from '../runtime/events.js';
import type { KubeObject } from '../runtime/kube.js';
import type { DriftReport } from './drift.js';
import { identityKey } from '../work/identity.js';
import type { ManifestResult } from './status.js';

// What one apply of a Work set tells the people around the spoke, decided from plain inputs: the
// Events a spoke admin sees on the object itself (`kubectl describe`, `kubectl events`), and the
// counts a fleet operator graphs from /metrics. Bounded: no label names an object.

/** Something worth telling about one object, as the applier met it. */
export type ObjectNote =
  /** Edited or deleted since the agent applied it, and put back (driftPolicy Correct). */
  | { what: 'DriftCorrected'; object: KubeObject; drift: DriftReport }
  /** Someone else's object the Work's adoption policy does not let the agent take. */
  | { what: 'AdoptionRefused'; object: KubeObject; message: string }
  /** The apiserver refused the apply. */
  | { what: 'ApplyFailed'; object: KubeObject; message: string };

export interface SpokeEvent {
  regarding: KubeObject;
  type: EventType;
  reason: ObjectNote['what'];
  message: string;
}

/** Field paths named in a DriftCorrected message before "and N more". */
export const EVENT_DRIFT_PATHS = 5;

function driftMessage(drift: DriftReport): string {
  if (drift.missing) return 'it was deleted';
  const shown = drift.paths.slice(0, EVENT_DRIFT_PATHS).join(', ');
  const more = drift.count - Math.min(drift.count, EVENT_DRIFT_PATHS);
  return `changed: ${shown}${more > 0 ? ` and ${more} more` : ''}`;
}

/** The Event about the object a note is about; `work` names the Work set (namespace/name on the hub). */
export function objectEvent(note: ObjectNote, work: string): SpokeEvent {
  switch (note.what) {
    case 'DriftCorrected':
      return {
        regarding: note.object,
        type: 'Normal',
        reason: note.what,
        message: `Put back as Work ${work} applies it; ${driftMessage(note.drift)}`,
      };
    case 'AdoptionRefused':
      return { regarding: note.object, type: 'Warning', reason: note.what, message: `Not applying Work ${work}: ${note.message}` };
    case 'ApplyFailed':
      return { regarding: note.object, type: 'Warning', reason: note.what, message: `Applying Work ${work} failed: ${note.message}` };
  }
}

/** Why a manifest was not applied, as the apply-error metric's `reason` label. */
export type ApplyErrorReason = 'failed' | 'conflict' | 'refused';

export interface ApplyTally {
  /** Every manifest is applied at the desired revision. */
  complete: boolean;
  errors: Record<ApplyErrorReason, number>;
  corrected: number;
}

export function applyTally(results: readonly ManifestResult[], notes: readonly ObjectNote[]): ApplyTally {
  return {
    complete: results.every((r) => r.applied),
    errors: {
      failed: results.filter((r) => r.error !== undefined).length,
      conflict: results.filter((r) => r.conflict !== undefined).length,
      refused: results.filter((r) => r.refused !== undefined).length,
    },
    corrected: notes.filter((n) => n.what === 'DriftCorrected').length,
  };
}

/**
 * The objects whose drift is reported (left as they are) now, and how many of them were not the
 * last time: a drift left in place counts once when it appears, not once per reconcile.
 */
export function reportedDrift(
  previous: ReadonlySet<string>,
  results: readonly ManifestResult[],
): { drifted: Set<string>; appeared: number } {
  const drifted = new Set(results.filter((r) => r.drift?.drifted === true).map((r) => identityKey(r.identity)));
  return { drifted, appeared: [...drifted].filter((key) => !previous.has(key)).length };
}
