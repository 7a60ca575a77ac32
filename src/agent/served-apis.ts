// The APIs the agent's cluster serves, kept current for the facts loop (facts.ts turns them into
// status.apiVersions, which the hub hands helm as the cluster's capabilities).
//
// Discovery is the truth (it is what helm itself reads: a CRD counts once its version is served
// and Established, an aggregated APIService once its backend answers, a built-in version once the
// apiserver enables it), but it has no watch. So the agent asks it when something that changes it
// changed, and otherwise not at all:
//  - a CustomResourceDefinition or an APIService was added, changed (its status included: the
//    Established and Available conditions) or deleted. The watches are metadata-only: an informer
//    of whole CRDs would hold every schema in the agent's memory (kube-prometheus's ten CRDs are
//    4.3 MB, a Crossplane provider brings hundreds) to learn a few names;
//  - a watch of either failed and came back: the apiserver may have restarted, perhaps upgraded
//    with new built-in versions;
//  - every --discovery-interval (10m) as a resync, for what no event says: an apiserver upgraded
//    behind a load balancer that kept the watch, an aggregated API's backend that serves a new kind
//    under an unchanged APIService.
// Each ask sends the ETags of the last answer, so an unchanged one is a 304. An idle cluster costs
// the agent no discovery request between resyncs.
//
// A failed round keeps the last answer (and says so once in the log) and is retried with backoff
// until discovery answers: a served API is never reported gone because discovery could not be read.
import {
  backoffDelay,
  createInformer,
  errorMessage,
  sleep,
  trigger,
  type BackoffPolicy,
  type Informer,
  type Kube,
  type Logger,
  type ServedAPIs,
  type TypeRef,
} from '../runtime/index.js';

/** What changes what discovery serves, besides the apiserver itself. */
const CHANGES_SERVED: readonly TypeRef[] = [
  { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' },
  { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService' },
];
/** A CRD's creation is a burst of writes (created, NamesAccepted, Established): ask once, after it. */
const SETTLE_MS = 1000;
/**
 * A second look after a change: the aggregator fetches a new APIService's discovery from its backend
 * only once it turns Available, so the first ask can come too early.
 */
const FOLLOW_UP_MS = 10_000;
const RETRY: BackoffPolicy = { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

export interface ServedAPIsOptions {
  spoke: Kube;
  /** The resync: how often to ask even when no watch saw a change. */
  intervalMs: number;
  /** Called whenever the answer changed, the first answer included. */
  onChange: () => void;
  logger: Logger;
}

export interface ServedAPIsTracker {
  /** The last answer, or undefined while discovery has not answered since the start. */
  current(): ServedAPIs | undefined;
  /** Resolves after the first round, answered or failed, so the first report can include it. */
  firstRound(): Promise<void>;
  /** Asks at the start, on every change the watches see and every resync interval, until `signal` aborts; never rejects. */
  run(signal: AbortSignal): Promise<void>;
}

// eslint-disable-next-line max-lines-per-function -- the rounds, the watches that wake them and the retry share the last answer in this closure.
export function trackServedAPIs(options: ServedAPIsOptions): ServedAPIsTracker {
  const { spoke, logger: log } = options;
  let last: ServedAPIs | undefined;
  let roundDone: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    roundDone = resolve;
  });
  const changed = trigger(SETTLE_MS);
  let changes = 0;
  const sawChange = (): void => {
    changes++;
    changed.fire();
  };
  const watches: Informer[] = CHANGES_SERVED.map((type) => {
    const watch: Informer = createInformer({
      kube: spoke,
      type,
      metadataOnly: true,
      logger: log,
      metrics: {
        // Only once it has listed: a watch that never could (forbidden, say) must not make rounds of its retries.
        watchRestarted: (reason) => {
          if (watch.hasSynced() && (reason === 'error' || reason === 'gone')) sawChange();
        },
      },
    });
    // The first list is what the first round reads anyway; only what comes after it is a change.
    const onEvent = (): void => {
      if (watch.hasSynced()) sawChange();
    };
    watch.addHandler({ onAdd: onEvent, onUpdate: onEvent, onDelete: onEvent });
    return watch;
  });

  let failing = false;
  /** One ask; answers whether discovery answered. */
  async function round(signal: AbortSignal): Promise<boolean> {
    try {
      const answer = await spoke.servedAPIs({ signal, ...(last ? { previous: last } : {}) });
      if (answer !== last) {
        last = answer;
        options.onChange();
      }
      if (failing) log.info('discovery of the served APIs answers again');
      failing = false;
      return true;
    } catch (error) {
      if (signal.aborted) return true;
      if (!failing) log.warn('discovery of the served APIs failed; keeping the last answer', { error: errorMessage(error) });
      failing = true;
      return false;
    }
  }

  /** Resolves on the next change (settled), follow-up or resync, whichever comes first. */
  async function nextAsk(signal: AbortSignal, followUp: boolean): Promise<void> {
    const waits = new AbortController();
    const stop = (): void => {
      waits.abort();
    };
    signal.addEventListener('abort', stop, { once: true });
    try {
      await Promise.race([changed.next(), sleep(followUp ? FOLLOW_UP_MS : options.intervalMs, waits.signal).catch(() => undefined)]);
    } finally {
      waits.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  return {
    current: () => last,
    firstRound: () => first,
    async run(signal) {
      const watching = Promise.all(watches.map((watch) => watch.run(signal)));
      signal.addEventListener('abort', changed.fire, { once: true });
      let failures = 0;
      let seen = changes;
      let followUp = false;
      while (!signal.aborted) {
        const answered = await round(signal);
        roundDone();
        if (!answered) {
          await sleep(backoffDelay(RETRY, ++failures), signal).catch(() => undefined);
          continue;
        }
        failures = 0;
        await nextAsk(signal, followUp);
        // A change gets one more look later; the follow-up itself and a resync get none.
        followUp = changes !== seen;
        seen = changes;
      }
      roundDone();
      await watching;
    },
  };
}
