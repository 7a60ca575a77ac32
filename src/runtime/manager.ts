// The manager owns what controllers share: one informer per watched source (so two controllers
// watching Works hold one cache and one watch), the metrics registry, the event recorder, the
// health port, leader election and shutdown. Informers run on every replica (warm caches make a
// takeover fast); controllers' workers run only while this replica holds the lease.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { createController, type Controller, type ControllerSpec } from './controller.js';
import { createEventRecorder, type EventRecorder } from './events.js';
import { startHealthServer, type Check, type HealthServer } from './health.js';
import { createInformer, sourceKey, type Informer, type InformerSource } from './informer.js';
import type { Kube, KubeObject } from './kube.js';
import { createLeaderElector, type ElectionEnd, type LeaderElector } from './leader.js';
import { createLeaderThread } from './leader-thread.js';
import { silentLogger, type Logger } from './log.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import type { IndexFunc } from './store.js';

export interface ManagerOptions {
  kube: Kube;
  /** e.g. `flotilla-hub`: logs, events and the lease holder carry it. */
  component: string;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  /** Omit to run controllers without election (the agent: one per cluster). */
  leaderElection?: {
    namespace: string;
    name: string;
    /** Unique per replica; default `hostname-random`. */
    identity?: string;
    leaseDurationSeconds?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
    /** Release the lease on graceful stop (default true); false behaves like a crash, for tests. */
    releaseOnCancel?: boolean;
    /** How long a wedged main thread keeps the lease renewed (leader-thread.ts; default 4 lease durations). */
    mainThreadStallLimitMs?: number;
  };
  /** Serve /healthz, /readyz, /metrics here (port 0 picks one). */
  health?: { port: number; host?: string; readiness?: Record<string, Check> };
  /** For every informer of the manager; `transform` decides what their caches keep of each object. */
  informers?: {
    silenceTimeoutMs?: number;
    watchTimeoutSeconds?: number;
    /** Page size of their lists: a list of 11,000 Works in one response was 100 MB of buffers and string at once on a restart. */
    pageSize?: number;
    transform?: <T extends KubeObject>(object: T) => T;
  };
}

export interface Manager {
  readonly kube: Kube;
  readonly logger: Logger;
  readonly metrics: RuntimeMetrics;
  readonly events: EventRecorder;
  readonly identity: string;
  /** The shared informer for a source; indexes are added to it. Call before `start`. */
  informer<T extends KubeObject = KubeObject>(source: InformerSource, indexes?: Record<string, IndexFunc<T>>): Informer<T>;
  /** Adds a controller. Call before `start`. */
  controller<T extends KubeObject>(spec: ControllerSpec<T>): Controller;
  isLeader(): boolean;
  /** The health server's port, once started. */
  healthPort(): number | undefined;
  /**
   * Runs everything until `signal` aborts (`stopped`: lease released, reconciles finished) or the
   * lease is lost (`lost`: the caller should exit non-zero so a fresh process campaigns again).
   */
  start(signal: AbortSignal): Promise<ElectionEnd>;
}

