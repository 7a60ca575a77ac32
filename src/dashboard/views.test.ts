import { describe, expect, it } from '@jest/globals';
import { annotations, type GlobalService, type MemberCluster, type PolicyBundle, type Work } from '../api/index.js';
import { approvedThrough } from '../hub/globalservice/rollout/stages.js';
import type { Condition } from '../runtime/index.js';
import {
  approveCommand,
  clusterDetail,
  clusterPage,
  clusterRow,
  clusterState,
  compliancePage,
  complianceRows,
  fleetCapacity,
  capacityRow,
  overview,
  parseClusterQuery,
  parseComplianceQuery,
  serviceView,
  shownFleets,
  utilisation,
  type ClusterState,
} from './views.js';

const condition = (type: string, status: Condition['status'], reason = type, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

function member(
  name: string,
  options: {
    fleet?: string;
    joined?: boolean;
    ready?: Condition['status'];
    paused?: boolean;
    labels?: Record<string, string>;
    cpu?: [string, string];
  } = {},
): MemberCluster {
  const conditions: Condition[] = [];
  if (options.joined !== false) conditions.push(condition('Joined', 'True', 'AgentReported'));
  if (options.ready !== undefined)
    conditions.push(
      condition('Ready', options.ready, options.ready === 'Unknown' ? 'HeartbeatMissed' : 'Ready', `ready is ${options.ready}`),
    );
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'MemberCluster',
    metadata: { name, labels: options.labels ?? {} },
    spec: { fleet: options.fleet ?? 'f', ...(options.paused === true ? { paused: true } : {}) },
    status: {
      conditions,
      kubernetesVersion: 'v1.31.2',
      ...(options.cpu
        ? { resources: { requested: { cpu: options.cpu[0], memory: '1Gi' }, allocatable: { cpu: options.cpu[1], memory: '4Gi' } } }
        : {}),
    },
  };
}

function work(name: string, degraded: boolean): Work {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'Work',
    metadata: {
      name,
      namespace: 'flotilla-member-a',
      labels: {
        'flotilla.dev/source-kind': 'GlobalService',
        'flotilla.dev/source-name': 'web',
        'flotilla.dev/source-namespace': 'fleet-f',
      },
    },
    spec: {
      source: { kind: 'GlobalService', name: 'web', namespace: 'fleet-f', revision: 'r1', generation: 1 },
      manifests: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2' } }],
    },
    status: {
      appliedRevision: 'r1',
      conditions: [
        condition(
          'Degraded',
          degraded ? 'True' : 'False',
          degraded ? 'Conflict' : 'NoFailures',
          degraded ? 'ConfigMap default/x is not ours' : '',
        ),
      ],
      manifests: [
        {
          version: 'v1',
          kind: 'ConfigMap',
          namespace: 'default',
          name: 'x',
          applied: !degraded,
          health: degraded ? 'Degraded' : 'Healthy',
          drifted: true,
          driftedFields: ['.data.a'],
        },
      ],
    },
  };
}

describe('clusterState', () => {
  it.each<[string, MemberCluster, Work[], ClusterState]>([
    ['Ready', member('a', { ready: 'True' }), [], 'Ready'],
    ['heartbeats stopped: Unknown, even with a Degraded Work', member('a', { ready: 'Unknown' }), [work('w', true)], 'Unknown'],
    ['a Degraded Work, before the hub re-judges the cluster', member('a', { ready: 'True' }), [work('w', true)], 'Degraded'],
    ['not Ready for another reason', member('a', { ready: 'False' }), [], 'NotReady'],
    ['no agent yet', member('a', { joined: false }), [], 'Joining'],
    ['paused and otherwise fine', member('a', { ready: 'True', paused: true }), [], 'Paused'],
    ['paused and Degraded shows Degraded', member('a', { ready: 'True', paused: true }), [work('w', true)], 'Degraded'],
  ])('%s', (_name, m, works, expected) => {
    expect(clusterState(m, works)).toBe(expected);
  });
});

describe('utilisation', () => {
  it.each<[string | undefined, string | undefined, number | null]>([
    ['500m', '2', 0.25],
    ['3', '2', 1.5],
    ['1Gi', '4Gi', 0.25],
    [undefined, '2', null],
    ['1', '0', null],
  ])('%s of %s', (requested, allocatable, expected) => {
    expect(utilisation(requested, allocatable)).toBe(expected);
  });
});

