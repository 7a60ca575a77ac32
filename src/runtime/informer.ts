// An informer keeps a Store in step with the apiserver for one resource (and namespace/selector):
// list, then watch from the list's resourceVersion with bookmarks. It survives what real clusters do
// to watches — the server closing them (timeoutSeconds), the apiserver restarting, 410 Gone when our
// resourceVersion fell out of the watch cache window or etcd was compacted, and the silent death of
// a connection that never errors (client-node has no client-side timeout; we run a watchdog).
//
// On 410 it relists and diffs against the cache, so nothing is lost (deletions that happened while we
// could not watch become delete events) and nothing is duplicated (unchanged resourceVersions emit
// nothing). Handlers run synchronously and must only enqueue keys: an exception is caught and logged.
import type { Logger } from 'winston';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { sleep } from './clock.js';
import { isGone, isTooManyRequests, KubeApiError, objectKey, type Kube, type KubeObject, type TypeRef } from './kube.js';
import { createStore, type IndexFunc, type Store } from './store.js';

export interface InformerSource {
  type: TypeRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface EventHandler<T extends KubeObject = KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(old: T, current: T): void;
  onDelete?(object: T): void;
}

/** Counters an informer reports (metrics.ts turns them into Prometheus series). */
export interface InformerMetrics {
  relisted?(reason: 'initial' | 'gone' | 'error'): void;
  watchRestarted?(reason: 'closed' | 'silent' | 'error' | 'gone'): void;
  event?(type: string): void;
}

export interface InformerOptions<T extends KubeObject = KubeObject> extends InformerSource {
  kube: Kube;
  indexes?: Record<string, IndexFunc<T>>;
  /** Server-side watch timeout; jittered ×[1, 2) like client-go so many watches don't end together. */
  watchTimeoutSeconds?: number;
  /**
   * No event and no bookmark for this long means the watch is dead without saying so: restart it.
   * The apiserver sends a bookmark about once a minute, so the default leaves room for two.
   */
  silenceTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Page size for lists (all pages are read). */
  pageSize?: number;
  /** Cache only each object's metadata (lists and watches ask for PartialObjectMetadata): to learn what exists and when it changes, for a fraction of the bytes. */
  metadataOnly?: boolean;
  logger?: Logger;
  metrics?: InformerMetrics;
  /**
   * What the cache keeps of each listed or watched object (client-go's SetTransform): drop what no
   * reader of this cache needs before it is stored, so a cache of 100,000 objects holds less. It is
   * given the object as parsed, which nothing else holds: it may keep and change it (see
   * createCacheTransform).
   */
  transform?: (object: T) => T;
}

export interface Informer<T extends KubeObject = KubeObject> {
  readonly source: InformerSource;
  readonly store: Store<T>;
  addHandler(handler: EventHandler<T>): void;
  hasSynced(): boolean;
  /** Resolves once the first list is in the cache (rejects if `signal` aborts first). */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** The resourceVersion the cache is at: the last list, event or bookmark. */
  resourceVersion(): string;
  /** Runs until `signal` aborts. Never rejects for apiserver trouble: it retries with backoff. */
  run(signal: AbortSignal): Promise<void>;
  /** Counters for tests and status pages. */
  stats(): Readonly<{ lists: number; watches: number; gone: number; silent: number; errors: number }>;
}

