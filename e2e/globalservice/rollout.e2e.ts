// Rollouts over ten simulated clusters: the real hub operator (the built CLI) and apiserver, with an
// in-test agent answering for every cluster (simulated.ts). RollingUpdate never has more than
// maxUnavailable clusters not Available; a Degraded cluster halts the rollout and is named; Staged
// waits for its approval; a cluster joining mid-rollout gets the last completed revision first; a
// placement naming a ClusterGroup that does not exist says so.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { annotations, apiVersion, labels, memberNamespace, type GlobalService } from '../../src/api/index.js';
import { createInformer, findCondition, kubeFromFile, type Condition, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { eventually, plane, uniqueName } from '../framework/index.js';
import { runFlotilla, startProgram, stopAll } from '../membership/processes.js';
import { createSimulatedMembers, startSimulatedAgents, type Behaviour, type SimulatedAgents, type WorkObject } from './simulated.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'globalservice-e2e' });
const fleet = uniqueName('gsr');
const workspace = `fleet-${fleet}`;
const prefix = uniqueName('sim');
const CLUSTERS = 10;
type Service = GlobalService & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const WorkType = { apiVersion, kind: 'Work' } as const;

let names: string[] = [];
let agents: SimulatedAgents | undefined;
// Per revision: which clusters fail and how long an answer takes.
const failing = new Set<string>();
const delayMs = 300;
// Revisions every cluster takes long to make Available, so a rollout of them is caught halfway.
const slow = new Set<string>();
const behaviour = (cluster: string, revision: string): Behaviour => ({
  delayMs: slow.has(revision) ? 2500 : delayMs,
  fail: failing.has(`${cluster}@${revision}`),
});
const joiner = `${prefix}-join`;
const groupName = uniqueName('grp');

const configMap = (name: string, value: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data: { value },
});

function serviceObject(name: string, value: string, rollout: GlobalService['spec']['rollout']): Service {
  return {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name, namespace: workspace },
    spec: {
      placement: { clusterSelector: { matchLabels: { sim: prefix } } },
      source: { manifests: [configMap(name, value)] as GlobalService['spec']['source']['manifests'] },
      ...(rollout ? { rollout } : {}),
    },
  };
}

async function serviceWorks(name: string): Promise<WorkObject[]> {
  const list = await hub.list<WorkObject>(WorkType, {
    labelSelector: `${labels.sourceName}=${name},${labels.sourceNamespace}=${workspace}`,
  });
  return list.items;
}

const service = (name: string): Promise<Service> => hub.get<Service>(ServiceType, name, workspace);
const ready = (s: Service): Condition | undefined => findCondition(s.status?.conditions, 'Ready');

/** Watches Works while `run` goes on; answers the largest number of clusters at `revision` but not Available seen at once. */
async function maxUnavailableDuring(service: string, revisionOf: () => string | undefined, until: () => Promise<void>): Promise<number> {
  let max = 0;
  let done = false;
  const sample = async (): Promise<void> => {
    while (!done) {
      const revision = revisionOf();
      const works = await serviceWorks(service);
      if (revision !== undefined) {
        const notAvailable = works.filter(
          (w) =>
            w.spec.source.revision === revision &&
            !(w.status?.appliedRevision === revision && findCondition(w.status.conditions, 'Available')?.status === 'True'),
        );
        max = Math.max(max, notAvailable.length);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const sampling = sample();
  try {
    await until();
  } finally {
    done = true;
    await sampling;
  }
  return max;
}

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  startProgram(`hub-${prefix}`, ['hub', '--kubeconfig', hubConfig, '--health-address', '127.0.0.1:0']);
  await hub.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet } });
  names = await createSimulatedMembers(hub, prefix, CLUSTERS, fleet, { sim: prefix });
  await eventually(
    async () => {
      for (const name of names) await hub.get({ apiVersion: 'v1', kind: 'Namespace' }, memberNamespace(name));
    },
    { timeoutMs: 60_000 },
  );
  agents = startSimulatedAgents(hub, prefix, behaviour);
}, 120_000);

