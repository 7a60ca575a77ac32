// What the long-running commands (`flotilla hub`, `flotilla agent`) share: where they serve
// /healthz, /readyz and /metrics, and how they stop — on SIGTERM/SIGINT, or on a fatal error,
// which must stop whatever was started too, so that a process that cannot serve exits.
import { parseDuration } from '../kube-semantics/duration.js';
import { shutdownSignal } from '../runtime/index.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** A duration flag's value in ms (10s, 5m), or an error naming the flag. */
export function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new Error(`${flag} must be a duration such as 10s or 5m, not ${text}`);
  return ms;
}

/** `HOST:PORT` (an empty host: every interface; port 0: any free one). */
export function parseAddress(flag: string, text: string): ListenAddress {
  const at = text.lastIndexOf(':');
  const port = at < 0 ? Number.NaN : Number(text.slice(at + 1));
  if (at < 0 || text.slice(at + 1) === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag} must be HOST:PORT (127.0.0.1:PORT for this machine only, :PORT for every interface), not ${text}`);
  }
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** The help of `--health-address`, one wording for both commands. */
export function healthAddressHelp(port: number): string {
  return `where to serve /healthz, /readyz and /metrics (:${port} for every interface, as in a Pod; port 0: any free one)`;
}

/**
 * Runs `serve` until SIGTERM/SIGINT stops it, and then returns `stopped` whatever `serve` ended
 * with: a stop asked for while it was still starting (a Pod deleted in its first second, say)
 * rejects its first requests with the abort, and that is a clean stop too, exit 0, not a failure.
 * If it fails on its own instead, its signal is aborted with the error before the error is passed
 * on, so every loop it started (informers, watches, timers) stops rather than keeping a process
 * that cannot serve half-alive.
 */
export async function serveUntilStopped<T>(
  serve: (signal: AbortSignal) => Promise<T>,
  stopped: T,
  shutdown: AbortSignal = shutdownSignal(),
): Promise<T> {
  const failed = new AbortController();
  try {
    return await serve(AbortSignal.any([shutdown, failed.signal]));
  } catch (error) {
    if (shutdown.aborted) return stopped;
    failed.abort(error);
    throw error;
  }
}
