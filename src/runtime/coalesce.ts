// How long a watch's visit of a key waits after the first change that maps to it, so that the
// changes of that window cost one reconcile. A fixed window suits a pass whose cost is small and
// flat (a member's Work counts); a pass whose cost grows with the fleet (a service over all its
// clusters) also waits a multiple of what its last pass took, so the reports its writes cause can
// never keep it busy more than 1/(1 + factor) of its time, however many clusters report.

export interface Coalesce {
  /** The least wait after the first change of a window (0: at once, unless the cost says otherwise). */
  minMs: number;
  /** Also wait this many times as long as the key's last reconcile took, wall time. */
  passCostFactor?: number;
  /** The cost-grown wait never exceeds this, so a long write pass delays the next look by at most this. */
  maxMs?: number;
}

/** The wait for a visit under `policy`, given how long the key's last reconcile took (unknown: never ran). */
export function coalesceDelay(policy: Coalesce | undefined, lastPassMs: number | undefined): number {
  if (!policy) return 0;
  const byCost = policy.passCostFactor !== undefined && lastPassMs !== undefined ? policy.passCostFactor * lastPassMs : 0;
  const capped = policy.maxMs !== undefined ? Math.min(byCost, policy.maxMs) : byCost;
  return Math.round(Math.max(policy.minMs, capped));
}
