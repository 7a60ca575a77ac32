import { describe, expect, it } from '@jest/globals';
import type { Fleet, GlobalService, MemberCluster, PolicyBundle } from '../api/index.js';
import type { Lease } from '../runtime/index.js';
import { parseLabels } from './join.js';
import { policyRows, renderServices, renderStatus, serviceRows, statusView } from './status.js';

const member = (name: string, fleet: string, ready: 'True' | 'Unknown'): MemberCluster => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name },
  spec: { fleet },
  status: {
    kubernetesVersion: 'v1.36.3',
    nodeCount: 2,
    lastHeartbeatTime: '2026-03-01T09:59:00Z',
    conditions: [
      {
        type: 'Ready',
        status: ready,
        reason: ready === 'True' ? 'Ready' : 'HeartbeatMissed',
        message: '',
        lastTransitionTime: '2026-03-01T09:00:00Z',
      },
    ],
    resources: { allocatable: { cpu: '15600m', memory: '62Gi' }, requested: { cpu: '250m', memory: '128Mi' } },
  },
});
const fleet: Fleet = {
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'Fleet',
  metadata: { name: 'prod' },
  status: {
    clusters: { total: 2, ready: 1 },
    conditions: [{ type: 'Ready', status: 'False', reason: 'ClustersNotReady', message: '', lastTransitionTime: '2026-03-01T09:00:00Z' }],
  },
};
const lease: Lease = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'flotilla-agent-heartbeat', namespace: 'flotilla-member-b' },
  spec: { renewTime: '2026-03-01T09:59:58.000000Z' },
};

describe('status', () => {
  const view = statusView(
    [fleet],
    [member('b', 'prod', 'True'), member('a', 'prod', 'Unknown'), member('z', 'dev', 'True')],
    [lease],
    'prod',
  );

  it('lists the fleet and its clusters, the heartbeat from the Lease when there is one', () => {
    expect(view.fleets).toEqual([{ name: 'prod', ready: 'False', clusters: 2, readyClusters: 1 }]);
    expect(view.clusters.map((c) => [c.name, c.ready, c.reason, c.lastHeartbeat])).toEqual([
      ['a', 'Unknown', 'HeartbeatMissed', '2026-03-01T09:59:00Z'],
      ['b', 'True', 'Ready', '2026-03-01T09:59:58.000000Z'],
    ]);
  });

  it('renders aligned columns', () => {
    const text = renderStatus(view, Date.parse('2026-03-01T10:00:00Z'));
    expect(text.split('\n')).toEqual([
      'fleet prod: Ready=False, 1/2 clusters ready',
      '',
      'CLUSTER   FLEET   READY                       VERSION   NODES   CPU REQ/ALLOC   MEMORY REQ/ALLOC   HEARTBEAT',
      'a         prod    Unknown (HeartbeatMissed)   v1.36.3   2       250m/15600m     128Mi/62Gi         60s ago',
      'b         prod    True                        v1.36.3   2       250m/15600m     128Mi/62Gi         2s ago',
      '',
    ]);
  });
});

describe('parseLabels', () => {
  it('reads key=value flags', () => {
    expect(parseLabels(['env=prod', 'topology.kubernetes.io/region=eu-west-1', 'empty='])).toEqual({
      env: 'prod',
      'topology.kubernetes.io/region': 'eu-west-1',
      empty: '',
    });
  });
  it('refuses anything else', () => {
    expect(() => parseLabels(['env'])).toThrow('--label must be key=value, not env');
  });
});

