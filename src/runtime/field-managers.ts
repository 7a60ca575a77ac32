// Moving an object's server-side-apply ownership from one field manager to another. An apply as a
// new manager leaves the old manager's Apply entry in place: the fields it owned stay owned, so a
// field later dropped from the applied object is never removed, and every field shows two owners.
// Renaming the old entry first, as kubectl does when it moves client-side ownership to server-side
// apply, makes the next apply the sole owner's and removes what it no longer sets.
import type { Kube, JsonPatchOp, KubeObject } from './kube/types.js';
import { isRecord } from './kube.js';

/**
 * The JSON patch that renames `from`'s Apply entry (the main resource's, not a subresource's) in
 * `managedFields` to `to`, or undefined when there is none to rename. A `test` on the entry makes
 * the patch fail rather than rename another entry if managedFields changed since they were read.
 * Undefined too when `to` already has an Apply entry: two entries of one manager are not merged
 * here (flotilla renames before it ever applies as `to`, so only someone else could have made it).
 */
export function renameFieldManagerPatch(
  managedFields: readonly unknown[] | undefined,
  from: string,
  to: string,
): JsonPatchOp[] | undefined {
  const isApplyOf = (entry: unknown, manager: string): boolean =>
    isRecord(entry) && entry.manager === manager && entry.operation === 'Apply' && (entry.subresource ?? '') === '';
  const entries = managedFields ?? [];
  const index = entries.findIndex((entry) => isApplyOf(entry, from));
  if (index < 0 || entries.some((entry) => isApplyOf(entry, to))) return undefined;
  const path = `/metadata/managedFields/${index}/manager`;
  return [
    { op: 'test', path, value: from },
    { op: 'replace', path, value: to },
  ];
}

/** Renames `from`'s Apply entry on the live object to `to` (see renameFieldManagerPatch); a no-op when there is none. */
export async function adoptFieldManager(kube: Kube, live: KubeObject, from: string, to: string, signal: AbortSignal): Promise<void> {
  const patch = renameFieldManagerPatch(live.metadata.managedFields, from, to);
  if (!patch) return;
  await kube.patch({ apiVersion: live.apiVersion, kind: live.kind }, live.metadata.name ?? '', live.metadata.namespace, patch, {
    type: 'json',
    signal,
  });
}
