// Claims: which objects each source (GlobalService, PolicyBundle) holds on a cluster, read from the
// Works the hub wrote there — one mechanism for every source kind. Both controllers share one Works
// cache (every Work on the hub, indexed by cluster and by source), read every source's claim on a
// cluster from it and judge with findConflicts. A source holds what its Work set carries, since the
// Work's creationTimestamp; an object it would add competes as not yet stored, after every holder.
// So the first source to ship an object keeps it, and any later claimant reports a Conflict until
// the holder lets go: a Work change re-queues the other sources that target its cluster.
import { labels, type Work } from '../../api/index.js';
import { identityKey, manifestIdentity, type ManifestIdentity } from '../../work/identity.js';
import { decodeContent } from '../../work/payload.js';
import type { IndexFunc, KubeObject } from '../../runtime/index.js';
import type { Coalesce } from '../../runtime/coalesce.js';
import { createLruCache } from '../../runtime/lru.js';
import { findConflicts, sourceKey, type ObjectConflict, type SourceObjects, type SourceRef } from './conflicts.js';

export type WorkObject = Work & KubeObject;

export const WORK_SOURCE_INDEX = 'source';
export const WORK_CLUSTER_INDEX = 'cluster';

/** `Kind/namespace/name` of a Work's source (as sourceKey prints it), from its labels. */
export const workSourceIndex: IndexFunc<WorkObject> = (work) => {
  const l = work.metadata.labels ?? {};
  const kind = l[labels.sourceKind];
  return kind === undefined ? [] : [`${kind}/${l[labels.sourceNamespace] ?? ''}/${l[labels.sourceName] ?? ''}`];
};

export const workClusterIndex: IndexFunc<WorkObject> = (work) => {
  const cluster = work.metadata.labels?.[labels.cluster];
  return cluster === undefined ? [] : [cluster];
};

/** The indexes of the shared Works cache. */
export const workIndexes: Record<string, IndexFunc<WorkObject>> = {
  [WORK_SOURCE_INDEX]: workSourceIndex,
  [WORK_CLUSTER_INDEX]: workClusterIndex,
};

/**
 * The source and object identities one Work set (all its parts) carries, since its part 0 was
 * created; undefined when the set cannot be read (a part not yet cached, or corrupt).
 */
export function setClaim(parts: readonly Work[]): SourceObjects | undefined {
  const head = parts.find((work) => (work.spec.part?.index ?? 0) === 0);
  if (!head) return undefined;
  const contents = parts.filter((work) => work.spec.manifests !== undefined || work.spec.payload !== undefined).map((work) => work.spec);
  const objects = contentIdentities(contents);
  if (!objects) return undefined;
  const { kind, namespace, name } = head.spec.source;
  const created = head.metadata.creationTimestamp;
  return {
    source: { kind, namespace, name, ...(created !== undefined ? { creationTimestamp: created } : {}) },
    objects,
  };
}

// The identities a compressed payload carries, by its sha256. One content fanned out to many
// clusters is then decoded once, not once per cluster, and a Work's status write (a new
// resourceVersion, the same spec) costs no second decode: inflating and parsing kube-prometheus
// takes a few hundred milliseconds of the event loop. Only a whole, verified payload is remembered.
const PAYLOADS_REMEMBERED = 256;
const payloadIdentities = createLruCache<readonly ManifestIdentity[]>(PAYLOADS_REMEMBERED);

/** The identities of one set's contents, or undefined when they cannot be decoded. */
function contentIdentities(contents: readonly Work['spec'][]): readonly ManifestIdentity[] | undefined {
  if (contents.length === 0) return [];
  const digest = contents[0]?.payload?.sha256;
  const count = contents[0]?.part?.count ?? 1;
  const whole =
    digest !== undefined &&
    contents.every((c) => c.payload?.sha256 === digest && (c.part?.count ?? 1) === count) &&
    new Set(contents.map((c) => c.part?.index ?? 0)).size === count &&
    contents.length === count;
  const known = whole ? payloadIdentities.get(digest) : undefined;
  if (known) return known;
  const decoded = decodeContent(contents);
  if (!decoded.ok) return undefined;
  const identities = decoded.manifests.map((m) => manifestIdentity(m));
  if (whole) payloadIdentities.set(digest, identities);
  return identities;
}

// Decoded claims per Work set, keyed by its part 0 (the cache replaces an object when it changes)
// and checked against every part's resourceVersion: each set is decoded once per change.
const decodedSets = new WeakMap<WorkObject, { versions: string; claim: SourceObjects | undefined }>();

