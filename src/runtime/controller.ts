// A controller: informer events → keys in a work queue → a reconcile function run by N workers.
// The reconcile reads from the cache, writes what must change, and returns `{ requeueAfter }` to be
// visited again later or throws to be retried with backoff; it never sleeps. One key is never
// reconciled by two workers at once, and a burst of events for a key collapses into few reconciles.
// A TerminalError says retrying cannot help (a bad spec): the key is forgotten, not requeued, until
// an event brings it back — the reconcile is expected to have said why in the object's status.
// Status on every exit: any other failure the reconcile did not already describe in the object's
// status (see `alreadyReported`) is written there by the controller, as Ready=False with the spec's
// `failureReason` and the error's message, before the key is retried with backoff.
import { randomUUID } from 'node:crypto';
import type { BackoffPolicy } from './backoff.js';
import { coalesceDelay, type Coalesce } from './coalesce.js';
import { jsonEqual, setReadiness, type Condition } from './conditions.js';
import type { EventRecorder } from './events.js';
import type { EventHandler, Informer, InformerSource } from './informer.js';
import { KubeApiError, objectKey, splitKey, type Kube, type KubeObject, type TypeRef } from './kube.js';
import type { Logger } from './log.js';
import type { RuntimeMetrics } from './metrics.js';
import { createWorkQueue, type WorkQueue } from './queue.js';
import { writeStatus } from './status.js';
import type { Store } from './store.js';

export interface Request {
  /** `namespace/name`, or `name` for cluster-scoped objects. */
  key: string;
  namespace: string | undefined;
  name: string;
}

export interface ReconcileResult {
  /** Visit this key again after this many milliseconds (a timer, not a sleep). */
  requeueAfter?: number;
}

export interface ReconcileContext<T extends KubeObject> {
  /** Aborts on shutdown or loss of leadership: pass it to every request. */
  signal: AbortSignal;
  /** Carries controller, kind, namespace, name and reconcileID. */
  log: Logger;
  reconcileID: string;
  /** The primary resource's cache: read here, not from the apiserver. */
  store: Store<T>;
  kube: Kube;
  events: EventRecorder;
}

export type Reconciler<T extends KubeObject> = (request: Request, context: ReconcileContext<T>) => Promise<ReconcileResult | undefined>;

export interface ControllerSpec<T extends KubeObject> {
  /** Names the controller in logs, metrics and the queue. */
  name: string;
  /** The primary resource: its keys are what gets reconciled. */
  for: InformerSource & {
    /** Which updates deserve a reconcile (default: all). */
    updateFilter?: (old: T, current: T) => boolean;
  };
  /** Kinds whose controller ownerReference points at a primary object: a change reconciles the owner. */
  owns?: (InformerSource | TypeRef)[];
  /** Any other source, mapped to the primary keys it affects. */
  watches?: {
    source: InformerSource;
    map: (object: KubeObject) => string[];
    /**
     * The keys an update maps to, for a mapping that depends on what the update changed (default:
     * `map` of the old object and of the current one). E.g. the Works watch, which wakes other
     * sources only when a Work's claim changed: judged from the pair, it keeps no copy of any Work.
     */
    mapUpdate?: (old: KubeObject, current: KubeObject) => string[];
    /**
     * Visit a key a while after the first change that maps to it, rather than at once, so that the
     * changes of that window cost one reconcile (and at most one write). For sources that change in
     * bursts whose end state is what matters, e.g. a cluster's Works during a fan-out.
     */
    coalesce?: Coalesce;
    /** Which updates of the source deserve a visit (default: all); e.g. changedBeyondStatus. */
    updateFilter?: (old: KubeObject, current: KubeObject) => boolean;
  }[];
  reconcile: Reconciler<T>;
  /**
   * The Ready reason written into the primary object's status when a reconcile fails with an error
   * it did not report itself. Omitted: failures are only logged (for kinds without conditions).
   */
  failureReason?: string;
  /** Concurrent reconciles (of different keys). Default 1. */
  workers?: number;
  backoff?: BackoffPolicy;
  overall?: { qps: number; burst: number };
}

/**
 * Thrown by a reconcile that cannot succeed until the object (or something it names) changes: the
 * controller logs it, counts it as `terminal` and does not retry, so a bad spec is no hot loop.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

const reported = new WeakSet<object>();

/**
 * Marks an error whose cause the reconcile has already written into the object's status, so the
 * controller retries it without overwriting that (more specific) status with the bare error.
 */
export function alreadyReported<E>(error: E): E {
  if (typeof error === 'object' && error !== null) reported.add(error);
  return error;
}

function isReported(error: unknown): boolean {
  return error instanceof TerminalError || (typeof error === 'object' && error !== null && reported.has(error));
}