// eslint-disable-next-line max-lines-per-function -- the list/watch loop, its store, handlers and watchdog share private state in this closure, as client-go's reflector does in one struct.
export function createInformer<T extends KubeObject = KubeObject>(options: InformerOptions<T>): Informer<T> {
  const { kube, logger } = options;
  const store = createStore<T>(options.indexes);
  const handlers: EventHandler<T>[] = [];
  const watchTimeout = options.watchTimeoutSeconds ?? 300;
  const silenceMs = options.silenceTimeoutMs ?? 150_000;
  const backoff = options.backoff ?? { baseMs: 200, maxMs: 30_000, factor: 2, jitter: 0.2 };
  const metrics = options.metrics ?? {};
  const { transform } = options;
  const source: InformerSource = {
    type: options.type,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
  };
  const resource = `${options.type.kind}.${options.type.apiVersion}`;
  const stats = { lists: 0, watches: 0, gone: 0, silent: 0, errors: 0 };

  let synced = false;
  let resolveSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });
  let rv = '';

  function dispatch(fn: (h: EventHandler<T>) => void): void {
    for (const handler of handlers) {
      try {
        fn(handler);
      } catch (error) {
        logger?.error('informer event handler threw; handlers must only enqueue', { resource, error: String(error) });
      }
    }
  }

  async function relist(signal: AbortSignal, reason: 'initial' | 'gone' | 'error'): Promise<void> {
    const listed = await kube.list<T>(options.type, {
      ...selectorOptions(),
      ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
      ...(options.metadataOnly === true ? { metadataOnly: true } : {}),
      signal,
    });
    stats.lists++;
    metrics.relisted?.(reason);
    const changes = store.replace(transform ? listed.items.map(transform) : listed.items);
    rv = listed.resourceVersion;
    for (const object of changes.added) dispatch((h) => h.onAdd?.(object));
    for (const { old, current } of changes.updated) dispatch((h) => h.onUpdate?.(old, current));
    for (const object of changes.deleted) dispatch((h) => h.onDelete?.(object));
    if (!synced) {
      synced = true;
      resolveSynced();
    }
    logger?.debug('informer listed', { resource, reason, count: listed.items.length, resourceVersion: rv });
  }

  function selectorOptions(): { namespace?: string; labelSelector?: string; fieldSelector?: string } {
    return {
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
    };
  }

  /** One watch from `rv` until it ends; answers how it ended. Throws on errors (incl. 410). */
  async function watchOnce(signal: AbortSignal): Promise<'closed' | 'silent'> {
    const watchAbort = new AbortController();
    const onParentAbort = (): void => {
      watchAbort.abort(signal.reason);
    };
    signal.addEventListener('abort', onParentAbort, { once: true });
    const watchdogState = { silent: false };
    let watchdog: NodeJS.Timeout | undefined;
    const armWatchdog = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        watchdogState.silent = true;
        watchAbort.abort(new Error(`watch silent for ${silenceMs} ms`));
      }, silenceMs);
    };
    armWatchdog();
    stats.watches++;
    try {
      const timeoutSeconds = Math.floor(watchTimeout * (1 + Math.random()));
      for await (const event of kube.watch<T>(options.type, {
        ...selectorOptions(),
        resourceVersion: rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        ...(options.metadataOnly === true ? { metadataOnly: true } : {}),
        signal: watchAbort.signal,
      })) {
        armWatchdog();
        metrics.event?.(event.type);
        if (event.type === 'BOOKMARK') {
          rv = event.object.metadata.resourceVersion;
          continue;
        }
        const object = transform && event.type !== 'DELETED' ? transform(event.object) : event.object;
        const key = objectKey(object);
        if (object.metadata.resourceVersion) rv = object.metadata.resourceVersion;
        if (event.type === 'DELETED') {
          const old = store.remove(key);
          dispatch((h) => h.onDelete?.(old ?? object));
        } else {
          const old = store.upsert(object);
          if (!old) dispatch((h) => h.onAdd?.(object));
          else dispatch((h) => h.onUpdate?.(old, object));
        }
      }
      return 'closed';
    } catch (error) {
      if (watchdogState.silent && !aborted(signal)) return 'silent';
      throw error;
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', onParentAbort);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let listReason: 'initial' | 'gone' | 'error' | undefined = 'initial';
    let failures = 0;
    let goneInARow = 0;
    while (!signal.aborted) {
      try {
        if (listReason !== undefined) {
          await relist(signal, listReason);
          listReason = undefined;
        }
        const ended = await watchOnce(signal);
        failures = 0;
        goneInARow = 0;
        if (ended === 'silent') {
          stats.silent++;
          logger?.warn('watch went silent; restarting it', { resource, resourceVersion: rv });
        }
        metrics.watchRestarted?.(ended);
        continue;
      } catch (error) {
        if (aborted(signal)) break;
        if (isGone(error)) {
          // Our resourceVersion is older than the apiserver still serves: the cache may have missed
          // events, so relist and diff. At once the first time; 410s in a row back off.
          stats.gone++;
          goneInARow++;
          metrics.watchRestarted?.('gone');
          logger?.info('resourceVersion too old (410); relisting', { resource, resourceVersion: rv });
          listReason = 'gone';
          if (goneInARow === 1) continue;
        } else {
          stats.errors++;
          metrics.watchRestarted?.('error');
          // Answers that are not transient (403 after an RBAC change) are retried too: the runtime
          // never gives up on a resource; it waits, backs off and says why.
          logger?.warn('list/watch failed; retrying with backoff', {
            resource,
            error: error instanceof KubeApiError ? `${error.code} ${error.reason}: ${error.apiMessage}` : String(error),
          });
          // Before the first list succeeded there is nothing to resume from.
          if (!synced) listReason = stats.lists === 0 ? 'initial' : 'error';
        }
        failures++;
        const wait =
          error instanceof KubeApiError && isTooManyRequests(error) && error.retryAfterSeconds !== undefined
            ? error.retryAfterSeconds * 1000
            : backoffDelay(backoff, failures);
        await sleep(wait, signal).catch(() => undefined);
      }
    }
  }

  return {
    source,
    store,
    addHandler(handler) {
      handlers.push(handler);
      // A handler added after sync first hears about what is already cached, as in client-go.
      if (synced)
        for (const object of store.list()) {
          try {
            handler.onAdd?.(object);
          } catch (error) {
            logger?.error('informer event handler threw; handlers must only enqueue', { resource, error: String(error) });
          }
        }
    },
    hasSynced: () => synced,
    async waitForSync(signal) {
      if (synced) return;
      if (!signal) return syncedPromise;
      await Promise.race([
        syncedPromise,
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(new Error('aborted before sync'));
          signal.addEventListener(
            'abort',
            () => {
              reject(new Error('aborted before sync'));
            },
            { once: true },
          );
        }),
      ]);
    },
    resourceVersion: () => rv,
    run,
    stats: () => ({ ...stats }),
  };
}

/** A stable key for sharing one informer among controllers that watch the same thing. */
export function sourceKey(source: InformerSource): string {
  return [source.type.apiVersion, source.type.kind, source.namespace ?? '', source.labelSelector ?? '', source.fieldSelector ?? ''].join(
    '|',
  );
}

/** Read through a call: TypeScript narrows `signal.aborted` as if it could not change across awaits. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
