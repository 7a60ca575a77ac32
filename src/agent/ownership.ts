import { createHash } from 'node:crypto';
import { annotations, labels, type AdoptionPolicy, type DeletionPolicy } from '../api/index.js';
import type { KubeObject, ObjectMeta } from '../runtime/kube.js';
import { detectDrift } from './drift.js';
import { withoutKey } from './object.js';

/** The Work that owns an object on the spoke. */
export interface WorkRef {
  namespace: string;
  name: string;
}

/** Selects a Work's objects (for pruning); its value is bounded, so it may be a shortened hash. */
export const WORK_LABEL = labels.work;
/** The owning Work's full `namespace/name`; the authority when present. */
export const WORK_ANNOTATION = annotations.work;

const MAX_LABEL_VALUE = 63;
const HASH_LENGTH = 10;

/**
 * `<namespace>.<name>`, or when that exceeds a label value's 63 characters, a prefix of it plus a
 * hash of the whole, so that the value stays unique and still hints at the Work.
 */
export function workLabelValue(work: WorkRef): string {
  const full = `${work.namespace}.${work.name}`;
  if (full.length <= MAX_LABEL_VALUE) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
  return `${full.slice(0, MAX_LABEL_VALUE - HASH_LENGTH - 1)}-${hash}`;
}

export function workAnnotationValue(work: WorkRef): string {
  return `${work.namespace}/${work.name}`;
}

/** A copy of the manifest carrying the marks of its Work; the input is left alone. */
export function stampOwnership(manifest: KubeObject, work: WorkRef): KubeObject {
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      labels: { ...manifest.metadata.labels, [WORK_LABEL]: workLabelValue(work) },
      annotations: { ...manifest.metadata.annotations, [WORK_ANNOTATION]: workAnnotationValue(work) },
    },
  };
}

function withoutOwnershipMarks(manifest: KubeObject): KubeObject {
  const labels = withoutKey(manifest.metadata.labels ?? {}, WORK_LABEL);
  const annotations = withoutKey(manifest.metadata.annotations ?? {}, WORK_ANNOTATION);
  return { ...manifest, metadata: { ...manifest.metadata, labels, annotations } };
}

export type Ownership =
  | { state: 'Unowned' }
  | { state: 'Ours' }
  /** `work` is the other Work's `namespace/name`, or its label value when only the label is left. */
  | { state: 'OtherWork'; work: string };

export function ownershipOf(metadata: ObjectMeta, work: WorkRef): Ownership {
  const annotation = metadata.annotations?.[WORK_ANNOTATION];
  if (annotation !== undefined) {
    return annotation === workAnnotationValue(work) ? { state: 'Ours' } : { state: 'OtherWork', work: annotation };
  }
  const label = metadata.labels?.[WORK_LABEL];
  if (label !== undefined) {
    return label === workLabelValue(work) ? { state: 'Ours' } : { state: 'OtherWork', work: label };
  }
  return { state: 'Unowned' };
}

export type AdoptionDecision =
  | { action: 'Create' }
  | { action: 'Apply' }
  | { action: 'Adopt' }
  | {
      action: 'Conflict';
      reason: 'OwnedByOtherWork' | 'AdoptionDisallowed' | 'FieldsDiffer';
      message: string;
      /** Set for `OwnedByOtherWork`. */
      owner?: string;
      /** Set for `FieldsDiffer`: where the live object disagrees with the manifest (capped). */
      paths?: string[];
    };

/**
 * What to do with the manifest given what is live. An object another flotilla Work owns is a
 * conflict under every policy: two sources claiming one object must be reported, never raced.
 */
export function decideAdoption(
  manifest: KubeObject,
  live: KubeObject | undefined,
  work: WorkRef,
  policy: AdoptionPolicy,
): AdoptionDecision {
  if (live === undefined) return { action: 'Create' };
  const ownership = ownershipOf(live.metadata, work);
  if (ownership.state === 'Ours') return { action: 'Apply' };
  if (ownership.state === 'OtherWork') {
    return {
      action: 'Conflict',
      reason: 'OwnedByOtherWork',
      owner: ownership.work,
      message: `already managed by Work ${ownership.work}`,
    };
  }
  switch (policy) {
    case 'Always':
      return { action: 'Adopt' };
    case 'Never':
      return {
        action: 'Conflict',
        reason: 'AdoptionDisallowed',
        message: 'exists and is not managed by flotilla; adoption policy is Never',
      };
    case 'IfNoConflict': {
      // Our own marks are not on a foreign object yet; adding them takes nothing from anyone.
      const differences = detectDrift(withoutOwnershipMarks(manifest), live, { maxPaths: 5 });
      if (!differences.drifted) return { action: 'Adopt' };
      return {
        action: 'Conflict',
        reason: 'FieldsDiffer',
        paths: differences.paths,
        message: `exists, is not managed by flotilla, and differs from the manifest in ${differences.count} field(s): ${differences.paths.join(', ')}`,
      };
    }
  }
}

export type PruneDecision =
  | { allowed: true; action: DeletionPolicy; because?: string }
  | { allowed: false; reason: 'NotOwned' | 'OwnedByOtherWork'; message: string };

/**
 * Whether a live object may be deleted when its manifest leaves the Work: only if it carries our mark;
 * and how: the Work's deletion policy, unless the object asks to be kept, as Helm reads it
 * (`helm.sh/resource-policy: keep`, trimmed and case-insensitive) or as flotilla does
 * (`flotilla.dev/prune: disabled`). A kept object is released (orphaned), never deleted.
 */
export function decidePrune(live: KubeObject, work: WorkRef, policy: DeletionPolicy): PruneDecision {
  const ownership = ownershipOf(live.metadata, work);
  switch (ownership.state) {
    case 'Ours': {
      const marks = live.metadata.annotations ?? {};
      if (marks[annotations.helmResourcePolicy]?.trim().toLowerCase() === 'keep') {
        return { allowed: true, action: 'Orphan', because: `${annotations.helmResourcePolicy}: keep` };
      }
      if (marks[annotations.prune]?.trim().toLowerCase() === 'disabled') {
        return { allowed: true, action: 'Orphan', because: `${annotations.prune}: disabled` };
      }
      return { allowed: true, action: policy };
    }
    case 'OtherWork':
      return { allowed: false, reason: 'OwnedByOtherWork', message: `managed by Work ${ownership.work}, not ours` };
    case 'Unowned':
      return { allowed: false, reason: 'NotOwned', message: 'carries no flotilla ownership mark' };
  }
}
