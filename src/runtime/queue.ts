// A keyed work queue with client-go's guarantees: a key is queued at most once however often it is
// added; a key being processed is never handed to a second worker, and if it was added meanwhile it
// is queued again when the first worker is done; failures requeue with per-key exponential backoff
// and an overall token bucket; `addAfter` schedules a later visit (requeueAfter) without sleeping.
import { backoffDelay, defaultBackoff, tokenBucket, type BackoffPolicy, type TokenBucket } from './backoff.js';
import { realClock, type Clock, type Timer } from './clock.js';

/** What the queue reports, so metrics.ts can expose it; all optional. */
export interface QueueMetrics {
  depth?(depth: number): void;
  added?(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued?(seconds: number): void;
  /** Seconds a worker held the key. */
  worked?(seconds: number): void;
  retried?(): void;
}

export interface QueueOptions {
  backoff?: BackoffPolicy;
  /** Overall limit on rate-limited (failure) requeues: qps and burst. Default 10 qps, burst 100. */
  overall?: { qps: number; burst: number };
  clock?: Clock;
  metrics?: QueueMetrics;
}

export interface WorkQueue {
  add(key: string): void;
  /** Adds the key after `ms` (immediately when <= 0); of several pending delays the earliest wins. */
  addAfter(key: string, ms: number): void;
  /** Adds after the key's backoff (grown by one failure) or the overall limit, whichever is later. */
  addRateLimited(key: string): void;
  /** Clears the key's failure count: call after a successful reconcile. */
  forget(key: string): void;
  failures(key: string): number;
  /** Waits for a key; resolves undefined once the queue is shut down (queued keys are dropped). */
  get(): Promise<string | undefined>;
  /** Marks a key from `get` as finished; a re-add that came in meanwhile queues it now. */
  done(key: string): void;
  len(): number;
  /** Keys currently held by workers. */
  processing(): number;
  /** Stops handing out keys; pending `get`s resolve undefined; delayed adds are dropped. */
  shutdown(): void;
  isShutdown(): boolean;
}

// eslint-disable-next-line max-lines-per-function -- the queue's dirty/processing sets, delays and rate limiter are private state of this closure, as in client-go's workqueue.
export function createWorkQueue(options: QueueOptions = {}): WorkQueue {
  const clock = options.clock ?? realClock;
  const policy = options.backoff ?? defaultBackoff;
  const bucket: TokenBucket = tokenBucket(options.overall?.qps ?? 10, options.overall?.burst ?? 100);
  const metrics = options.metrics ?? {};

  const queue: string[] = [];
  let head = 0; // queue[head..] is live; compacted now and then so shift() stays O(1)
  const dirty = new Set<string>();
  const inProcess = new Set<string>();
  const addedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const waiting = new Map<string, { at: number; timer: Timer }>();
  const failureCounts = new Map<string, number>();
  const getters: ((key: string | undefined) => void)[] = [];
  let stopped = false;

  const length = (): number => queue.length - head;
  const reportDepth = (): void => metrics.depth?.(length());

  function push(key: string): void {
    const getter = getters.shift();
    if (getter) {
      take(key);
      getter(key);
      return;
    }
    queue.push(key);
    reportDepth();
  }

  function take(key: string): void {
    inProcess.add(key);
    dirty.delete(key);
    const at = addedAt.get(key);
    addedAt.delete(key);
    if (at !== undefined) metrics.queued?.((clock.now() - at) / 1000);
    startedAt.set(key, clock.now());
  }

  const q: WorkQueue = {
    add(key) {
      if (stopped || dirty.has(key)) return;
      metrics.added?.();
      dirty.add(key);
      addedAt.set(key, clock.now());
      if (inProcess.has(key)) return; // done() queues it again
      push(key);
    },
    addAfter(key, ms) {
      if (stopped) return;
      if (ms <= 0) {
        q.add(key);
        return;
      }
      const at = clock.now() + ms;
      const existing = waiting.get(key);
      if (existing && existing.at <= at) return;
      existing?.timer.cancel();
      const timer = clock.setTimer(ms, () => {
        waiting.delete(key);
        q.add(key);
      });
      waiting.set(key, { at, timer });
    },
    addRateLimited(key) {
      const failures = (failureCounts.get(key) ?? 0) + 1;
      failureCounts.set(key, failures);
      metrics.retried?.();
      q.addAfter(key, Math.max(backoffDelay(policy, failures), bucket.reserve(clock.now())));
    },
    forget(key) {
      failureCounts.delete(key);
    },
    failures: (key) => failureCounts.get(key) ?? 0,
    get() {
      if (stopped) return Promise.resolve(undefined); // shutting down: start no new work
      if (length() > 0) {
        const key = queue[head++] as string;
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        take(key);
        reportDepth();
        return Promise.resolve(key);
      }
      return new Promise((resolve) => getters.push(resolve));
    },
    done(key) {
      if (!inProcess.delete(key)) return;
      const started = startedAt.get(key);
      startedAt.delete(key);
      if (started !== undefined) metrics.worked?.((clock.now() - started) / 1000);
      if (dirty.has(key) && !stopped) push(key);
    },
    len: length,
    processing: () => inProcess.size,
    shutdown() {
      stopped = true;
      for (const { timer } of waiting.values()) timer.cancel();
      waiting.clear();
      for (const getter of getters.splice(0)) getter(undefined);
    },
    isShutdown: () => stopped,
  };
  return q;
}
