// When the hub fetches a service's Git or Helm origin. Pure, table-tested (schedule.test.ts):
// - at once when the service is new to this hub, when its origin changed (another URL, ref, chart,
//   version or Secret), and when flotilla.dev/requested-at holds a value not yet handled;
// - never twice at a time for one service;
// - after a success, every `interval` (default 5m);
// - after a failure, sooner: 5 s doubling per consecutive failure, but never later than `interval`,
//   so a repository that is down is retried without hammering it, and its recovery is seen quickly.
// A poll that finds the revision it already has changes nothing (see fetcher.ts): no hub write.

export const DEFAULT_INTERVAL_MS = 5 * 60_000;
export const FIRST_RETRY_MS = 5_000;

export interface FetchHistory {
  /** The digest of the origin's spec (and Secret's resourceVersion) the last attempt fetched. */
  originDigest: string;
  /** The requested-at value the last attempt answered. */
  request: string | undefined;
  /** When the last attempt ended (ms since the epoch). */
  finishedAt: number;
  /** Consecutive failed attempts (0 after a success). */
  failures: number;
  inFlight: boolean;
}

export interface FetchAsk {
  originDigest: string;
  request: string | undefined;
  intervalMs: number;
  now: number;
}

/** `{ now: true }` to start a fetch; otherwise how long until one is due (undefined: one is running). */
export function fetchDue(history: FetchHistory | undefined, ask: FetchAsk): { now: true } | { now: false; inMs: number | undefined } {
  if (history?.inFlight) return { now: false, inMs: undefined };
  if (!history || history.originDigest !== ask.originDigest) return { now: true };
  if (ask.request !== undefined && ask.request !== history.request) return { now: true };
  const wait = history.failures === 0 ? ask.intervalMs : Math.min(ask.intervalMs, FIRST_RETRY_MS * 2 ** (history.failures - 1));
  const dueAt = history.finishedAt + wait;
  return dueAt <= ask.now ? { now: true } : { now: false, inMs: dueAt - ask.now };
}
