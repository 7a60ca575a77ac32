import { isRecord, type KubeObject } from '../runtime/kube.js';
import { kstatusConditionTypes } from '../runtime/conditions.js';
import { field } from './object.js';
import { groupKindKey, groupKindOf } from '../work/identity.js';

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Unknown';

export interface Health {
  status: HealthStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
}

interface Condition {
  status: string;
  reason: string;
  message: string;
  observedGeneration: number | undefined;
}

const healthy = (reason: string, message: string): Health => ({ status: 'Healthy', reason, message });
const progressing = (reason: string, message: string): Health => ({ status: 'Progressing', reason, message });
const degraded = (reason: string, message: string): Health => ({ status: 'Degraded', reason, message });

function numberAt(value: unknown, ...path: string[]): number | undefined {
  const found = field(value, ...path);
  return typeof found === 'number' ? found : undefined;
}

function conditionOf(live: KubeObject, type: string): Condition | undefined {
  const conditions = field(live, 'status', 'conditions');
  if (!Array.isArray(conditions)) return undefined;
  const found: unknown = conditions.find((c) => isRecord(c) && c.type === type);
  if (!isRecord(found)) return undefined;
  const text = (key: string): string => (typeof found[key] === 'string' ? found[key] : '');
  return {
    status: text('status'),
    reason: text('reason'),
    message: text('message'),
    observedGeneration: typeof found.observedGeneration === 'number' ? found.observedGeneration : undefined,
  };
}

/** A condition's own words, or a fallback when it has none. */
function explain(condition: Condition | undefined, fallbackReason: string, fallbackMessage: string): [string, string] {
  return [condition?.reason || fallbackReason, condition?.message || fallbackMessage];
}

/**
 * Whether the controller has seen the current spec. Workload controllers always report
 * observedGeneration, so for them (`required`) its absence means "not yet"; for other kinds it is
 * optional and only a stale value counts.
 */
function staleGeneration(live: KubeObject, required: boolean): Health | undefined {
  const generation = live.metadata.generation;
  const observed = numberAt(live, 'status', 'observedGeneration');
  if (generation === undefined) return undefined;
  if (observed === undefined) return required ? progressing('NotObserved', 'the controller has not observed this object yet') : undefined;
  return observed < generation
    ? progressing('GenerationNotObserved', `observed generation ${observed} is behind generation ${generation}`)
    : undefined;
}

function deploymentHealth(live: KubeObject): Health {
  const stale = staleGeneration(live, true);
  if (stale) return stale;
  const progress = conditionOf(live, 'Progressing');
  if (progress?.reason === 'ProgressDeadlineExceeded') {
    return degraded('ProgressDeadlineExceeded', progress.message || 'the rollout exceeded its progress deadline');
  }
  const desired = numberAt(live, 'spec', 'replicas') ?? 1;
  const total = numberAt(live, 'status', 'replicas') ?? 0;
  const updated = numberAt(live, 'status', 'updatedReplicas') ?? 0;
  const available = numberAt(live, 'status', 'availableReplicas') ?? 0;
  if (updated < desired) return progressing('RolloutInProgress', `${updated} of ${desired} replicas updated`);
  if (total > updated) return progressing('RolloutInProgress', `${total - updated} old replica(s) pending termination`);
  if (available < desired) return progressing('RolloutInProgress', `${available} of ${desired} updated replicas available`);
  const availability = conditionOf(live, 'Available');
  if (availability?.status === 'False') {
    return progressing(...explain(availability, 'Unavailable', 'the deployment does not have minimum availability'));
  }
  return healthy('RolloutComplete', `${available} of ${desired} replicas available`);
}

function statefulSetHealth(live: KubeObject): Health {
  const stale = staleGeneration(live, true);
  if (stale) return stale;
  const desired = numberAt(live, 'spec', 'replicas') ?? 1;
  const ready = numberAt(live, 'status', 'readyReplicas') ?? 0;
  const total = numberAt(live, 'status', 'replicas') ?? 0;
  if (total > desired) return progressing('ScalingDown', `${total} replicas, scaling down to ${desired}`);
  if (ready < desired) return progressing('RolloutInProgress', `${ready} of ${desired} replicas ready`);
  if (field(live, 'spec', 'updateStrategy', 'type') === 'OnDelete') {
    // Pods only move to a new revision when someone deletes them; there is no rollout to wait for.
    return healthy('AllReplicasReady', `${ready} of ${desired} replicas ready (OnDelete update strategy)`);
  }
  const partition = numberAt(live, 'spec', 'updateStrategy', 'rollingUpdate', 'partition') ?? 0;
  const updated = numberAt(live, 'status', 'updatedReplicas') ?? 0;
  if (partition > 0) {
    const expected = Math.max(desired - partition, 0);
    return updated < expected
      ? progressing('PartitionRolloutInProgress', `${updated} of ${expected} replicas above partition ${partition} updated`)
      : healthy('PartitionRolloutComplete', `${updated} of ${expected} replicas above partition ${partition} updated`);
  }
  const currentRevision = field(live, 'status', 'currentRevision');
  const updateRevision = field(live, 'status', 'updateRevision');
  if (currentRevision !== updateRevision) {
    return progressing('RolloutInProgress', `${updated} of ${desired} replicas on revision ${String(updateRevision)}`);
  }
  return healthy('RolloutComplete', `${ready} of ${desired} replicas ready`);
}

