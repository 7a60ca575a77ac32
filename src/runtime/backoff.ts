// Retry pacing: per-key exponential backoff with a cap, and a token bucket for an overall limit.
// The work queue takes the larger of the two, as client-go's default controller rate limiter does.

export interface BackoffPolicy {
  /** Delay after the first failure. */
  baseMs: number;
  /** Never wait longer than this. */
  maxMs: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Fraction of random spread added, 0..1 (default 0): spreads retries of many keys apart. */
  jitter?: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 5, maxMs: 300_000, factor: 2 };

/** Delay before retry number `failures` (1 = first retry). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const factor = policy.factor ?? 2;
  // Cap the exponent before computing, so a key failing for days never overflows to Infinity/NaN.
  const exponent = Math.min(failures - 1, 1000);
  const raw = policy.baseMs * Math.pow(factor, exponent);
  const capped = Number.isFinite(raw) ? Math.min(raw, policy.maxMs) : policy.maxMs;
  const jitter = policy.jitter ?? 0;
  return jitter > 0 ? Math.min(policy.maxMs, capped * (1 + jitter * random())) : capped;
}

export interface TokenBucket {
  /** Takes a token and answers how long to wait until it is ours (0 = now). */
  reserve(now: number): number;
}

/** `qps` tokens per second, at most `burst` saved up; reservations queue into the future. */
export function tokenBucket(qps: number, burst: number): TokenBucket {
  let tokens = burst;
  let last: number | undefined;
  return {
    reserve(now) {
      if (last === undefined) last = now;
      if (now > last) {
        tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
        last = now;
      }
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil((-tokens / qps) * 1000);
    },
  };
}
