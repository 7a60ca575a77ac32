import { identityKey, type ManifestIdentity } from '../../work/identity.js';

// Two sources (GlobalServices, PolicyBundles) that would put the same object on the same cluster.
// Neither silently wins: the earlier source (by creationTimestamp, then kind, namespace and name,
// so the order is total and stable) keeps the object, and the later one reports a Conflict for
// that cluster, naming the object and the source that holds it. A source without a
// creationTimestamp (not yet stored) comes last. The controllers date a claim by the Work that
// carries it (claims.ts). One pass over every identity: linear in clusters × sources × objects.

export interface SourceRef {
  kind: 'GlobalService' | 'PolicyBundle';
  namespace: string;
  name: string;
  creationTimestamp?: string;
}

/** One source's rendered objects on one cluster. */
export interface SourceObjects {
  source: SourceRef;
  objects: readonly ManifestIdentity[];
}

export interface ObjectConflict {
  /** The object, as identityKey prints it (e.g. `Deployment.apps/web/api`). */
  object: string;
  /** The source that keeps it. */
  heldBy: SourceRef;
}

/** `GlobalService/fleet-a/web`: how results are keyed by source. */
export function sourceKey(source: SourceRef): string {
  return `${source.kind}/${source.namespace}/${source.name}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Earlier sources first: they keep what they claim. */
export function compareSources(a: SourceRef, b: SourceRef): number {
  const created = (source: SourceRef): number => {
    const time = Date.parse(source.creationTimestamp ?? '');
    return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
  };
  return created(a) - created(b) || compareText(a.kind, b.kind) || compareText(a.namespace, b.namespace) || compareText(a.name, b.name);
}

/**
 * For each source with a conflict: per cluster, the objects it may not ship there and who holds
 * them. Sources without conflicts are absent. `byCluster` maps a cluster to every source's objects
 * on it.
 */
export function findConflicts(byCluster: ReadonlyMap<string, readonly SourceObjects[]>): Map<string, Map<string, ObjectConflict[]>> {
  const result = new Map<string, Map<string, ObjectConflict[]>>();
  for (const [cluster, sources] of byCluster) {
    const owners = new Map<string, SourceRef>();
    for (const { source, objects } of [...sources].sort((a, b) => compareSources(a.source, b.source))) {
      for (const identity of objects) {
        const object = identityKey(identity);
        const holder = owners.get(object);
        if (holder === undefined) {
          owners.set(object, source);
          continue;
        }
        // A source may list an object twice (a duplicate in its own manifests): not a conflict here.
        if (sourceKey(holder) === sourceKey(source)) continue;
        const perCluster = result.get(sourceKey(source)) ?? new Map<string, ObjectConflict[]>();
        result.set(sourceKey(source), perCluster);
        const conflicts = perCluster.get(cluster) ?? [];
        perCluster.set(cluster, conflicts);
        conflicts.push({ object, heldBy: holder });
      }
    }
  }
  return result;
}

/** One line for a cluster's conflicts, for status and attention messages. */
export function describeConflicts(conflicts: readonly ObjectConflict[]): string {
  const shown = conflicts.slice(0, 3).map(({ object, heldBy }) => `${object} is held by ${heldBy.kind} ${heldBy.namespace}/${heldBy.name}`);
  const more = conflicts.length > 3 ? `, and ${conflicts.length - 3} more objects` : '';
  return `${shown.join('; ')}${more}`;
}
