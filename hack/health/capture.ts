// Captures every flotilla kind in every state its controllers produce, from the real hub operator
// and agents on the testenv planes (hub, spoke-1, spoke-2), as the fixtures the kstatus and Argo CD
// health checks run on (hack/health, `make test`). Each fixture records the verdicts a user wants
// beside the object; the checks assert the libraries agree. Run by `make health-fixtures` on running
// planes (`hack/testenv/testenv up hub spoke-1 spoke-2`) after `make build`.
//
// The objects have fixed names, so a re-capture diffs only where the controllers' output changed;
// managedFields, uids, resourceVersions and timestamps are trimmed for the same reason.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import {
  apiVersion,
  ClusterGroupType,
  FleetType,
  GlobalServiceType,
  MemberClusterType,
  PolicyBundleType,
  WorkType,
} from '../../src/api/index.js';
import { findCondition, kubeFromFile, type Condition, type KubeObject } from '../../src/runtime/index.js';
import { eventually, kubectlOk, plane, repoRoot } from '../../e2e/framework/index.js';
import { runFlotilla, startProgram, stopAll, type Program } from '../../e2e/membership/processes.js';

type KStatus = 'InProgress' | 'Current' | 'Failed' | 'Terminating';
type ArgoHealth = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended';
type TypeRef = { apiVersion: string; kind: string };
type Obj = KubeObject & { status?: { conditions?: Condition[] } & Record<string, unknown> };

const fixtures = join(repoRoot, 'test', 'health', 'fixtures');
const FLEET = 'health';
const WORKSPACE = `fleet-${FLEET}`;
/** A finalizer of the capture's own, holding an object in deletion after flotilla's finalizer is done. */
const HOLD = 'health.flotilla.dev/hold';
const LATE = 'health-late';
const SILENT = 'health-silent';
const TIMEOUT = { timeoutMs: 90_000, intervalMs: 250 };

const hubConfig = plane('hub').kubeconfigPath;
const hub = kubeFromFile(hubConfig, undefined, { userAgent: 'flotilla-health-capture' });
const written: string[] = [];

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const FIXED_TIME = '2000-01-01T00:00:00Z';

/** The object with what differs run to run taken out: managedFields, uids, versions; every timestamp fixed. */
function trim(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return TIME.test(value) ? FIXED_TIME : value;
  if (Array.isArray(value)) return value.map((v) => trim(v));
  if (value === null || typeof value !== 'object') return value;
  const drop = new Set(['managedFields', 'uid', 'resourceVersion', 'creationTimestamp']);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => !(key === 'metadata' && drop.has(k)) && !(k === 'uid' && key === 'ownerReferences'))
      .map(([k, v]) => [k, k === 'ownerReferences' ? (v as unknown[]).map((r) => trim(r, 'ownerReferences')) : trim(v, k)]),
  );
}

function record(object: Obj, state: string, description: string, kstatus: KStatus, argocd: ArgoHealth): void {
  const dir = join(fixtures, object.kind);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${state}.yaml`);
  const body = yaml.dump(
    { kind: object.kind, state, description, expected: { kstatus, argocd }, object: trim(object) },
    { lineWidth: 120, noRefs: true },
  );
  writeFileSync(
    file,
    `# Captured from the controllers on real planes by \`make health-fixtures\` (hack/health/capture.ts); do not edit.\n${body}`,
  );
  written.push(`${object.kind}/${state}`);
  process.stdout.write(`captured ${object.kind}/${state}\n`);
}

const condition = (o: Obj, type: string): Condition | undefined => findCondition(o.status?.conditions, type);
const hasReason = (o: Obj, type: string, reason: string): boolean =>
  condition(o, type)?.reason === reason && condition(o, type)?.status === 'True';

