// A fleet kept in Git and synced into the hub by real Flux (source-controller and
// kustomize-controller from hack/testenv, started on the hub plane here if it does not run them
// yet), the way users wire it: a GitRepository on the loopback Git server (HTTPS, its own CA, basic
// auth) and a Kustomization with `wait: true`, whose health check is kstatus on our status. The hub
// operator and both spokes' agents (`flotilla agent`) run as processes. What a user checks:
// - the Kustomization is Ready only once the GlobalService runs on both spokes and the PolicyBundle
//   is compliant on both (printed: how long after);
// - a commit the CRD's CEL rules refuse fails the Kustomization with the apiserver's field-named
//   message, and nothing on the spokes changes;
// - a commit whose revision the hub refuses (a kind the fleet denies) fails the health check, naming
//   the GlobalService, while the spokes keep the last good revision; its `git revert` is Ready again
//   with the same status.revision as before;
// - deleting the files prunes the objects, our finalizers drain the spokes, and the Kustomization
//   ends Ready with nothing hung.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { apiVersion, type GlobalService, type PolicyBundle } from '../../src/api/index.js';
import { findCondition, type Condition, type KubeObject } from '../../src/runtime/index.js';
import { eventually, readPlaneState, startGitServer, testenv, uniqueName, type GitRepository, type GitServer } from '../framework/index.js';
import { fleetOnPlanes, type Spoke } from '../globalservice/fleet-on-planes.js';

type Service = GlobalService & KubeObject;
type Bundle = PolicyBundle & KubeObject;
type FluxObject = KubeObject & {
  status?: { conditions?: Condition[]; lastAppliedRevision?: string; lastAttemptedRevision?: string; observedGeneration?: number };
};
type ConfigMap = KubeObject & { data?: Record<string, string> };
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const BundleType = { apiVersion, kind: 'PolicyBundle' } as const;
const GroupType = { apiVersion, kind: 'ClusterGroup' } as const;
const KustomizationType = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' } as const;
const GitRepositoryType = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository' } as const;
const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const QuotaType = { apiVersion: 'v1', kind: 'ResourceQuota' } as const;
const NamespaceType = { apiVersion: 'v1', kind: 'Namespace' } as const;
const fluxNamespace = 'flux-system';

const setup = fleetOnPlanes({
  prefix: 'flux',
  userAgent: 'flux-e2e',
  agentProcesses: true,
  spokes: [
    { plane: 'spoke-1', name: uniqueName('eu-west'), labels: ['env=prod', 'region=eu-west'] },
    { plane: 'spoke-2', name: uniqueName('eu-central'), labels: ['env=prod', 'region=eu-central'] },
  ],
});
const { hub, fleet, workspace, spokes } = setup;
const app = uniqueName('shop'); // the service's namespace on the spokes
const team = uniqueName('team'); // a namespace the bundle stamps its quota into
const sync = uniqueName('fleet'); // the GitRepository, the Kustomization and the Secret
let server: GitServer;
let repository: GitRepository;

/** The repository's files: the Fleet, two ClusterGroups, a GlobalService and a PolicyBundle. */
function files(
  greeting: string,
  extraManifests: object[] = [],
): Record<'fleet.yaml' | 'groups.yaml' | 'service.yaml' | 'policy.yaml', string> {
  const dump = (o: object): string => yaml.dump(o, { lineWidth: -1 });
  const service = {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name: 'shop', namespace: workspace },
    spec: {
      placement: { clusterGroups: ['prod'] },
      rollout: { strategy: 'AllAtOnce' },
      source: {
        manifests: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: app } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop', namespace: app }, data: { greeting } },
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'shop', namespace: app },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: 'shop' } },
              template: {
                metadata: { labels: { app: 'shop' } },
                spec: { containers: [{ name: 'shop', image: 'registry.k8s.io/pause:3.10' }] },
              },
            },
          },
          ...extraManifests,
        ],
      },
    },
  };
  return {
    'fleet.yaml': dump({ apiVersion, kind: 'Fleet', metadata: { name: fleet } }),
    'groups.yaml': [
      dump({
        apiVersion,
        kind: 'ClusterGroup',
        metadata: { name: 'prod', namespace: workspace },
        spec: { clusterSelector: { matchLabels: { env: 'prod' } } },
      }),
      dump({
        apiVersion,
        kind: 'ClusterGroup',
        metadata: { name: 'canary', namespace: workspace },
        spec: { clusterSelector: { matchLabels: { region: 'eu-west' } } },
      }),
    ].join('---\n'),
    'service.yaml': dump(service),
    'policy.yaml': dump({
      apiVersion,
      kind: 'PolicyBundle',
      metadata: { name: 'baseline', namespace: workspace },
      spec: {
        mode: 'Enforce',
        placement: { clusterGroups: ['prod'] },
        namespaceSelector: { matchLabels: { 'e2e.flotilla.dev/team': team } },
        resourceQuotas: [{ name: 'team-quota', hard: { pods: '50' } }],
      },
    }),
  };
}