describe('clusterPage', () => {
  const rows = [
    clusterRow(member('b-prod', { ready: 'True', labels: { env: 'prod' }, cpu: ['1', '2'] }), []),
    clusterRow(member('a-dev', { ready: 'Unknown', labels: { env: 'dev' }, cpu: ['3', '4'] }), []),
    clusterRow(member('c-prod', { ready: 'True', labels: { env: 'prod', tier: 'gold' } }), [work('w', true)]),
    clusterRow(member('d-new', { joined: false }), []),
  ];
  const query = (params: Record<string, string>) => parseClusterQuery(new URLSearchParams(params));
  it.each<[string, Record<string, string>, string[], number]>([
    ['by state, worst first, ties by name', {}, ['a-dev', 'c-prod', 'd-new', 'b-prod'], 4],
    ['by name descending', { sort: 'name', order: 'desc' }, ['d-new', 'c-prod', 'b-prod', 'a-dev'], 4],
    ['by CPU, unknown last', { sort: 'cpu', order: 'desc' }, ['a-dev', 'b-prod', 'c-prod', 'd-new'], 4],
    ['a label selector', { selector: 'env=prod,!tier' }, ['b-prod'], 1],
    ['a set selector', { selector: 'env in (prod,dev)', sort: 'name' }, ['a-dev', 'b-prod', 'c-prod'], 3],
    ['states', { state: 'Degraded,Joining' }, ['c-prod', 'd-new'], 2],
    ['name search, any case', { search: 'PROD', sort: 'name' }, ['b-prod', 'c-prod'], 2],
    ['a page', { sort: 'name', offset: '1', limit: '2' }, ['b-prod', 'c-prod'], 4],
  ])('%s', (_name, params, names, total) => {
    const page = clusterPage(rows, query(params));
    expect(page.rows.map((r) => r.name)).toEqual(names);
    expect(page.total).toBe(total);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ sort: 'secret' }, /sort must be one of/],
    [{ state: 'Happy' }, /state must be among/],
    [{ selector: 'env in prod' }, /is not a label selector term/],
    [{ offset: '-1' }, /offset must be a whole number/],
  ])('refuses %j', (params, message) => {
    expect(() => query(params)).toThrow(message);
  });

  it('caps the page size', () => {
    expect(query({ limit: '100000' }).limit).toBe(500);
  });
});

describe('clusterDetail', () => {
  it('shows per-manifest applied, health and drift with the drifted fields, and never the manifests themselves', () => {
    const detail = clusterDetail(member('a', { ready: 'True' }), [work('w', true)]);
    expect(detail.row.state).toBe('Degraded');
    expect(detail.row.reason).toBe('Conflict');
    expect(detail.works[0]?.manifests).toEqual([
      {
        kind: 'ConfigMap',
        namespace: 'default',
        name: 'x',
        applied: false,
        health: 'Degraded',
        drifted: true,
        driftedFields: ['.data.a'],
        message: '',
      },
    ]);
    expect(detail.works[0]?.source).toBe('GlobalService/fleet-f/web');
    expect(JSON.stringify(detail)).not.toContain('hunter2');
  });
});

function staged(phase: NonNullable<NonNullable<GlobalService['status']>['rollout']>['phase'], stageIndex: number): GlobalService {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'GlobalService',
    metadata: { name: 'web', namespace: 'fleet-f' },
    spec: {
      placement: {},
      source: { manifests: [] },
      rollout: {
        strategy: 'Staged',
        stages: [{ name: 'canary', approval: {} }, { name: 'eu', approval: {} }, { name: 'rest' }],
      },
    },
    status: {
      revision: 'abc123',
      rollout: { phase, stageIndex, stage: ['canary', 'eu', 'rest'][stageIndex] ?? '' },
      clusters: { targeted: 3, failed: 1 },
    },
  };
}

describe('serviceView', () => {
  it.each<[string, GlobalService, string[]]>([
    ['waiting for approval of the current stage', staged('AwaitingApproval', 1), ['Done', 'AwaitingApproval', 'Pending']],
    ['progressing', staged('Progressing', 0), ['Current', 'Pending', 'Pending']],
    ['complete', staged('Complete', 2), ['Done', 'Done', 'Done']],
  ])('stages: %s', (_name, service, states) => {
    expect(serviceView(service, () => 'f').stages.map((s) => s.state)).toEqual(states);
  });

  it('offers the kubectl annotate command that the hub reads as approving exactly that stage', () => {
    const service = staged('AwaitingApproval', 1);
    const command = serviceView(service, () => 'f').stages[1]?.approveCommand ?? '';
    expect(command).toBe('kubectl annotate globalservice web -n fleet-f --overwrite flotilla.dev/approved-stage=eu@abc123');
    const [key, value] = (command.split(' ').at(-1) ?? '').split('=');
    expect(key).toBe(annotations.approvedStage);
    expect(approvedThrough(value, service.spec.rollout?.stages ?? [], 'abc123')).toBe(1);
    expect(approveCommand(service, 'canary', 'abc123')).toContain('approved-stage=canary@abc123');
  });
});