/** The object once `ready` holds for it, as the controllers left it. */
async function waitFor(type: TypeRef, name: string, namespace: string | undefined, ready: (o: Obj) => boolean, what: string): Promise<Obj> {
  return eventually(async () => {
    const o = await hub.get<Obj>(type, name, namespace);
    if (!ready(o)) throw new Error(`${type.kind} ${name} is not ${what} yet: ${JSON.stringify(o.status?.conditions ?? [])}`);
    return o;
  }, TIMEOUT);
}

const readyWith = (reason: string) => (o: Obj) => condition(o, 'Ready')?.status === 'True' && condition(o, 'Ready')?.reason === reason;
const stalledWith = (reason: string) => (o: Obj) => hasReason(o, 'Stalled', reason);
const reconcilingWith = (reason: string) => (o: Obj) => hasReason(o, 'Reconciling', reason);

/** Holds `object` in deletion with a finalizer of ours, deletes it, waits for flotilla's own finalizer to finish, records it, lets it go. */
async function captureDeleting(type: TypeRef, name: string, namespace: string | undefined, description: string): Promise<void> {
  const live = await hub.get<Obj>(type, name, namespace);
  await hub.patch(type, name, namespace, { metadata: { finalizers: [...(live.metadata.finalizers ?? []), HOLD] } }, { type: 'merge' });
  await hub.delete(type, name, namespace);
  const deleting = await waitFor(
    type,
    name,
    namespace,
    (o) => o.metadata.deletionTimestamp !== undefined && (o.metadata.finalizers ?? []).join() === HOLD,
    'deleting with only our finalizer left',
  );
  record(deleting, 'deleting', description, 'Terminating', 'Progressing');
  await hub.patch(type, name, namespace, { metadata: { finalizers: null } }, { type: 'merge' });
}

async function workOf(member: string, prefix: string): Promise<string> {
  return eventually(async () => {
    const works = await hub.list<Obj>(WorkType, { namespace: `flotilla-member-${member}` });
    const found = works.items.find((w) => (w.metadata.name ?? '').startsWith(prefix));
    if (!found) throw new Error(`no Work ${prefix}* for ${member} yet`);
    return found.metadata.name ?? '';
  }, TIMEOUT);
}

const configMap = (name: string, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { from: 'flotilla' },
});

async function service(name: string, spec: Record<string, unknown>): Promise<void> {
  await hub.create({
    apiVersion,
    kind: 'GlobalService',
    metadata: { name, namespace: WORKSPACE },
    spec: { placement: { clusterGroups: ['both'] }, ...spec },
  });
}

/** Every kind as it is before any controller has seen it: only the CRD's status default. */
async function captureUnobserved(): Promise<void> {
  const ns = 'health-unobserved';
  await hub.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const objects: [TypeRef, KubeObject][] = [
    [FleetType, { apiVersion, kind: 'Fleet', metadata: { name: ns }, spec: {} }],
    [MemberClusterType, { apiVersion, kind: 'MemberCluster', metadata: { name: ns }, spec: { fleet: ns } }],
    [ClusterGroupType, { apiVersion, kind: 'ClusterGroup', metadata: { name: ns, namespace: ns }, spec: { clusterNames: ['a'] } }],
    [
      GlobalServiceType,
      {
        apiVersion,
        kind: 'GlobalService',
        metadata: { name: ns, namespace: ns },
        spec: { placement: { clusterNames: ['a'] }, source: { manifests: [configMap('a')] } },
      },
    ],
    [
      PolicyBundleType,
      {
        apiVersion,
        kind: 'PolicyBundle',
        metadata: { name: ns, namespace: ns },
        spec: { placement: { clusterNames: ['a'] }, namespaceSelector: {}, podSecurity: { enforce: 'baseline' } },
      },
    ],
  ];
  for (const [type, object] of objects) {
    const created = await hub.create<Obj>(object);
    record(
      await hub.get<Obj>(type, created.metadata.name ?? '', created.metadata.namespace),
      'unobserved',
      'created, no controller has seen it yet',
      'InProgress',
      'Progressing',
    );
  }
  for (const [type, object] of objects) await hub.delete(type, object.metadata.name ?? '', object.metadata.namespace);
  await hub.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns);
}