const condition = (o: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined =>
  findCondition(o.status?.conditions, type);
const kustomization = (): Promise<FluxObject> => hub.get<FluxObject>(KustomizationType, sync, fluxNamespace);
const service = (): Promise<Service> => hub.get<Service>(ServiceType, 'shop', workspace);
const greetingOn = async (spoke: Spoke): Promise<ConfigMap | null> => spoke.kube.getOrNull<ConfigMap>(ConfigMapType, 'shop', app);

/**
 * What Flux's Kustomization says about one commit once it has tried it. A failed attempt keeps
 * Reconciling True (ProgressingWithRetry) since Flux retries it; Ready False already says why.
 */
async function attempted(commit: string): Promise<FluxObject> {
  return eventually(
    async () => {
      const k = await kustomization();
      expect(k.status?.lastAttemptedRevision).toBe(`main@sha1:${commit}`);
      expect(condition(k, 'Ready')?.status).not.toBe('Unknown');
      return k;
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );
}

async function readyAt(commit: string): Promise<FluxObject> {
  return eventually(
    async () => {
      const k = await attempted(commit);
      expect({ ready: condition(k, 'Ready'), applied: k.status?.lastAppliedRevision }).toMatchObject({
        ready: { status: 'True' },
        applied: `main@sha1:${commit}`,
      });
      return k;
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );
}

/** What the spokes run of the service: each ConfigMap's greeting and resourceVersion. */
async function spokeState(): Promise<{ greeting?: string; resourceVersion?: string }[]> {
  return Promise.all(
    spokes.map(async (spoke) => {
      const cm = await greetingOn(spoke);
      return { greeting: cm?.data?.greeting, resourceVersion: cm?.metadata.resourceVersion };
    }),
  );
}

beforeAll(async () => {
  // Flux is on demand in hack/testenv: this builds it on a cold cache (minutes; `make test` builds it
  // first) and starts it on the hub if the running plane does not run it yet.
  if (readPlaneState('hub').provider === 'kind') throw new Error('the Flux e2e runs Flux from hack/testenv on local planes only');
  await testenv('up', '--with', 'flux', 'hub');
  server = await startGitServer();
  await setup.start();
  for (const spoke of spokes) {
    await spoke.kube.create({ ...NamespaceType, metadata: { name: team, labels: { 'e2e.flotilla.dev/team': team } } });
  }
  repository = await server.createRepository(sync, { files: files('hello') });
  await hub.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: sync, namespace: fluxNamespace },
    stringData: { username: server.credentials.username, password: server.credentials.password, 'ca.crt': server.tls.caPEM },
  });
  await hub.create({
    ...GitRepositoryType,
    metadata: { name: sync, namespace: fluxNamespace },
    spec: { url: repository.url, interval: '2s', timeout: '20s', ref: { branch: 'main' }, secretRef: { name: sync } },
  });
}, 1_800_000);

