import type { ApplyOptions, Manifest } from '../../../api/index.js';
import { timestamp } from '../../../runtime/conditions.js';
import { mapInSlices } from '../../../runtime/slices.js';
import type { WorkObject } from '../../works/claims.js';
import type { RenderError } from '../render/errors.js';
import type { RenderResult } from '../render/render.js';
import { sourceWorkName } from '../../../work/naming.js';
import { revisionSinceAnnotation, workObjects } from '../../../work/objects.js';
import { encodeContentInSlices } from '../../../work/payload.js';
import { diffWorkSet, noChanges, setHead, type WorkChanges } from '../../works/writer.js';
import type { RolloutPlan } from './plan.js';
import type { ClusterSummaryState } from './status.js';

// Which clusters get a Work write this reconcile, and with what: the rollout plan's decision turned
// into Work changes, plus the cluster states as they are once those writes land (what the status
// summary reports). Pure (asynchronous only to run in slices), so every rule is table-tested (work-writes.test.ts):
// - Nothing is written while `blocked` (a source that cannot be read, a refused manifest): every
//   cluster keeps the last revision that passed, and untargeted clusters keep theirs too.
// - A cluster gets `revision` when the plan updates it; a cluster already at `revision` is kept
//   current (a label change re-renders it) with the generation and revision-since it has.
// - A cluster the plan joins gets the stable revision's content, rendered for it.
// - Clusters that cannot render, are in conflict or are paused get nothing; a set too large for
//   the Works becomes that cluster's render error.
// - The sets of clusters no longer targeted are deleted.

export interface WorkWritesInput {
  service: { namespace: string; name: string; generation: number };
  revision: string;
  /** Each target's state as read from its Work, with render errors and conflicts. */
  states: readonly ClusterSummaryState[];
  plan: Pick<RolloutPlan, 'update' | 'join'>;
  /** Each target's render at `revision`. */
  rendered: ReadonlyMap<string, RenderResult>;
  /** The last completed revision and the joining clusters' renders of it. */
  stable?: { revision: string; rendered: ReadonlyMap<string, RenderResult> };
  /** The service's live Work sets by cluster. */
  live: ReadonlyMap<string, readonly WorkObject[]>;
  targets: ReadonlySet<string>;
  applyOptions: ApplyOptions;
  labels: Record<string, string>;
  blocked: boolean;
  now: Date;
}

export interface WorkWrites {
  changes: WorkChanges;
  /** `states` after the writes: a cluster given a revision is at it, not yet Available. */
  states: ClusterSummaryState[];
}

export async function planWorkWrites(input: WorkWritesInput): Promise<WorkWrites> {
  const changes = noChanges();
  if (input.blocked) return { changes, states: [...input.states] };
  const update = new Set(input.plan.update);
  const join = new Set(input.plan.join);
  const since = timestamp(input.now);
  const name = sourceWorkName({ kind: 'GlobalService', name: input.service.name });
  // In slices: a step per cluster, over the whole fleet (mapInSlices).
  const states = await mapInSlices(input.states, (state): ClusterSummaryState => {
    const atRevision = state.revision === input.revision;
    const joining = join.has(state.name) && input.stable !== undefined;
    const revision = joining ? (input.stable?.revision ?? input.revision) : input.revision;
    const result = joining ? input.stable?.rendered.get(state.name) : input.rendered.get(state.name);
    if (!result?.ok || state.conflict !== undefined || state.paused || (!atRevision && !joining && !update.has(state.name))) return state;
    const live = input.live.get(state.name) ?? [];
    const head = setHead(live);
    const desired = workObjects({
      cluster: state.name,
      name,
      source: {
        kind: 'GlobalService',
        namespace: input.service.namespace,
        name: input.service.name,
        revision,
        generation: atRevision && head ? head.spec.source.generation : input.service.generation,
      },
      manifests: result.manifests,
      applyOptions: input.applyOptions,
      labels: input.labels,
      annotations: { [revisionSinceAnnotation]: (atRevision ? head?.metadata.annotations?.[revisionSinceAnnotation] : undefined) ?? since },
    });
    if (!desired.ok) return { ...state, renderError: { reason: desired.reason, message: desired.message } satisfies RenderError };
    diffWorkSet(desired.works, live, changes);
    if (atRevision) return state;
    const given: ClusterSummaryState = { ...state, revision, available: false, degraded: false, revisionSince: Date.parse(since) };
    delete given.problem;
    return given;
  });
  for (const [cluster, live] of input.live) if (!input.targets.has(cluster)) changes.remove.push(...live);
  return { changes, states };
}

/**
 * Encodes each distinct render of `renders` once, in slices (encodeContentInSlices), before
 * planWorkWrites runs: planning is synchronous and pure, and finds every encoding made (workObjects
 * is given the same manifests and the default encoding), so a fan-out of a multi-megabyte payload
 * never holds the event loop for more than one manifest's serialisation at a time.
 */
export async function encodeRenders(renders: readonly (ReadonlyMap<string, RenderResult> | undefined)[]): Promise<void> {
  const distinct = new Set<readonly Manifest[]>();
  for (const rendered of renders) for (const result of rendered?.values() ?? []) if (result.ok) distinct.add(result.manifests);
  for (const manifests of distinct) await encodeContentInSlices(manifests);
}
