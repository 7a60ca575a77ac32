// The APIs the agent's cluster serves, kept current for the facts loop (facts.ts turns them into
// status.apiVersions, which the hub hands helm as the cluster's capabilities).
//
// Polled, not watched: every interval the agent asks the spoke's aggregated discovery again with
// the ETags of its last answer, and the apiserver answers 304 Not Modified while nothing changed,
// so an idle round is two small GETs and no write anywhere. A watch on CustomResourceDefinitions
// looks cheaper but is not: an informer would hold every CRD whole in the agent's memory (the ten
// CRDs of kube-prometheus are 4.3 MB of YAML, nearly all OpenAPI schema; a Crossplane provider brings hundreds) to
// learn a few names, it would say when a CRD is written rather than when its version is served
// (Established, `served: true`), and CRDs are not the only source: aggregated APIServices
// (metrics.k8s.io, custom.metrics.k8s.io) and built-in versions an upgrade enables are served too.
// Discovery is what helm itself reads, so it is the truth by definition. Discovery is open to every
// authenticated identity, so this needs no RBAC.
//
// A failed round keeps the last answer (and says so once in the log): a served API is never
// reported gone because discovery could not be read.
import { errorMessage, sleep, type Kube, type Logger, type ServedAPIs } from '../runtime/index.js';

export interface ServedAPIsOptions {
  spoke: Kube;
  /** How often to ask discovery again (a new CRD is reported within about this long). */
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
  /** Asks every interval until `signal` aborts; never rejects. */
  run(signal: AbortSignal): Promise<void>;
}

export function trackServedAPIs(options: ServedAPIsOptions): ServedAPIsTracker {
  const { spoke, logger: log } = options;
  let last: ServedAPIs | undefined;
  let roundDone: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    roundDone = resolve;
  });
  let failing = false;
  async function round(signal: AbortSignal): Promise<void> {
    try {
      const answer = await spoke.servedAPIs({ signal, ...(last ? { previous: last } : {}) });
      if (answer !== last) {
        last = answer;
        options.onChange();
      }
      if (failing) log.info('discovery of the served APIs answers again');
      failing = false;
    } catch (error) {
      if (signal.aborted) return;
      if (!failing) log.warn('discovery of the served APIs failed; keeping the last answer', { error: errorMessage(error) });
      failing = true;
    }
  }
  return {
    current: () => last,
    firstRound: () => first,
    async run(signal) {
      while (!signal.aborted) {
        await round(signal);
        roundDone();
        await sleep(options.intervalMs, signal).catch(() => undefined);
      }
      roundDone();
    },
  };
}
