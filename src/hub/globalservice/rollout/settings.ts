import type { FleetRolloutDefaults, MaxUnavailable, Rollout, RolloutStage } from '../../../api/index.js';

// A service's rollout with the fleet's defaults filled in (schemas: unset fields of
// spec.rollout take the Fleet's spec.rollout; the Fleet defaults to RollingUpdate with 25%).

export type Strategy = NonNullable<Rollout['strategy']>;

export interface EffectiveRollout {
  strategy: Strategy;
  /** Only read for RollingUpdate. */
  maxUnavailable: MaxUnavailable;
  stages: readonly RolloutStage[];
  paused: boolean;
  /** Unset: a cluster may take as long as it needs (only Degraded halts the rollout). */
  progressDeadlineSeconds?: number;
}

export const DEFAULT_STRATEGY: Strategy = 'RollingUpdate';
export const DEFAULT_MAX_UNAVAILABLE = '25%';

export function effectiveRollout(service: Rollout | undefined, fleet: FleetRolloutDefaults | undefined): EffectiveRollout {
  const strategy = service?.strategy ?? fleet?.strategy ?? DEFAULT_STRATEGY;
  // The fleet's maxUnavailable belongs to the fleet's strategy; it applies only when the service
  // rolls out the same way.
  const fleetMaxUnavailable = (fleet?.strategy ?? DEFAULT_STRATEGY) === strategy ? fleet?.maxUnavailable : undefined;
  const progressDeadlineSeconds = service?.progressDeadlineSeconds ?? fleet?.progressDeadlineSeconds;
  return {
    strategy,
    maxUnavailable: service?.maxUnavailable ?? fleetMaxUnavailable ?? DEFAULT_MAX_UNAVAILABLE,
    stages: service?.stages ?? [],
    paused: service?.paused === true,
    ...(progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds } : {}),
  };
}

const PERCENT = /^(\d+)%$/;

/**
 * How many clusters may be not yet Available at the new revision at once. A percentage is of all
 * targeted clusters and rounds down, as Kubernetes rounds a Deployment's maxUnavailable, so the
 * bound is never exceeded ("33%" of 10 is 3); the result is at least 1 (and so is a count), so a
 * rollout always makes progress — even on 0 or 1 cluster, or with a value validation should have
 * refused. Undefined when the value is not a count or a percentage.
 */
export function maxUnavailableCount(value: MaxUnavailable, targets: number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? Math.max(1, value) : undefined;
  const percent = PERCENT.exec(value.trim())?.[1];
  if (percent === undefined) return undefined;
  return Math.max(1, Math.floor((targets * Math.min(100, Number(percent))) / 100));
}
