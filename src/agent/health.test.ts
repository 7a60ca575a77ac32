import { describe, expect, it } from '@jest/globals';
import { assessHealth, summarizeHealth, type HealthStatus } from './health.js';
import type { KubeObject } from '../runtime/kube.js';
import { manifest } from '../work/testing.js';

type Case = [name: string, live: KubeObject, status: HealthStatus, reason: string];

const withStatus = (apiVersion: string, kind: string, spec: unknown, status: unknown, generation = 2): KubeObject =>
  manifest(apiVersion, kind, 'x', 'shop', { metadata: { generation }, spec, status });

const deployment = (status: Record<string, unknown>, spec: Record<string, unknown> = { replicas: 3 }): KubeObject =>
  withStatus('apps/v1', 'Deployment', spec, { observedGeneration: 2, ...status });
const complete = { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
const cond = (type: string, status: string, reason = '', message = '', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type,
  status,
  reason,
  message,
  ...extra,
});

const statefulSet = (status: Record<string, unknown>, spec: Record<string, unknown> = { replicas: 3 }): KubeObject =>
  withStatus('apps/v1', 'StatefulSet', spec, { observedGeneration: 2, ...status });
const stsDone = { replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' };

const daemonSet = (status: Record<string, unknown>): KubeObject =>
  withStatus('apps/v1', 'DaemonSet', {}, { observedGeneration: 2, desiredNumberScheduled: 4, ...status });

const custom = (status: unknown, generation = 2): KubeObject => withStatus('example.com/v1', 'Widget', {}, status, generation);

describe('assessHealth', () => {
  it.each<Case>([
    [
      'Deployment rolled out',
      deployment({ ...complete, conditions: [cond('Available', 'True'), cond('Progressing', 'True', 'NewReplicaSetAvailable')] }),
      'Healthy',
      'RolloutComplete',
    ],
    ['Deployment not yet observed', deployment({ ...complete, observedGeneration: 1 }), 'Progressing', 'GenerationNotObserved'],
    ['Deployment without status', withStatus('apps/v1', 'Deployment', { replicas: 1 }, undefined), 'Progressing', 'NotObserved'],
    ['Deployment updating', deployment({ ...complete, updatedReplicas: 1 }), 'Progressing', 'RolloutInProgress'],
    ['Deployment with old replicas terminating', deployment({ ...complete, replicas: 4 }), 'Progressing', 'RolloutInProgress'],
    ['Deployment with unavailable replicas', deployment({ ...complete, availableReplicas: 2 }), 'Progressing', 'RolloutInProgress'],
    [
      'Deployment past its deadline',
      deployment({
        ...complete,
        updatedReplicas: 1,
        conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "x" has timed out')],
      }),
      'Degraded',
      'ProgressDeadlineExceeded',
    ],
    [
      'Deployment whose Available condition is False',
      deployment({ ...complete, conditions: [cond('Available', 'False', 'MinimumReplicasUnavailable')] }),
      'Progressing',
      'MinimumReplicasUnavailable',
    ],
    [
      'Deployment defaulting to one replica',
      deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, {}),
      'Healthy',
      'RolloutComplete',
    ],
    ['Deployment scaled to zero', deployment({}, { replicas: 0 }), 'Healthy', 'RolloutComplete'],

    ['StatefulSet rolled out', statefulSet(stsDone), 'Healthy', 'RolloutComplete'],
    ['StatefulSet not observed', statefulSet({ ...stsDone, observedGeneration: 1 }), 'Progressing', 'GenerationNotObserved'],
    ['StatefulSet with unready replicas', statefulSet({ ...stsDone, readyReplicas: 2 }), 'Progressing', 'RolloutInProgress'],
    ['StatefulSet scaling down', statefulSet({ ...stsDone, replicas: 5 }), 'Progressing', 'ScalingDown'],
    [
      'StatefulSet between revisions',
      statefulSet({ ...stsDone, updatedReplicas: 1, currentRevision: 'r1' }),
      'Progressing',
      'RolloutInProgress',
    ],
    [
      'StatefulSet partition rolling',
      statefulSet(
        { ...stsDone, updatedReplicas: 0, currentRevision: 'r1' },
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      ),
      'Progressing',
      'PartitionRolloutInProgress',
    ],
    [
      'StatefulSet partition done',
      statefulSet(
        { ...stsDone, updatedReplicas: 1, currentRevision: 'r1' },
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
      ),
      'Healthy',
      'PartitionRolloutComplete',
    ],
    [
      'StatefulSet partition above replicas',
      statefulSet(
        { ...stsDone, updatedReplicas: 0, currentRevision: 'r1' },
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: 5 } } },
      ),
      'Healthy',
      'PartitionRolloutComplete',
    ],
    [
      'StatefulSet OnDelete with old revisions',
      statefulSet({ ...stsDone, currentRevision: 'r1' }, { replicas: 3, updateStrategy: { type: 'OnDelete' } }),
      'Healthy',
      'AllReplicasReady',
    ],

    ['DaemonSet rolled out', daemonSet({ updatedNumberScheduled: 4, numberAvailable: 4 }), 'Healthy', 'RolloutComplete'],
    ['DaemonSet updating', daemonSet({ updatedNumberScheduled: 2, numberAvailable: 4 }), 'Progressing', 'RolloutInProgress'],
    ['DaemonSet unavailable', daemonSet({ updatedNumberScheduled: 4, numberAvailable: 3 }), 'Progressing', 'RolloutInProgress'],
    ['DaemonSet on no nodes', daemonSet({ desiredNumberScheduled: 0 }), 'Healthy', 'RolloutComplete'],
    [
      'DaemonSet not observed',
      daemonSet({ observedGeneration: 1, updatedNumberScheduled: 4, numberAvailable: 4 }),
      'Progressing',
      'GenerationNotObserved',
    ],

    ['Job complete', withStatus('batch/v1', 'Job', {}, { conditions: [cond('Complete', 'True')] }), 'Healthy', 'JobComplete'],
    [
      'Job failed',
      withStatus('batch/v1', 'Job', {}, { conditions: [cond('Failed', 'True', 'BackoffLimitExceeded', 'has reached the backoff limit')] }),
      'Degraded',
      'BackoffLimitExceeded',
    ],
    ['Job running', withStatus('batch/v1', 'Job', {}, { active: 1 }), 'Progressing', 'JobRunning'],
    ['Job suspended', withStatus('batch/v1', 'Job', {}, { conditions: [cond('Suspended', 'True')] }), 'Progressing', 'JobSuspended'],
    [
      'Job with a False Complete condition',
      withStatus('batch/v1', 'Job', {}, { conditions: [cond('Complete', 'False')] }),
      'Progressing',
      'JobRunning',
    ],

    ['PVC bound', withStatus('v1', 'PersistentVolumeClaim', {}, { phase: 'Bound' }), 'Healthy', 'Bound'],
    ['PVC pending', withStatus('v1', 'PersistentVolumeClaim', {}, { phase: 'Pending' }), 'Progressing', 'NotBound'],
    ['PVC without status', withStatus('v1', 'PersistentVolumeClaim', {}, undefined), 'Progressing', 'NotBound'],
    ['PVC lost', withStatus('v1', 'PersistentVolumeClaim', {}, { phase: 'Lost' }), 'Degraded', 'ClaimLost'],

    [
      'CRD established',
      withStatus(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        {},
        { conditions: [cond('NamesAccepted', 'True'), cond('Established', 'True')] },
      ),
      'Healthy',
      'Established',
    ],
    [
      'CRD not yet established',
      withStatus('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {}, { conditions: [cond('NamesAccepted', 'True')] }),
      'Progressing',
      'NotEstablished',
    ],
    [
      'CRD with conflicting names',
      withStatus(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        {},
        { conditions: [cond('NamesAccepted', 'False', 'MultipleNamesNotAllowed', '"w" is already in use')] },
      ),
      'Degraded',
      'MultipleNamesNotAllowed',
    ],

    ['ClusterIP Service', withStatus('v1', 'Service', { type: 'ClusterIP' }, {}), 'Healthy', 'Exists'],
    ['Service without a type', withStatus('v1', 'Service', {}, undefined), 'Healthy', 'Exists'],
    [
      'LoadBalancer without ingress',
      withStatus('v1', 'Service', { type: 'LoadBalancer' }, { loadBalancer: {} }),
      'Progressing',
      'LoadBalancerPending',
    ],
    [
      'LoadBalancer with empty ingress',
      withStatus('v1', 'Service', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [] } }),
      'Progressing',
      'LoadBalancerPending',
    ],
    [
      'LoadBalancer with ingress',
      withStatus('v1', 'Service', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } }),
      'Healthy',
      'LoadBalancerReady',
    ],

    [
      'APIService available',
      withStatus('apiregistration.k8s.io/v1', 'APIService', {}, { conditions: [cond('Available', 'True')] }),
      'Healthy',
      'Available',
    ],
    [
      'APIService unavailable',
      withStatus('apiregistration.k8s.io/v1', 'APIService', {}, { conditions: [cond('Available', 'False', 'MissingEndpoints')] }),
      'Progressing',
      'MissingEndpoints',
    ],
    ['APIService without conditions', withStatus('apiregistration.k8s.io/v1', 'APIService', {}, {}), 'Progressing', 'NotAvailable'],

    ['custom resource Ready', custom({ observedGeneration: 2, conditions: [cond('Ready', 'True', 'Succeeded')] }), 'Healthy', 'Succeeded'],
    ['custom resource not Ready', custom({ conditions: [cond('Ready', 'False', 'Waiting')] }), 'Progressing', 'Waiting'],
    ['custom resource Ready Unknown', custom({ conditions: [cond('Ready', 'Unknown')] }), 'Progressing', 'NotReady'],
    [
      'custom resource Stalled',
      custom({ conditions: [cond('Ready', 'False', 'Failed'), cond('Stalled', 'True', 'InvalidSpec', 'bad')] }),
      'Degraded',
      'InvalidSpec',
    ],
    [
      'custom resource Reconciling',
      custom({ conditions: [cond('Ready', 'True'), cond('Reconciling', 'True', 'Progressing')] }),
      'Progressing',
      'Progressing',
    ],
    [
      'custom resource with stale observedGeneration',
      custom({ observedGeneration: 1, conditions: [cond('Ready', 'True')] }),
      'Progressing',
      'GenerationNotObserved',
    ],
    [
      'custom resource whose Ready describes an old generation',
      custom({ conditions: [cond('Ready', 'True', '', '', { observedGeneration: 1 })] }),
      'Progressing',
      'GenerationNotObserved',
    ],
    ['custom resource without status', custom(undefined), 'Healthy', 'Exists'],
    ['custom resource with unrelated conditions', custom({ conditions: [cond('Synced', 'False')] }), 'Healthy', 'Exists'],
    ['ConfigMap', manifest('v1', 'ConfigMap', 'c', 'shop'), 'Healthy', 'Exists'],
    [
      'object being deleted',
      manifest('v1', 'ConfigMap', 'c', 'shop', { metadata: { deletionTimestamp: '2024-01-01T00:00:00Z' } }),
      'Progressing',
      'Terminating',
    ],
    [
      'a same-named kind in another group is judged generically',
      withStatus('example.com/v1', 'Deployment', {}, undefined),
      'Healthy',
      'Exists',
    ],
  ])('%s', (_name, live, status, reason) => {
    const health = assessHealth(live);
    expect({ status: health.status, reason: health.reason }).toEqual({ status, reason });
    expect(health.message).not.toBe('');
  });

  it('is Unknown for an object that does not exist', () => {
    expect(assessHealth(undefined)).toEqual({ status: 'Unknown', reason: 'NotFound', message: 'the object does not exist' });
  });

  it('carries the controller message of a failure', () => {
    const live = deployment({
      ...complete,
      conditions: [cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'ReplicaSet "x" has timed out progressing.')],
    });
    expect(assessHealth(live).message).toBe('ReplicaSet "x" has timed out progressing.');
  });
});

describe('summarizeHealth', () => {
  it.each<[string, HealthStatus[], boolean, boolean]>([
    ['all healthy', ['Healthy', 'Healthy'], true, false],
    ['empty', [], true, false],
    ['one progressing', ['Healthy', 'Progressing'], false, false],
    ['one unknown', ['Healthy', 'Unknown'], false, false],
    ['one degraded', ['Healthy', 'Degraded', 'Progressing'], false, true],
  ])('%s', (_name, statuses, available, degraded) => {
    const summary = summarizeHealth(statuses.map((status) => ({ status })));
    expect({ available: summary.available, degraded: summary.degraded }).toEqual({ available, degraded });
    expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(statuses.length);
  });
});
