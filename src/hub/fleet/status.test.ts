import { describe, expect, it } from '@jest/globals';
import type { Fleet, MemberCluster } from '../../api/index.js';
import { compareVersionsDescending, fleetStatus, MAX_ATTENTION, memberState } from './status.js';

const fleet: Fleet = { apiVersion: 'flotilla.dev/v1alpha1', kind: 'Fleet', metadata: { name: 'prod', generation: 3 }, spec: {} };
const now = new Date('2026-03-01T10:00:00Z');

type State = 'ready' | 'lost' | 'notReady' | 'joining';
function member(name: string, state: State, extra: Partial<MemberCluster['spec']> = {}, version = 'v1.36.3'): MemberCluster {
  const cond = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: `${type} ${reason}`,
    lastTransitionTime: '2026-03-01T09:00:00Z',
  });
  const joined = state !== 'joining';
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'MemberCluster',
    metadata: { name },
    spec: { fleet: 'prod', ...extra },
    status: {
      conditions: [
        cond('Joined', joined ? 'True' : 'False', joined ? 'AgentReported' : 'AwaitingAgent'),
        cond(
          'Ready',
          { ready: 'True', lost: 'Unknown', notReady: 'False', joining: 'False' }[state],
          { ready: 'Ready', lost: 'HeartbeatMissed', notReady: 'WorksDegraded', joining: 'AwaitingAgent' }[state],
        ),
      ] as NonNullable<MemberCluster['status']>['conditions'],
      ...(joined
        ? {
            kubernetesVersion: version,
            resources: {
              capacity: { cpu: '16', memory: '64Gi' },
              allocatable: { cpu: '15600m', memory: '62Gi' },
              requested: { cpu: '250m', memory: '128Mi' },
            },
          }
        : {}),
    },
  };
}

describe('memberState', () => {
  it.each(['ready', 'lost', 'notReady', 'joining'] as const)('reads %s from the hub conditions', (state) => {
    expect(memberState(member('a', state))).toBe(state);
  });
});

describe('compareVersionsDescending', () => {
  it('sorts newest first, numerically, unparsable last', () => {
    expect(['v1.9.2', 'weird', 'v1.36.3', 'v1.9.10', 'v1.36.3-gke.1'].sort(compareVersionsDescending)).toEqual([
      'v1.36.3',
      'v1.36.3-gke.1',
      'v1.9.10',
      'v1.9.2',
      'weird',
    ]);
  });
});

