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

/** Which of one controller's sources (`namespace/name`) target which clusters, as their last reconcile found. */
export interface ClusterTargets {
  /** Records the clusters a source targets now, replacing what it targeted before (none: forgets it). */
  set(source: string, clusters: readonly string[]): void;
  /** The sources that target a cluster. */
  on(cluster: string): string[];
}

export function createClusterTargets(): ClusterTargets {
  const bySource = new Map<string, readonly string[]>();
  const byCluster = new Map<string, Set<string>>();
  return {
    set(source, clusters) {
      for (const cluster of bySource.get(source) ?? []) {
        const sources = byCluster.get(cluster);
        sources?.delete(source);
        if (sources?.size === 0) byCluster.delete(cluster);
      }
      if (clusters.length === 0) {
        bySource.delete(source);
        return;
      }
      bySource.set(source, [...clusters]);
      for (const cluster of clusters) byCluster.set(cluster, (byCluster.get(cluster) ?? new Set()).add(source));
    },
    on: (cluster) => [...(byCluster.get(cluster) ?? [])],
  };
}

/**
 * What a Work claims, as far as it can be told without decoding: its objects' identities when its
 * manifests are inline, else its payload's digest (new content may claim other objects).
 */
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
}

/**
 * The watch mapping of the shared Works cache for the controller of `kind`: a Work of its own maps
 * to its source (status and content alike); a Work whose claim changed (added, its objects
 * changed, or gone) also maps to the controller's other sources that target that cluster, so a
 * later claimant judges again, and takes an object over when its holder lets go. A status update,
 * or a new revision of the same objects (a fan-out of a changed value), of another source's Work
 * maps to nothing: re-judging every source on every Work change made each reconcile of a fan-out
 * to N clusters wake all S services, S × N of work per change. An update is judged from its old
 * and current objects, so the mapping keeps nothing per Work (it kept each Work's last claim
 * signature: two maps of 33,000 at 3,000 clusters, 11 MiB of the hub's heap).
 */
export function claimWatch(kind: SourceRef['kind'], targets: ClusterTargets): ClaimWatch {
  const own = (work: WorkObject): string[] =>
    work.spec.source.kind === kind ? [`${work.spec.source.namespace}/${work.spec.source.name}`] : [];
  const withClaimants = (work: WorkObject): string[] => {
    const mine = own(work);
    const cluster = work.metadata.labels?.[labels.cluster];
    const others = cluster === undefined ? [] : targets.on(cluster).filter((key) => !mine.includes(key));
    return [...mine, ...others];
  };
  return {
    map: (object) => withClaimants(object as WorkObject),
    mapUpdate: (old, current) =>
      claimChanged(old as WorkObject, current as WorkObject) ? withClaimants(current as WorkObject) : own(current as WorkObject),
  };
}