export interface ControllerDeps {
  kube: Kube;
  logger: Logger;
  metrics: RuntimeMetrics;
  events: EventRecorder;
  informer: <O extends KubeObject>(source: InformerSource) => Informer<O>;
}

export interface Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  /** Runs the workers until `signal` aborts, then waits for reconciles in flight. */
  run(signal: AbortSignal): Promise<void>;
  /** Reconciles so far (tests, status pages). */
  stats(): Readonly<{ reconciles: number; errors: number; active: number; maxActive: number }>;
}

export function createController<T extends KubeObject>(spec: ControllerSpec<T>, deps: ControllerDeps): Controller {
  const queue = createWorkQueue({
    ...(spec.backoff ? { backoff: spec.backoff } : {}),
    ...(spec.overall ? { overall: spec.overall } : {}),
    metrics: deps.metrics.queue(spec.name),
  });
  const primary = deps.informer<T>(spec.for);
  const kind = spec.for.type.kind;
  const stats = { reconciles: 0, errors: 0, active: 0, maxActive: 0 };
  const activeKeys = new Set<string>();
  // How long each key's last reconcile took, kept only for a watch that coalesces by that cost, and
  // only while the key's object exists.
  const passMs = spec.watches?.some((watch) => watch.coalesce?.passCostFactor !== undefined) ? new Map<string, number>() : undefined;

  enqueueEvents(spec, deps, primary, queue, passMs);

  async function reconcileOne(key: string, signal: AbortSignal): Promise<ReconcileResult | undefined> {
    const { namespace, name } = splitKey(key);
    const reconcileID = randomUUID();
    const log = deps.logger.child({ controller: spec.name, kind, namespace, name, reconcileID });
    // The queue already guarantees this; the check makes a broken invariant loud instead of subtle.
    if (activeKeys.has(key)) throw new Error(`${spec.name}: key ${key} handed out twice`);
    activeKeys.add(key);
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    const started = performance.now();
    try {
      return await spec.reconcile(
        { key, namespace, name },
        { signal, log, reconcileID, store: primary.store, kube: deps.kube, events: deps.events },
      );
    } catch (error) {
      if (!signal.aborted && !isReported(error) && spec.failureReason !== undefined) {
        const object = primary.store.get(key);
        if (object) await reportFailure(deps.kube, object, { reason: spec.failureReason, error, log, signal });
      }
      throw error;
    } finally {
      stats.active--;
      activeKeys.delete(key);
      if (passMs && primary.store.has(key)) passMs.set(key, performance.now() - started);
      else passMs?.delete(key);
    }
  }

  return {
    name: spec.name,
    queue,
    async run(signal) {
      await primary.waitForSync(signal);
      await runWorkers(queue, (key) => reconcileOne(key, signal), {
        name: spec.name,
        workers: spec.workers ?? 1,
        signal,
        logger: deps.logger.child({ controller: spec.name, kind }),
        metrics: deps.metrics,
        onResult: (result) => {
          stats.reconciles++;
          if (result === 'error' || result === 'terminal') stats.errors++;
        },
      });
    },
    stats: () => ({ ...stats }),
  };
}

/** Queues the primary object's key on its own events, its owned objects' and the mapped sources'. */
function enqueueEvents<T extends KubeObject>(
  spec: ControllerSpec<T>,
  deps: ControllerDeps,
  primary: Informer<T>,
  queue: WorkQueue,
  passMs: ReadonlyMap<string, number> | undefined,
): void {
  const kind = spec.for.type.kind;
  const enqueue = (object: KubeObject): void => {
    queue.add(objectKey(object));
  };
  const primaryHandler: EventHandler<T> = {
    onAdd: enqueue,
    onUpdate: (old, current) => {
      if (!spec.for.updateFilter || spec.for.updateFilter(old, current)) enqueue(current);
    },
    onDelete: enqueue,
  };
  primary.addHandler(primaryHandler);

  for (const owned of spec.owns ?? []) {
    const source: InformerSource =
      'type' in owned ? owned : { type: owned, ...(spec.for.namespace !== undefined ? { namespace: spec.for.namespace } : {}) };
    const toOwner = (object: KubeObject): void => {
      for (const ref of object.metadata.ownerReferences ?? []) {
        if (ref.controller !== true || ref.kind !== kind || ref.apiVersion.split('/')[0] !== spec.for.type.apiVersion.split('/')[0])
          continue;
        // Namespaced owners live in the dependent's namespace; cluster-scoped ones are keyed by name.
        const namespacedKey = object.metadata.namespace ? `${object.metadata.namespace}/${ref.name}` : ref.name;
        queue.add(primary.store.has(ref.name) && !primary.store.has(namespacedKey) ? ref.name : namespacedKey);
      }
    };
    deps.informer(source).addHandler({
      onAdd: toOwner,
      onUpdate: (_, current) => {
        toOwner(current);
      },
      onDelete: toOwner,
    });
  }
  for (const watch of spec.watches ?? []) {
    const visit = (keys: readonly string[]): void => {
      for (const key of keys) queue.addAfter(key, coalesceDelay(watch.coalesce, passMs?.get(key)));
    };
    const map = (object: KubeObject): void => {
      visit(watch.map(object));
    };
    deps.informer(watch.source).addHandler({
      onAdd: map,
      onUpdate: (old, current) => {
        if (watch.updateFilter && !watch.updateFilter(old, current)) return;
        if (watch.mapUpdate) {
          visit(watch.mapUpdate(old, current));
          return;
        }
        map(old);
        map(current);
      },
      onDelete: map,
    });
  }
}

