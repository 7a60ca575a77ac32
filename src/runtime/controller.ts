// A controller: informer events → keys in a work queue → a reconcile function run by N workers.
// The reconcile reads from the cache, writes what must change, and returns `{ requeueAfter }` to be
// visited again later or throws to be retried with backoff; it never sleeps. One key is never
// reconciled by two workers at once, and a burst of events for a key collapses into few reconciles.
// A TerminalError says retrying cannot help (a bad spec): the key is forgotten, not requeued, until
// an event brings it back — the reconcile is expected to have said why in the object's status.
import { randomUUID } from 'node:crypto';
import type { BackoffPolicy } from './backoff.js';
import type { EventRecorder } from './events.js';
import type { EventHandler, Informer, InformerSource } from './informer.js';
import { KubeApiError, objectKey, splitKey, type Kube, type KubeObject, type TypeRef } from './kube.js';
import type { Logger } from './log.js';
import type { RuntimeMetrics } from './metrics.js';
import { createWorkQueue, type WorkQueue } from './queue.js';
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
  watches?: { source: InformerSource; map: (object: KubeObject) => string[] }[];
  reconcile: Reconciler<T>;
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

  const enqueue = (object: KubeObject): void => { queue.add(objectKey(object)); };
  const primaryHandler: EventHandler<T> = {
    onAdd: enqueue,
    onUpdate: (old, current) => {
      if (!spec.for.updateFilter || spec.for.updateFilter(old, current)) enqueue(current);
    },
    onDelete: enqueue,
  };
  primary.addHandler(primaryHandler);

  for (const owned of spec.owns ?? []) {
    const source: InformerSource = 'type' in owned ? owned : { type: owned, ...(spec.for.namespace !== undefined ? { namespace: spec.for.namespace } : {}) };
    const toOwner = (object: KubeObject): void => {
      for (const ref of object.metadata.ownerReferences ?? []) {
        if (ref.controller !== true || ref.kind !== kind || ref.apiVersion.split('/')[0] !== spec.for.type.apiVersion.split('/')[0]) continue;
        // Namespaced owners live in the dependent's namespace; cluster-scoped ones are keyed by name.
        const namespacedKey = object.metadata.namespace ? `${object.metadata.namespace}/${ref.name}` : ref.name;
        queue.add(primary.store.has(ref.name) && !primary.store.has(namespacedKey) ? ref.name : namespacedKey);
      }
    };
    deps.informer(source).addHandler({ onAdd: toOwner, onUpdate: (_, current) => { toOwner(current); }, onDelete: toOwner });
  }
  for (const watch of spec.watches ?? []) {
    const map = (object: KubeObject): void => {
      for (const key of watch.map(object)) queue.add(key);
    };
    deps.informer(watch.source).addHandler({ onAdd: map, onUpdate: (old, current) => { map(old); map(current); }, onDelete: map });
  }

  async function reconcileOne(key: string, signal: AbortSignal): Promise<void> {
    const { namespace, name } = splitKey(key);
    const reconcileID = randomUUID();
    const log = deps.logger.child({ controller: spec.name, kind, namespace, name, reconcileID });
    // The queue already guarantees this; the check makes a broken invariant loud instead of subtle.
    if (activeKeys.has(key)) throw new Error(`${spec.name}: key ${key} handed out twice`);
    activeKeys.add(key);
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    const started = Date.now();
    try {
      const result = await spec.reconcile({ key, namespace, name }, {
        signal, log, reconcileID, store: primary.store, kube: deps.kube, events: deps.events,
      });
      stats.reconciles++;
      queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) queue.addAfter(key, after);
      deps.metrics.reconciled(spec.name, after !== undefined ? 'requeue' : 'success', (Date.now() - started) / 1000);
    } catch (error) {
      stats.reconciles++;
      if (signal.aborted) return; // shutting down: the next leader picks it up
      stats.errors++;
      if (error instanceof TerminalError) {
        deps.metrics.reconciled(spec.name, 'terminal', (Date.now() - started) / 1000);
        log.warn('reconcile cannot succeed as things are; not retrying until something changes', { error: error.message });
        queue.forget(key);
        return;
      }
      deps.metrics.reconciled(spec.name, 'error', (Date.now() - started) / 1000);
      log.error('reconcile failed; will retry with backoff', {
        error: error instanceof KubeApiError ? `${error.code} ${error.reason}: ${error.apiMessage}` : String(error),
        retries: queue.failures(key),
      });
      queue.addRateLimited(key);
    } finally {
      stats.active--;
      activeKeys.delete(key);
    }
  }

  return {
    name: spec.name,
    queue,
    async run(signal) {
      await primary.waitForSync(signal);
      const stop = (): void => { queue.shutdown(); };
      signal.addEventListener('abort', stop, { once: true });
      const worker = async (): Promise<void> => {
        for (;;) {
          const key = await queue.get();
          if (key === undefined) return;
          try {
            await reconcileOne(key, signal);
          } finally {
            queue.done(key);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, spec.workers ?? 1) }, worker));
      signal.removeEventListener('abort', stop);
    },
    stats: () => ({ ...stats }),
  };
}
