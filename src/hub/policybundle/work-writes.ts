// Which clusters get a Work write for a bundle, and with what. Pure, table-tested
// (work-writes.test.ts):
// - Every cluster the placement may update gets the bundle's content, less the objects another
//   source holds there (a conflict is reported, never fought over).
// - The sets of clusters no longer targeted are deleted.
// - A Work too large for one cluster is too large for all (the content is the same): the whole
//   plan is refused, naming that cluster, and nothing is written.
import { labels, managedBy } from '../../api/index.js';
import { identityKey, manifestIdentity } from '../../work/identity.js';
import { sourceWorkName } from '../../work/naming.js';
import { workObjects } from '../../work/objects.js';
import type { WorkObject } from '../works/claims.js';
import { diffWorkSet, noChanges, type WorkChanges } from '../works/writer.js';
import type { HeldObject } from './compliance.js';
import type { RenderedBundle } from './render.js';

export interface BundleWorkWritesInput {
  bundle: { namespace: string; name: string; generation: number };
  fleet: string;
  rendered: RenderedBundle;
  /** Clusters the placement may write to now. */
  updatable: readonly string[];
  targets: ReadonlySet<string>;
  /** Per cluster, the bundle's objects another source holds there. */
  held: ReadonlyMap<string, readonly HeldObject[]>;
  /** The bundle's live Work sets by cluster. */
  live: ReadonlyMap<string, readonly WorkObject[]>;
}

export type BundleWorkWrites = { ok: true; changes: WorkChanges } | { ok: false; reason: string; message: string };

export function planBundleWorkWrites(input: BundleWorkWritesInput): BundleWorkWrites {
  const changes = noChanges();
  const name = sourceWorkName({ kind: 'PolicyBundle', name: input.bundle.name });
  for (const cluster of input.updatable) {
    const held = new Set((input.held.get(cluster) ?? []).map((h) => h.conflict.object));
    const result = workObjects({
      cluster,
      name,
      manifests: input.rendered.manifests.filter((m) => !held.has(identityKey(manifestIdentity(m)))),
      policy: input.rendered.policy,
      source: { kind: 'PolicyBundle', ...input.bundle, revision: input.rendered.revision },
      // Every option spelled out, defaults included, so the live Work compares equal and idle writes nothing.
      applyOptions: { driftPolicy: 'Correct', deletionPolicy: 'Delete', adoption: 'Always', force: false },
      labels: { [labels.fleet]: input.fleet, ...managedBy },
    });
    if (!result.ok) return { ok: false, reason: result.reason, message: `the bundle's Work for cluster ${cluster}: ${result.message}` };
    diffWorkSet(result.works, input.live.get(cluster) ?? [], changes);
  }
  for (const [cluster, live] of input.live) if (!input.targets.has(cluster)) changes.remove.push(...live);
  return { ok: true, changes };
}