// eslint-disable-next-line max-lines-per-function -- the manager's informers, controllers and lifecycle are private state of this closure.
export function createManager(options: ManagerOptions): Manager {
  const { kube, component } = options;
  const logger = (options.logger ?? silentLogger()).child({ component });
  const metrics = options.metrics ?? createMetrics();
  const events = createEventRecorder({ kube, component, logger });
  const identity = options.leaderElection?.identity ?? `${hostname()}-${Math.random().toString(36).slice(2, 8)}`;
  const informers = new Map<string, Informer>();
  const controllers: Controller[] = [];
  let started = false;
  let health: HealthServer | undefined;
  let elector: LeaderElector | undefined;
  const unsubscribe = metrics.watchKube(kube);

  function informer<T extends KubeObject>(source: InformerSource, indexes: Record<string, IndexFunc<T>> = {}): Informer<T> {
    const key = sourceKey(source);
    let existing = informers.get(key) as Informer<T> | undefined;
    if (!existing) {
      if (started) throw new Error(`informer for ${key} requested after start`);
      existing = createInformer<T>({
        kube,
        ...source,
        logger,
        metrics: metrics.informer(`${source.type.kind}.${source.type.apiVersion}`),
        ...(options.informers?.silenceTimeoutMs !== undefined ? { silenceTimeoutMs: options.informers.silenceTimeoutMs } : {}),
        ...(options.informers?.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.informers.watchTimeoutSeconds } : {}),
        ...(options.informers?.pageSize !== undefined ? { pageSize: options.informers.pageSize } : {}),
        ...(options.informers?.transform !== undefined ? { transform: options.informers.transform } : {}),
      });
      informers.set(key, existing);
    }
    for (const [name, fn] of Object.entries(indexes)) existing.store.addIndex(name, fn);
    return existing;
  }

  const manager: Manager = {
    kube,
    logger,
    metrics,
    events,
    identity,
    informer,
    controller(spec) {
      if (started) throw new Error('controllers must be added before start');
      const controller = createController(spec, { kube, logger, metrics, events, informer });
      controllers.push(controller);
      return controller;
    },
    isLeader: () => (elector ? elector.isLeader() : started),
    healthPort: () => health?.port(),
    async start(signal) {
      if (started) throw new Error('manager already started');
      started = true;
      const synced = (): boolean => [...informers.values()].every((i) => i.hasSynced());
      // Bound before anything runs: when the address is taken, start fails with nothing to stop.
      if (options.health) {
        health = await startHealthServer({
          port: options.health.port,
          ...(options.health.host !== undefined ? { host: options.health.host } : {}),
          registry: metrics.registry,
          liveness: { 'not-stopped': () => !signal.aborted || 'shutting down' },
          readiness: { 'informers-synced': () => synced() || 'caches not synced', ...options.health.readiness },
        }).catch((error: unknown) => {
          unsubscribe();
          throw error;
        });
        logger.info('serving /healthz, /readyz and /metrics', { host: options.health.host, port: health.port() });
      }
      // Informers stop when we stop or when leadership is lost (then the process should exit).
      const stopInformers = new AbortController();
      // Every informer and its watch listen on it: many listeners by design, not a leak.
      setMaxListeners(0, stopInformers.signal);
      const onStop = (): void => {
        stopInformers.abort(signal.reason);
      };
      signal.addEventListener('abort', onStop, { once: true });
      const running = [...informers.values()].map((i) => i.run(stopInformers.signal));
      const lead = async (leading: AbortSignal): Promise<void> => {
        // Every request a reconcile makes passes this signal to node:http, which listens on it until
        // the request ends: a controller's workers times its writes in flight (the Work writer's 16)
        // is far more than Node's default warning threshold of 10 — many short-lived listeners by design.
        setMaxListeners(0, leading);
        // Every cache first, not only each controller's primary one: a reconcile reads other kinds'
        // caches (a service its Works), and one made before those are listed sees nothing live —
        // after a restart it rewrote every Work of the services whose Works were still being listed.
        try {
          await Promise.all([...informers.values()].map((i) => i.waitForSync(leading)));
        } catch {
          return; // leadership ended (or we stopped) before every cache was listed
        }
        logger.info('starting controllers', { controllers: controllers.map((c) => c.name), identity });
        await Promise.all(
          controllers.map((c) =>
            c.run(leading).catch((error: unknown) => {
              if (!leading.aborted) logger.error('controller stopped unexpectedly', { controller: c.name, error: String(error) });
            }),
          ),
        );
      };
      let end: ElectionEnd = 'stopped';
      try {
        if (options.leaderElection) {
          elector = electorFor(options.leaderElection, { kube, identity, logger, metrics });
          end = await elector.run(signal, lead);
        } else {
          await lead(signal);
        }
      } finally {
        signal.removeEventListener('abort', onStop);
        stopInformers.abort(new Error(end === 'lost' ? 'leadership lost' : 'stopping'));
        await Promise.all(running);
        await events.flush();
        await health?.close();
        unsubscribe();
        logger.info('manager stopped', { reason: end });
      }
      return end;
    },
  };
  return manager;
}

/** The manager's leader elector: on a thread of its own where the client can be rebuilt there (leader-thread.ts says why). */
function electorFor(
  le: NonNullable<ManagerOptions['leaderElection']>,
  context: { kube: Kube; identity: string; logger: Logger; metrics: RuntimeMetrics },
): LeaderElector {
  const { metrics } = context;
  const lease = `${le.namespace}/${le.name}`;
  const election = {
    kube: context.kube,
    namespace: le.namespace,
    name: le.name,
    identity: context.identity,
    logger: context.logger,
    ...(le.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: le.leaseDurationSeconds } : {}),
    ...(le.renewDeadlineMs !== undefined ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
    ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
    ...(le.releaseOnCancel !== undefined ? { releaseOnCancel: le.releaseOnCancel } : {}),
    onLeading: (leading: boolean) => {
      metrics.setLeader(lease, leading);
    },
    onRenewed: (sincePreviousMs: number) => {
      metrics.renewedLease(lease, sincePreviousMs);
    },
  };
  const onThread = createLeaderThread({
    ...election,
    ...(le.mainThreadStallLimitMs !== undefined ? { mainThreadStallLimitMs: le.mainThreadStallLimitMs } : {}),
    onRequest: (record) => {
      metrics.observeRequest(record);
    },
  });
  return onThread ?? createLeaderElector(election);
}
