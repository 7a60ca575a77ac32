// GlobalService on real planes: the hub operator runs as a process of the built CLI; spoke-1 and
// spoke-2 join with `flotilla join` and run the Work agent as the identity the join gave them. The
// examples' web service lands on both, per-cluster values differ, edits and reverts roll out,
// relabelling a cluster out cleans it, two services — or a PolicyBundle and a later service —
// claiming one object conflict without clobbering, the later taking over once the first lets go,
// a manifest the spokes refuse is named with their apiservers' words in the service's status and in
// `flotilla status`, and deleting a service removes everything it made before its finalizer clears.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { apiVersion, finalizer, labels, type GlobalService } from '../../src/api/index.js';
import { findCondition, type Condition, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { eventually, repoRoot, uniqueName } from '../framework/index.js';
import { runFlotilla } from '../membership/processes.js';
import { fleetOnPlanes } from './fleet-on-planes.js';

const setup = fleetOnPlanes({
  prefix: 'gs',
  userAgent: 'globalservice-e2e',
  spokes: [
    { plane: 'spoke-1', name: uniqueName('eu-west'), labels: ['env=prod', 'region=eu-west', 'tier=canary'] },
    { plane: 'spoke-2', name: uniqueName('eu-central'), labels: ['env=prod', 'region=eu-central'] },
  ],
});
const { hubConfig, fleet, workspace, spokes } = setup;
const hub: Kube = setup.hub;
const ns = uniqueName('web');
type Service = GlobalService & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const BundleType = { apiVersion, kind: 'PolicyBundle' } as const;
const ClusterRoleType = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' } as const;
const [one, two] = spokes as [(typeof spokes)[number], (typeof spokes)[number]];

/** The examples' web service, in this run's workspace and namespace. */
function exampleService(): Service {
  const service = yaml.load(readFileSync(join(repoRoot, 'examples', '30-web-service.yaml'), 'utf8')) as Service;
  const manifests = (service.spec.source.manifests ?? []).map((m) =>
    m.kind === 'Namespace' ? { ...m, metadata: { ...m.metadata, name: ns } } : { ...m, metadata: { ...m.metadata, namespace: ns } },
  );
  return {
    ...service,
    metadata: { name: 'web', namespace: workspace },
    spec: { ...service.spec, source: { manifests }, rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 600 } },
  };
}

const service = (name: string): Promise<Service> => hub.get<Service>(ServiceType, name, workspace);
const condition = (s: Service, type: string): Condition | undefined => findCondition(s.status?.conditions, type);
const greeting = async (spoke: typeof one): Promise<string | undefined> => {
  const cm = await spoke.kube.getOrNull<KubeObject & { data?: Record<string, string> }>(
    { apiVersion: 'v1', kind: 'ConfigMap' },
    'web-config',
    ns,
  );
  return cm?.data?.greeting;
};