/** Every source's claim on one cluster, from the Works there (any number of sources and parts). */
export function clusterClaims(works: readonly WorkObject[]): SourceObjects[] {
  const sets = new Map<string, WorkObject[]>();
  for (const work of works) {
    const set = work.metadata.labels?.[labels.work] ?? work.metadata.name ?? '';
    sets.set(set, [...(sets.get(set) ?? []), work]);
  }
  return [...sets.values()].flatMap((parts) => {
    const head = parts.find((work) => (work.spec.part?.index ?? 0) === 0);
    if (!head) return [];
    const versions = parts
      .map((work) => work.metadata.resourceVersion ?? '')
      .sort()
      .join(',');
    let cached = decodedSets.get(head);
    if (cached?.versions !== versions) decodedSets.set(head, (cached = { versions, claim: setClaim(parts) }));
    return cached.claim ? [cached.claim] : [];
  });
}

/**
 * What of `wanted` this source may not ship to a cluster, given every source's claim there (its
 * own live claim included). Objects its live Work already carries compete from that Work's
 * creationTimestamp; objects it would add come after every holder.
 */
export function claimConflicts(
  source: SourceRef,
  wanted: readonly ManifestIdentity[],
  onCluster: readonly SourceObjects[],
): ObjectConflict[] {
  const key = sourceKey(source);
  const others = onCluster.filter((claim) => sourceKey(claim.source) !== key);
  // The common case, met once per cluster on every reconcile: no other source names any of these objects.
  const wantedKeys = new Set(wanted.map(identityKey));
  if (!others.some((claim) => claim.objects.some((id) => wantedKeys.has(identityKey(id))))) return [];
  const live = onCluster.find((claim) => sourceKey(claim.source) === key);
  const held = new Set((live?.objects ?? []).map(identityKey));
  const unstored: SourceRef = { kind: source.kind, namespace: source.namespace, name: source.name };
  const since = live?.source.creationTimestamp;
  const claims: SourceObjects[] = [
    ...others,
    {
      source: { ...unstored, ...(since !== undefined ? { creationTimestamp: since } : {}) },
      objects: wanted.filter((id) => held.has(identityKey(id))),
    },
    { source: unstored, objects: wanted.filter((id) => !held.has(identityKey(id))) },
  ];
  return (
    findConflicts(new Map([['', claims]]))
      .get(key)
      ?.get('') ?? []
  );
}

/**
 * What each of one controller's sources (`namespace/name`) wants on the clusters it targets, as its
 * last reconcile rendered it: what a Work's changed claim is checked against, so that it wakes only
 * the sources that want one of its objects there.
 */
export interface ClusterTargets {
  /**
   * Records the objects a source wants on each cluster (clusters it targets but renders nothing
   * for are left out: no claim can change what it may write there), replacing what it wanted
   * before; an empty map forgets it.
   */
  set(source: string, wanted: ReadonlyMap<string, readonly ManifestIdentity[]>): void;
  /** The sources that want one of `objects` on a cluster; every source with wants there when the objects are not known. */
  claimants(cluster: string, objects: readonly ManifestIdentity[] | undefined): string[];
}

export function createClusterTargets(): ClusterTargets {
  const bySource = new Map<string, ReadonlyMap<string, ReadonlySet<string>>>();
  const byCluster = new Map<string, Set<string>>();
  // Renders are shared between clusters, and so are their keys.
  const keysOf = new WeakMap<readonly ManifestIdentity[], ReadonlySet<string>>();
  const keys = (identities: readonly ManifestIdentity[]): ReadonlySet<string> => {
    let found = keysOf.get(identities);
    if (!found) keysOf.set(identities, (found = new Set(identities.map(identityKey))));
    return found;
  };
  return {
    set(source, wanted) {
      for (const cluster of bySource.get(source)?.keys() ?? []) {
        const sources = byCluster.get(cluster);
        sources?.delete(source);
        if (sources?.size === 0) byCluster.delete(cluster);
      }
      if (wanted.size === 0) {
        bySource.delete(source);
        return;
      }
      bySource.set(source, new Map([...wanted].map(([cluster, identities]) => [cluster, keys(identities)])));
      for (const cluster of wanted.keys()) byCluster.set(cluster, (byCluster.get(cluster) ?? new Set()).add(source));
    },
    claimants(cluster, objects) {
      const sources = [...(byCluster.get(cluster) ?? [])];
      if (objects === undefined) return sources;
      const changed = objects.map(identityKey);
      return sources.filter((source) => {
        const wants = bySource.get(source)?.get(cluster);
        return wants !== undefined && changed.some((key) => wants.has(key));
      });
    },
  };
}

