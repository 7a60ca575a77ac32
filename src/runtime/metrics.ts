// Prometheus metrics (prom-client) for the runtime: work queues, reconciles, informers, leader
// election and apiserver requests. One Registry per manager (not the global default), so two
// managers in one process — as in tests — never collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InformerMetrics } from './informer.js';
import { WRITE_METHODS, type Kube, type RequestRecord } from './kube.js';
import type { QueueMetrics } from './queue.js';

/**
 * The resource (and subresource) a request path names, without namespace, name or query:
 * /api/v1/namespaces/ns/leases/x → leases, /apis/g/v/namespaces/ns/works/w/status → works/status.
 */
export function resourceOfPath(path: string): string {
  const segments = (path.split('?')[0] ?? '').split('/').filter((s) => s !== '');
  const rest = segments.slice(segments[0] === 'api' ? 2 : 3);
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return [scoped[0], scoped[2]].filter((s) => s !== undefined).join('/') || 'unknown';
}

export interface RuntimeMetrics {
  registry: Registry;
  queue(name: string): QueueMetrics;
  informer(resource: string): InformerMetrics;
  reconciled(controller: string, result: 'success' | 'error' | 'requeue' | 'terminal', seconds: number): void;
  setLeader(lease: string, leading: boolean): void;
  /** The time between two successful renewals of the leader lease (the renew deadline is judged by it). */
  renewedLease(lease: string, sincePreviousMs: number): void;
  /** Counts every request of `kube` by verb and code; returns an unsubscribe function. */
  watchKube(kube: Kube): () => void;
  /** Counts one request made elsewhere (the leader thread's client) as watchKube counts its client's. */
  observeRequest(record: RequestRecord): void;
}

// eslint-disable-next-line max-lines-per-function -- a table of metric declarations, one statement each, and the few small methods that update them: splitting it would only scatter the table.
export function createMetrics(options: { defaultMetrics?: boolean } = {}): RuntimeMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'flotilla_' });
  const registers = [registry];
  const depth = new Gauge({ name: 'flotilla_workqueue_depth', help: 'Keys waiting in the work queue', labelNames: ['name'], registers });
  const adds = new Counter({
    name: 'flotilla_workqueue_adds_total',
    help: 'Keys added to the work queue',
    labelNames: ['name'],
    registers,
  });
  const retries = new Counter({
    name: 'flotilla_workqueue_retries_total',
    help: 'Rate-limited requeues after failures',
    labelNames: ['name'],
    registers,
  });
  const latency = new Histogram({
    name: 'flotilla_workqueue_queue_duration_seconds',
    help: 'Time a key waits in the queue before a worker takes it',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
    registers,
  });
  const work = new Histogram({
    name: 'flotilla_workqueue_work_duration_seconds',
    help: 'Time a worker holds a key',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 60],
    registers,
  });
  const reconciles = new Counter({
    name: 'flotilla_reconcile_total',
    help: 'Reconciles by result',
    labelNames: ['controller', 'result'],
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'flotilla_reconcile_duration_seconds',
    help: 'Reconcile duration',
    labelNames: ['controller'],
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30],
    registers,
  });
  const relists = new Counter({
    name: 'flotilla_informer_lists_total',
    help: 'Informer (re)lists by reason',
    labelNames: ['resource', 'reason'],
    registers,
  });
  const watchEnds = new Counter({
    name: 'flotilla_informer_watch_restarts_total',
    help: 'Watch restarts by reason',
    labelNames: ['resource', 'reason'],
    registers,
  });
  const events = new Counter({
    name: 'flotilla_informer_events_total',
    help: 'Watch events received',
    labelNames: ['resource', 'type'],
    registers,
  });
  const leader = new Gauge({
    name: 'flotilla_leader_is_leader',
    help: '1 while this instance holds the lease',
    labelNames: ['lease'],
    registers,
  });
  const renewalIntervals = new Histogram({
    name: 'flotilla_leader_renewal_interval_seconds',
    help: 'Time between two successful renewals of the leader lease; the leader gives up past the renew deadline (10 s by default)',
    labelNames: ['lease'],
    buckets: [2.5, 3, 4, 6, 8, 10, 12, 15],
    registers,
  });
  const requests = new Counter({
    name: 'flotilla_kube_requests_total',
    help: 'Apiserver requests by verb and code',
    labelNames: ['verb', 'code'],
    registers,
  });
  const writesByResource = new Counter({
    name: 'flotilla_kube_writes_total',
    help: 'Apiserver write requests (POST, PUT, PATCH, DELETE) by resource, subresource included (leases, works/status)',
    labelNames: ['resource'],
    registers,
  });
  const requestTime = new Histogram({
    name: 'flotilla_kube_request_duration_seconds',
    help: 'Apiserver request latency (watches excluded)',
    labelNames: ['verb'],
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10],
    registers,
  });
  const observeRequest = (r: RequestRecord): void => {
    const verb = r.watch ? 'WATCH' : r.method;
    requests.inc({ verb, code: String(r.code) });
    if (WRITE_METHODS.includes(r.method)) writesByResource.inc({ resource: resourceOfPath(r.path) });
    if (!r.watch) requestTime.observe({ verb }, r.durationMs / 1000);
  };

  return {
    registry,
    queue: (name) => ({
      depth: (n) => {
        depth.set({ name }, n);
      },
      added: () => {
        adds.inc({ name });
      },
      queued: (s) => {
        latency.observe({ name }, s);
      },
      worked: (s) => {
        work.observe({ name }, s);
      },
      retried: () => {
        retries.inc({ name });
      },
    }),
    informer: (resource) => ({
      relisted: (reason) => {
        relists.inc({ resource, reason });
      },
      watchRestarted: (reason) => {
        watchEnds.inc({ resource, reason });
      },
      event: (type) => {
        events.inc({ resource, type });
      },
    }),
    reconciled(controller, result, seconds) {
      reconciles.inc({ controller, result });
      reconcileTime.observe({ controller }, seconds);
    },
    setLeader: (lease, leading) => {
      leader.set({ lease }, leading ? 1 : 0);
    },
    renewedLease: (lease, sincePreviousMs) => {
      renewalIntervals.observe({ lease }, sincePreviousMs / 1000);
    },
    watchKube: (kube) => kube.onRequest(observeRequest),
    observeRequest,
  };
}