function daemonSetHealth(live: KubeObject): Health {
  const stale = staleGeneration(live, true);
  if (stale) return stale;
  const desired = numberAt(live, 'status', 'desiredNumberScheduled') ?? 0;
  const updated = numberAt(live, 'status', 'updatedNumberScheduled') ?? 0;
  const available = numberAt(live, 'status', 'numberAvailable') ?? 0;
  if (updated < desired) return progressing('RolloutInProgress', `${updated} of ${desired} scheduled pods updated`);
  if (available < desired) return progressing('RolloutInProgress', `${available} of ${desired} scheduled pods available`);
  return healthy('RolloutComplete', `${available} of ${desired} scheduled pods available`);
}

function jobHealth(live: KubeObject): Health {
  const failed = conditionOf(live, 'Failed');
  if (failed?.status === 'True') return degraded(...explain(failed, 'JobFailed', 'the job failed'));
  if (conditionOf(live, 'Complete')?.status === 'True') return healthy('JobComplete', 'the job completed');
  if (conditionOf(live, 'Suspended')?.status === 'True') return progressing('JobSuspended', 'the job is suspended');
  const active = numberAt(live, 'status', 'active') ?? 0;
  const succeeded = numberAt(live, 'status', 'succeeded') ?? 0;
  return progressing('JobRunning', `${active} active, ${succeeded} succeeded`);
}

function persistentVolumeClaimHealth(live: KubeObject): Health {
  const phase = field(live, 'status', 'phase');
  if (phase === 'Bound') return healthy('Bound', 'the claim is bound');
  if (phase === 'Lost') return degraded('ClaimLost', 'the claim lost its volume');
  return progressing('NotBound', `the claim is ${typeof phase === 'string' ? phase : 'not yet bound'}`);
}

function customResourceDefinitionHealth(live: KubeObject): Health {
  const names = conditionOf(live, 'NamesAccepted');
  if (names?.status === 'False') return degraded(...explain(names, 'NamesNotAccepted', 'the names conflict with another definition'));
  if (conditionOf(live, 'Established')?.status === 'True') return healthy('Established', 'the definition is established');
  return progressing('NotEstablished', 'waiting for the definition to be established');
}

function serviceHealth(live: KubeObject): Health {
  if (field(live, 'spec', 'type') !== 'LoadBalancer') return healthy('Exists', 'the service exists');
  const ingress = field(live, 'status', 'loadBalancer', 'ingress');
  return Array.isArray(ingress) && ingress.length > 0
    ? healthy('LoadBalancerReady', 'the load balancer is provisioned')
    : progressing('LoadBalancerPending', 'waiting for the load balancer to be provisioned');
}

function apiServiceHealth(live: KubeObject): Health {
  const available = conditionOf(live, 'Available');
  if (available?.status === 'True') return healthy('Available', 'the API service is available');
  // Not Degraded: an aggregated API is unavailable while its backing pods start, and the condition
  // does not tell that apart from a lasting failure.
  return progressing(...explain(available, 'NotAvailable', 'waiting for the API service to become available'));
}

/** kstatus conventions, for custom resources and anything else that follows them. */
function genericHealth(live: KubeObject): Health {
  const stale = staleGeneration(live, false);
  if (stale) return stale;
  const { Ready, Reconciling, Stalled } = kstatusConditionTypes;
  const stalled = conditionOf(live, Stalled);
  if (stalled?.status === 'True') return degraded(...explain(stalled, Stalled, 'the object cannot make progress'));
  const reconciling = conditionOf(live, Reconciling);
  if (reconciling?.status === 'True') return progressing(...explain(reconciling, Reconciling, 'reconciliation in progress'));
  const ready = conditionOf(live, Ready);
  if (ready === undefined) return healthy('Exists', 'the object exists');
  const generation = live.metadata.generation;
  if (ready.observedGeneration !== undefined && generation !== undefined && ready.observedGeneration < generation) {
    return progressing('GenerationNotObserved', `Ready describes generation ${ready.observedGeneration}, not ${generation}`);
  }
  // Ready False without Stalled means "not yet" under kstatus; only Stalled says it has given up.
  return ready.status === 'True'
    ? healthy(...explain(ready, Ready, 'the object is ready'))
    : progressing(...explain(ready, 'NotReady', 'the object is not ready'));
}

const RULES: Readonly<Record<string, (live: KubeObject) => Health>> = {
  'Deployment.apps': deploymentHealth,
  'StatefulSet.apps': statefulSetHealth,
  'DaemonSet.apps': daemonSetHealth,
  'Job.batch': jobHealth,
  PersistentVolumeClaim: persistentVolumeClaimHealth,
  'CustomResourceDefinition.apiextensions.k8s.io': customResourceDefinitionHealth,
  Service: serviceHealth,
  'APIService.apiregistration.k8s.io': apiServiceHealth,
};

/** The health of a live object judged by its own status; `undefined` (not found) is Unknown. */
export function assessHealth(live: KubeObject | undefined): Health {
  if (live === undefined) return { status: 'Unknown', reason: 'NotFound', message: 'the object does not exist' };
  if (live.metadata.deletionTimestamp !== undefined) return progressing('Terminating', 'the object is being deleted');
  const rule = RULES[groupKindKey(groupKindOf(live))] ?? genericHealth;
  return rule(live);
}

export interface HealthSummary {
  /** Every manifest is Healthy (true for an empty Work: nothing is missing). */
  available: boolean;
  /** At least one manifest is Degraded. */
  degraded: boolean;
  counts: Record<HealthStatus, number>;
}

export function summarizeHealth(healths: Iterable<Pick<Health, 'status'>>): HealthSummary {
  const counts: Record<HealthStatus, number> = { Healthy: 0, Progressing: 0, Degraded: 0, Unknown: 0 };
  let total = 0;
  for (const { status } of healths) {
    counts[status] += 1;
    total += 1;
  }
  return { available: counts.Healthy === total, degraded: counts.Degraded > 0, counts };
}
