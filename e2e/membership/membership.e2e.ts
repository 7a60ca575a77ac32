// Membership on real planes: a hub operator and two agents run as processes of the built CLI; two
// spokes join, heartbeat, report facts, rotate tokens, move between groups and are revoked. The
// agent's identity is proven least-privileged against the hub's real RBAC, and one per join.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { eventually, kubectlOk, plane, uniqueName, type PlaneName } from '../framework/index.js';
import { parseBootstrap, type HubCredentials } from '../../src/agent/bootstrap.js';
import {
  agentServiceAccount,
  ClusterGroupType,
  FleetType,
  GlobalServiceType,
  MemberClusterType,
  memberNamespace,
  WorkType,
  type ClusterGroup,
  type Fleet,
  type GlobalService,
  type MemberCluster,
  type Work,
} from '../../src/api/index.js';
import {
  findCondition,
  KubeApiError,
  kubeFromFile,
  kubeFromToken,
  LeaseType,
  sleep,
  type Condition,
  type Kube,
  type KubeObject,
  type Lease,
} from '../../src/runtime/index.js';
import { runFlotilla, startProgram, stopAll, type Program } from './processes.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'membership-e2e' });
const fleetName = uniqueName('fleet');
const workspace = `fleet-${fleetName}`;
const spokes: { plane: PlaneName; name: string; labels: string[]; agent?: Program; bootstrap?: string; serviceAccount?: string }[] = [
  { plane: 'spoke-1', name: uniqueName('one'), labels: ['env=prod', 'region=eu'] },
  { plane: 'spoke-2', name: uniqueName('two'), labels: ['env=dev', 'region=us'] },
];
const [one, two] = spokes as [(typeof spokes)[number], (typeof spokes)[number]];
const figures: Record<string, number> = {};
let hubProgram: Program | undefined;

const HEARTBEAT_TIMEOUT = '10s';
const agentArgs = (spoke: typeof one): string[] => [
  'agent',
  '--kubeconfig',
  plane(spoke.plane).kubeconfigPath,
  '--heartbeat-interval',
  '2s',
  '--token-refresh-after',
  '20s',
  '--identity',
  spoke.name,
  '--health-address',
  '127.0.0.1:0',
];

/** A program's own health address, as it logged it (port 0 picked a free one). */
function healthPort(logFile: string): number {
  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('serving /healthz'));
  return Number(/"port":(\d+)/.exec(lines.at(-1) ?? '')?.[1]);
}
const scrapeMetrics = async (logFile: string): Promise<string> => (await fetch(`http://127.0.0.1:${healthPort(logFile)}/metrics`)).text();
/** One series' value in a /metrics text, e.g. `flotilla_reconcile_total{controller="membercluster",result="ok"}`. */
const sample = (text: string, series: string): number =>
  Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/** A controller's reconciles of every result so far, in a /metrics text. */
const visits = (text: string, controller: string): number =>
  (['success', 'error', 'requeue', 'terminal'] as const).reduce(
    (sum, result) => sum + (sample(text, `flotilla_reconcile_total{controller="${controller}",result="${result}"}`) || 0),
    0,
  );

type Member = MemberCluster & KubeObject;
const member = (name: string): Promise<Member> => hub.get<Member>(MemberClusterType, name);
const condition = (m: Member, type: string): Condition | undefined => findCondition(m.status?.conditions, type);

/** The agent's current hub credentials, as the bootstrap Secret on its spoke holds them now. */
async function spokeCredentials(spoke: typeof one): Promise<HubCredentials> {
  const secret = JSON.parse(
    await kubectlOk(spoke.plane, ['get', 'secret', '-n', 'flotilla-system', 'flotilla-agent-bootstrap', '-o', 'json']),
  ) as KubeObject;
  return parseBootstrap(secret);
}

/** Who the hub says a token authenticates as (a TokenReview, made as the admin). */
async function usernameOf(token: string): Promise<string | undefined> {
  const review = await hub.create({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } });
  return (review.status as { user?: { username?: string } }).user?.username;
}

/** The HTTP status a request made as `kube` gets: 2xx as 200, errors as their code. */
async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (error) {
    if (error instanceof KubeApiError) return error.code;
    throw error;
  }
}

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  hubProgram = startProgram('hub', ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
  await hub.create({ ...FleetType, metadata: { name: fleetName }, spec: { heartbeatTimeout: HEARTBEAT_TIMEOUT } });
}, 120_000);

