// The one way the hub writes Work sets, for GlobalServices and PolicyBundles alike: diff the desired
// Works of a (source, cluster) set against the live ones, apply what differs and delete parts no
// longer wanted with bounded concurrency, and on deletion drain each set before deleting it (see
// planDrain). Every write is attempted; the failures come back with the apiserver's own message so
// the caller can put them in its source's status — never only in a log.
import { labels, legacyFieldManager, WorkType, type Work } from '../../api/index.js';
import {
  adoptFieldManager,
  errorMessage,
  isNotFound,
  isRecord,
  jsonEqual,
  KubeApiError,
  timestamp,
  type Kube,
  type KubeObject,
} from '../../runtime/index.js';
import { forEachLimited } from '../../runtime/limit.js';
import type { WorkObject } from './claims.js';
import { revisionSinceAnnotation, workObjects } from '../../work/objects.js';

/** The revision of a drained Work set: no manifests, so the agent removes what the set applied. */
export const DRAIN_REVISION = 'removed';
/** Work writes in flight at once, per reconcile. */
export const WRITE_CONCURRENCY = 16;
/** Failed writes named in a status message. */
const FAILURES_NAMED = 3;

export interface WorkChanges {
  apply: Work[];
  remove: WorkObject[];
}

export const noChanges = (): WorkChanges => ({ apply: [], remove: [] });

/** Part 0 of a Work set (the Work named like the set), whose source and status speak for it. */
export function setHead<W extends Work>(works: readonly W[]): W | undefined {
  return works.find((work) => work.metadata.name === work.metadata.labels?.[labels.work]) ?? works[0];
}

/** A source's Works grouped into their sets, by cluster. */
export function byCluster(works: readonly WorkObject[]): Map<string, WorkObject[]> {
  const sets = new Map<string, WorkObject[]>();
  for (const work of works) {
    const cluster = work.metadata.labels?.[labels.cluster] ?? '';
    sets.set(cluster, [...(sets.get(cluster) ?? []), work]);
  }
  return sets;
}

const isEmptyField = (value: unknown): boolean =>
  value === null || value === '' || (Array.isArray(value) ? value.length === 0 : isRecord(value) && Object.keys(value).length === 0);

/**
 * A Work's spec as the apiserver stores it. Its manifests are embedded resources
 * (x-kubernetes-embedded-resource), whose metadata the apiserver keeps as an ObjectMeta: without
 * the empty and null fields that charts and generated YAML carry (`annotations: {}`, `labels: {}`,
 * `creationTimestamp: null`). Compared as sent, such a manifest never equals its stored self, and
 * the Work would be written again on every reconcile.
 */
export function storedWorkSpec(spec: Work['spec']): Work['spec'] {
  if (spec.manifests === undefined) return spec;
  const manifests = spec.manifests.map((manifest) => ({
    ...manifest,
    metadata: Object.fromEntries(
      Object.entries(manifest.metadata).filter(([, value]) => !isEmptyField(value)),
    ) as (typeof manifest)['metadata'],
  }));
  return { ...spec, manifests };
}

/** Whether a live Work lacks something of the desired one (spec, labels, annotations); apiserver-added fields do not count. */
export function workDiffers(desired: Work, live: Work): boolean {
  const missing = (want: Record<string, string> | undefined, have: Record<string, string> | undefined): boolean =>
    Object.entries(want ?? {}).some(([key, value]) => have?.[key] !== value);
  return (
    !jsonEqual(storedWorkSpec(desired.spec), live.spec) ||
    missing(desired.metadata.labels, live.metadata.labels) ||
    missing(desired.metadata.annotations, live.metadata.annotations)
  );
}

/** Adds to `into` the changes that make a cluster's live Work set equal `desired`: writes of what differs, deletes of parts no longer wanted. */
export function diffWorkSet(desired: readonly Work[], live: readonly WorkObject[], into: WorkChanges): void {
  const liveByName = new Map(live.map((work) => [work.metadata.name ?? '', work]));
  for (const work of desired) {
    const current = liveByName.get(work.metadata.name ?? '');
    if (!current || workDiffers(work, current)) into.apply.push(work);
  }
  const wanted = new Set(desired.map((work) => work.metadata.name));
  into.remove.push(...live.filter((work) => !wanted.has(work.metadata.name)));
}

export interface WorkWriteFailure {
  /** `namespace/name` of the Work. */
  work: string;
  verb: 'apply' | 'delete';
  /** The apiserver's message (or the transport's), without the request line. */
  message: string;
  error: unknown;
}

export interface WorkWriteOutcome {
  applied: number;
  deleted: number;
  failures: WorkWriteFailure[];
}

const keyOf = (work: Work): string => `${work.metadata.namespace ?? ''}/${work.metadata.name ?? ''}`;
const apiMessage = (error: unknown): string =>
  error instanceof KubeApiError ? `${error.reason}: ${error.apiMessage}` : errorMessage(error);

/**
 * Applies then deletes `changes`, at most WRITE_CONCURRENCY at once; a Work already gone counts as
 * deleted. A Work in `current` (the live Works, from the cache) that the legacy field manager
 * applied is made the writer's own first, so the apply removes what the Work no longer has.
 */