afterAll(async () => {
  await agents?.stop();
  for (const name of ['rolling', 'staged', 'joining', 'grouped']) await hub.delete(ServiceType, name, workspace).catch(() => undefined);
  await hub.delete({ apiVersion, kind: 'ClusterGroup' }, groupName, workspace).catch(() => undefined);
  await stopAll();
  for (const name of [...names, joiner]) await hub.delete({ apiVersion, kind: 'MemberCluster' }, name).catch(() => undefined);
  await hub.delete({ apiVersion, kind: 'Fleet' }, fleet).catch(() => undefined);
  hub.close();
}, 60_000);

describe('GlobalService rollouts over simulated clusters', () => {
  it('RollingUpdate with maxUnavailable 1 never has two clusters not Available, then a Degraded cluster halts the rollout, named', async () => {
    await hub.create(serviceObject('rolling', 'v1', { strategy: 'RollingUpdate', maxUnavailable: 1 }));
    let revision: string | undefined;
    const max = await maxUnavailableDuring(
      'rolling',
      () => revision,
      () =>
        eventually(
          async () => {
            const s = await service('rolling');
            revision = s.status?.revision;
            expect(ready(s)?.status).toBe('True');
            expect(s.status?.clusters).toMatchObject({ targeted: CLUSTERS, updated: CLUSTERS, available: CLUSTERS, failed: 0 });
          },
          { timeoutMs: 90_000 },
        ),
    );
    expect(max).toBe(1);
    expect(await serviceWorks('rolling')).toHaveLength(CLUSTERS);

    // v2 fails on the cluster that gets it first (not-Available clusters first, then by name).
    const live = await service('rolling');
    await hub.update<Service>({ ...live, spec: serviceObject('rolling', 'v2', live.spec.rollout).spec });
    const v2 = await eventually(async () => {
      const s = await service('rolling');
      expect(s.status?.revision).not.toBe(revision);
      return s.status?.revision as string;
    });
    const first = [...names].sort()[0] as string;
    failing.add(`${first}@${v2}`);
    const halted = await eventually(
      async () => {
        const s = await service('rolling');
        const stalled = findCondition(s.status?.conditions, 'Stalled');
        expect(stalled?.status).toBe('True');
        expect(stalled?.message).toContain(first);
        return s;
      },
      { timeoutMs: 60_000 },
    );
    expect(halted.status?.rollout?.phase).toBe('Halted');
    expect(halted.status?.attention?.[0]).toMatchObject({ cluster: first, reason: 'Degraded' });
    // Halted: nobody else gets v2.
    expect(
      (await serviceWorks('rolling')).filter((w) => w.spec.source.revision === v2).map((w) => w.metadata.labels?.[labels.cluster]),
    ).toEqual([first]);
  }, 180_000);

  it('Staged waits for the approval of its first stage, then completes', async () => {
    const canary = names.slice(0, 2);
    // Stages select by labels: give the canaries one.
    for (const name of canary) {
      await hub.patch(
        { apiVersion, kind: 'MemberCluster' },
        name,
        undefined,
        { metadata: { labels: { stage: 'canary' } } },
        { type: 'merge' },
      );
    }
    await hub.create(
      serviceObject('staged', 'v1', {
        strategy: 'Staged',
        stages: [{ name: 'canary', clusterSelector: { matchLabels: { stage: 'canary' } }, approval: {} }],
      }),
    );
    const waiting = await eventually(
      async () => {
        const s = await service('staged');
        expect(s.status?.rollout?.phase).toBe('AwaitingApproval');
        expect(s.status?.clusters?.available).toBe(canary.length);
        return s;
      },
      { timeoutMs: 60_000 },
    );
    const works = await serviceWorks('staged');
    expect(works.map((w) => w.metadata.labels?.[labels.cluster]).sort()).toEqual([...canary].sort());
    await hub.patch(
      ServiceType,
      'staged',
      workspace,
      { metadata: { annotations: { [annotations.approvedStage]: `canary@${waiting.status?.revision ?? ''}` } } },
      { type: 'merge' },
    );
    await eventually(
      async () => {
        const s = await service('staged');
        expect(ready(s)?.status).toBe('True');
        expect(s.status?.clusters?.available).toBe(CLUSTERS);
      },
      { timeoutMs: 60_000 },
    );
  }, 120_000);

  it('gives a cluster that joins while RollingUpdate rolls out revision N+1 revision N first, then N+1 in its turn', async () => {
    await hub.create(serviceObject('joining', 'v1', { strategy: 'RollingUpdate', maxUnavailable: 1 }));
    const v1 = await eventually(
      async () => {
        const s = await service('joining');
        expect(ready(s)?.status).toBe('True');
        expect(s.status?.clusters).toMatchObject({ targeted: CLUSTERS, available: CLUSTERS });
        return s.status?.revision as string;
      },
      { timeoutMs: 90_000 },
    );

    const live = await service('joining');
    await hub.update<Service>({ ...live, spec: serviceObject('joining', 'v2', live.spec.rollout).spec });
    const v2 = await eventually(async () => {
      const s = await service('joining');
      expect(s.status?.revision).not.toBe(v1);
      return s.status?.revision as string;
    });
    slow.add(v2);
    // Halfway: some clusters have v2, others still v1.
    await eventually(
      async () => {
        const revisions = (await serviceWorks('joining')).map((w) => w.spec.source.revision);
        expect(revisions).toContain(v2);
        expect(revisions).toContain(v1);
      },
      { timeoutMs: 30_000 },
    );

    // A watch on the joiner's namespace sees its Work as first written, however soon its turn comes.
    const watching = new AbortController();
    const joinerWorks = createInformer<WorkObject>({ kube: hub, type: WorkType, namespace: memberNamespace(joiner) });
    const firstSeen: WorkObject[] = [];
    joinerWorks.addHandler({
      onAdd: (work) => {
        firstSeen.push(work);
      },
      onUpdate: () => undefined,
      onDelete: () => undefined,
    });
    void joinerWorks.run(watching.signal);
    await joinerWorks.waitForSync(watching.signal);
    await hub.create({ apiVersion, kind: 'MemberCluster', metadata: { name: joiner, labels: { sim: prefix } }, spec: { fleet } });
    const first = await eventually(
      () => {
        const work = firstSeen.find((w) => w.spec.source.name === 'joining');
        expect(work).toBeDefined();
        return work as WorkObject;
      },
      { timeoutMs: 30_000 },
    ).finally(() => {
      watching.abort();
    });
    // Its first Work carries the proven revision, not the one in flight.
    expect([first.spec.source.revision, first.metadata.generation]).toEqual([v1, 1]);

    await eventually(
      async () => {
        const s = await service('joining');
        expect(ready(s)?.status).toBe('True');
        expect(s.status?.clusters).toMatchObject({ targeted: CLUSTERS + 1, updated: CLUSTERS + 1, available: CLUSTERS + 1 });
      },
      { timeoutMs: 120_000 },
    );
    const joined = (await serviceWorks('joining')).find((w) => w.metadata.labels?.[labels.cluster] === joiner);
    expect(joined?.spec.source.revision).toBe(v2);
  }, 240_000);

  it('says which ClusterGroup a placement names that does not exist, and places on the group once it is made', async () => {
    await hub.create({
      ...serviceObject('grouped', 'v1', { strategy: 'AllAtOnce' }),
      spec: {
        ...serviceObject('grouped', 'v1', undefined).spec,
        placement: { clusterGroups: [groupName] },
        rollout: { strategy: 'AllAtOnce' },
      },
    });
    await eventually(
      async () => {
        const s = await service('grouped');
        const stalled = findCondition(s.status?.conditions, 'Stalled');
        expect(stalled).toMatchObject({ status: 'True', reason: 'ClusterGroupNotFound' });
        expect(stalled?.message).toContain(groupName);
        expect(ready(s)?.status).toBe('False');
      },
      { timeoutMs: 30_000 },
    );

    const members = names.slice(0, 2);
    await hub.create({
      apiVersion,
      kind: 'ClusterGroup',
      metadata: { name: groupName, namespace: workspace },
      spec: { clusterNames: members },
    });
    await eventually(
      async () => {
        const s = await service('grouped');
        expect(findCondition(s.status?.conditions, 'Stalled')).toBeUndefined();
        expect(ready(s)?.status).toBe('True');
        expect(s.status?.clusters).toMatchObject({ targeted: 2, available: 2 });
      },
      { timeoutMs: 60_000 },
    );
  }, 120_000);
});
