// Kubernetes Events (core/v1, which `kubectl describe` and `kubectl events` show) for notable
// transitions, with the protections client-go's recorder has: identical events are aggregated into
// one Event whose `count` grows (patched at most every `patchIntervalMs`), and a per-object token
// bucket drops the excess, so a reconcile stuck in a hot loop cannot flood the apiserver.
// Recording never throws and never blocks a reconcile: writes happen in the background.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'winston';
import { tokenBucket, type TokenBucket } from './backoff.js';
import { timestamp } from './conditions.js';
import type { Kube, KubeObject } from './kube.js';

export type EventType = 'Normal' | 'Warning';

export interface AggregatorOptions {
  /** Same event again within this window counts into the existing one (default 10 min). */
  windowMs?: number;
  /** At most one count update per event per this interval (default 30 s). */
  patchIntervalMs?: number;
  /** Per object: burst of events and refill rate (default 25, one per 5 min, like client-go). */
  burst?: number;
  refillPerSecond?: number;
}

export type Decision =
  | { action: 'create'; name: string; count: number }
  | { action: 'patch'; name: string; count: number }
  | { action: 'defer'; name: string; count: number } // counted; written with a later patch
  | { action: 'drop' };

interface Series {
  name: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  lastWritten: number;
}

export interface EventAggregator {
  /** Decides what to write for one occurrence; `objectKey` identifies the regarding object. */
  decide(objectKey: string, aggregationKey: string, now: number, namePrefix?: string): Decision;
  /** Series whose deferred counts are due for a patch now. */
  due(now: number): { aggregationKey: string; name: string; count: number }[];
  markWritten(aggregationKey: string, now: number): void;
  size(): number;
}

export function createEventAggregator(
  options: AggregatorOptions = {},
  newName: () => string = () => randomBytes(8).toString('hex'),
): EventAggregator {
  const windowMs = options.windowMs ?? 600_000;
  const patchIntervalMs = options.patchIntervalMs ?? 30_000;
  const burst = options.burst ?? 25;
  const refill = options.refillPerSecond ?? 1 / 300;
  const series = new Map<string, Series>();
  const buckets = new Map<string, TokenBucket>();
  const pending = new Set<string>();

  function prune(now: number): void {
    // Bounded memory: forget series idle for a whole window.
    if (series.size < 4096) return;
    for (const [key, s] of series) if (now - s.lastSeen > windowMs) series.delete(key);
  }

  return {
    decide(objectKey, aggregationKey, now, namePrefix = 'event') {
      prune(now);
      const existing = series.get(aggregationKey);
      if (existing && now - existing.lastSeen <= windowMs) {
        existing.count++;
        existing.lastSeen = now;
        if (now - existing.lastWritten >= patchIntervalMs) {
          existing.lastWritten = now;
          pending.delete(aggregationKey);
          return { action: 'patch', name: existing.name, count: existing.count };
        }
        pending.add(aggregationKey);
        return { action: 'defer', name: existing.name, count: existing.count };
      }
      // A new Event: this is what the spam filter limits.
      let bucket = buckets.get(objectKey);
      if (!bucket) buckets.set(objectKey, (bucket = tokenBucket(refill, burst)));
      // A dropped event still takes its token: a hot loop keeps itself quiet until it cools down.
      if (bucket.reserve(now) > 0) return { action: 'drop' };
      const name = `${namePrefix.slice(0, 200)}.${newName()}`;
      series.set(aggregationKey, { name, count: 1, firstSeen: now, lastSeen: now, lastWritten: now });
      pending.delete(aggregationKey);
      return { action: 'create', name, count: 1 };
    },
    due(now) {
      const result: { aggregationKey: string; name: string; count: number }[] = [];
      for (const key of pending) {
        const s = series.get(key);
        if (!s) {
          pending.delete(key);
          continue;
        }
        if (now - s.lastWritten >= patchIntervalMs) result.push({ aggregationKey: key, name: s.name, count: s.count });
      }
      return result;
    },
    markWritten(aggregationKey, now) {
      const s = series.get(aggregationKey);
      if (s) s.lastWritten = now;
      pending.delete(aggregationKey);
    },
    size: () => series.size,
  };
}

export interface EventRecorder {
  /** Records an event about `regarding`; returns at once. */
  event(regarding: KubeObject, type: EventType, reason: string, message: string): void;
  /** Writes deferred counts and waits for in-flight writes (on shutdown). */
  flush(): Promise<void>;
}

