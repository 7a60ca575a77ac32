import { fieldManagers, legacyFieldManager, type Manifest } from '../api/index.js';
import { isConflict, isForbidden, isNotFound, KubeApiError, type Kube, type KubeObject } from '../runtime/kube.js';
import { adoptFieldManager } from '../runtime/field-managers.js';
import { forEachLimited } from '../runtime/limit.js';
import type { Logger } from '../runtime/log.js';
import { admitManifest, agentProtected, type AdmissionRules } from '../work/admission.js';
import type { ObjectNote } from './apply-report.js';
import { assessHealth } from './health.js';
import { groupKindKey, groupKindOf, identityKey, manifestIdentity } from '../work/identity.js';
import { applyOrder } from './order.js';
import { decidePrune, stampOwnership, WORK_ANNOTATION, WORK_LABEL, type WorkRef } from './ownership.js';
import {
  definedKind,
  inventoryObject,
  isEstablished,
  namespacesToList,
  planManifest,
  type EffectiveApplyOptions,
  type InventoryEntry,
} from './plan.js';
import { rbacRefusal, unwatchable, type SpokeCache } from './spoke-cache.js';
import type { ManifestResult } from './status.js';

// The applier carries out the plans of plan.ts on the spoke: server-side apply in dependency order,
// custom resources after their CRD is Established, and pruning in reverse order. It reads live
// objects from the spoke cache and writes only what a plan calls for.

export interface ApplierContext {
  kube: Kube;
  cache: SpokeCache;
  logger: Logger;
  signal: AbortSignal;
  work: WorkRef;
  options: EffectiveApplyOptions;
  /** What the Work may ship (its fleet's restrictions and the agent's protection): a refused manifest is neither applied nor pruned. */
  admission: AdmissionRules;
}

export interface ApplyOutcome {
  /** One per manifest, in the Work's order. */
  results: ManifestResult[];
  /** Identity keys of the manifests not applied as written (failed, conflicting, waiting), sorted. */
  unapplied: string[];
  /** Some manifests wait for a CRD to be Established (or served): visit again soon. */
  waiting: boolean;
  /** Writes made. */
  writes: number;
  /** Objects corrected, refused for adoption or failed, in the order met: the spoke's Events about them. */
  notes: ObjectNote[];
  /** Some manifests conflict with an object another flotilla Work holds: it may let go without a watch event of ours. */
  heldByAnotherWork: boolean;
}

/** Objects of one kind are applied this many at a time; kinds follow each other in order. */
const CONCURRENCY = 16;

/** Consecutive runs of one kind, keeping the order. */
function runsOfKind<T extends KubeObject>(ordered: readonly T[]): T[][] {
  const runs: T[][] = [];
  let last: string | undefined;
  for (const manifest of ordered) {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    if (key !== last) runs.push([]);
    runs[runs.length - 1]?.push(manifest);
    last = key;
  }
  return runs;
}

const messageOf = (error: unknown): string =>
  error instanceof KubeApiError ? error.apiMessage : error instanceof Error ? error.message : String(error);

export function applyErrorMessage(error: unknown): string {
  return error instanceof KubeApiError && isForbidden(error) ? rbacRefusal(error.apiMessage) : messageOf(error);
}

/**
 * Applies `manifests` in dependency order. `lastApplied` holds, by identity key, the manifests as
 * the agent last applied them. One object's failure is reported in its result and blocks nothing.
 */