export async function writeWorkChanges(
  kube: Kube,
  changes: WorkChanges,
  options: { fieldManager: string; current?: readonly Work[]; signal: AbortSignal },
): Promise<WorkWriteOutcome> {
  const live = new Map((options.current ?? []).map((work) => [keyOf(work), work]));
  const outcome: WorkWriteOutcome = { applied: 0, deleted: 0, failures: [] };
  const failed =
    (work: Work, verb: WorkWriteFailure['verb']) =>
    (error: unknown): void => {
      outcome.failures.push({ work: keyOf(work), verb, message: apiMessage(error), error });
    };
  await forEachLimited(changes.apply, WRITE_CONCURRENCY, async (work) => {
    const existing = live.get(keyOf(work));
    await (
      existing
        ? adoptFieldManager(kube, existing as KubeObject & Work, legacyFieldManager, options.fieldManager, options.signal)
        : Promise.resolve()
    )
      .then(() => kube.apply(work as KubeObject & Work, { fieldManager: options.fieldManager, force: true, signal: options.signal }))
      .then(
        () => {
          outcome.applied++;
        },
        failed(work, 'apply'),
      );
  });
  await forEachLimited(changes.remove, WRITE_CONCURRENCY, (work) =>
    kube.delete(WorkType, work.metadata.name ?? '', work.metadata.namespace, { signal: options.signal }).then(
      () => {
        outcome.deleted++;
      },
      (error: unknown) => {
        if (isNotFound(error)) outcome.deleted++;
        else failed(work, 'delete')(error);
      },
    ),
  );
  return outcome;
}

/** A status message for failed Work writes: the first few, each with the apiserver's message. */
export function describeWorkWriteFailures(failures: readonly WorkWriteFailure[]): string | undefined {
  if (failures.length === 0) return undefined;
  const sorted = [...failures].sort((a, b) => (a.work < b.work ? -1 : a.work > b.work ? 1 : 0));
  const shown = sorted
    .slice(0, FAILURES_NAMED)
    .map((failure) => `could not ${failure.verb} Work ${failure.work}: ${failure.message}`)
    .join('; ');
  const more = failures.length - FAILURES_NAMED;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

export interface DrainInput {
  /** The source's live Work sets by cluster. */
  sets: ReadonlyMap<string, readonly WorkObject[]>;
  /** Whether a cluster's MemberCluster is gone or going: nobody is left to confirm. */
  memberGone: (cluster: string) => boolean;
  /** The cleanup timeout passed: delete what did not confirm. */
  expired: boolean;
  /** The revisionSinceAnnotation value for drains written now. */
  since: string;
}

export interface DrainPlan {
  changes: WorkChanges;
  /** Clusters still removing the source's objects, sorted. */
  pending: string[];
  /** Clusters whose sets are deleted unconfirmed because the timeout passed. */
  abandoned: string[];
}

/**
 * Deletion, drain then delete: each cluster's set is first rewritten to carry no manifests (and no
 * policy) at DRAIN_REVISION, so its agent prunes (or, per the Work's deletionPolicy, orphans)
 * everything and confirms by reporting appliedRevision DRAIN_REVISION; then the set is deleted.
 * A set whose member is gone, or any set once the timeout passed, is deleted at once.
 */
export function planDrain({ sets, memberGone, expired, since }: DrainInput): DrainPlan {
  const plan: DrainPlan = { changes: noChanges(), pending: [], abandoned: [] };
  for (const [cluster, live] of sets) {
    const head = setHead(live);
    if (!head) continue;
    const gone = memberGone(cluster);
    const drained = head.spec.source.revision === DRAIN_REVISION && head.status?.appliedRevision === DRAIN_REVISION;
    if (drained || gone || expired) {
      plan.changes.remove.push(...live);
      if (!drained && !gone) plan.abandoned.push(cluster);
      continue;
    }
    plan.pending.push(cluster);
    if (head.spec.source.revision === DRAIN_REVISION) continue;
    const fleet = head.metadata.labels?.[labels.fleet];
    const drain = workObjects({
      cluster,
      name: head.metadata.labels?.[labels.work] ?? head.metadata.name ?? '',
      source: { ...head.spec.source, revision: DRAIN_REVISION },
      manifests: [],
      ...(head.spec.applyOptions ? { applyOptions: head.spec.applyOptions } : {}),
      labels: { ...labelsKept(head), ...(fleet !== undefined ? { [labels.fleet]: fleet } : {}) },
      annotations: { [revisionSinceAnnotation]: since },
    });
    if (drain.ok) diffWorkSet(drain.works, live, plan.changes);
  }
  plan.pending.sort();
  plan.abandoned.sort();
  return plan;
}

/** Labels of a head worth keeping on its drain (managed-by, so caches that select on it still see the set). */
function labelsKept(head: WorkObject): Record<string, string> {
  const managedBy = head.metadata.labels?.['app.kubernetes.io/managed-by'];
  return managedBy !== undefined ? { 'app.kubernetes.io/managed-by': managedBy } : {};
}

/** One drain step of a deleted source: plan (planDrain) and write it. The caller reports pending and abandoned clusters. */
export async function drainWorkSets(
  kube: Kube,
  input: {
    own: readonly WorkObject[];
    /** The member of a cluster, if it still exists (a deleted or deleting one cannot confirm). */
    member: (cluster: string) => KubeObject | undefined;
    /** When the cleanup gives up waiting (ms since the epoch). */
    deadline: number;
    fieldManager: string;
    signal: AbortSignal;
  },
): Promise<{ outcome: WorkWriteOutcome; pending: string[]; abandoned: string[] }> {
  const { changes, pending, abandoned } = planDrain({
    sets: byCluster(input.own),
    memberGone: (cluster) => {
      const member = input.member(cluster);
      return !member || member.metadata.deletionTimestamp !== undefined;
    },
    expired: Date.now() >= input.deadline,
    since: timestamp(),
  });
  const outcome = await writeWorkChanges(kube, changes, { fieldManager: input.fieldManager, current: input.own, signal: input.signal });
  return { outcome, pending, abandoned };
}
