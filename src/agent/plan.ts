import type { ApplyOptions } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { isRecord, type KubeObject } from '../runtime/kube.js';
import { detectDrift, type DriftReport } from './drift.js';
import { field } from './object.js';
import { groupKindKey, groupKindOf, identityKey, manifestIdentity, type ScopeResolver } from '../work/identity.js';
import { pruneOrder } from './order.js';
import { decideAdoption, type WorkRef } from './ownership.js';

// What the agent does with each manifest and each object it remembers, decided from plain inputs:
// the manifest (already stamped with its Work's marks), what the agent last applied for it, and the
// live object from the watch cache. The Kubernetes-touching shell (applier.ts) only carries it out.

/** A Work's apply options with the schema's defaults filled in. */
export type EffectiveApplyOptions = Required<ApplyOptions>;

export function effectiveApplyOptions(options: ApplyOptions | undefined): EffectiveApplyOptions {
  return {
    driftPolicy: options?.driftPolicy ?? 'Correct',
    deletionPolicy: options?.deletionPolicy ?? 'Delete',
    adoption: options?.adoption ?? 'Never',
    force: options?.force ?? false,
  };
}

export type ManifestPlan =
  /** The live object already matches and the manifest is what was last applied: no request. */
  | { action: 'Skip' }
  | { action: 'Apply'; reason: 'Create' | 'Update' | 'Adopt'; force: boolean }
  /** Drift under the Correct policy: applied again with force, `drift` saying what is put back. */
  | { action: 'Apply'; reason: 'Correct'; force: true; drift: DriftReport }
  | { action: 'Conflict'; message: string }
  /** Drift under the Report policy: leave the object as it is and say what differs. */
  | { action: 'Report'; drift: DriftReport };

export interface ManifestPlanInput {
  /** The manifest with its ownership marks (stampOwnership). */
  manifest: KubeObject;
  /** The same manifest as the agent last applied it (from its local copy), if any. */
  lastApplied: KubeObject | undefined;
  live: KubeObject | undefined;
  work: WorkRef;
  options: EffectiveApplyOptions;
}

/**
 * One manifest's plan. A manifest that differs from what was last applied is an update and is
 * applied (SSA also drops fields the manifest no longer sets). An unchanged manifest whose live
 * object still matches needs nothing. Otherwise someone else changed the object: drift, corrected
 * with force (an edit moves field ownership to the editor, so only force takes it back) or reported.
 */
export function planManifest({ manifest, lastApplied, live, work, options }: ManifestPlanInput): ManifestPlan {
  const adoption = decideAdoption(manifest, live, work, options.adoption);
  if (adoption.action === 'Conflict') return { action: 'Conflict', message: adoption.message };
  if (adoption.action === 'Adopt') return { action: 'Apply', reason: 'Adopt', force: options.force || options.adoption === 'Always' };
  const changed = lastApplied === undefined || !jsonEqual(manifest, lastApplied);
  if (adoption.action === 'Create' && changed) return { action: 'Apply', reason: 'Create', force: options.force };
  if (changed) return { action: 'Apply', reason: 'Update', force: options.force };
  const drift = detectDrift(manifest, live);
  if (!drift.drifted) return { action: 'Skip' };
  return options.driftPolicy === 'Correct' ? { action: 'Apply', reason: 'Correct', force: true, drift } : { action: 'Report', drift };
}

// ---------------------------------------------------------------------------------------------
// Inventory: what the agent created or adopted for a Work and has not pruned yet. Kept in the local
// copy, so pruning never has to list every kind in the cluster, and survives restarts.

export interface InventoryEntry {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export function inventoryEntry(object: KubeObject, resolveScope?: ScopeResolver): InventoryEntry {
  const { namespace, name } = manifestIdentity(object, resolveScope);
  return { apiVersion: object.apiVersion, kind: object.kind, ...(namespace === '' ? {} : { namespace }), name };
}

/** The entry as a minimal object, for the order and identity functions and for requests. */
export function inventoryObject(entry: InventoryEntry): KubeObject {
  return {
    apiVersion: entry.apiVersion,
    kind: entry.kind,
    metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) },
  };
}

export const inventoryKey = (entry: InventoryEntry, resolveScope?: ScopeResolver): string =>
  identityKey(manifestIdentity(inventoryObject(entry), resolveScope));

/** `a` then whatever of `b` is not in `a` (by identity), sorted by key so equal sets compare equal. */
export function mergeInventory(a: readonly InventoryEntry[], b: readonly InventoryEntry[], resolveScope?: ScopeResolver): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>();
  for (const entry of [...a, ...b]) {
    const key = inventoryKey(entry, resolveScope);
    if (!byKey.has(key)) byKey.set(key, entry);
  }
  return [...byKey].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, entry]) => entry);
}

/** Remembered objects the desired manifests no longer name, in the order to delete them. */
export function pruneCandidates(
  inventory: readonly InventoryEntry[],
  desired: readonly KubeObject[],
  resolveScope?: ScopeResolver,
): InventoryEntry[] {
  const wanted = new Set(desired.map((m) => identityKey(manifestIdentity(m, resolveScope))));
  const gone = inventory.filter((entry) => !wanted.has(inventoryKey(entry, resolveScope)));
  const byObject = new Map(gone.map((entry) => [inventoryObject(entry), entry]));
  return pruneOrder([...byObject.keys()], resolveScope).map((object) => byObject.get(object) as InventoryEntry);
}

// ---------------------------------------------------------------------------------------------
// CRDs: custom resources wait for the CRD in the same Work that defines them to be Established.

const CRD_KEY = 'CustomResourceDefinition.apiextensions.k8s.io';

/** `Kind.group` of the resources a CRD manifest defines, or undefined for any other manifest. */
export function definedKind(manifest: KubeObject): string | undefined {
  if (groupKindKey(groupKindOf(manifest)) !== CRD_KEY) return undefined;
  const group = field(manifest, 'spec', 'group');
  const kind = field(manifest, 'spec', 'names', 'kind');
  return typeof group === 'string' && typeof kind === 'string' ? groupKindKey({ group, kind }) : undefined;
}

export function isEstablished(crd: KubeObject | undefined): boolean {
  const conditions = field(crd, 'status', 'conditions');
  return Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c.type === 'Established' && c.status === 'True');
}

/**
 * From this many objects of one kind in one namespace missing from the watch cache, one metadata-only
 * list of the namespace tells which of them exist, instead of a GET each: below it, a list of a busy
 * namespace would cost more than the GETs it saves.
 */
export const LIST_LOOKUP_AT = 8;

/**
 * The namespaces ('' for cluster scope) in which to look up the cache's misses of one kind with a
 * list rather than a GET per object, sorted: those with at least LIST_LOOKUP_AT misses.
 */
export function namespacesToList(misses: readonly { namespace: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const { namespace } of misses) counts.set(namespace, (counts.get(namespace) ?? 0) + 1);
  return [...counts]
    .filter(([, count]) => count >= LIST_LOOKUP_AT)
    .map(([namespace]) => namespace)
    .sort();
}
