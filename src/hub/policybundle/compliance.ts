// What the agents' reports on a bundle's Works mean: per-cluster compliance, the bundle's bounded
// status (counts, violations by kind, the worst few) and its Fleet's summary. Pure.
import {
  conditionTypes,
  reasons,
  type FleetPolicyCounts,
  type ManifestStatus,
  type PolicyBundle,
  type PolicyBundleStatus,
  type PolicyViolation,
  type ViolationCount,
  type Work,
} from '../../api/index.js';
import type { ManifestIdentity } from '../../work/identity.js';
import { findCondition, setReadiness, truncateMessage, type ReadinessOutcome } from '../../runtime/index.js';
import { describeConflicts, type ObjectConflict } from '../works/conflicts.js';

export const MAX_WORST = 20;
export const MAX_KINDS = 16;

export type ClusterState = 'compliant' | 'nonCompliant' | 'unknown';

export interface ClusterCompliance {
  cluster: string;
  state: ClusterState;
  /** Violations on this cluster, one per policy object (count: in how many namespaces). */
  violations: PolicyViolation[];
}

const isViolation = (entry: ManifestStatus): boolean => entry.applied !== true || entry.drifted === true || entry.health === 'Degraded';

function violationMessage(entry: ManifestStatus): string {
  if (entry.message !== undefined) return entry.message;
  if (entry.drifted === true) return `drifted: ${(entry.driftedFields ?? []).join(', ')}`;
  return entry.applied === true ? (entry.health ?? 'Unknown') : 'not in place';
}

/** A policy object another source holds on a cluster. */
export interface HeldObject {
  identity: ManifestIdentity;
  conflict: ObjectConflict;
}

/**
 * One cluster's compliance from its Work (as the agent last reported) and the conflicts the hub
 * found there. Unknown until the agent has reported on the Work's current generation.
 */
export function clusterCompliance(cluster: string, work: Work | undefined, conflicts: readonly HeldObject[]): ClusterCompliance {
  const conflictViolations: PolicyViolation[] = conflicts.map(({ identity, conflict }) => ({
    cluster,
    kind: identity.kind,
    policy: identity.name,
    count: 1,
    message: truncateMessage(`conflict: ${describeConflicts([conflict])}`, 1024),
  }));
  const status = work?.status;
  if (!work || status?.observedGeneration === undefined || status.observedGeneration !== work.metadata.generation) {
    return { cluster, state: conflictViolations.length > 0 ? 'nonCompliant' : 'unknown', violations: conflictViolations };
  }
  const grouped = new Map<string, PolicyViolation>();
  for (const entry of (status.manifests ?? []).filter(isViolation)) {
    const key = `${entry.kind}/${entry.name}`;
    const seen = grouped.get(key);
    if (seen) {
      seen.count = (seen.count ?? 1) + 1;
      continue;
    }
    grouped.set(key, {
      cluster,
      kind: entry.kind,
      policy: entry.name,
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      count: 1,
      message: truncateMessage(violationMessage(entry), 1024),
    });
  }
  const applied = findCondition(status.conditions, conditionTypes.Applied);
  if (applied?.status === 'False' && grouped.size === 0 && (status.manifests ?? []).length === 0) {
    grouped.set('Work', {
      cluster,
      kind: 'Work',
      policy: work.metadata.name ?? '',
      count: 1,
      message: truncateMessage(applied.message, 1024),
    });
  }
  const violations = [...conflictViolations, ...grouped.values()];
  return { cluster, state: violations.length > 0 ? 'nonCompliant' : 'compliant', violations };
}

export interface BundleStatusInput {
  bundle: PolicyBundle;
  revision: string;
  compliance: readonly ClusterCompliance[];
  /** Why the bundle cannot be placed as written (no fleet, a refused manifest, a missing ClusterGroup), if so. */
  stalled?: { reason: string; message: string };
  /** Why this reconcile failed and will be retried (the hub apiserver refused a Work write), if so. */
  failed?: { reason: string; message: string };
  now?: Date;
}

/** The bundle's status: counts by compliance, violations by kind, the worst 20. Bounded. */
export function policyBundleStatus({
  bundle,
  revision,
  compliance,
  stalled,
  failed,
  now = new Date(),
}: BundleStatusInput): PolicyBundleStatus {
  const generation = bundle.metadata.generation ?? 0;
  const count = (state: ClusterState): number => compliance.filter((c) => c.state === state).length;
  const clusters = {
    targeted: compliance.length,
    compliant: count('compliant'),
    nonCompliant: count('nonCompliant'),
    unknown: count('unknown'),
  };
  const byKind = new Map<string, number>();
  const all = compliance.flatMap((c) => c.violations);
  for (const v of all) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + (v.count ?? 1));
  const violationsByKind: ViolationCount[] = [...byKind]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, MAX_KINDS)
    .map(([kind, n]) => ({ kind, count: n }));
  const worst = [...all]
    .sort(
      (a, b) =>
        (b.count ?? 1) - (a.count ?? 1) ||
        a.cluster.localeCompare(b.cluster) ||
        a.kind.localeCompare(b.kind) ||
        (a.policy ?? '').localeCompare(b.policy ?? ''),
    )
    .slice(0, MAX_WORST);
  const outcome = ((): ReadinessOutcome => {
    if (stalled) return { state: 'Stalled', ...stalled };
    // Stalled, not Failed: kstatus reads Ready=False alone as InProgress, and neither a refused
    // Work write nor a violation left by an Audit bundle passes without a change.
    if (failed) return { state: 'Stalled', ...failed };
    if (clusters.nonCompliant > 0) {
      const names = compliance
        .filter((c) => c.state === 'nonCompliant')
        .slice(0, 5)
        .map((c) => `${c.cluster} (${c.violations.length})`);
      return {
        state: 'Stalled',
        reason: reasons.policyBundle.NonCompliant,
        message: `${clusters.nonCompliant} of ${clusters.targeted} clusters violate the bundle: ${names.join(', ')}`,
      };
    }
    if (clusters.unknown > 0)
      return {
        state: 'Reconciling',
        reason: reasons.policyBundle.AwaitingAgents,
        message: `${clusters.unknown} of ${clusters.targeted} clusters have not reported yet`,
      };
    return { state: 'Ready', reason: reasons.policyBundle.Compliant, message: `all ${clusters.targeted} targeted clusters are compliant` };
  })();
  return {
    observedGeneration: generation,
    conditions: setReadiness(bundle.status?.conditions, outcome, { observedGeneration: generation, now }),
    revision,
    clusters,
    violationsByKind,
    worst,
  };
}

/** The Fleet's policies summary from its workspace's bundles. */
export function fleetPolicyCounts(bundles: readonly PolicyBundle[]): FleetPolicyCounts {
  const live = bundles.filter((b) => b.metadata.deletionTimestamp === undefined);
  return {
    total: live.length,
    compliant: live.filter((b) => findCondition(b.status?.conditions, conditionTypes.Ready)?.status === 'True').length,
    nonCompliant: live.filter((b) => (b.status?.clusters?.nonCompliant ?? 0) > 0).length,
  };
}