// eslint-disable-next-line max-lines-per-function -- one pass over the ordered manifests; its per-manifest step (applyOne) shares the pass's results and counters.
export async function applyManifests(
  context: ApplierContext,
  manifests: readonly Manifest[],
  lastApplied: ReadonlyMap<string, Manifest>,
): Promise<ApplyOutcome> {
  const { kube, cache, work, options, signal } = context;
  const resultByManifest = new Map<Manifest, ManifestResult>();
  const unapplied: string[] = [];
  const definedByWork = new Set(manifests.map(definedKind).filter((k): k is string => k !== undefined));
  const notEstablished = new Set<string>();
  const notes: ObjectNote[] = [];
  let waiting = false;
  let writes = 0;
  let heldByAnotherWork = false;
  // One line per pass at info (a line per object cost as much CPU as the applies on a large Work).
  const appliedByReason: Record<string, number> = {};

  const applyOne = async (manifest: Manifest, absent: ReadonlySet<string>): Promise<void> => {
    const identity = manifestIdentity(manifest, cache.resolveScope);
    const key = identityKey(identity);
    const verdict = admitManifest(manifest, context.admission, cache.resolveScope);
    if (!verdict.allowed) {
      resultByManifest.set(manifest, {
        identity,
        applied: false,
        health: { status: 'Unknown', reason: 'Refused', message: 'not applied' },
        refused: `${verdict.message} (${verdict.rule})`,
      });
      unapplied.push(key);
      return;
    }
    const stamped = stampOwnership(manifest, work);
    const previous = lastApplied.get(key);
    // The cache holds only flotilla's objects: absence there is confirmed by a read (a list of the
    // namespace, or a GET), because an object someone else created is what adoption must decide about.
    const cached = cache.get(manifest, identity.namespace, identity.name);
    let live =
      cached ??
      (absent.has(key)
        ? undefined
        : await kube.getOrNull(manifest, identity.name, identity.namespace === '' ? undefined : identity.namespace, { signal })) ??
      undefined;
    const plan = planManifest({
      manifest: stamped,
      lastApplied: previous ? stampOwnership(previous, work) : undefined,
      live,
      work,
      options,
    });
    const result: ManifestResult = { identity, applied: false, health: assessHealth(live) };
    resultByManifest.set(manifest, result);
    if (plan.action === 'Conflict') {
      result.conflict = plan.message;
      // In the cache means marked by a flotilla Work: that Work may leave, and only a look again tells.
      heldByAnotherWork ||= cached !== undefined;
      unapplied.push(key);
      notes.push({ what: 'AdoptionRefused', object: live ?? stamped, message: plan.message });
      return;
    }
    if (plan.action === 'Apply') {
      try {
        // What the agent applied before it had its own field manager becomes its own, so this apply removes what the manifest dropped.
        if (live) await adoptFieldManager(kube, live, legacyFieldManager, fieldManagers.agent, signal);
        live = await kube.apply(stamped, { fieldManager: fieldManagers.agent, force: plan.force, signal });
        cache.noteOwnWrite(manifest, live);
        writes++;
        appliedByReason[plan.reason] = (appliedByReason[plan.reason] ?? 0) + 1;
        // winston formats a line before its transport drops it by level: at 500 objects a cold apply
        // spent 80 ms of CPU on debug lines that nobody saw.
        if (context.logger.isDebugEnabled())
          context.logger.debug('applied object', {
            reason: plan.reason,
            kind: manifest.kind,
            namespace: identity.namespace,
            name: identity.name,
          });
      } catch (error) {
        if (signal.aborted) throw error;
        if (isConflict(error)) result.conflict = messageOf(error);
        else result.error = applyErrorMessage(error);
        unapplied.push(key);
        notes.push({ what: 'ApplyFailed', object: live ?? stamped, message: applyErrorMessage(error) });
        return;
      }
      if (plan.reason === 'Correct') notes.push({ what: 'DriftCorrected', object: live, drift: plan.drift });
    }
    result.applied = true;
    result.health = assessHealth(live);
    if (plan.action === 'Report') result.drift = plan.drift;
    const defines = definedKind(manifest);
    if (defines !== undefined && !isEstablished(live)) notEstablished.add(defines);
  };

  for (const run of runsOfKind(applyOrder(manifests, cache.resolveScope))) {
    const first = run[0] as Manifest;
    const kind = groupKindKey(groupKindOf(first));
    const access = notEstablished.has(kind) ? ({ state: 'unserved' } as const) : await cache.ensure(first, signal);
    if (access.state !== 'watched') {
      // A kind this Work defines and the spoke does not serve yet is waited for; any other is an error.
      const byWork = access.state === 'unserved' && definedByWork.has(kind);
      waiting ||= byWork;
      const why = unwatchable(first, access);
      for (const manifest of run) {
        const result: ManifestResult = {
          identity: manifestIdentity(manifest, cache.resolveScope),
          applied: false,
          health: { status: 'Unknown', reason: byWork ? 'WaitingForCRD' : why.reason, message: why.message },
          ...(byWork ? {} : { error: why.error }),
        };
        resultByManifest.set(manifest, result);
        unapplied.push(identityKey(result.identity));
      }
      continue;
    }
    const absent = await confirmedAbsent(context, run);
    await forEachLimited(run, CONCURRENCY, (manifest) => applyOne(manifest, absent));
  }
  if (writes > 0) context.logger.info('applied objects', { objects: writes, ...appliedByReason });
  const results = manifests.map((m) => resultByManifest.get(m) as ManifestResult);
  return { results, unapplied: unapplied.sort(), waiting, writes, notes, heldByAnotherWork };
}