async function readyAt(name: string, revision?: string): Promise<Service> {
  return eventually(
    async () => {
      const s = await service(name);
      expect(condition(s, 'Ready')?.status).toBe('True');
      expect(s.status?.observedGeneration).toBe(s.metadata.generation);
      if (revision !== undefined) expect(s.status?.revision).toBe(revision);
      expect(s.status?.clusters).toMatchObject({ targeted: 2, updated: 2, available: 2, failed: 0 });
      return s;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

beforeAll(async () => {
  await setup.start();
  await hub.apply(
    {
      apiVersion,
      kind: 'ClusterGroup',
      metadata: { name: 'europe', namespace: workspace },
      spec: {
        clusterSelector: { matchExpressions: [{ key: 'region', operator: 'In', values: ['eu-west', 'eu-central'] }] },
        excludeClusterNames: [one.name],
      },
    },
    { fieldManager: 'e2e' },
  );
}, 180_000);

afterAll(async () => {
  await hub.delete(BundleType, 'baseline', workspace).catch(() => undefined);
  for (const name of ['web', 'rival', 'claimant', 'refused']) await hub.delete(ServiceType, name, workspace).catch(() => undefined);
  await eventually(
    async () => {
      expect((await hub.list(ServiceType, { namespace: workspace })).items).toHaveLength(0);
    },
    { timeoutMs: 60_000 },
  ).catch(() => undefined);
  for (const spoke of spokes) await spoke.kube.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
  await setup.stop();
}, 120_000);

describe('GlobalService on two spokes', () => {
  let first = '';

  it("runs the examples' web service on both spokes, each with its own values, Ready", async () => {
    await hub.create(exampleService());
    const s = await readyAt('web');
    first = s.status?.revision ?? '';
    expect(await greeting(one)).toBe(`hello from ${one.name} in eu-west`);
    expect(await greeting(two)).toBe(`hello from ${two.name} in eu-central`);
    const replicas = async (spoke: typeof one): Promise<number | undefined> =>
      (await spoke.kube.get<KubeObject & { spec: { replicas?: number } }>({ apiVersion: 'apps/v1', kind: 'Deployment' }, 'web', ns)).spec
        .replicas;
    expect(await replicas(one)).toBe(2);
    expect(await replicas(two)).toBe(4); // the europe override; eu-west is excluded from the group
    expect((await service('web')).metadata.finalizers).toContain(finalizer);
  }, 180_000);

  it('rolls an edit out to both spokes, and a revert back to the same revision', async () => {
    const live = await service('web');
    const edited = structuredClone(live);
    const override = edited.spec.overrides?.[0]?.patches[0]?.operations[0] as { value?: unknown } | undefined;
    if (!override) throw new Error('the example has no greeting override');
    override.value = 'howdy from ${cluster.name}';
    await hub.update(edited);
    const second = await eventually(
      async () => {
        const s = await readyAt('web');
        expect(s.status?.revision).not.toBe(first);
        return s.status?.revision ?? '';
      },
      { timeoutMs: 120_000 },
    );
    await eventually(async () => {
      expect(await greeting(two)).toBe(`howdy from ${two.name}`);
    });
    expect(await greeting(one)).toBe(`howdy from ${one.name}`);

    const current = await service('web');
    await hub.update({ ...current, spec: live.spec });
    await readyAt('web', first);
    expect(second).not.toBe(first);
    await eventually(async () => {
      expect(await greeting(one)).toBe(`hello from ${one.name} in eu-west`);
    });
    expect(await greeting(two)).toBe(`hello from ${two.name} in eu-central`);
  }, 240_000);

  it('reports a conflict for the later of two services claiming one object, and neither clobbers the other', async () => {
    const rival: Service = {
      apiVersion,
      kind: 'GlobalService',
      metadata: { name: 'rival', namespace: workspace },
      spec: {
        placement: { clusterNames: [one.name] },
        source: {
          manifests: [
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: ns }, data: { greeting: 'rival' } },
          ],
        },
        rollout: { strategy: 'AllAtOnce' },
      },
    };
    await hub.create(rival);
    const reported = await eventually(async () => {
      const s = await service('rival');
      expect(condition(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'Conflict' });
      return s;
    });
    expect(reported.status?.attention?.[0]).toMatchObject({ cluster: one.name, reason: 'Conflict' });
    expect(reported.status?.attention?.[0]?.message).toContain(`GlobalService ${workspace}/web`);
    expect((await hub.list(ServiceType, { namespace: workspace })).items).toHaveLength(2);
    expect((await hub.list({ apiVersion, kind: 'Work' }, { labelSelector: `${labels.sourceName}=rival` })).items).toHaveLength(0);
    expect(condition(await service('web'), 'Ready')?.status).toBe('True');
    expect(await greeting(one)).toBe(`hello from ${one.name} in eu-west`);
    await hub.delete(ServiceType, 'rival', workspace);
    await eventually(async () => {
      expect(await hub.getOrNull(ServiceType, 'rival', workspace)).toBeNull();
    });
  }, 120_000);

  it("reports a conflict for a service claiming an object a PolicyBundle holds, leaves it the bundle's, and takes it over once the bundle is gone", async () => {
    const role = uniqueName('reader');
    const rules = (verb: string): unknown[] => [{ apiGroups: [''], resources: ['configmaps'], verbs: [verb] }];
    const rulesOnSpoke = async (): Promise<unknown> =>
      (await one.kube.getOrNull<KubeObject & { rules?: unknown }>(ClusterRoleType, role))?.rules;
    const bundleReady = async (): Promise<string | undefined> =>
      findCondition(
        (await hub.get<KubeObject & { status?: { conditions?: Condition[] } }>(BundleType, 'baseline', workspace)).status?.conditions,
        'Ready',
      )?.status;
    await hub.create({
      apiVersion,
      kind: 'PolicyBundle',
      metadata: { name: 'baseline', namespace: workspace },
      spec: { placement: { clusterNames: [one.name] }, rbac: { clusterRoles: [{ name: role, rules: rules('get') }] } },
    });
    await eventually(
      async () => {
        expect(await rulesOnSpoke()).toEqual(rules('get'));
        expect(await bundleReady()).toBe('True');
      },
      { timeoutMs: 60_000 },
    );

    await hub.create({
      apiVersion,
      kind: 'GlobalService',
      metadata: { name: 'claimant', namespace: workspace },
      spec: {
        placement: { clusterNames: [one.name] },
        source: {
          manifests: [{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role }, rules: rules('list') }],
        },
        rollout: { strategy: 'AllAtOnce' },
      },
    } satisfies Service);
    const reported = await eventually(async () => {
      const s = await service('claimant');
      expect(condition(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'Conflict' });
      return s;
    });
    expect(reported.status?.attention?.[0]).toMatchObject({ cluster: one.name, reason: 'Conflict' });
    expect(reported.status?.attention?.[0]?.message).toContain(`PolicyBundle ${workspace}/baseline`);
    expect((await hub.list({ apiVersion, kind: 'Work' }, { labelSelector: `${labels.sourceName}=claimant` })).items).toHaveLength(0);
    expect(await rulesOnSpoke()).toEqual(rules('get'));
    expect(await bundleReady()).toBe('True');

    await hub.delete(BundleType, 'baseline', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(BundleType, 'baseline', workspace)).toBeNull();
        expect(await rulesOnSpoke()).toEqual(rules('list'));
        const s = await service('claimant');
        expect(condition(s, 'Ready')?.status).toBe('True');
        expect(s.status?.attention ?? []).toHaveLength(0);
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );

    await hub.delete(ServiceType, 'claimant', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(ServiceType, 'claimant', workspace)).toBeNull();
        expect(await rulesOnSpoke()).toBeUndefined();
      },
      { timeoutMs: 60_000 },
    );
  }, 240_000);

  it("says which manifest each spoke refused and what its apiserver said, in the service's Stalled condition and in `flotilla status`", async () => {
    const absent = uniqueName('absent');
    await hub.create({
      apiVersion,
      kind: 'GlobalService',
      metadata: { name: 'refused', namespace: workspace },
      spec: {
        placement: { clusterNames: [one.name, two.name] },
        source: {
          manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: absent }, data: { mode: 'strict' } }],
        },
        rollout: { strategy: 'AllAtOnce' },
      },
    } satisfies Service);
    const stalled = await eventually(
      async () => {
        const s = await service('refused');
        const halting = condition(s, 'Stalled');
        expect(halting).toMatchObject({ status: 'True', reason: 'ClusterDegraded' });
        // Each spoke's own apiserver refused the object in a namespace it does not have.
        for (const spoke of spokes) {
          expect(halting?.message).toContain(
            `cluster ${spoke.name} is Degraded at revision ${s.status?.revision ?? ''}: ` +
              `1 of 1 manifests failed: ConfigMap/${absent}/settings: apply failed: namespaces "${absent}" not found`,
          );
        }
        return halting?.message ?? '';
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    const table = await runFlotilla(['status', '--fleet', fleet, '--kubeconfig', hubConfig]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')).toContain(`${workspace}/refused: ${stalled}`);
    const json = await runFlotilla(['status', '--fleet', fleet, '-o', 'json', '--kubeconfig', hubConfig]);
    expect(json.code).toBe(0);
    const services = (JSON.parse(json.stdout) as { services: { name: string; cause: string }[] }).services;
    expect(services.find((s) => s.name === 'refused')?.cause).toBe(stalled);

    await hub.delete(ServiceType, 'refused', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(ServiceType, 'refused', workspace)).toBeNull();
      },
      { timeoutMs: 60_000 },
    );
  }, 120_000);

  it('removes the service from a cluster relabelled out of the placement', async () => {
    await hub.patch(
      { apiVersion, kind: 'MemberCluster' },
      two.name,
      undefined,
      { metadata: { labels: { env: 'staging' } } },
      { type: 'merge' },
    );
    await eventually(
      async () => {
        const s = await service('web');
        expect(s.status?.clusters?.targeted).toBe(1);
        expect(await two.kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment' }, 'web', ns)).toBeNull();
        expect(await two.kube.getOrNull({ apiVersion: 'v1', kind: 'ConfigMap' }, 'web-config', ns)).toBeNull();
      },
      { timeoutMs: 60_000 },
    );
    expect(await greeting(one)).toBe(`hello from ${one.name} in eu-west`);
    await hub.patch(
      { apiVersion, kind: 'MemberCluster' },
      two.name,
      undefined,
      { metadata: { labels: { env: 'prod' } } },
      { type: 'merge' },
    );
    await readyAt('web');
  }, 180_000);

  it('deletes everything the service made from every spoke before its finalizer clears', async () => {
    await hub.delete(ServiceType, 'web', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(ServiceType, 'web', workspace)).toBeNull();
      },
      { timeoutMs: 90_000 },
    );
    for (const spoke of spokes) {
      expect(await spoke.kube.getOrNull({ apiVersion: 'apps/v1', kind: 'Deployment' }, 'web', ns)).toBeNull();
      expect(await spoke.kube.getOrNull({ apiVersion: 'v1', kind: 'ConfigMap' }, 'web-config', ns)).toBeNull();
      expect(await spoke.kube.getOrNull({ apiVersion: 'v1', kind: 'Service' }, 'web', ns)).toBeNull();
    }
    expect((await hub.list({ apiVersion, kind: 'Work' }, { labelSelector: `${labels.sourceNamespace}=${workspace}` })).items).toHaveLength(
      0,
    );
  }, 120_000);
});