/**
 * Whether an update changed more than the object's status: its spec (the generation), labels,
 * annotations, finalizers or deletion. For watches of objects whose status others write often
 * (a Fleet's, once a second while its members change) but whose readers only use the rest.
 */
export function changedBeyondStatus(old: KubeObject, current: KubeObject): boolean {
  const a = old.metadata;
  const b = current.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !jsonEqual(a.labels, b.labels) ||
    !jsonEqual(a.annotations, b.annotations) ||
    !jsonEqual(a.finalizers, b.finalizers)
  );
}

type ConditionedObject = KubeObject & { status?: { conditions?: Condition[] } };

/**
 * Status on every exit: a failure into the object's Ready condition, for the generation it failed
 * on. A failed write only logs: the retry tries again.
 */
async function reportFailure(
  kube: Kube,
  object: ConditionedObject,
  failure: { reason: string; error: unknown; log: Logger; signal: AbortSignal },
): Promise<void> {
  const generation = object.metadata.generation;
  const outcome = { state: 'Failed' as const, reason: failure.reason, message: describeError(failure.error) };
  try {
    await writeStatus(
      kube,
      object,
      (current) => ({
        ...current.status,
        conditions: setReadiness(current.status?.conditions, outcome, generation !== undefined ? { observedGeneration: generation } : {}),
      }),
      { signal: failure.signal },
    );
  } catch (statusError) {
    failure.log.warn('could not write the failure into the status', { error: describeError(statusError) });
  }
}

/** What became of one reconcile: `aborted` is a failure during shutdown, neither counted nor retried. */
export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal' | 'aborted';

export interface WorkerOptions {
  /** Names the loop in metrics. */
  name: string;
  /** Concurrent reconciles (of different keys); at least 1. */
  workers: number;
  /** Shuts the queue down: the workers finish the reconciles in flight and return. */
  signal: AbortSignal;
  logger: Logger;
  metrics?: Pick<RuntimeMetrics, 'reconciled'>;
  onResult?: (outcome: ReconcileOutcome, key: string) => void;
}

/**
 * The one worker loop of every controller and of the agent: takes keys from `queue`, reconciles
 * each, and maps the result as controller-runtime does — success forgets the key's failures, a
 * `requeueAfter` schedules a later visit, a thrown error requeues with backoff (unless shutting
 * down: the next leader or start picks it up). Resolves once the queue is shut down and drained.
 */
export async function runWorkers(
  queue: WorkQueue,
  reconcile: (key: string) => Promise<ReconcileResult | undefined>,
  options: WorkerOptions,
): Promise<void> {
  const { signal, logger } = options;
  const stop = (): void => {
    queue.shutdown();
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const reconcileOne = async (key: string): Promise<ReconcileOutcome> => {
    const started = Date.now();
    try {
      const after = (await reconcile(key))?.requeueAfter;
      queue.forget(key);
      const requeue = after !== undefined && after > 0;
      if (requeue) queue.addAfter(key, after);
      options.metrics?.reconciled(options.name, requeue ? 'requeue' : 'success', (Date.now() - started) / 1000);
      return requeue ? 'requeue' : 'success';
    } catch (error) {
      if (signal.aborted) return 'aborted';
      if (error instanceof TerminalError) {
        options.metrics?.reconciled(options.name, 'terminal', (Date.now() - started) / 1000);
        logger.warn('reconcile cannot succeed as things are; not retrying until something changes', { key, error: error.message });
        queue.forget(key);
        return 'terminal';
      }
      options.metrics?.reconciled(options.name, 'error', (Date.now() - started) / 1000);
      logger.error('reconcile failed; will retry with backoff', { key, error: describeError(error), retries: queue.failures(key) });
      queue.addRateLimited(key);
      return 'error';
    }
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const outcome = await reconcileOne(key);
        options.onResult?.(outcome, key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
  signal.removeEventListener('abort', stop);
}

/** An error as a status or log line shows it: the apiserver's request, code, reason and message. */
function describeError(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.method} ${error.path}: ${error.code} ${error.reason}: ${error.apiMessage}`;
  return error instanceof Error ? error.message : String(error);
}