afterAll(async () => {
  await hub.delete(KustomizationType, sync, fluxNamespace).catch(() => undefined);
  await hub.delete(GitRepositoryType, sync, fluxNamespace).catch(() => undefined);
  await hub.delete({ apiVersion: 'v1', kind: 'Secret' }, sync, fluxNamespace).catch(() => undefined);
  for (const spoke of spokes) {
    for (const namespace of [app, team]) await spoke.kube.delete(NamespaceType, namespace).catch(() => undefined);
  }
  await setup.stop();
  await server.close();
}, 180_000);

describe('a fleet synced from Git by Flux', () => {
  let goodCommit = '';
  let goodRevision = '';
  let goodSpokes: { greeting?: string; resourceVersion?: string }[] = [];

  it('is Ready only after the GlobalService runs on both spokes and the PolicyBundle is compliant on both', async () => {
    goodCommit = (await repository.git(['rev-parse', 'HEAD'])).trim();
    const started = Date.now();
    await hub.create({
      ...KustomizationType,
      metadata: { name: sync, namespace: fluxNamespace },
      spec: {
        sourceRef: { kind: 'GitRepository', name: sync },
        path: './',
        interval: '10s',
        retryInterval: '2s',
        timeout: '90s',
        prune: true,
        wait: true,
        // Deleting the Kustomization at the end leaves the Fleet, which the test's setup owns.
        deletionPolicy: 'Orphan',
      },
    });
    // Read the Kustomization first, then our objects: whenever it reads Ready, ours must already be done.
    let serviceDoneAt: number | undefined;
    let bundleDoneAt: number | undefined;
    let readyTooEarly: object | undefined;
    const readyAtMs = await eventually(
      async () => {
        const k = await hub.getOrNull<FluxObject>(KustomizationType, sync, fluxNamespace);
        const now = Date.now();
        const s = await hub.getOrNull<Service>(ServiceType, 'shop', workspace);
        const b = await hub.getOrNull<Bundle>(BundleType, 'baseline', workspace);
        const serviceDone =
          s !== null &&
          condition(s, 'Ready')?.status === 'True' &&
          s.status?.clusters?.available === 2 &&
          s.status.observedGeneration === s.metadata.generation;
        const bundleDone = b !== null && condition(b, 'Ready')?.status === 'True' && b.status?.clusters?.compliant === 2;
        if (serviceDone) serviceDoneAt ??= now;
        if (bundleDone) bundleDoneAt ??= now;
        const kustomizationReady = k !== null && condition(k, 'Ready')?.status === 'True';
        // kstatus said Current for everything: it must not have said so before we were done.
        if (kustomizationReady && !(serviceDone && bundleDone)) readyTooEarly ??= { service: s?.status, bundle: b?.status };
        expect(kustomizationReady).toBe(true);
        return now;
      },
      { timeoutMs: 240_000, intervalMs: 200 },
    );
    expect(readyTooEarly).toBeUndefined();
    const k = await readyAt(goodCommit);
    expect(k.status?.lastAppliedRevision).toBe(`main@sha1:${goodCommit}`);
    for (const spoke of spokes) {
      expect((await greetingOn(spoke))?.data?.greeting).toBe('hello');
      expect(await spoke.kube.getOrNull(QuotaType, 'team-quota', team)).not.toBeNull();
    }
    const done = Math.max(serviceDoneAt ?? readyAtMs, bundleDoneAt ?? readyAtMs);
    console.log(
      JSON.stringify({
        e2e: 'flux',
        kustomizationReadyAfterOursMs: readyAtMs - done,
        serviceReadyMs: (serviceDoneAt ?? readyAtMs) - started,
        bundleCompliantMs: (bundleDoneAt ?? readyAtMs) - started,
        kustomizationReadyMs: readyAtMs - started,
      }),
    );
    goodRevision = (await service()).status?.revision ?? '';
    expect(goodRevision).not.toBe('');
    goodSpokes = await spokeState();
  }, 300_000);

  it("fails a commit the CRD's CEL rules refuse with the apiserver's message naming the field, and changes nothing on the spokes", async () => {
    const bad = files('hello');
    const parsed = yaml.load(bad['service.yaml']) as Service;
    // Two origins in one source: the schema's CEL rule on spec.source refuses it.
    const invalid = { ...parsed, spec: { ...parsed.spec, source: { ...parsed.spec.source, git: { url: 'https://example.com/x.git' } } } };
    const commit = await repository.commit('a source with two origins', { files: { 'service.yaml': yaml.dump(invalid) } });
    const k = await attempted(commit);
    const ready = condition(k, 'Ready');
    expect(ready).toMatchObject({ status: 'False' });
    expect(ready?.message).toContain(`GlobalService/${workspace}/shop`);
    expect(ready?.message).toContain('spec.source');
    expect(ready?.message).toContain('source must set exactly one of manifests, configMapRefs, git or helm');
    expect(k.status?.lastAppliedRevision).toBe(`main@sha1:${goodCommit}`);
    expect((await service()).status?.revision).toBe(goodRevision);
    expect(await spokeState()).toEqual(goodSpokes);
    // Back to the good content for what follows.
    await repository.git(['revert', '--no-edit', 'HEAD']);
    goodCommit = await repository.push();
    await readyAt(goodCommit);
  }, 300_000);

  let refusedCommit = '';
  it('fails the health check of a revision the hub refuses, naming the GlobalService, while the spokes keep the last good one', async () => {
    // The fleet's default restrictions deny admissionregistration.k8s.io kinds in GlobalServices.
    const policy = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: `${app}-replicas` },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['deployments'] }],
        },
        validations: [{ expression: 'object.spec.replicas <= 5' }],
      },
    };
    refusedCommit = await repository.commit('ship an admission policy', {
      files: { 'service.yaml': files('hello again', [policy])['service.yaml'] },
    });
    const k = await attempted(refusedCommit);
    const ready = condition(k, 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'HealthCheckFailed' });
    expect(ready?.message).toContain(`GlobalService/${workspace}/shop`);
    const s = await service();
    expect(condition(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'ManifestRefused' });
    expect(await spokeState()).toEqual(goodSpokes);
    for (const spoke of spokes) {
      expect(
        await spoke.kube.getOrNull({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy' }, `${app}-replicas`),
      ).toBeNull();
    }
  }, 300_000);

  it('is Ready again after `git revert`, with the same revision as before', async () => {
    await repository.git(['revert', '--no-edit', refusedCommit]);
    const commit = await repository.push();
    await readyAt(commit);
    const s = await service();
    expect(condition(s, 'Ready')).toMatchObject({ status: 'True' });
    expect(s.status?.revision).toBe(goodRevision);
    expect((await spokeState()).map((x) => x.greeting)).toEqual(['hello', 'hello']);
  }, 300_000);

  it('prunes the objects whose files are deleted: our finalizers drain the spokes and the Kustomization ends Ready', async () => {
    const commit = await repository.commit('retire the shop', {
      files: { 'service.yaml': null, 'policy.yaml': null, 'groups.yaml': null },
    });
    await readyAt(commit);
    await eventually(
      async () => {
        expect((await hub.list(ServiceType, { namespace: workspace })).items).toHaveLength(0);
        expect((await hub.list(BundleType, { namespace: workspace })).items).toHaveLength(0);
        expect((await hub.list(GroupType, { namespace: workspace })).items).toHaveLength(0);
        for (const spoke of spokes) {
          expect(await greetingOn(spoke)).toBeNull();
          expect(await spoke.kube.getOrNull(QuotaType, 'team-quota', team)).toBeNull();
        }
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(condition(await kustomization(), 'Ready')).toMatchObject({ status: 'True' });
    // Its own finalizer finishes too, and its Orphan policy leaves the Fleet the setup made.
    await hub.delete(KustomizationType, sync, fluxNamespace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(KustomizationType, sync, fluxNamespace)).toBeNull();
      },
      { timeoutMs: 60_000 },
    );
    expect(await hub.getOrNull({ apiVersion, kind: 'Fleet' }, fleet)).not.toBeNull();
  }, 300_000);
});