describe('overview', () => {
  it('counts clusters by state, versions, services and lists what needs attention, worst first', () => {
    const members = [
      member('ok', { ready: 'True' }),
      member('lost', { ready: 'Unknown' }),
      member('broken', { ready: 'True' }),
      member('new', { joined: false }),
    ];
    const view = overview({
      fleets: ['f'],
      members,
      services: [staged('Halted', 0)],
      policies: [],
      worksOf: (cluster) => (cluster === 'broken' ? [work('w', true)] : []),
    });
    expect(view.clusters).toEqual({ total: 4, Ready: 1, Unknown: 1, Degraded: 1, NotReady: 0, Joining: 1, Paused: 0 });
    expect(view.kubernetesVersions).toEqual([{ version: 'v1.31.2', count: 4 }]);
    expect(view.services).toEqual({ total: 1, Halted: 1 });
    expect(view.clusterAttention.map((a) => [a.cluster, a.state, a.reason])).toEqual([
      ['lost', 'Unknown', 'HeartbeatMissed'],
      ['broken', 'Degraded', 'Conflict'],
      ['new', 'Joining', 'AwaitingAgent'],
    ]);
    expect(view.serviceAttention.map((a) => a.name)).toEqual(['web']);
  });
});

describe('fleetCapacity', () => {
  it('sums cores and bytes per fleet', () => {
    const rows = [member('a', { cpu: ['1', '2'] }), member('b', { cpu: ['500m', '2'] }), member('c', { fleet: 'g', cpu: ['1', '1'] })].map(
      capacityRow,
    );
    expect(fleetCapacity(rows).map((f) => [f.name, f.cpu.requested, f.cpu.allocatable, f.memory.allocatable])).toEqual([
      ['f', 1.5, 4, 8 * 2 ** 30],
      ['g', 1, 1, 4 * 2 ** 30],
    ]);
  });
});

describe('shownFleets (the fleet filter, server-side)', () => {
  const visible = new Set(['prod', 'staging']);
  it.each<[string, string, string[]]>([
    ['no filter: every fleet the viewer may see', '', ['prod', 'staging']],
    ['one fleet the viewer may see', 'prod', ['prod']],
    ['a fleet the viewer may not see: nothing, as for one that does not exist', 'secret-fleet', []],
    ['a fleet of no such name', 'nope', []],
  ])('%s', (_name, fleet, shown) => {
    expect([...shownFleets(visible, fleet)].sort()).toEqual(shown);
  });
  it('never widens what the viewer may see', () => {
    expect([...shownFleets(new Set(), 'prod')]).toEqual([]);
  });
});

