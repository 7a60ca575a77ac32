import type { Manifest } from '../../api/index.js';
import { digestOf } from '../../runtime/json.js';

// Helm hooks, mapped onto flotilla's apply.
//
// Helm runs a hook (a manifest annotated `helm.sh/hook: EVENT[,EVENT…]`) at a point of a release's
// life, waits for it (Jobs until complete), then deletes it as `helm.sh/hook-delete-policy` says.
// flotilla has no release life on the spokes: the agent applies one desired set with server-side
// apply, in its kind order (src/agent/order.ts: Namespaces and CRDs, other cluster-scoped objects,
// namespaced ones in Helm's kind order, admission last) and does not wait for Jobs. Argo CD maps
// hooks to sync phases; flotilla maps them onto that single apply like this:
//
// | event                                       | flotilla                                                      |
// | ------------------------------------------- | ------------------------------------------------------------- |
// | pre-install, post-install,                  | shipped with the rest of the release and applied in the kind  |
// | pre-upgrade, post-upgrade                   | order; every cluster gets it, new or upgraded alike            |
// | crd-install (Helm 2)                        | shipped like an ordinary manifest (CRDs are applied first)      |
// | test, test-success, test-failure            | shipped only with the includeTests option (default: not)      |
// | pre-delete, post-delete, pre-rollback,      | never run: flotilla has no uninstall or rollback step          |
// | post-rollback, and any event Helm lacks     | (deleting the service prunes what it shipped; a revert is a    |
// |                                             | new rollout)                                                  |
//
// Nothing is dropped silently: every event not run is listed in the render's `skippedHooks` (with
// whether the manifest still ships for its other events), for the service's status to show.
//
// What does not carry over, by design:
// - `helm.sh/hook-weight` does not order anything: the kind order does, and a pre-install Job
//   runs beside the workloads, not before them (charts' hook Jobs retry until what they need is
//   there, e.g. ingress-nginx's certificate Jobs and webhook patch).
// - `helm.sh/hook-delete-policy` is not honoured: a shipped hook stays, like every shipped
//   manifest, until it leaves the desired set, and its health counts (a failed Job is Degraded).
// - Helm re-creates a hook on every install and upgrade. A Job or a Pod cannot be changed in place
//   (their templates are immutable), so a shipped Job or Pod hook is named after its content:
//   `NAME-<8 hex>` (shortened to fit 63 characters). A
//   changed hook is then a new object that runs again, and the former one is pruned, which is what
//   Helm's default `before-hook-creation` does.
// - A hook Job's `spec.ttlSecondsAfterFinished` is left out, for the same reason as the delete
//   policy: with it the cluster deletes the finished Job, the agent puts its missing object back,
//   and the hook runs again, for ever (ingress-nginx's certificate Jobs set it to 0). The Job stays
//   complete instead, as the content-named object of that revision.

export const HOOK_ANNOTATION = 'helm.sh/hook';

const SHIPPED_EVENTS = new Set(['pre-install', 'post-install', 'pre-upgrade', 'post-upgrade', 'crd-install']);
const TEST_EVENTS = new Set(['test', 'test-success', 'test-failure']);
const RENAMED_KINDS = new Set(['Job.batch', 'Pod']);
const NAME_LIMIT = 63;
const HASH_LENGTH = 8;

/** A hook event flotilla does not run, and for which manifest. */
export interface SkippedHook {
  /** `Job web/db-cleanup`, as the chart names it. */
  manifest: string;
  /** The events of its annotation that do not run. */
  events: string[];
  /** Whether the manifest is shipped for its other events. */
  shipped: boolean;
  reason: string;
}

function hookEvents(manifest: Manifest): string[] | undefined {
  const annotation = manifest.metadata.annotations?.[HOOK_ANNOTATION];
  if (annotation === undefined) return undefined;
  const events = annotation
    .split(',')
    .map((event) => event.trim())
    .filter((event) => event !== '');
  // An empty annotation names no event: the manifest is an ordinary one.
  return events.length === 0 ? undefined : events;
}

function describe(manifest: Manifest): string {
  const namespace = manifest.metadata.namespace === undefined ? '' : `${manifest.metadata.namespace}/`;
  return `${manifest.kind} ${namespace}${manifest.metadata.name}`;
}

function reasonFor(events: readonly string[], includeTests: boolean): string {
  if (events.some((event) => TEST_EVENTS.has(event)) && !includeTests) return 'Helm test hooks are shipped only when tests are included';
  if (events.some((event) => event.includes('delete')))
    return 'flotilla has no uninstall step: deleting the service prunes what it shipped';
  if (events.some((event) => event.includes('rollback'))) return 'flotilla has no rollback step: a revert is a new rollout';
  return 'not a Helm hook event flotilla runs';
}

function groupKindKeyOf(manifest: Manifest): string {
  const slash = manifest.apiVersion.indexOf('/');
  return slash === -1 ? manifest.kind : `${manifest.kind}.${manifest.apiVersion.slice(0, slash)}`;
}

/** `NAME-<8 hex of the content>`, at most 63 characters, for an immutable hook object. */
export function contentName(manifest: Manifest): string {
  const base = manifest.metadata.name.replace(/[-.]+$/, '');
  const hash = digestOf(manifest).slice(0, HASH_LENGTH);
  return `${base.slice(0, NAME_LIMIT - HASH_LENGTH - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/** One line for status.source.skippedHooks: `Job apps/db-cleanup (pre-delete): why`. */
export function describeSkippedHook(hook: SkippedHook): string {
  return `${hook.manifest} (${hook.events.join(', ')})${hook.shipped ? ' shipped for its other events, but' : ''}: ${hook.reason}`;
}

export interface HookSelection {
  /** Every manifest to ship, hooks included (Job and Pod hooks renamed), in render order. */
  manifests: Manifest[];
  skippedHooks: SkippedHook[];
}

/** Which rendered manifests ship and which hook events do not run (see the module comment). */
export function selectHooks(rendered: readonly Manifest[], includeTests: boolean): HookSelection {
  const manifests: Manifest[] = [];
  const skippedHooks: SkippedHook[] = [];
  for (const manifest of rendered) {
    const events = hookEvents(manifest);
    if (events === undefined) {
      manifests.push(manifest);
      continue;
    }
    const runs = (event: string): boolean => SHIPPED_EVENTS.has(event) || (includeTests && TEST_EVENTS.has(event));
    const notRun = events.filter((event) => !runs(event));
    const shipped = notRun.length < events.length;
    if (notRun.length > 0)
      skippedHooks.push({ manifest: describe(manifest), events: notRun, shipped, reason: reasonFor(notRun, includeTests) });
    if (!shipped) continue;
    const kind = groupKindKeyOf(manifest);
    const kept = kind === 'Job.batch' ? withoutFinishedTTL(manifest) : manifest;
    manifests.push(RENAMED_KINDS.has(kind) ? { ...kept, metadata: { ...kept.metadata, name: contentName(kept) } } : kept);
  }
  return { manifests, skippedHooks };
}

/** A Job without `spec.ttlSecondsAfterFinished` (see the module comment). */
function withoutFinishedTTL(job: Manifest): Manifest {
  const spec = job.spec as Record<string, unknown> | undefined;
  if (spec === undefined || !('ttlSecondsAfterFinished' in spec)) return job;
  return { ...job, spec: Object.fromEntries(Object.entries(spec).filter(([field]) => field !== 'ttlSecondsAfterFinished')) };
}
