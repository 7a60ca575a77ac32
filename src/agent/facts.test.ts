import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/index.js';
import { clusterFacts, podRequests } from './facts.js';
import { formatQuantity } from '../kube-semantics/quantity.js';

const node = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status: { capacity: { cpu: '8', memory: '32Gi', pods: '110' }, allocatable: { cpu: '7800m', memory: '31Gi', pods: '110' } },
});

const pod = (name: string, spec: Record<string, unknown>, phase = 'Running'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec,
  status: { phase },
});

const container = (cpu?: string, memory?: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'c',
  image: 'i',
  ...extra,
  resources: { requests: { ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) } },
});

const formatted = (p: KubeObject): { cpu: string; memory: string } => {
  const r = podRequests(p);
  return { cpu: formatQuantity(r.cpu, 'DecimalSI'), memory: formatQuantity(r.memory, 'BinarySI') };
};

describe('podRequests', () => {
  it.each([
    ['sums app containers', { containers: [container('100m', '128Mi'), container('250m', '64Mi')] }, { cpu: '350m', memory: '192Mi' }],
    ['counts a container without requests as zero', { containers: [container(), container('1')] }, { cpu: '1', memory: '0' }],
    [
      'takes an init container larger than the app containers',
      { initContainers: [container('2', '1Gi')], containers: [container('100m', '128Mi')] },
      { cpu: '2', memory: '1Gi' },
    ],
    [
      'adds sidecars to the app containers',
      {
        initContainers: [container('100m', '64Mi', { restartPolicy: 'Always' })],
        containers: [container('200m', '64Mi')],
      },
      { cpu: '300m', memory: '128Mi' },
    ],
    [
      'counts sidecars started before an init container in its peak',
      {
        initContainers: [container('500m', '0', { restartPolicy: 'Always' }), container('1', '0')],
        containers: [container('100m')],
      },
      { cpu: '1500m', memory: '0' },
    ],
    [
      'adds the pod overhead',
      { containers: [container('100m', '100Mi')], overhead: { cpu: '50m', memory: '28Mi' } },
      { cpu: '150m', memory: '128Mi' },
    ],
  ])('%s', (_name, spec, expected) => {
    expect(formatted(pod('p', spec))).toEqual(expected);
  });
});

describe('clusterFacts', () => {
  it('sums two nodes and the requests of pods that are not terminated', () => {
    const facts = clusterFacts({
      kubernetesVersion: 'v1.36.3',
      agentVersion: '0.1.0',
      nodes: [node('a'), node('b')],
      pods: [
        pod('web', { containers: [container('250m', '256Mi')] }),
        pod('pending', { containers: [container('250m', '256Mi')] }, 'Pending'),
        pod('done', { containers: [container('4', '4Gi')] }, 'Succeeded'),
        pod('crashed', { containers: [container('4', '4Gi')] }, 'Failed'),
      ],
    });
    expect(facts).toEqual({
      kubernetesVersion: 'v1.36.3',
      agentVersion: '0.1.0',
      nodeCount: 2,
      resources: {
        capacity: { cpu: '16', memory: '64Gi' },
        allocatable: { cpu: '15600m', memory: '62Gi' },
        requested: { cpu: '500m', memory: '512Mi' },
      },
    });
  });

  it('reports an empty cluster as zeros', () => {
    expect(clusterFacts({ kubernetesVersion: 'v1.36.3', agentVersion: 'dev', nodes: [], pods: [] }).resources).toEqual({
      capacity: { cpu: '0', memory: '0' },
      allocatable: { cpu: '0', memory: '0' },
      requested: { cpu: '0', memory: '0' },
    });
  });
});