describe('compliance per cluster', () => {
  function bundle(name: string, mode: 'Audit' | 'Enforce', worst: NonNullable<PolicyBundle['status']>['worst'] = []): PolicyBundle {
    return {
      apiVersion: 'flotilla.dev/v1alpha1',
      kind: 'PolicyBundle',
      metadata: { name, namespace: 'fleet-f' },
      spec: { mode, placement: {} },
      status: { worst },
    };
  }
  /** The bundle's Work (part `part` of its set) on `cluster`, reported for `reported` (undefined: not yet) with these manifests. */
  function policyWork(
    cluster: string,
    name: string,
    options: { generation?: number; reported?: number; manifests?: NonNullable<Work['status']>['manifests']; part?: number } = {},
  ): Work {
    const set = `${name}-${cluster}`;
    return {
      apiVersion: 'flotilla.dev/v1alpha1',
      kind: 'Work',
      metadata: {
        name: options.part ? `${set}-${options.part}` : set,
        namespace: `flotilla-member-${cluster}`,
        generation: options.generation ?? 1,
        labels: {
          'flotilla.dev/source-kind': 'PolicyBundle',
          'flotilla.dev/source-name': name,
          'flotilla.dev/source-namespace': 'fleet-f',
          'flotilla.dev/cluster': cluster,
          'flotilla.dev/work': set,
        },
      },
      spec: { source: { kind: 'PolicyBundle', name, namespace: 'fleet-f', revision: 'r1', generation: 1 } },
      ...(options.reported !== undefined
        ? { status: { observedGeneration: options.reported, conditions: [], manifests: options.manifests ?? [] } }
        : {}),
    };
  }
  const quota = (applied: boolean, namespace: string) => ({ version: 'v1', kind: 'ResourceQuota', namespace, name: 'q', applied });

  const works: Record<string, Work[]> = {
    // Compliant with both bundles.
    good: [policyWork('good', 'base', { reported: 1, manifests: [quota(true, 'a')] }), policyWork('good', 'audit', { reported: 1 })],
    // The Audit bundle's quota is missing in two namespaces: one violation, counted twice.
    missing: [
      policyWork('missing', 'base', { reported: 1 }),
      policyWork('missing', 'audit', { reported: 1, manifests: [quota(false, 'a'), quota(false, 'b')] }),
    ],
    // The agent has not reported on the Work's new generation yet.
    stale: [policyWork('stale', 'base', { generation: 2, reported: 1 })],
    // Its report is compliant, but the hub found a conflict there, which only the bundle's status names.
    held: [policyWork('held', 'base', { reported: 1 })],
    // A second part of the set carries no status of its own; part 0 speaks for the set.
    parted: [policyWork('parted', 'base', { reported: 1 }), policyWork('parted', 'base', { part: 1 })],
    // A cluster only a GlobalService targets has no row.
    service: [work('w', false)],
  };
  const conflict = {
    cluster: 'held',
    kind: 'NetworkPolicy',
    policy: 'deny',
    count: 1,
    message: 'conflict: held by GlobalService/fleet-f/web',
  };
  const objects = {
    fleets: ['f'],
    members: Object.keys(works).map((name) => member(name, { ready: 'True' })),
    services: [],
    policies: [bundle('base', 'Enforce', [conflict]), bundle('audit', 'Audit')],
    worksOf: (cluster: string) => works[cluster] ?? [],
  };
  const rows = complianceRows(objects);
  const row = (cluster: string) => rows.find((r) => r.cluster === cluster);

  it.each<[string, string | undefined, string[]]>([
    ['good', 'compliant', ['fleet-f/audit compliant', 'fleet-f/base compliant']],
    ['missing', 'nonCompliant', ['fleet-f/audit nonCompliant', 'fleet-f/base compliant']],
    ['stale', 'unknown', ['fleet-f/base unknown']],
    ['held', 'nonCompliant', ['fleet-f/base nonCompliant']],
    ['parted', 'compliant', ['fleet-f/base compliant']],
    ['service', undefined, []],
  ])('%s: %s', (cluster, state, bundles) => {
    expect(row(cluster)?.state).toBe(state);
    expect((row(cluster)?.bundles ?? []).map((b) => `${b.bundle} ${b.state}`)).toEqual(bundles);
  });

  it('names each violation with its kind, object, count and message, and the mode of its bundle', () => {
    expect(row('missing')?.bundles[0]).toEqual({
      bundle: 'fleet-f/audit',
      mode: 'Audit',
      state: 'nonCompliant',
      violations: [{ kind: 'ResourceQuota', policy: 'q', count: 2, message: 'not in place' }],
      more: 0,
    });
    expect(row('held')?.bundles[0]?.violations).toEqual([{ kind: 'NetworkPolicy', policy: 'deny', count: 1, message: conflict.message }]);
  });

  it('lists at most five violations per bundle and counts the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ ...quota(false, 'a'), name: `q${i}` }));
    const [only] = complianceRows({
      ...objects,
      members: [member('many')],
      worksOf: () => [policyWork('many', 'base', { reported: 1, manifests: many })],
    });
    expect(only?.bundles[0]?.violations).toHaveLength(5);
    expect(only?.bundles[0]?.more).toBe(2);
  });

  const query = (params: Record<string, string>) => parseComplianceQuery(new URLSearchParams(params));
  it.each<[string, Record<string, string>, string[], number]>([
    ['worst first, ties by name', {}, ['held', 'missing', 'stale', 'good', 'parted'], 5],
    ['one state', { state: 'compliant' }, ['good', 'parted'], 2],
    ['name search, any case', { search: 'ISS' }, ['missing'], 1],
    ['a page', { offset: '1', limit: '2' }, ['missing', 'stale'], 5],
  ])('pages %s', (_name, params, clusters, total) => {
    const page = compliancePage(rows, query(params));
    expect(page.rows.map((r) => r.cluster)).toEqual(clusters);
    expect(page.total).toBe(total);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ state: 'Compliant' }, /state must be among nonCompliant, unknown, compliant/],
    [{ limit: 'ten' }, /limit must be a whole number/],
  ])('refuses %j', (params, message) => {
    expect(() => query(params)).toThrow(message);
  });
});