export interface RecorderOptions extends AggregatorOptions {
  kube: Kube;
  /** `source.component` / `reportingComponent`, e.g. `flotilla-hub`. */
  component: string;
  /** `reportingInstance`, e.g. the pod name. */
  instance?: string;
  logger?: Logger;
  /** Namespace for events about cluster-scoped objects (default `default`). */
  clusterScopedNamespace?: string;
}

// eslint-disable-next-line max-lines-per-function -- the recorder's aggregation, pending counts and flush timer are private state of this closure.
export function createEventRecorder(options: RecorderOptions): EventRecorder {
  const { kube, logger } = options;
  const aggregator = createEventAggregator(options);
  const inflight = new Set<Promise<void>>();
  const subjects = new Map<string, { namespace: string; regarding: KubeObject }>();
  let flushTimer: NodeJS.Timeout | undefined;

  const track = (p: Promise<void>): void => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  function namespaceOf(regarding: KubeObject): string {
    return regarding.metadata.namespace ?? options.clusterScopedNamespace ?? 'default';
  }

  async function patchCount(namespace: string, name: string, count: number): Promise<void> {
    try {
      await kube.patch({ apiVersion: 'v1', kind: 'Event' }, name, namespace, { count, lastTimestamp: timestamp() }, { type: 'merge' });
    } catch (error) {
      logger?.debug('could not update an event count', { namespace, name, error: String(error) });
    }
  }

  function scheduleFlush(): void {
    if (flushTimer) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      const now = Date.now();
      for (const due of aggregator.due(now)) {
        const subject = subjects.get(due.aggregationKey);
        if (!subject) continue;
        aggregator.markWritten(due.aggregationKey, now);
        subjects.delete(due.aggregationKey);
        track(patchCount(subject.namespace, due.name, due.count));
      }
      if (aggregator.due(Number.MAX_SAFE_INTEGER).length > 0) scheduleFlush();
    }, options.patchIntervalMs ?? 30_000);
    flushTimer.unref();
  }

  return {
    event(regarding, type, reason, message) {
      const namespace = namespaceOf(regarding);
      const objectKey = `${regarding.apiVersion}/${regarding.kind}/${regarding.metadata.namespace ?? ''}/${regarding.metadata.name ?? ''}/${regarding.metadata.uid ?? ''}`;
      const aggregationKey = `${objectKey}|${type}|${reason}|${message}`;
      const decision = aggregator.decide(objectKey, aggregationKey, Date.now(), regarding.metadata.name);
      if (decision.action === 'drop') {
        logger?.debug('event dropped by the spam filter', { reason, kind: regarding.kind, name: regarding.metadata.name });
        return;
      }
      if (decision.action === 'defer') {
        // Only deferred counts need remembering where to write (bounded by the aggregator's series).
        subjects.set(aggregationKey, { namespace, regarding });
        scheduleFlush();
        return;
      }
      if (decision.action === 'patch') {
        track(patchCount(namespace, decision.name, decision.count));
        return;
      }
      const now = Date.now();
      track(
        kube
          .create({
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name: decision.name, namespace },
            involvedObject: {
              apiVersion: regarding.apiVersion,
              kind: regarding.kind,
              name: regarding.metadata.name,
              namespace: regarding.metadata.namespace,
              uid: regarding.metadata.uid,
              resourceVersion: regarding.metadata.resourceVersion,
            },
            type,
            reason,
            message: message.slice(0, 1024),
            count: 1,
            firstTimestamp: timestamp(new Date(now)),
            lastTimestamp: timestamp(new Date(now)),
            eventTime: null,
            source: { component: options.component },
            reportingComponent: options.component,
            reportingInstance: options.instance ?? options.component,
            action: reason,
          })
          .then(
            () => undefined,
            (error: unknown) => {
              logger?.debug('could not record an event', { reason, error: String(error) });
            },
          ),
      );
    },
    async flush() {
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = undefined;
      }
      for (const due of aggregator.due(Number.MAX_SAFE_INTEGER)) {
        const subject = subjects.get(due.aggregationKey);
        if (subject) track(patchCount(subject.namespace, due.name, due.count));
        aggregator.markWritten(due.aggregationKey, Date.now());
        subjects.delete(due.aggregationKey);
      }
      await Promise.all([...inflight]);
    },
  };
}