/** Removes what an interrupted capture left, finalizers and all (no hub runs yet to honour them). */
async function reset(): Promise<void> {
  const leftovers: [TypeRef, string, string | undefined][] = [
    ...(['ready', 'progressing', 'halted', 'refused', 'approval', 'paused', 'source-failing'] as const).map(
      (n): [TypeRef, string, string] => [GlobalServiceType, n, WORKSPACE],
    ),
    ...(['ready', 'waiting', 'stalled'] as const).map((n): [TypeRef, string, string] => [PolicyBundleType, n, WORKSPACE]),
    [ClusterGroupType, 'orphan', 'health-nofleet'],
    ...(['health-unobserved', 'health-1', 'health-2', LATE, SILENT] as const).map((n): [TypeRef, string, undefined] => [
      MemberClusterType,
      n,
      undefined,
    ]),
    ...(['health-unobserved', FLEET] as const).map((n): [TypeRef, string, undefined] => [FleetType, n, undefined]),
  ];
  for (const [type, name, namespace] of leftovers) {
    if (!(await hub.getOrNull(type, name, namespace))) continue;
    await hub.patch(type, name, namespace, { metadata: { finalizers: null } }, { type: 'merge' });
    await hub.delete(type, name, namespace).catch(() => undefined);
  }
  for (const ns of ['health-unobserved', 'health-nofleet', WORKSPACE])
    await hub.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
  await eventually(async () => {
    for (const ns of ['health-unobserved', 'health-nofleet', WORKSPACE])
      if (await hub.getOrNull({ apiVersion: 'v1', kind: 'Namespace' }, ns)) throw new Error(`namespace ${ns} is still going`);
  }, TIMEOUT);
}