afterAll(async () => {
  await stopAll();
  for (const spoke of spokes) await hub.delete(MemberClusterType, spoke.name).catch(() => undefined);
  await hub.delete(FleetType, fleetName).catch(() => undefined);
  hub.close();
  process.stdout.write(`membership figures: ${JSON.stringify(figures)}\n`);
});

describe('membership', () => {
  it('joins two spokes that become Ready with their facts, without ever printing the admin credentials', async () => {
    const started = Date.now();
    for (const spoke of spokes) {
      const result = await runFlotilla([
        'join',
        spoke.name,
        '--fleet',
        fleetName,
        ...spoke.labels.flatMap((l) => ['--label', l]),
        '--kubeconfig',
        hubConfig,
      ]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      spoke.bootstrap = result.stdout;
      await kubectlOk(spoke.plane, ['apply', '-f', '-'], result.stdout);
      spoke.agent = startProgram(`agent-${spoke.name}`, agentArgs(spoke));
    }

    // The bootstrap holds the agent's token and the hub's URL and CA, never the admin's identity.
    const admin = yaml.load(readFileSync(hubConfig, 'utf8')) as { users: { user: Record<string, string> }[] };
    const adminSecrets = Object.values(admin.users[0]?.user ?? {});
    expect(adminSecrets.length).toBeGreaterThan(0);
    for (const spoke of spokes) {
      const text = spoke.bootstrap ?? '';
      for (const secret of adminSecrets) expect(text.includes(secret)).toBe(false);
      expect(text).not.toMatch(/client-(certificate|key)/);
      const docs = text.split('---\n').map((d) => yaml.load(d) as KubeObject);
      expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'Secret']);
      const credentials = parseBootstrap(docs[1] ?? { apiVersion: 'v1', kind: 'Secret', metadata: {} });
      expect(credentials).toMatchObject({ cluster: spoke.name, fleet: fleetName, server: plane('hub').apiServerURL });
      // The identity of this join: the ServiceAccount named after the MemberCluster's uid.
      const uid = (await member(spoke.name)).metadata.uid ?? '';
      expect(credentials.memberUID).toBe(uid);
      spoke.serviceAccount = agentServiceAccount(uid);
      expect(await usernameOf(credentials.token)).toBe(`system:serviceaccount:${memberNamespace(spoke.name)}:${spoke.serviceAccount}`);
    }

    for (const spoke of spokes) {
      await eventually(
        async () => {
          expect(condition(await member(spoke.name), 'Ready')?.status).toBe('True');
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      figures[`readyAfterJoinMs.${spoke.plane}`] = Date.now() - started;
      // Ready (the hub, from the Lease) and the facts (the agent's own loop) are written apart.
      const ready = await eventually(
        async () => {
          const m = await member(spoke.name);
          expect(m.status?.agentVersion).toBeDefined();
          return m;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(condition(ready, 'Joined')).toMatchObject({ status: 'True', reason: 'AgentReported' });
      expect(ready.status).toMatchObject({
        kubernetesVersion: 'v1.36.3',
        agentVersion: '0.1.0',
        nodeCount: 2,
        resources: { capacity: { cpu: '16', memory: '64Gi' }, allocatable: { cpu: '15600m', memory: '62Gi' } },
      });
      expect(ready.status?.resources?.requested?.cpu).toMatch(/^\d+m?$/);
    }

    // The fleet follows its members' statuses: wait for it to have seen both facts.
    const fleet = await eventually(async () => {
      const f = await hub.get<Fleet & KubeObject>(FleetType, fleetName);
      expect(f.status?.clusters).toMatchObject({ total: 2, ready: 2 });
      expect(f.status).toMatchObject({
        workspaceNamespace: workspace,
        kubernetesVersions: [{ version: 'v1.36.3', count: 2 }],
        resources: { capacity: { cpu: '32', memory: '128Gi' }, allocatable: { cpu: '31200m', memory: '124Gi' } },
        attention: [],
      });
      return f;
    });
    expect(findCondition(fleet.status?.conditions as Condition[], 'Ready')?.status).toBe('True');
    expect((await hub.get({ apiVersion: 'v1', kind: 'Namespace' }, workspace)).metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Fleet',
      name: fleetName,
    });

    const status = await runFlotilla(['status', '--fleet', fleetName, '-o', 'json', '--kubeconfig', hubConfig]);
    expect(status.code).toBe(0);
    const view = JSON.parse(status.stdout) as {
      fleets: unknown[];
      clusters: { name: string; ready: string; nodes: number; kubernetesVersion: string; lastHeartbeat: string | null }[];
    };
    expect(view.fleets).toEqual([{ name: fleetName, ready: 'True', clusters: 2, readyClusters: 2 }]);
    expect(view.clusters.map((c) => [c.name, c.ready, c.nodes, c.kubernetesVersion])).toEqual(
      spokes.map((s) => [s.name, 'True', 2, 'v1.36.3']).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(view.clusters.every((c) => c.lastHeartbeat !== null)).toBe(true);
    const table = await runFlotilla(['status', '--fleet', fleetName, '--kubeconfig', hubConfig]);
    expect(table.stdout).toContain(`fleet ${fleetName}: Ready=True, 2/2 clusters ready`);
  });

  describe("the agent's identity", () => {
    let asAgent: Kube;
    beforeAll(async () => {
      asAgent = kubeFromToken({ ...(await spokeCredentials(one)) }, { userAgent: 'membership-e2e-agent' });
    });
    afterAll(() => {
      asAgent.close();
    });

    const workOf = (cluster: string): KubeObject => ({
      apiVersion: 'flotilla.dev/v1alpha1',
      kind: 'Work',
      metadata: { name: 'w', namespace: memberNamespace(cluster) },
      spec: {},
    });
    const denials: [string, () => Promise<unknown>][] = [
      [
        "lists Work in another cluster's namespace",
        () => asAgent.list({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' }, { namespace: memberNamespace(two.name) }),
      ],
      ['lists Work in every namespace', () => asAgent.list({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' })],
      [
        'reads Secrets in its own namespace',
        () => asAgent.list({ apiVersion: 'v1', kind: 'Secret' }, { namespace: memberNamespace(one.name) }),
      ],
      ['reads a Secret in kube-system', () => asAgent.get({ apiVersion: 'v1', kind: 'Secret' }, 'anything', 'kube-system')],
      ['creates a Work in its own namespace', () => asAgent.create(workOf(one.name))],
      [
        'creates a GlobalService',
        () =>
          asAgent.create({
            apiVersion: 'flotilla.dev/v1alpha1',
            kind: 'GlobalService',
            metadata: { name: 'evil', namespace: workspace },
            spec: {},
          }),
      ],
      [
        'creates a PolicyBundle',
        () =>
          asAgent.create({
            apiVersion: 'flotilla.dev/v1alpha1',
            kind: 'PolicyBundle',
            metadata: { name: 'evil', namespace: workspace },
            spec: {},
          }),
      ],
      [
        'creates a ClusterGroup',
        () => asAgent.create({ ...ClusterGroupType, metadata: { name: 'evil', namespace: workspace }, spec: { clusterSelector: {} } }),
      ],
      ['creates a Fleet', () => asAgent.create({ ...FleetType, metadata: { name: uniqueName('evil') }, spec: {} })],
      ['changes its Fleet', () => asAgent.patch(FleetType, fleetName, undefined, { spec: { heartbeatTimeout: '24h' } }, { type: 'merge' })],
      ['reads another Fleet', () => asAgent.get(FleetType, uniqueName('other'))],
      ['lists every Fleet', () => asAgent.list(FleetType)],
      [
        'updates another MemberCluster',
        () => asAgent.patch(MemberClusterType, two.name, undefined, { metadata: { labels: { env: 'evil' } } }, { type: 'merge' }),
      ],
      [
        "writes another MemberCluster's status",
        () => asAgent.patch(MemberClusterType, two.name, undefined, { status: { nodeCount: 0 } }, { type: 'merge', subresource: 'status' }),
      ],
      [
        "changes its own MemberCluster's spec or labels",
        () => asAgent.patch(MemberClusterType, one.name, undefined, { spec: { paused: true } }, { type: 'merge' }),
      ],
      [
        'creates a RoleBinding in its own namespace',
        () =>
          asAgent.create({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'escalate', namespace: memberNamespace(one.name) },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: one.serviceAccount, namespace: memberNamespace(one.name) }],
          }),
      ],
      [
        'creates a ClusterRoleBinding',
        () =>
          asAgent.create({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: uniqueName('escalate') },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: one.serviceAccount, namespace: memberNamespace(one.name) }],
          }),
      ],
      [
        'creates a Role in its own namespace',
        () =>
          asAgent.create({
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'escalate', namespace: memberNamespace(one.name) },
            rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
          }),
      ],
      [
        'changes its own Role',
        () =>
          asAgent.patch(
            { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
            'flotilla-agent',
            memberNamespace(one.name),
            { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
            { type: 'merge' },
          ),
      ],
      [
        "requests a token for another cluster's ServiceAccount",
        () =>
          asAgent.request('POST', `/api/v1/namespaces/${memberNamespace(two.name)}/serviceaccounts/${two.serviceAccount}/token`, {
            body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
          }),
      ],
    ];

    it.each(denials)('is refused (403) when it %s', async (_what, attempt) => {
      expect(await statusOf(attempt())).toBe(403);
    });

    it('reads its own Work and its own Fleet, and writes its own MemberCluster status', async () => {
      expect(
        await statusOf(asAgent.list({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' }, { namespace: memberNamespace(one.name) })),
      ).toBe(200);
      expect(await statusOf(asAgent.get(FleetType, fleetName))).toBe(200);
      expect(await statusOf(asAgent.list(FleetType, { fieldSelector: `metadata.name=${fleetName}` }))).toBe(200);
      expect(await statusOf(asAgent.get(MemberClusterType, one.name))).toBe(200);
      const written = await asAgent.apply(
        { ...MemberClusterType, metadata: { name: one.name }, status: { agentVersion: '0.1.0' } },
        { fieldManager: 'membership-e2e', subresource: 'status' },
      );
      expect((written as Member).status?.agentVersion).toBe('0.1.0');
      await asAgent.apply(
        { ...MemberClusterType, metadata: { name: one.name }, status: {} },
        { fieldManager: 'membership-e2e', subresource: 'status' },
      );
    });
  });

  it('moves clusters in and out of ClusterGroups as their labels change', async () => {
    await hub.create({
      ...ClusterGroupType,
      metadata: { name: 'prod', namespace: workspace },
      spec: { clusterSelector: { matchLabels: { env: 'prod' } } },
    });
    await hub.create({
      ...ClusterGroupType,
      metadata: { name: 'all-but-one', namespace: workspace },
      spec: { clusterSelector: {}, excludeClusterNames: [one.name] },
    });
    const members = async (name: string): Promise<string[]> => {
      const group = await hub.get<ClusterGroup & KubeObject>(ClusterGroupType, name, workspace);
      expect(group.status?.matchedCount).toBe(group.status?.clusters?.length);
      return group.status?.clusters ?? [];
    };
    await eventually(async () => {
      expect(await members('prod')).toEqual([one.name]);
    });
    await eventually(async () => {
      expect(await members('all-but-one')).toEqual([two.name]);
    });

    const move = async (name: string, env: string, expected: string[]): Promise<number> => {
      const started = Date.now();
      await hub.patch(MemberClusterType, name, undefined, { metadata: { labels: { env } } }, { type: 'merge' });
      await eventually(
        async () => {
          expect(await members('prod')).toEqual([...expected].sort());
        },
        { timeoutMs: 10_000, intervalMs: 25 },
      );
      return Date.now() - started;
    };
    figures['groupJoinLatencyMs'] = await move(two.name, 'prod', [one.name, two.name]);
    figures['groupLeaveLatencyMs'] = await move(one.name, 'staging', [two.name]);
    expect(figures['groupJoinLatencyMs']).toBeLessThan(2_000);
    expect(figures['groupLeaveLatencyMs']).toBeLessThan(2_000);
  });

  it('rotates the agent token and keeps heartbeating with the new one', async () => {
    const initial = parseBootstrap(yaml.loadAll(one.bootstrap ?? '')[1] as KubeObject).token;
    const rotated = await eventually(
      async () => {
        const { token } = await spokeCredentials(one);
        expect(token).not.toBe(initial);
        return token;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const asRotated = kubeFromToken({ ...(await spokeCredentials(one)), token: rotated });
    try {
      // The new token is the agent's own identity, and the hub still sees fresh heartbeats.
      expect(await statusOf(asRotated.get(MemberClusterType, one.name))).toBe(200);
      const lease = (): Promise<Lease> => hub.get<Lease>(LeaseType, 'flotilla-agent-heartbeat', memberNamespace(one.name));
      const before = (await lease()).spec?.renewTime ?? '';
      await eventually(
        async () => {
          expect(Date.parse((await lease()).spec?.renewTime ?? '')).toBeGreaterThan(Date.parse(before));
        },
        { timeoutMs: 15_000 },
      );
      expect(condition(await member(one.name), 'Ready')?.status).toBe('True');
    } finally {
      asRotated.close();
    }
    const log = readFileSync(one.agent?.logFile ?? '', 'utf8');
    expect(log).toContain('rotated the hub token');
    expect(log).not.toContain(rotated);
    expect(log).not.toContain(initial);
  });

  it('hears steady heartbeats without a visit or a write: a member is judged about once per timeout, not once per renewal', async () => {
    const logFile = hubProgram?.logFile ?? '';
    const statusWrites = (text: string): number => sample(text, 'flotilla_kube_writes_total{resource="memberclusters/status"}') || 0;
    const renewed = async (spoke: typeof one): Promise<number> =>
      Date.parse((await hub.get<Lease>(LeaseType, 'flotilla-agent-heartbeat', memberNamespace(spoke.name))).spec?.renewTime ?? '');
    for (const spoke of spokes) expect(condition(await member(spoke.name), 'Ready')?.status).toBe('True');
    const before = { metrics: await scrapeMetrics(logFile), renewed: await Promise.all(spokes.map(renewed)) };
    // Four heartbeat intervals (2 s), shorter than the time between two scheduled rechecks of a
    // member (the 10 s timeout less at most one interval): at most one visit per member.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const after = { metrics: await scrapeMetrics(logFile), renewed: await Promise.all(spokes.map(renewed)) };
    // Both agents kept renewing (at least three renewals each)...
    after.renewed.forEach((at, index) => {
      expect(at - (before.renewed[index] ?? NaN)).toBeGreaterThanOrEqual(5_000);
    });
    // ...which the hub heard without judging them again (a visit per renewal would be 8 or more)...
    expect(visits(after.metrics, 'membercluster') - visits(before.metrics, 'membercluster')).toBeLessThanOrEqual(spokes.length);
    // ...and without a write.
    expect(statusWrites(after.metrics)).toBe(statusWrites(before.metrics));
    for (const spoke of spokes) expect(condition(await member(spoke.name), 'Ready')?.status).toBe('True');
  });

  it("turns a cluster unhealthy while one of its Works is Degraded, named in the fleet's attention list, and healthy again once it is fixed", async () => {
    // A real Degraded Work: the real agent cannot apply a kind its spoke does not serve.
    const namespace = memberNamespace(one.name);
    const name = uniqueName('broken');
    const manifest = (kind: string, apiVersion: string): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name, namespace: 'default' },
      data: { a: 'b' },
    });
    await hub.create({
      ...WorkType,
      metadata: { name, namespace },
      spec: {
        source: { kind: 'GlobalService', namespace: workspace, name, generation: 1, revision: 'r1' },
        manifests: [manifest('Widget', 'example.invalid/v1')],
      },
    });
    try {
      const sick = await eventually(
        async () => {
          const m = await member(one.name);
          expect(condition(m, 'Healthy')).toMatchObject({
            status: 'False',
            reason: 'WorksDegraded',
            message: `1 of 1 Works are Degraded: ${name}`,
          });
          return m;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(condition(sick, 'Ready')).toMatchObject({ status: 'False', reason: 'WorksDegraded' });
      expect(sick.status?.works).toEqual({ total: 1, applied: 0, available: 0, degraded: 1 });
      const work = await hub.get<Work & KubeObject>(WorkType, name, namespace);
      expect(findCondition(work.status?.conditions, 'Degraded')).toMatchObject({
        status: 'True',
        observedGeneration: work.metadata.generation,
      });
      await eventually(async () => {
        const f = await hub.get<Fleet & KubeObject>(FleetType, fleetName);
        expect(f.status?.clusters).toMatchObject({ total: 2, ready: 1, notReady: 1 });
        expect(f.status?.attention).toEqual([
          expect.objectContaining({ cluster: one.name, reason: 'WorksDegraded', message: `1 of 1 Works are Degraded: ${name}` }),
        ]);
      });

      // Fixed: a kind the spoke serves. The new generation is applied and the cluster recovers.
      await hub.patch(WorkType, name, namespace, { spec: { manifests: [manifest('ConfigMap', 'v1')] } }, { type: 'merge' });
      const well = await eventually(
        async () => {
          const m = await member(one.name);
          expect(condition(m, 'Healthy')).toMatchObject({ status: 'True', reason: 'HeartbeatReceived' });
          expect(m.status?.works).toEqual({ total: 1, applied: 1, available: 1, degraded: 0 });
          return m;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(condition(well, 'Ready')?.status).toBe('True');
      await eventually(async () => {
        const f = await hub.get<Fleet & KubeObject>(FleetType, fleetName);
        expect(f.status?.clusters).toMatchObject({ total: 2, ready: 2 });
        expect(f.status?.attention).toEqual([]);
      });
    } finally {
      await hub.delete(WorkType, name, namespace).catch(() => undefined);
    }
    await eventually(async () => {
      expect((await member(one.name)).status?.works).toEqual({ total: 0, applied: 0, available: 0, degraded: 0 });
    });
  });

  it("counts a corrected drift in the agent's /metrics, and tells the spoke's admin with Events on the objects themselves", async () => {
    const spoke = kubeFromFile(plane(two.plane).kubeconfigPath, undefined, { userAgent: 'membership-e2e' });
    const namespace = memberNamespace(two.name);
    const name = uniqueName('watched');
    const taken = uniqueName('taken');
    const configMap = (cmName: string, data: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: cmName, namespace: 'default' },
      data,
    });
    const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };
    const port = (): number => healthPort(two.agent?.logFile ?? '');
    const scrape = (): Promise<string> => scrapeMetrics(two.agent?.logFile ?? '');
    const eventsAbout = async (object: string): Promise<KubeObject[]> =>
      (await spoke.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default', fieldSelector: `involvedObject.name=${object}` }))
        .items;
    await spoke.create(configMap(taken, { owner: 'someone else' }));
    try {
      await hub.create({
        ...WorkType,
        metadata: { name, namespace },
        spec: {
          source: { kind: 'GlobalService', namespace: workspace, name, generation: 1, revision: 'r1' },
          manifests: [configMap(name, { mode: 'fast' })],
        },
      });
      const applied = await eventually(
        async () => {
          const live = await spoke.get(configMapType, name, 'default');
          expect(live.data).toEqual({ mode: 'fast' });
          return live;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const before = await scrape();
      expect(sample(before, 'flotilla_agent_hub_up')).toBe(1);
      expect(sample(before, 'flotilla_agent_works_applied_total')).toBeGreaterThanOrEqual(1);
      const correctedBefore = sample(before, 'flotilla_agent_drift_total{action="corrected"}');
      expect(correctedBefore).toBeGreaterThanOrEqual(0);
      expect((await fetch(`http://127.0.0.1:${port()}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port()}/readyz`)).status).toBe(200);

      // Someone edits the object on the spoke: the agent puts it back and counts it.
      await spoke.patch(configMapType, name, 'default', { data: { mode: 'slow' } }, { type: 'merge', fieldManager: 'kubectl-edit' });
      await eventually(
        async () => {
          expect((await spoke.get(configMapType, name, 'default')).data).toEqual({ mode: 'fast' });
          expect(sample(await scrape(), 'flotilla_agent_drift_total{action="corrected"}')).toBe(correctedBefore + 1);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(await scrape()).toMatch(/^flotilla_agent_apply_duration_seconds_count \d+$/m);
      const corrected = await eventually(async () => {
        const found = (await eventsAbout(name)).filter((e) => e.reason === 'DriftCorrected');
        expect(found).toHaveLength(1);
        return found[0] as KubeObject & { type?: string; message?: string; involvedObject?: Record<string, string> };
      });
      expect(corrected).toMatchObject({
        type: 'Normal',
        message: `Put back as Work ${namespace}/${name} applies it; changed: data.mode`,
        involvedObject: { kind: 'ConfigMap', namespace: 'default', name, uid: applied.metadata.uid },
        source: { component: 'flotilla-agent' },
      });

      // Someone else's object in the Work: refused (adoption Never), said on that object, counted.
      await hub.patch(
        WorkType,
        name,
        namespace,
        { spec: { manifests: [configMap(name, { mode: 'fast' }), configMap(taken, { owner: 'flotilla' })] } },
        { type: 'merge' },
      );
      await eventually(
        async () => {
          const refused = (await eventsAbout(taken)).filter((e) => e.reason === 'AdoptionRefused');
          expect(refused).toEqual([
            expect.objectContaining({
              type: 'Warning',
              message: expect.stringContaining(`Not applying Work ${namespace}/${name}:`) as unknown,
            }),
          ]);
          expect(sample(await scrape(), 'flotilla_agent_apply_errors_total{reason="conflict"}')).toBeGreaterThanOrEqual(1);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect((await spoke.get(configMapType, taken, 'default')).data).toEqual({ owner: 'someone else' });
    } finally {
      await hub.delete(WorkType, name, namespace).catch(() => undefined);
      await spoke.delete(configMapType, taken, 'default').catch(() => undefined);
      spoke.close();
    }
  });

  it('turns a cluster Unknown when its agent stops, and Ready again when it returns', async () => {
    // A service on both clusters, Available: the transition must not send it (nor the ClusterGroups)
    // over every cluster again, as a visit per member status write would at 10,000 clusters.
    const service = uniqueName('svc');
    await hub.create({
      ...GlobalServiceType,
      metadata: { name: service, namespace: workspace },
      spec: {
        placement: { clusterSelector: {} },
        source: {
          manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: service, namespace: 'default' }, data: { a: '1' } }],
        },
      },
    });
    await eventually(
      async () => {
        const s = await hub.get<GlobalService & KubeObject>(GlobalServiceType, service, workspace);
        expect(s.status?.clusters).toMatchObject({ targeted: 2, available: 2 });
      },
      { timeoutMs: 30_000 },
    );
    const logFile = hubProgram?.logFile ?? '';
    await sleep(2_000);
    const before = await scrapeMetrics(logFile);
    await one.agent?.stop();
    const stopped = Date.now();
    const lost = await eventually(
      async () => {
        const m = await member(one.name);
        expect(condition(m, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'HeartbeatMissed' });
        return m;
      },
      { timeoutMs: 40_000, intervalMs: 100 },
    );
    const unknownAt = Date.now();
    figures['unknownAfterAgentStopMs'] = unknownAt - stopped;
    await sleep(1_000);
    const after = await scrapeMetrics(logFile);
    expect(visits(after, 'membercluster')).toBeGreaterThan(visits(before, 'membercluster'));
    expect(visits(after, 'globalservice')).toBe(visits(before, 'globalservice'));
    expect(visits(after, 'clustergroup')).toBe(visits(before, 'clustergroup'));
    const message = condition(lost, 'Ready')?.message ?? '';
    expect(message).toMatch(/no heartbeat within the timeout of 10s; last renewed at /);
    // Not before the timeout has passed since the last renewal the hub saw (the hub dates it by its
    // own clock when it sees it, never earlier than the renewal itself). Measured from the stop, it
    // may be up to one heartbeat interval (2 s) and the agent's shutdown less.
    const lastRenewed = Date.parse(/last renewed at (\S+)/.exec(message)?.[1] ?? '');
    expect(unknownAt - lastRenewed).toBeGreaterThanOrEqual(10_000);
    await eventually(async () => {
      const f = await hub.get<Fleet & KubeObject>(FleetType, fleetName);
      expect(f.status?.clusters).toMatchObject({ total: 2, ready: 1, lost: 1 });
      expect(f.status?.attention?.[0]).toMatchObject({ cluster: one.name, reason: 'HeartbeatMissed' });
    });

    one.agent = startProgram(`agent-${one.name}`, agentArgs(one));
    const restarted = Date.now();
    await eventually(
      async () => {
        expect(condition(await member(one.name), 'Ready')?.status).toBe('True');
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    figures['readyAfterAgentRestartMs'] = Date.now() - restarted;
    // Drained from both spokes, before the next test deletes a cluster.
    await hub.delete(GlobalServiceType, service, workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(GlobalServiceType, service, workspace)).toBeNull();
      },
      { timeoutMs: 60_000 },
    );
  });

  it('revokes a deleted cluster: its namespace and RBAC go, and its token is refused', async () => {
    const { token, server, caData } = await spokeCredentials(two);
    const asTwo = kubeFromToken({ server, caData, token });
    try {
      expect(await statusOf(asTwo.get(MemberClusterType, two.name))).toBe(200);
      await hub.delete(MemberClusterType, two.name);
      await eventually(
        async () => {
          expect(await hub.getOrNull(MemberClusterType, two.name)).toBeNull();
        },
        { timeoutMs: 60_000 },
      );
      expect(await hub.getOrNull({ apiVersion: 'v1', kind: 'Namespace' }, memberNamespace(two.name))).toBeNull();
      expect(
        await hub.getOrNull({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }, `flotilla:member:${two.name}`),
      ).toBeNull();
      expect(
        await hub.getOrNull({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' }, `flotilla:member:${two.name}`),
      ).toBeNull();
      // Refused at once (its bindings are gone); and soon unauthenticated, once the apiserver's
      // ServiceAccount cache has seen the account go.
      expect([401, 403]).toContain(await statusOf(asTwo.get(MemberClusterType, two.name)));
      await eventually(
        async () => {
          expect(await statusOf(asTwo.get(MemberClusterType, two.name))).toBe(401);
        },
        { timeoutMs: 30_000 },
      );
      expect(
        await statusOf(asTwo.list({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' }, { namespace: memberNamespace(two.name) })),
      ).toBe(401);
      expect(
        await statusOf(
          asTwo.request('POST', `/api/v1/namespaces/${memberNamespace(two.name)}/serviceaccounts/${two.serviceAccount}/token`, {
            body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
          }),
        ),
      ).toBe(401);
      await eventually(async () => {
        const f = await hub.get<Fleet & KubeObject>(FleetType, fleetName);
        expect(f.status?.clusters?.total).toBe(1);
      });
    } finally {
      asTwo.close();
    }
  });

  it("refuses a former join's token at once, when a deleted cluster joins again under the same name", async () => {
    const name = uniqueName('rejoin');
    const namespace = memberNamespace(name);
    const joinHub = async (): Promise<HubCredentials> => {
      const result = await runFlotilla(['join', name, '--fleet', fleetName, '--kubeconfig', hubConfig]);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      return parseBootstrap(yaml.loadAll(result.stdout)[1] as KubeObject);
    };
    const works = (kube: Kube): Promise<unknown> => kube.list(WorkType, { namespace });
    const former = await joinHub();
    const asFormer = kubeFromToken(former, { userAgent: 'membership-e2e-former' });
    let asCurrent: Kube | undefined;
    try {
      const formerUser = await usernameOf(former.token);
      // A success the apiserver caches for ~10 s: on a quick re-join, still cached once the new identity exists.
      expect(await statusOf(asFormer.get(MemberClusterType, name))).toBe(200);
      // Joined again while it exists: a new token of the same identity, and the first one still works.
      const again = await joinHub();
      expect(again.memberUID).toBe(former.memberUID);
      expect(await usernameOf(again.token)).toBe(formerUser);
      expect(await statusOf(asFormer.get(MemberClusterType, name))).toBe(200);
      await hub.delete(MemberClusterType, name);
      await eventually(
        async () => {
          expect(await hub.getOrNull(MemberClusterType, name)).toBeNull();
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );

      const current = await joinHub();
      asCurrent = kubeFromToken(current, { userAgent: 'membership-e2e-current' });
      expect(await statusOf(asCurrent.get(MemberClusterType, name))).toBe(200);
      expect(await statusOf(works(asCurrent))).toBe(200);

      // From the first request on, and for longer than the apiserver caches a token's authentication.
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        expect([401, 403]).toContain(await statusOf(asFormer.get(MemberClusterType, name)));
        expect([401, 403]).toContain(await statusOf(works(asFormer)));
        await sleep(100);
      }
      expect(await statusOf(asCurrent.get(MemberClusterType, name))).toBe(200);

      // Whatever token it holds, the former identity is granted nothing of the new one.
      const allowed = async (resourceAttributes: Record<string, string>): Promise<boolean | undefined> => {
        const review = await hub.create({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          metadata: {},
          spec: {
            user: formerUser,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
            resourceAttributes,
          },
        });
        return (review.status as { allowed?: boolean }).allowed;
      };
      expect(await allowed({ group: 'flotilla.dev', resource: 'memberclusters', verb: 'get', name })).toBe(false);
      expect(await allowed({ group: 'flotilla.dev', resource: 'works', verb: 'list', namespace })).toBe(false);
      // Because it is another account: the one of the MemberCluster's new uid.
      expect(current.memberUID).toBe((await member(name)).metadata.uid);
      expect(current.memberUID).not.toBe(former.memberUID);
      expect(await usernameOf(current.token)).toBe(`system:serviceaccount:${namespace}:${agentServiceAccount(current.memberUID ?? '')}`);
    } finally {
      asFormer.close();
      asCurrent?.close();
      await hub.delete(MemberClusterType, name).catch(() => undefined);
    }
  });

  it('leaves the hub operator running throughout', () => {
    expect(hubProgram?.child.exitCode).toBeNull();
  });
});