/**
 * The identity keys of the manifests of `run` (one kind) that the cache lacks and a metadata-only
 * list of their namespace (namespacesToList: where there are many) does not name: they did not
 * exist when listed, as a 404 would have said, so applying them needs no GET each. A name the list
 * has is someone else's object (ours would be in the cache): applyOne reads it in full, since
 * adoption judges the whole object.
 */
async function confirmedAbsent(context: ApplierContext, run: readonly Manifest[]): Promise<Set<string>> {
  const { kube, cache, signal } = context;
  const misses = run
    .map((manifest) => ({ manifest, identity: manifestIdentity(manifest, cache.resolveScope) }))
    .filter(({ manifest, identity }) => cache.get(manifest, identity.namespace, identity.name) === undefined);
  const absent = new Set<string>();
  const first = run[0];
  if (first === undefined) return absent;
  for (const namespace of namespacesToList(misses.map(({ identity }) => identity))) {
    const listed = await kube.list(first, { ...(namespace === '' ? {} : { namespace }), metadataOnly: true, limit: 500, signal });
    const existing = new Set(listed.items.map((item) => item.metadata.name));
    for (const { identity } of misses)
      if (identity.namespace === namespace && !existing.has(identity.name)) absent.add(identityKey(identity));
  }
  return absent;
}

export interface PruneOutcome {
  /** Entries still to prune (deletes that failed): they stay in the inventory. */
  remaining: InventoryEntry[];
  writes: number;
  errors: string[];
}

/**
 * Deletes (or, under the Orphan policy or an object's own keep mark, releases) the objects of
 * `entries`, in the given order. An object is only touched when it carries this Work's mark; one that
 * is gone, foreign or of a kind no longer served is simply forgotten.
 */
export async function pruneEntries(context: ApplierContext, entries: readonly InventoryEntry[]): Promise<PruneOutcome> {
  const { kube, cache, work, options, signal, logger } = context;
  const remaining: InventoryEntry[] = [];
  const errors: string[] = [];
  let writes = 0;
  // Kept in the inventory with its reason: a delete that failed, or a kind the agent may not see now, is tried again later.
  const keep = (entry: InventoryEntry, message: string): void => {
    remaining.push(entry);
    errors.push(`${entry.kind} ${entry.namespace ? `${entry.namespace}/` : ''}${entry.name}: ${message}`);
  };
  for (const entry of entries) {
    const object = inventoryObject(entry);
    const access = await cache.ensure(object, signal);
    if (access.state === 'unserved') continue;
    if (access.state === 'forbidden') {
      keep(entry, access.message);
      continue;
    }
    const live = cache.get(object, entry.namespace ?? '', entry.name);
    if (!live || live.metadata.deletionTimestamp !== undefined) continue;
    const fields = { kind: entry.kind, namespace: entry.namespace, name: entry.name };
    const own = agentProtected(live, context.admission.protectedNamespaces, cache.resolveScope);
    if (own !== undefined) {
      logger.warn('not pruning an object the agent runs on; forgetting it', { ...fields, reason: own });
      continue;
    }
    const decision = decidePrune(live, work, options.deletionPolicy);
    if (!decision.allowed) {
      logger.info('not pruning an object that is not ours', { ...fields, reason: decision.reason });
      continue;
    }
    try {
      if (decision.action === 'Orphan') {
        // Released, not deleted: without our marks it is nobody's, and may be adopted again later.
        await kube.patch(
          object,
          entry.name,
          entry.namespace,
          {
            metadata: { labels: { [WORK_LABEL]: null }, annotations: { [WORK_ANNOTATION]: null } },
          },
          { type: 'merge', signal },
        );
        logger.info('orphaned object removed from its Work', { ...fields, ...(decision.because ? { because: decision.because } : {}) });
      } else {
        await kube.delete(object, entry.name, entry.namespace, {
          propagationPolicy: 'Background',
          signal,
          ...(live.metadata.uid ? { preconditions: { uid: live.metadata.uid } } : {}),
        });
        logger.info('pruned object removed from its Work', fields);
      }
      writes++;
    } catch (error) {
      if (signal.aborted) throw error;
      if (isNotFound(error)) continue;
      keep(entry, messageOf(error));
    }
  }
  return { remaining, writes, errors };
}