async function main(): Promise<void> {
  rmSync(fixtures, { recursive: true, force: true });
  await reset();
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  await captureUnobserved();

  const program = startProgram('health-hub', ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
  const programs: Program[] = [];
  try {
    await hub.create({ apiVersion, kind: 'Fleet', metadata: { name: FLEET }, spec: { rollout: { strategy: 'AllAtOnce' } } });
    for (const [spoke, name, labels] of [
      ['spoke-1', 'health-1', ['health=yes', 'stage=canary']],
      ['spoke-2', 'health-2', ['health=yes']],
    ] as const) {
      programs.push(await joinCluster(spoke, name, labels));
    }

    // Fleet and MemberCluster: ready, a member joining, the same member paused.
    record(
      await waitFor(FleetType, FLEET, undefined, readyWith('ClustersReady'), 'Ready'),
      'ready',
      'every member ready',
      'Current',
      'Healthy',
    );
    record(
      await waitFor(MemberClusterType, 'health-1', undefined, readyWith('Ready'), 'Ready'),
      'ready',
      'joined, heartbeating, no Degraded Work',
      'Current',
      'Healthy',
    );
    await hub.create({ apiVersion, kind: 'MemberCluster', metadata: { name: LATE }, spec: { fleet: FLEET } });
    record(
      await waitFor(FleetType, FLEET, undefined, reconcilingWith('ClustersJoining'), 'joining'),
      'progressing',
      'a member has not joined yet',
      'InProgress',
      'Progressing',
    );
    record(
      await waitFor(MemberClusterType, LATE, undefined, reconcilingWith('AwaitingAgent'), 'awaiting its agent'),
      'joining',
      'registered, its agent has not connected',
      'InProgress',
      'Progressing',
    );
    await hub.patch(MemberClusterType, LATE, undefined, { spec: { paused: true } }, { type: 'merge' });
    record(
      await waitFor(FleetType, FLEET, undefined, readyWith('ClustersReady'), 'Ready with a paused member'),
      'paused-member',
      'every member ready but one that is paused and never joined',
      'Current',
      'Healthy',
    );
    record(
      await waitFor(
        MemberClusterType,
        LATE,
        undefined,
        (o) => reconcilingWith('AwaitingAgent')(o) && (o as { spec?: { paused?: boolean } }).spec?.paused === true,
        'paused',
      ),
      'paused',
      'paused by its admin (spec.paused), its agent not connected',
      'InProgress',
      'Suspended',
    );

    // ClusterGroup: resolved, and in a namespace no fleet owns.
    await hub.create({
      apiVersion,
      kind: 'ClusterGroup',
      metadata: { name: 'both', namespace: WORKSPACE },
      spec: { clusterSelector: { matchLabels: { health: 'yes' } } },
    });
    record(
      await waitFor(ClusterGroupType, 'both', WORKSPACE, readyWith('Resolved'), 'Resolved'),
      'ready',
      'its members resolved',
      'Current',
      'Healthy',
    );
    await hub.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'health-nofleet' } });
    await hub.create({
      apiVersion,
      kind: 'ClusterGroup',
      metadata: { name: 'orphan', namespace: 'health-nofleet' },
      spec: { clusterNames: ['a'] },
    });
    record(
      await waitFor(ClusterGroupType, 'orphan', 'health-nofleet', stalledWith('FleetNotFound'), 'Stalled'),
      'stalled',
      "in a namespace that is no fleet's workspace",
      'Failed',
      'Degraded',
    );

    // GlobalService and Work.
    await service('ready', { source: { manifests: [configMap('health-ready')] } });
    record(
      await waitFor(GlobalServiceType, 'ready', WORKSPACE, readyWith('RolloutComplete'), 'rolled out'),
      'ready',
      'rolled out to every cluster',
      'Current',
      'Healthy',
    );
    const readyWork = await workOf('health-1', 'gs-ready');
    record(
      await waitFor(WorkType, readyWork, 'flotilla-member-health-1', readyWith('Ready'), 'Ready'),
      'ready',
      'applied and healthy on its cluster',
      'Current',
      'Healthy',
    );

    await service('progressing', {
      source: {
        manifests: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'health-pending', namespace: 'default' },
            spec: {
              replicas: 1,
              selector: { matchLabels: { app: 'health-pending' } },
              template: {
                metadata: { labels: { app: 'health-pending' } },
                // No node has this label: the Pod stays Pending and the Deployment never becomes Available.
                spec: { nodeSelector: { 'health.flotilla.dev/none': 'x' }, containers: [{ name: 'c', image: 'registry.invalid/none:1' }] },
              },
            },
          },
        ],
      },
    });
    record(
      await waitFor(GlobalServiceType, 'progressing', WORKSPACE, reconcilingWith('RolloutProgressing'), 'progressing'),
      'progressing',
      'rolling out: a Deployment not yet Available',
      'InProgress',
      'Progressing',
    );
    const pendingWork = await workOf('health-1', 'gs-progressing');
    record(
      await waitFor(
        WorkType,
        pendingWork,
        'flotilla-member-health-1',
        (o) => condition(o, 'Reconciling')?.status === 'True' && condition(o, 'Applied')?.status === 'True',
        'applied, not available',
      ),
      'progressing',
      'applied, a Deployment not yet Available',
      'InProgress',
      'Progressing',
    );
    await captureDeletingWork(pendingWork);

    await service('halted', {
      // A kind no spoke serves: each spoke's apiserver refuses the apply, the Work is Degraded, the rollout halts.
      source: { manifests: [{ apiVersion: 'health.example/v1', kind: 'Unserved', metadata: { name: 'x', namespace: 'default' } }] },
    });
    record(
      await waitFor(GlobalServiceType, 'halted', WORKSPACE, stalledWith('ClusterDegraded'), 'halted'),
      'halted',
      'halted: a manifest the spokes cannot serve',
      'Failed',
      'Degraded',
    );
    const unservedWork = await workOf('health-1', 'gs-halted');
    record(
      await waitFor(WorkType, unservedWork, 'flotilla-member-health-1', (o) => condition(o, 'Degraded')?.status === 'True', 'Degraded'),
      'degraded',
      'a manifest the spoke cannot serve (no such kind): apply failed',
      'Failed',
      'Degraded',
    );
    record(
      await waitFor(MemberClusterType, 'health-1', undefined, stalledWith('WorksDegraded'), 'WorksDegraded'),
      'stalled',
      'one of its Works is Degraded',
      'Failed',
      'Degraded',
    );
    record(
      await waitFor(FleetType, FLEET, undefined, stalledWith('ClustersNotReady'), 'ClustersNotReady'),
      'stalled',
      'a member is not ready (its Works are Degraded)',
      'Failed',
      'Degraded',
    );
    await hub.delete(GlobalServiceType, 'halted', WORKSPACE);

    await service('refused', { source: { manifests: [configMap('health-refused', 'kube-system')] } });
    record(
      await waitFor(GlobalServiceType, 'refused', WORKSPACE, stalledWith('ManifestRefused'), 'refused'),
      'refused',
      "a manifest the fleet's restrictions refuse (kube-system)",
      'Failed',
      'Degraded',
    );

    await service('approval', {
      source: { manifests: [configMap('health-approval')] },
      rollout: { strategy: 'Staged', stages: [{ name: 'canary', clusterSelector: { matchLabels: { stage: 'canary' } }, approval: {} }] },
    });
    record(
      await waitFor(GlobalServiceType, 'approval', WORKSPACE, reconcilingWith('AwaitingApproval'), 'awaiting approval'),
      'awaiting-approval',
      'a Staged rollout waiting for the approval of its canary stage',
      'InProgress',
      'Suspended',
    );

    await service('paused', { source: { manifests: [configMap('health-paused')] }, rollout: { paused: true } });
    record(
      await waitFor(GlobalServiceType, 'paused', WORKSPACE, reconcilingWith('RolloutPaused'), 'paused'),
      'paused',
      'frozen by spec.rollout.paused',
      'InProgress',
      'Suspended',
    );

    // Port 9 (discard) on loopback: nothing listens, git cannot fetch.
    await service('source-failing', { source: { git: { url: 'http://127.0.0.1:9/fleet.git' } } });
    record(
      await waitFor(GlobalServiceType, 'source-failing', WORKSPACE, stalledWith('SourceUnavailable'), 'SourceUnavailable'),
      'source-failing',
      'its Git origin is unreachable',
      'Failed',
      'Degraded',
    );

    await captureDeleting(
      GlobalServiceType,
      'ready',
      WORKSPACE,
      'deleted; its finalizer has drained the spokes, another finalizer holds it',
    );

    // PolicyBundle; its Work for the member without an agent is the Work no agent has seen.
    const bundle = async (name: string, placement: Record<string, unknown>): Promise<void> => {
      await hub.create({
        apiVersion,
        kind: 'PolicyBundle',
        metadata: { name, namespace: WORKSPACE },
        spec: {
          placement,
          networkPolicies: [{ name: 'default-deny-ingress', spec: { podSelector: {}, policyTypes: ['Ingress'] } }],
          namespaceSelector: { matchLabels: { team: 'health' } },
        },
      });
    };
    await bundle('ready', { clusterGroups: ['both'] });
    record(
      await waitFor(PolicyBundleType, 'ready', WORKSPACE, readyWith('Compliant'), 'Compliant'),
      'ready',
      'compliant on every targeted cluster',
      'Current',
      'Healthy',
    );
    // A member registered but never started, and not paused (a paused one gets no new revisions).
    await hub.create({ apiVersion, kind: 'MemberCluster', metadata: { name: SILENT }, spec: { fleet: FLEET } });
    await bundle('waiting', { clusterNames: [SILENT] });
    record(
      await waitFor(PolicyBundleType, 'waiting', WORKSPACE, reconcilingWith('AwaitingAgents'), 'AwaitingAgents'),
      'progressing',
      'a targeted cluster has not reported yet',
      'InProgress',
      'Progressing',
    );
    const silentWork = await workOf(SILENT, 'pb-waiting');
    record(
      await hub.get<Obj>(WorkType, silentWork, `flotilla-member-${SILENT}`),
      'unobserved',
      'written by the hub, its agent has not seen it',
      'InProgress',
      'Progressing',
    );
    await bundle('stalled', { clusterGroups: ['missing'] });
    record(
      await waitFor(PolicyBundleType, 'stalled', WORKSPACE, stalledWith('ClusterGroupNotFound'), 'Stalled'),
      'stalled',
      'its placement names a ClusterGroup that does not exist',
      'Failed',
      'Degraded',
    );
    await captureDeleting(
      PolicyBundleType,
      'ready',
      WORKSPACE,
      'deleted; its finalizer has drained the spokes, another finalizer holds it',
    );

    await captureDeleting(ClusterGroupType, 'orphan', 'health-nofleet', 'deleted, another finalizer holds it');
    await captureDeleting(
      MemberClusterType,
      LATE,
      undefined,
      "deleted; its finalizer has revoked the agent's access, another finalizer holds it",
    );
    for (const name of ['progressing', 'refused', 'approval', 'paused', 'source-failing'])
      await hub.delete(GlobalServiceType, name, WORKSPACE);
    for (const name of ['waiting', 'stalled']) await hub.delete(PolicyBundleType, name, WORKSPACE);
    // No agent will ever drain the silent member's Work: its removal takes the Work with it.
    await hub.delete(MemberClusterType, SILENT);
    await eventually(async () => {
      const left = [
        ...(await hub.list(GlobalServiceType, { namespace: WORKSPACE })).items,
        ...(await hub.list(PolicyBundleType, { namespace: WORKSPACE })).items,
      ];
      if (left.length > 0) throw new Error(`still deleting: ${left.map((o) => o.metadata.name).join(', ')}`);
    }, TIMEOUT);
    for (const agent of programs.splice(0)) await agent.stop();
    for (const name of ['health-1', 'health-2']) await hub.delete(MemberClusterType, name);
    await captureDeleting(FleetType, FLEET, undefined, 'deleted, another finalizer holds it');
    await hub.delete({ apiVersion: 'v1', kind: 'Namespace' }, 'health-nofleet');
  } finally {
    for (const agent of programs) await agent.stop();
    await program.stop();
    await stopAll();
    hub.close();
  }
  process.stdout.write(`${written.length} fixtures under ${fixtures}\n`);
}

/** `flotilla join`, its bootstrap applied on the spoke, and `flotilla agent` started there, as an admin joins a cluster. */
async function joinCluster(spoke: 'spoke-1' | 'spoke-2', name: string, labels: readonly string[]): Promise<Program> {
  const joined = await runFlotilla(['join', name, '--fleet', FLEET, ...labels.flatMap((l) => ['--label', l]), '--kubeconfig', hubConfig]);
  if (joined.code !== 0) throw new Error(`flotilla join failed: ${joined.stderr}`);
  await kubectlOk(spoke, ['apply', '-f', '-'], joined.stdout);
  return startProgram(`health-agent-${name}`, ['agent', '--kubeconfig', plane(spoke).kubeconfigPath, '--health-address', '127.0.0.1:0']);
}

/** A Work held in deletion (the agent's finalizer done, ours left). */
async function captureDeletingWork(name: string): Promise<void> {
  await captureDeleting(
    WorkType,
    name,
    'flotilla-member-health-1',
    'deleted; its agent has removed what it applied, another finalizer holds it',
  );
}

await main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