describe('services in status', () => {
  const halted =
    'halted: cluster eu-west-1 is Degraded at revision abc: 1 of 1 manifests failed: ConfigMap/gone/cfg: apply failed: namespaces "gone" not found';
  const service = (namespace: string, name: string, ready: 'True' | 'False' | 'Unknown' = 'False', message = halted): GlobalService => ({
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'GlobalService',
    metadata: { name, namespace },
    spec: { source: { manifests: [] }, placement: {} },
    status: {
      revision: 'abc',
      clusters: { targeted: 3, updated: 2, available: 1, failed: 1 },
      rollout: { phase: 'Halted' },
      conditions: [{ type: 'Ready', status: ready, reason: 'ClusterDegraded', message, lastTransitionTime: '2026-03-01T09:00:00Z' }],
    },
  });
  const rows = serviceRows([service('fleet-prod', 'web'), service('fleet-dev', 'api')], [fleet], 'prod');

  it("lists the services of the fleet's workspace with their cluster counts and why they fail", () => {
    expect(rows).toEqual([
      {
        namespace: 'fleet-prod',
        name: 'web',
        ready: 'False',
        reason: 'ClusterDegraded',
        revision: 'abc',
        phase: 'Halted',
        targeted: 3,
        updated: 2,
        available: 1,
        failed: 1,
        cause: halted,
      },
    ]);
    expect(renderServices(rows)).toMatch(/SERVICE\s+READY\s+TARGETED\s+UPDATED\s+AVAILABLE\s+FAILED/);
    expect(renderServices(rows)).toMatch(/fleet-prod\/web\s+False \(ClusterDegraded\)\s+3\s+2\s+1\s+1\s+Halted\s+abc/);
    expect(renderServices(rows).split('\n')).toContain(`fleet-prod/web: ${halted}`);
  });

  it.each<[string, 'True' | 'False' | 'Unknown', string]>([
    ['a failed service', 'False', halted],
    ['a service rolling out', 'Unknown', ''],
    ['a Ready service', 'True', ''],
  ])('gives the cause of %s only', (_name, ready, cause) => {
    const [row] = serviceRows([service('fleet-prod', 'web', ready, ready === 'False' ? halted : 'progressing')], [fleet]);
    expect(row?.cause).toBe(cause);
    expect(renderServices(row ? [row] : []).includes('fleet-prod/web: ')).toBe(cause !== '');
  });
});

describe('policyRows', () => {
  const bundle = (
    namespace: string,
    name: string,
    clusters?: { targeted: number; compliant: number; nonCompliant: number; unknown: number },
  ): PolicyBundle => ({
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'PolicyBundle',
    metadata: { name, namespace },
    spec: { mode: 'Audit', placement: {} },
    ...(clusters
      ? {
          status: {
            clusters,
            worst: [{ cluster: 'eu-west-1', kind: 'NetworkPolicy', namespace: 'shop', policy: 'default-deny', message: 'missing' }],
          },
        }
      : {}),
  });

  it("lists the bundles of the fleet's workspace with their compliance", () => {
    const rows = policyRows(
      [
        bundle('fleet-prod', 'baseline', { targeted: 3, compliant: 2, nonCompliant: 1, unknown: 0 }),
        bundle('fleet-prod', 'fresh'),
        bundle('fleet-dev', 'other', { targeted: 1, compliant: 1, nonCompliant: 0, unknown: 0 }),
      ],
      [fleet],
      'prod',
    );
    expect(rows.map((r) => [r.name, r.mode, r.compliance, r.targeted, r.nonCompliant, r.worst])).toEqual([
      ['baseline', 'Audit', 'NonCompliant', 3, 1, 'eu-west-1: NetworkPolicy shop/default-deny'],
      ['fresh', 'Audit', 'Unknown', 0, 0, ''],
    ]);
  });

  it('calls a bundle compliant only when no targeted cluster is unknown', () => {
    const [waiting] = policyRows([bundle('fleet-prod', 'b', { targeted: 2, compliant: 1, nonCompliant: 0, unknown: 1 })], [fleet]);
    const [done] = policyRows([bundle('fleet-prod', 'b', { targeted: 2, compliant: 2, nonCompliant: 0, unknown: 0 })], [fleet]);
    expect([waiting?.compliance, done?.compliance]).toEqual(['Unknown', 'Compliant']);
  });
});