/**
 * The objects a Work claims, as far as they can be told without decoding: its manifests' identities
 * when they are inline, those of its payload when a reconcile has decoded that content already
 * (payloadIdentities: a whole set's objects, a superset of one part's), else undefined.
 */
function workIdentities(work: WorkObject): readonly ManifestIdentity[] | undefined {
  const { manifests, payload } = work.spec;
  if (manifests !== undefined) return manifests.map((manifest) => manifestIdentity(manifest));
  return payload === undefined ? [] : payloadIdentities.get(payload.sha256);
}

/** What a Work claims, as a comparable string: its objects' keys, else its payload's digest and part. */
function claimSignature(work: WorkObject): string {
  const { manifests, payload, part } = work.spec;
  if (manifests !== undefined)
    return manifests
      .map((manifest) => identityKey(manifestIdentity(manifest)))
      .sort()
      .join('\n');
  return `payload ${payload?.sha256 ?? ''} part ${String(part?.index ?? 0)}`;
}

/**
 * Whether an update changed what a Work claims. Its spec changes only with its generation (status is
 * a subresource, and most updates are its agent's status writes), and a Work deleted and made again
 * under its name, seen across a relist as one update, has another uid.
 */
function claimChanged(old: WorkObject, current: WorkObject): boolean {
  if (old.metadata.uid !== current.metadata.uid) return true;
  if (old.metadata.generation === current.metadata.generation) return false;
  return claimSignature(old) !== claimSignature(current);
}

/** A watch's mapping of events to the keys of a controller's sources. */
export interface ClaimWatch {
  map: (object: KubeObject) => string[];
  mapUpdate: (old: KubeObject, current: KubeObject) => string[];
  coalesce: Coalesce;
}

/**
 * A source's visit for its Works waits twice as long as its last pass took (at most 10 s): each
 * agent's report of a Work maps to its source, whose pass goes over all its clusters, and at 3,000
 * clusters × 10 services the reports that trickle in behind a service's writes kept it in one pass
 * after another. A small fleet's pass takes milliseconds, so its sources still answer at once.
 */
const CLAIM_COALESCE: Coalesce = { minMs: 0, passCostFactor: 2, maxMs: 10_000 };

/**
 * The watch mapping of the shared Works cache for the controller of `kind`: a Work of its own maps
 * to its source (status and content alike); a Work whose claim changed (added, its objects
 * changed, or gone) also maps to the controller's other sources that want one of its objects
 * (before or after the change) on that cluster, so a later claimant judges again, and takes an
 * object over when its holder lets go. Nothing else can change what another source may write
 * there. A status update, or a new revision of the same objects (a fan-out of a changed value), of
 * another source's Work maps to nothing, and so does a Work of objects no other source wants: waking
 * every source targeting the cluster made each Work a creating service wrote send all S services of
 * the fleet over all N clusters again (at 10,000 clusters × 10 services, two thirds of a core for
 * as long as any service was still writing). An update is judged from its old and current objects,
 * so the mapping keeps nothing per Work.
 */
export function claimWatch(kind: SourceRef['kind'], targets: ClusterTargets): ClaimWatch {
  const own = (work: WorkObject): string[] =>
    work.spec.source.kind === kind ? [`${work.spec.source.namespace}/${work.spec.source.name}`] : [];
  const withClaimants = (work: WorkObject, objects: readonly ManifestIdentity[] | undefined): string[] => {
    const mine = own(work);
    const cluster = work.metadata.labels?.[labels.cluster];
    const others = cluster === undefined ? [] : targets.claimants(cluster, objects).filter((key) => !mine.includes(key));
    return [...mine, ...others];
  };
  return {
    coalesce: CLAIM_COALESCE,
    map: (object) => withClaimants(object as WorkObject, workIdentities(object as WorkObject)),
    mapUpdate: (old, current) => {
      const before = old as WorkObject;
      const after = current as WorkObject;
      if (!claimChanged(before, after)) return own(after);
      const [was, is] = [workIdentities(before), workIdentities(after)];
      return withClaimants(after, was === undefined || is === undefined ? undefined : [...was, ...is]);
    },
  };
}