describe('fleetStatus', () => {
  it('is Ready with all clusters ready, summing their resources', () => {
    const status = fleetStatus({ fleet, members: [member('a', 'ready'), member('b', 'ready')], workspace: 'ours', now });
    expect(status).toMatchObject({
      observedGeneration: 3,
      workspaceNamespace: 'fleet-prod',
      clusters: { total: 2, ready: 2, notReady: 0, lost: 0, joining: 0, paused: 0 },
      kubernetesVersions: [{ version: 'v1.36.3', count: 2 }],
      resources: {
        capacity: { cpu: '32', memory: '128Gi' },
        allocatable: { cpu: '31200m', memory: '124Gi' },
        requested: { cpu: '500m', memory: '256Mi' },
      },
      attention: [],
    });
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Ready=True/ClustersReady']);
  });

  it('counts by state, sums only Ready clusters and lists the worst first', () => {
    const status = fleetStatus({
      fleet,
      members: [
        member('d', 'joining'),
        member('c', 'notReady', {}, 'v1.35.0'),
        member('b', 'lost', { paused: true }),
        member('a', 'ready'),
      ],
      workspace: 'ours',
      now,
    });
    expect(status.clusters).toEqual({ total: 4, ready: 1, notReady: 1, lost: 1, joining: 1, paused: 1 });
    expect(status.kubernetesVersions).toEqual([
      { version: 'v1.36.3', count: 2 },
      { version: 'v1.35.0', count: 1 },
    ]);
    expect(status.resources?.capacity).toEqual({ cpu: '16', memory: '64Gi' });
    expect(status.attention?.map((a) => `${a.cluster}:${a.reason}`)).toEqual(['b:HeartbeatMissed', 'c:WorksDegraded', 'd:AwaitingAgent']);
    expect(status.attention?.[0]).toMatchObject({ since: '2026-03-01T09:00:00Z', message: 'Ready HeartbeatMissed' });
    // A cluster unhealthy because of its Works says so, in the words of its Ready condition.
    expect(status.attention?.[1]).toMatchObject({ cluster: 'c', reason: 'WorksDegraded', message: 'Ready WorksDegraded' });
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ClustersNotReady' });
    // b is paused: listed and counted, but its state does not decide the fleet's.
    expect(ready?.message).toBe('1 of 3 clusters are not ready: c (WorksDegraded), d (AwaitingAgent) (paused, not counted: 1)');
    // kstatus reads Ready=False alone as InProgress; an unwell cluster needs mending, so Stalled (kstatus Failed).
    expect(status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ClustersNotReady' });
  });

  it('is Ready when every unpaused cluster is, though a paused one never joined', () => {
    const status = fleetStatus({
      fleet,
      members: [member('a', 'ready'), member('b', 'joining', { paused: true })],
      workspace: 'ours',
      now,
    });
    expect(status.clusters).toMatchObject({ total: 2, ready: 1, joining: 1, paused: 1 });
    expect((status.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message}`)).toEqual([
      'Ready=True/ClustersReady: all 1 clusters are ready (paused, not counted: 1)',
    ]);
    expect(status.attention?.map((a) => `${a.cluster}:${a.reason}`)).toEqual(['b:AwaitingAgent']);
  });

  it('caps the attention list at the worst, then first by name, and names five in the message', () => {
    const members = Array.from({ length: 50 }, (_, i) => member(`c${String(49 - i).padStart(2, '0')}`, i % 2 === 0 ? 'lost' : 'joining'));
    const status = fleetStatus({ fleet, members, workspace: 'ours', now });
    expect(status.attention).toHaveLength(MAX_ATTENTION);
    expect(status.clusters).toMatchObject({ lost: 25, joining: 25 });
    // The lost are the odd names (c49, c47, …): all 20 places go to them, in name order.
    expect(status.attention?.[0]?.cluster).toBe('c01');
    expect(status.attention?.[MAX_ATTENTION - 1]?.cluster).toBe('c39');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.message).toBe(
      '25 of 50 clusters are not ready: c01 (HeartbeatMissed), c03 (HeartbeatMissed), c05 (HeartbeatMissed), c07 (HeartbeatMissed), c09 (HeartbeatMissed)',
    );
  });

  it('is Reconciling while clusters join or the workspace is being created, Stalled when the namespace is not ours', () => {
    const summary = (s: ReturnType<typeof fleetStatus>): string[] => (s.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
    expect(summary(fleetStatus({ fleet, members: [member('a', 'joining')], workspace: 'ours', now }))).toEqual([
      'Ready=Unknown/ClustersJoining',
      'Reconciling=True/ClustersJoining',
    ]);
    expect(summary(fleetStatus({ fleet, members: [], workspace: 'missing', now }))).toEqual([
      'Ready=Unknown/CreatingWorkspace',
      'Reconciling=True/CreatingWorkspace',
    ]);
    expect(summary(fleetStatus({ fleet, members: [], workspace: 'foreign', now }))).toEqual([
      'Ready=False/WorkspaceNamespaceConflict',
      'Stalled=True/WorkspaceNamespaceConflict',
    ]);
  });

  it('keeps the counts other controllers own and is stable when recomputed', () => {
    const first = fleetStatus({
      fleet: { ...fleet, status: { services: { total: 4 } } },
      members: [member('a', 'ready')],
      workspace: 'ours',
      now,
    });
    expect(first.services).toEqual({ total: 4 });
    const again = fleetStatus({
      fleet: { ...fleet, status: first },
      members: [member('a', 'ready')],
      workspace: 'ours',
      now: new Date('2026-03-01T11:00:00Z'),
    });
    expect(again).toEqual(first);
  });
});
