import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/index.js';
import type { ServedGroupVersion } from '../runtime/index.js';
import { memberClusterSchema } from '../api/generated/schemas.js';
import { apiVersionsFact, apiVersionsLimits, clusterFacts, podRequests } from './facts.js';
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
      served: [{ groupVersion: 'v1', kinds: ['ConfigMap'] }],
      reportedAPIVersions: {},
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
      apiVersions: ['v1', 'v1/ConfigMap'],
    });
  });

  it('reports an empty cluster as zeros', () => {
    expect(
      clusterFacts({ kubernetesVersion: 'v1.36.3', agentVersion: 'dev', nodes: [], pods: [], served: [], reportedAPIVersions: {} })
        .resources,
    ).toEqual({
      capacity: { cpu: '0', memory: '0' },
      allocatable: { cpu: '0', memory: '0' },
      requested: { cpu: '0', memory: '0' },
    });
  });
});

describe('apiVersionsFact', () => {
  const monitoring: ServedGroupVersion = { groupVersion: 'monitoring.coreos.com/v1', kinds: ['PodMonitor', 'ServiceMonitor'] };
  const apps: ServedGroupVersion = { groupVersion: 'apps/v1', kinds: ['DaemonSet', 'Deployment'] };
  const core: ServedGroupVersion = { groupVersion: 'v1', kinds: ['ConfigMap', 'Pod'] };

  it.each<[string, ServedGroupVersion[], { entries: number; characters: number } | undefined, ReturnType<typeof apiVersionsFact>]>([
    [
      "every group-version and group/version/Kind, sorted, in helm's --api-versions form",
      [monitoring, core, apps],
      undefined,
      {
        apiVersions: [
          'apps/v1',
          'apps/v1/DaemonSet',
          'apps/v1/Deployment',
          'monitoring.coreos.com/v1',
          'monitoring.coreos.com/v1/PodMonitor',
          'monitoring.coreos.com/v1/ServiceMonitor',
          'v1',
          'v1/ConfigMap',
          'v1/Pod',
        ],
      },
    ],
    [
      'a group-version with no resources still counts',
      [{ groupVersion: 'example.com/v1', kinds: [] }],
      undefined,
      { apiVersions: ['example.com/v1'] },
    ],
    [
      'each entry once, whatever discovery repeated',
      [core, { groupVersion: 'v1', kinds: ['Pod'] }],
      undefined,
      { apiVersions: ['v1', 'v1/ConfigMap', 'v1/Pod'] },
    ],
    ['nothing served', [], undefined, { apiVersions: [] }],
    [
      'over the entry bound: group-versions first, then kinds in sorted order, the rest counted',
      [monitoring, core, apps],
      { entries: 5, characters: 10_000 },
      { apiVersions: ['apps/v1', 'apps/v1/DaemonSet', 'apps/v1/Deployment', 'monitoring.coreos.com/v1', 'v1'], apiVersionsOmitted: 4 },
    ],
    [
      'over the character bound: cut at the first entry that does not fit',
      [core, apps],
      { entries: 100, characters: 'apps/v1'.length + 'v1'.length + 'apps/v1/DaemonSet'.length + 3 },
      { apiVersions: ['apps/v1', 'apps/v1/DaemonSet', 'v1'], apiVersionsOmitted: 3 },
    ],
    [
      'more group-versions than entries: group-versions cut too',
      [monitoring, core, apps],
      { entries: 2, characters: 10_000 },
      { apiVersions: ['apps/v1', 'monitoring.coreos.com/v1'], apiVersionsOmitted: 7 },
    ],
  ])('%s', (_name, served, limits, expected) => {
    expect(apiVersionsFact(served, limits)).toEqual(expected);
  });

  it('is the same list whatever order discovery answered in', () => {
    expect(apiVersionsFact([apps, core, monitoring])).toEqual(apiVersionsFact([monitoring, apps, core]));
  });

  it('keeps a cluster with 1500 CRDs of a Crossplane-like provider within the bounds the schema allows', () => {
    const served = Array.from({ length: 300 }, (_, group) => ({
      groupVersion: `service${group}.aws.upbound.io/v1beta1`,
      kinds: Array.from({ length: 5 }, (_, kind) => `ResourceKindNumber${kind}WithALongName`),
    }));
    const fact = apiVersionsFact(served);
    expect(fact.apiVersions).toHaveLength(1800);
    expect(fact.apiVersionsOmitted).toBeUndefined();
    expect((fact.apiVersions ?? []).join('').length).toBeLessThanOrEqual(apiVersionsLimits.characters);
  });

  it('has the entry bound of the MemberCluster schema', () => {
    const status = memberClusterSchema.properties?.status as { properties: { apiVersions: { maxItems: number } } };
    expect(status.properties.apiVersions.maxItems).toBe(apiVersionsLimits.entries);
  });
});

describe('clusterFacts apiVersions', () => {
  const base = { kubernetesVersion: 'v1.36.3', agentVersion: 'dev', nodes: [], pods: [] };
  const reported = { apiVersions: ['monitoring.coreos.com/v1', 'v1'], apiVersionsOmitted: 2 };

  it.each<[string, ServedGroupVersion[] | undefined, object]>([
    ['discovery has not answered yet: what the MemberCluster holds stands, never withdrawn', undefined, reported],
    ['discovery answered: its answer replaces what was reported', [{ groupVersion: 'v1', kinds: [] }], { apiVersions: ['v1'] }],
  ])('%s', (_name, served, expected) => {
    const facts = clusterFacts({ ...base, served, reportedAPIVersions: reported });
    expect({ apiVersions: facts.apiVersions, apiVersionsOmitted: facts.apiVersionsOmitted }).toEqual({
      apiVersionsOmitted: undefined,
      ...expected,
    });
  });

  it('reports none for a cluster that never reported them until discovery answers', () => {
    expect(clusterFacts({ ...base, served: undefined, reportedAPIVersions: {} }).apiVersions).toBeUndefined();
  });
});
