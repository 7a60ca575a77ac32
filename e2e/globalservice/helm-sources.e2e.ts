// GlobalServices from Helm charts on real planes, as a platform team ships packages: the hub
// operator runs as a process of the built CLI with the pinned helm, spoke-1 and spoke-2 join with
// `flotilla join` and run `flotilla agent` (a CRD installed on a spoke reaches the hub's renders through
// the agent's CRD watch and discovery, as in production). Real public charts (test/fixtures/charts) come from the
// loopback HTTPS chart repository (basic auth, its own CA, handed over in a Secret's ca.crt) and
// the loopback OCI registry. Proven here, as a user would check it on the spokes and in status:
// a chart lands on both spokes with `name@version` and a semver range resolved to its highest
// match; a chart from oci:// lands too; a ServiceMonitor gated on `.Capabilities.APIVersions`
// appears exactly on the spokes serving monitoring.coreos.com/v1, and on the other one as soon as
// its agent reports the CRD, without any edit of the service; CRDs and hooks ship, and the hooks
// that do not are named in status; ${cluster.…} variables in values render per cluster; a broken
// chart version stalls the service with helm's own message while both spokes keep their objects.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import {
  annotations,
  apiVersion,
  FleetType,
  GlobalServiceType,
  labels,
  MemberClusterType,
  WorkType,
  type GlobalService,
} from '../../src/api/index.js';
import { findCondition, kubeFromFile, type Condition, type Kube, type KubeObject } from '../../src/runtime/index.js';
import {
  eventually,
  fixtures,
  helm,
  kubectl,
  kubectlOk,
  plane,
  startHelmRepository,
  startOCIRegistry,
  temporaryDirectory,
  toolPath,
  uniqueName,
  type HelmRepository,
  type OCIRegistry,
  type PlaneName,
} from '../framework/index.js';
import { runFlotilla, startProgram, stopAll } from '../membership/processes.js';

const hubConfig = plane('hub').kubeconfigPath;
const hub: Kube = kubeFromFile(hubConfig, undefined, { userAgent: 'helm-sources-e2e' });
const fleet = uniqueName('charts');
const workspace = `fleet-${fleet}`;
type Service = GlobalService & KubeObject;
type Source = GlobalService['spec']['source'];
type Deployment = KubeObject & {
  spec: {
    template: { metadata: { labels?: Record<string, string> }; spec: { containers: { env?: { name: string; value?: string }[] }[] } };
  };
};
const DeploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
const JobType = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const PodType = { apiVersion: 'v1', kind: 'Pod' } as const;
const CRDType = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' } as const;
const CERT_MANAGER_CRDS = [
  'certificates.cert-manager.io',
  'certificaterequests.cert-manager.io',
  'issuers.cert-manager.io',
  'clusterissuers.cert-manager.io',
  'orders.acme.cert-manager.io',
  'challenges.acme.cert-manager.io',
];
const SERVICE_MONITOR_CRD = 'customresourcedefinition.apiextensions.k8s.io/servicemonitors.monitoring.coreos.com';

const spokes: { plane: PlaneName; name: string; region: string; kube: Kube }[] = [
  { plane: 'spoke-1', name: uniqueName('eu-west'), region: 'eu-west', kube: kubeFromFile(plane('spoke-1').kubeconfigPath) },
  { plane: 'spoke-2', name: uniqueName('us-east'), region: 'us-east', kube: kubeFromFile(plane('spoke-2').kubeconfigPath) },
];
const [one, two] = spokes as [(typeof spokes)[number], (typeof spokes)[number]];
type Spoke = typeof one;

/** One namespace per chart service, made on both spokes by an inline service (charts do not create their namespace). */
const ns = {
  ingress: uniqueName('ingress'),
  sealed: uniqueName('sealed'),
  monitoring: uniqueName('monitoring'),
  certs: uniqueName('certs'),
  values: uniqueName('values'),
  broken: uniqueName('broken'),
};

let scratch: { path: string; remove: () => Promise<void> };
let repository: HelmRepository;
let registry: OCIRegistry;

/** A copy of a fixture chart at another version (in its own folder named like the chart, as helm wants), optionally edited. */
async function chartAt(fixture: string, version: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(scratch.path, 'charts', `${basename(fixture)}-${version}`, basename(fixture));
  await mkdir(dir, { recursive: true });
  await cp(fixture, dir, { recursive: true });
  const file = join(dir, 'Chart.yaml');
  const chart = yaml.load(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, yaml.dump({ ...chart, version }));
  await edit?.(dir);
  return dir;
}

function secret(name: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: workspace },
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  };
}

function chartService(name: string, helmSource: NonNullable<Source['helm']>, chart: NonNullable<Source['chart']>): Service {
  return {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name, namespace: workspace },
    spec: {
      placement: { clusterNames: spokes.map((spoke) => spoke.name) },
      source: { helm: helmSource, chart },
      rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 600 },
    },
  };
}
const fromRepository = (chart: string, version: string): NonNullable<Source['helm']> => ({
  repoURL: repository.url,
  chart,
  version,
  secretRef: { name: 'chart-repository' },
});

const service = (name: string): Promise<Service> => hub.get<Service>(GlobalServiceType, name, workspace);
const condition = (s: Service, type: string): Condition | undefined => findCondition(s.status?.conditions, type);

/** Waits until the service is Ready at its generation on both spokes. */
async function ready(name: string): Promise<Service> {
  return eventually(
    async () => {
      const s = await service(name);
      // Attention and the rollout message are in the comparison so that a failure shows why.
      expect({ ready: condition(s, 'Ready'), generation: s.status?.observedGeneration, attention: s.status?.attention }).toMatchObject({
        ready: { status: 'True' },
        generation: s.metadata.generation,
      });
      expect(s.status?.clusters).toMatchObject({ targeted: 2, updated: 2, available: 2, failed: 0 });
      return s;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

const deployment = (spoke: Spoke, name: string, namespace: string): Promise<Deployment | null> =>
  spoke.kube.getOrNull<Deployment>(DeploymentType, name, namespace);

/** The ServiceMonitors of a namespace on a spoke, by name, as kubectl lists them. */
async function serviceMonitors(spoke: Spoke, namespace: string): Promise<string[]> {
  const out = await kubectlOk(spoke.plane, ['get', 'servicemonitors.monitoring.coreos.com', '-n', namespace, '-o', 'json']);
  return (JSON.parse(out) as { items: KubeObject[] }).items.map((item) => item.metadata.name ?? '');
}

async function installServiceMonitorCRD(spoke: Spoke): Promise<void> {
  await kubectlOk(spoke.plane, ['apply', '--server-side', '--field-manager', 'e2e', '-f', fixtures.serviceMonitorCRD]);
  await kubectlOk(spoke.plane, ['wait', '--for=condition=Established', '--timeout=60s', SERVICE_MONITOR_CRD]);
}

async function removeServiceMonitorCRD(spoke: Spoke): Promise<void> {
  await kubectl(spoke.plane, ['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', SERVICE_MONITOR_CRD]);
}

/** `flotilla reconcile source NAME --wait`, as a user asks for a fetch now. */
async function reconcileSource(name: string): Promise<string> {
  const result = await runFlotilla(['reconcile', 'source', name, '-n', workspace, '--wait', '--kubeconfig', hubConfig]);
  return result.stdout + result.stderr;
}

beforeAll(async () => {
  const install = await runFlotilla(['install', '--kubeconfig', hubConfig]);
  if (install.code !== 0) throw new Error(`flotilla install failed: ${install.stderr}`);
  scratch = await temporaryDirectory('helm-sources-e2e');
  [repository, registry] = await Promise.all([startHelmRepository({ basicAuth: true }), startOCIRegistry()]);
  await repository.addChart(fixtures.redisExporterChart);
  // A spoke serves monitoring.coreos.com/v1 only where a test installs it.
  await Promise.all(spokes.map(removeServiceMonitorCRD));

  startProgram(`hub-${fleet}`, [
    'hub',
    '--kubeconfig',
    hubConfig,
    '--health-address',
    '127.0.0.1:0',
    '--helm',
    await toolPath('helm'),
    '--kustomize',
    await toolPath('kustomize'),
    '--source-cache-dir',
    join(scratch.path, 'hub-sources'),
  ]);
  // Charts ship admission webhooks (cert-manager's, ingress-nginx's), which a Fleet refuses by default.
  await hub.create({ ...FleetType, metadata: { name: fleet }, spec: { restrictions: { globalServices: { deniedKinds: [] } } } });
  for (const spoke of spokes) {
    const joined = await runFlotilla([
      'join',
      spoke.name,
      '--fleet',
      fleet,
      '--label',
      `region=${spoke.region}`,
      '--kubeconfig',
      hubConfig,
    ]);
    if (joined.code !== 0) throw new Error(`flotilla join failed: ${joined.stderr}`);
    await kubectlOk(spoke.plane, ['apply', '-f', '-'], joined.stdout);
    startProgram(`agent-${spoke.name}`, [
      'agent',
      '--kubeconfig',
      plane(spoke.plane).kubeconfigPath,
      '--identity',
      spoke.name,
      '--health-address',
      '127.0.0.1:0',
    ]);
  }
  await eventually(
    async () => {
      expect(await hub.getOrNull({ apiVersion: 'v1', kind: 'Namespace' }, workspace)).not.toBeNull();
    },
    { timeoutMs: 60_000 },
  );
  const { username, password } = repository.credentials ?? { username: '', password: '' };
  await hub.create(secret('chart-repository', { username, password, 'ca.crt': repository.tls.caPEM }));
  await hub.create(secret('registry', { ...registry.credentials, 'ca.crt': registry.tls.caPEM }));
  await hub.create<Service>({
    apiVersion,
    kind: 'GlobalService',
    metadata: { name: 'namespaces', namespace: workspace },
    spec: {
      placement: { clusterNames: spokes.map((spoke) => spoke.name) },
      source: { manifests: Object.values(ns).map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })) },
      rollout: { strategy: 'AllAtOnce' },
    },
  });
  await ready('namespaces');
}, 240_000);

afterAll(async () => {
  const deleteAndWait = async (names: string[]): Promise<void> => {
    for (const name of names) await hub.delete(GlobalServiceType, name, workspace).catch(() => undefined);
    await eventually(
      async () => {
        const left = (await hub.list<Service>(GlobalServiceType, { namespace: workspace })).items.map((s) => s.metadata.name ?? '');
        expect(left.filter((name) => names.includes(name))).toEqual([]);
      },
      { timeoutMs: 120_000 },
    ).catch(() => undefined);
  };
  const services = (await hub.list<Service>(GlobalServiceType, { namespace: workspace }).catch(() => ({ items: [] }))).items;
  // The charts first, then the namespaces they live in.
  await deleteAndWait(services.map((s) => s.metadata.name ?? '').filter((name) => name !== 'namespaces'));
  await deleteAndWait(['namespaces']);
  await stopAll();
  for (const spoke of spokes) {
    await hub.delete(MemberClusterType, spoke.name).catch(() => undefined);
    await removeServiceMonitorCRD(spoke);
    // Kept by their keep mark when the service went; nobody else removes them.
    for (const crd of CERT_MANAGER_CRDS) await spoke.kube.delete(CRDType, crd).catch(() => undefined);
    spoke.kube.close();
  }
  await hub.delete(FleetType, fleet).catch(() => undefined);
  await Promise.all([repository.close(), registry.close()]);
  await scratch.remove();
  hub.close();
}, 300_000);

describe('GlobalServices from Helm charts on two spokes', () => {
  it('lands a chart from the HTTPS chart repository on both spokes, the highest version the range matches, as name@version', async () => {
    const published = await repository.addChart(fixtures.ingressNginxChart);
    expect(published.version).toBe('4.15.1');
    await repository.addChart(await chartAt(fixtures.ingressNginxChart, '4.15.0'));
    await repository.addChart(await chartAt(fixtures.ingressNginxChart, '5.0.0'));

    await hub.create(
      chartService('ingress-nginx', fromRepository('ingress-nginx', '^4.15.0'), {
        namespace: ns.ingress,
        // No load balancer on these clusters, as on bare metal.
        values: { controller: { service: { type: 'ClusterIP' } } },
      }),
    );
    const s = await ready('ingress-nginx');
    expect(s.status?.source).toMatchObject({
      revision: 'ingress-nginx@4.15.1',
      digest: `sha256:${published.digest}`,
      url: `${repository.url}/ingress-nginx`,
    });
    for (const spoke of spokes) {
      const controller = await deployment(spoke, 'ingress-nginx-controller', ns.ingress);
      expect(controller?.metadata.labels).toMatchObject({ 'helm.sh/chart': 'ingress-nginx-4.15.1' });
      // Its pre-install and post-install hook Jobs ship with it, named after their content.
      const jobs = (await spoke.kube.list(JobType, { namespace: ns.ingress })).items.map((job) => job.metadata.name);
      expect(jobs).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^ingress-nginx-admission-create-[0-9a-f]{8}$/),
          expect.stringMatching(/^ingress-nginx-admission-patch-[0-9a-f]{8}$/),
        ]),
      );
    }
  }, 240_000);

  it('lands a chart from an OCI registry on both spokes, its crds/ folder included', async () => {
    const packaged = join(scratch.path, 'packaged');
    const out = await helm(scratch.path, ['package', fixtures.sealedSecretsChart, '--destination', packaged]);
    expect(out.code).toBe(0);
    const archive = join(packaged, 'sealed-secrets-2.18.5.tgz');
    const pushed = await registry.push(archive);
    const digest = createHash('sha256')
      .update(await readFile(archive))
      .digest('hex');

    await hub.create(
      chartService(
        'sealed-secrets',
        { repoURL: registry.url, chart: 'sealed-secrets', version: '2.18.5', secretRef: { name: 'registry' } },
        { namespace: ns.sealed },
      ),
    );
    const s = await ready('sealed-secrets');
    expect(s.status?.source).toMatchObject({ revision: `sealed-secrets@${pushed.version}`, digest: `sha256:${digest}` });
    for (const spoke of spokes) {
      expect((await deployment(spoke, 'sealed-secrets', ns.sealed))?.metadata.labels).toMatchObject({
        'helm.sh/chart': 'sealed-secrets-2.18.5',
      });
      const crd = await kubectlOk(spoke.plane, [
        'get',
        'crd',
        'sealedsecrets.bitnami.com',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]);
      expect(crd).toBe('True');
    }
  }, 240_000);

  it('renders the ServiceMonitor only where monitoring.coreos.com/v1 is served, and on the other spoke once its agent reports the CRD', async () => {
    await installServiceMonitorCRD(one);
    await hub.create(
      chartService('redis-exporter', fromRepository('prometheus-redis-exporter', '6.29.0'), {
        namespace: ns.monitoring,
        releaseName: 'prometheus-redis-exporter',
        values: { serviceMonitor: { enabled: true } },
      }),
    );
    await eventually(
      async () => {
        expect(await serviceMonitors(one, ns.monitoring)).toEqual(['prometheus-redis-exporter']);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const s = await ready('redis-exporter');
    // spoke-2 runs the exporter, without the ServiceMonitor it cannot serve: an apply of one would have failed there.
    expect(await deployment(two, 'prometheus-redis-exporter', ns.monitoring)).not.toBeNull();
    const missing = await kubectl(two.plane, ['get', 'servicemonitors.monitoring.coreos.com', '-n', ns.monitoring]);
    expect(missing.stderr).toContain(`the server doesn't have a resource type "servicemonitors"`);

    await installServiceMonitorCRD(two);
    await eventually(
      async () => {
        expect(await serviceMonitors(two, ns.monitoring)).toEqual(['prometheus-redis-exporter']);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const after = await ready('redis-exporter');
    expect(after.metadata.generation).toBe(s.metadata.generation);
    expect(await serviceMonitors(one, ns.monitoring)).toEqual(['prometheus-redis-exporter']);
  }, 300_000);

  it("ships a chart's CRDs and its install hooks, and names in status the hooks it does not ship", async () => {
    // cert-manager's own hooks are post-install ones, which ship. A test hook and a pre-delete
    // hook, as many charts carry (helm create scaffolds the first), are added to see the others.
    const chart = await chartAt(fixtures.certManagerChart, 'v1.21.1', async (dir) => {
      const hooks = [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: '{{ include "cert-manager.fullname" . }}-test-connection',
            namespace: '{{ include "cert-manager.namespace" . }}',
            annotations: { 'helm.sh/hook': 'test' },
          },
          spec: { restartPolicy: 'Never', containers: [{ name: 'wget', image: 'busybox', command: ['wget', 'cert-manager-webhook:443'] }] },
        },
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: {
            name: '{{ include "cert-manager.fullname" . }}-cleanup',
            namespace: '{{ include "cert-manager.namespace" . }}',
            annotations: { 'helm.sh/hook': 'pre-delete' },
          },
          spec: {
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'cleanup', image: 'busybox', command: ['true'] }] } },
          },
        },
      ];
      await writeFile(join(dir, 'templates', 'e2e-hooks.yaml'), hooks.map((hook) => yaml.dump(hook)).join('---\n'));
    });
    await repository.addChart(chart);
    await hub.create(
      chartService('cert-manager', fromRepository('cert-manager', 'v1.21.1'), {
        namespace: ns.certs,
        // The leader-election Roles go to kube-system by default, which the fleet denies.
        values: { crds: { enabled: true }, global: { leaderElection: { namespace: ns.certs } } },
      }),
    );
    const s = await ready('cert-manager');
    expect(s.status?.source?.revision).toBe('cert-manager@v1.21.1');
    expect([...(s.status?.source?.skippedHooks ?? [])].sort()).toEqual([
      `Job ${ns.certs}/cert-manager-cleanup (pre-delete): flotilla has no uninstall step: deleting the service prunes what it shipped`,
      `Pod ${ns.certs}/cert-manager-test-connection (test): Helm test hooks are shipped only when tests are included`,
    ]);
    for (const spoke of spokes) {
      for (const crd of CERT_MANAGER_CRDS) {
        const established = await kubectlOk(spoke.plane, [
          'get',
          'crd',
          crd,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ]);
        expect(`${crd}: ${established}`).toBe(`${crd}: True`);
      }
      const jobs = (await spoke.kube.list(JobType, { namespace: ns.certs })).items.map((job) => job.metadata.name);
      expect(jobs).toEqual([expect.stringMatching(/^cert-manager-startupapicheck-[0-9a-f]{8}$/)]);
      expect(await spoke.kube.getOrNull(PodType, 'cert-manager-test-connection', ns.certs)).toBeNull();
      expect(await deployment(spoke, 'cert-manager-webhook', ns.certs)).not.toBeNull();
    }
  }, 300_000);

  it("deleting a chart's service prunes what it shipped but keeps the CRDs the chart marks helm.sh/resource-policy: keep", async () => {
    // cert-manager's crds.keep (true by default) puts Helm's keep on its CRDs, so that uninstalling
    // the chart never deletes every Certificate in the cluster with them; flotilla honours it as helm does.
    await hub.delete(GlobalServiceType, 'cert-manager', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(GlobalServiceType, 'cert-manager', workspace)).toBeNull();
      },
      {
        timeoutMs: 120_000,
      },
    );
    for (const spoke of spokes) {
      await eventually(
        async () => {
          expect(await deployment(spoke, 'cert-manager-webhook', ns.certs)).toBeNull();
        },
        { timeoutMs: 60_000 },
      );
      for (const crd of CERT_MANAGER_CRDS) {
        const live = await spoke.kube.get(CRDType, crd);
        expect({
          crd,
          deleting: live.metadata.deletionTimestamp !== undefined,
          policy: live.metadata.annotations?.['helm.sh/resource-policy'],
          work: live.metadata.annotations?.[annotations.work] ?? live.metadata.labels?.[labels.work] ?? 'released',
        }).toEqual({ crd, deleting: false, policy: 'keep', work: 'released' });
      }
    }
  }, 300_000);

  it('substitutes ${cluster.name} and ${cluster.labels.KEY} in chart values per cluster, and a fetch finding the same version rewrites no Work', async () => {
    await hub.create(
      chartService('exporter-values', fromRepository('prometheus-redis-exporter', '6.29.0'), {
        namespace: ns.values,
        releaseName: 'prometheus-redis-exporter',
        values: {
          redisAddress: 'redis://redis.${cluster.labels.region}.example:6379',
          labels: { 'example.com/cluster': '${cluster.name}' },
        },
      }),
    );
    await ready('exporter-values');
    for (const spoke of spokes) {
      const exporter = await deployment(spoke, 'prometheus-redis-exporter', ns.values);
      const env = exporter?.spec.template.spec.containers[0]?.env ?? [];
      expect(env.find((entry) => entry.name === 'REDIS_ADDR')?.value).toBe(`redis://redis.${spoke.region}.example:6379`);
      expect(exporter?.spec.template.metadata.labels?.['example.com/cluster']).toBe(spoke.name);
    }
    // The chart's templates carry `annotations: {}`, which the hub apiserver leaves out of a stored Work.
    const generations = async (): Promise<Record<string, number | undefined>> =>
      Object.fromEntries(
        (await hub.list(WorkType, { labelSelector: `${labels.sourceName}=exporter-values` })).items.map(
          (work): [string, number | undefined] => [work.metadata.namespace ?? '', work.metadata.generation],
        ),
      );
    const before = await generations();
    expect(Object.keys(before)).toHaveLength(2);
    expect(await reconcileSource('exporter-values')).toContain('fetched prometheus-redis-exporter@6.29.0; Ready=True');
    expect(await generations()).toEqual(before);
  }, 240_000);

  it("stalls on a broken chart version with helm's message naming the file and line, and both spokes keep the previous version", async () => {
    const chartName = 'prometheus-redis-exporter';
    await hub.create(
      chartService('exporter-upgrades', fromRepository(chartName, '~6.29.0'), { namespace: ns.broken, releaseName: chartName }),
    );
    const good = await ready('exporter-upgrades');
    expect(good.status?.source?.revision).toBe(`${chartName}@6.29.0`);
    const uids = await Promise.all(spokes.map(async (spoke) => (await deployment(spoke, chartName, ns.broken))?.metadata.uid));
    expect(uids.every((uid) => uid !== undefined)).toBe(true);

    // 6.29.1: a template with an unclosed action.
    await repository.addChart(
      await chartAt(fixtures.redisExporterChart, '6.29.1', async (dir) => {
        const file = join(dir, 'templates', 'deployment.yaml');
        const text = await readFile(file, 'utf8');
        expect(text.split('\n')[9]).toBe('  replicas: {{ .Values.replicaCount }}');
        await writeFile(file, text.replace('{{ .Values.replicaCount }}', '{{ .Values.replicaCount }'));
      }),
    );
    expect(await reconcileSource('exporter-upgrades')).toContain(`fetched ${chartName}@6.29.1; Ready=False RenderFailed`);
    const stalled = await service('exporter-upgrades');
    expect(condition(stalled, 'Ready')).toMatchObject({ status: 'False', reason: 'RenderFailed' });
    expect(condition(stalled, 'Stalled')).toMatchObject({ status: 'True', reason: 'RenderFailed' });
    expect(condition(stalled, 'Ready')?.message).toContain(
      `helm: parse error at (${chartName}/templates/deployment.yaml:10): unexpected "}" in operand`,
    );
    expect(stalled.status?.source?.revision).toBe(`${chartName}@6.29.1`);
    for (const [index, spoke] of spokes.entries()) {
      const live = await deployment(spoke, chartName, ns.broken);
      expect({ uid: live?.metadata.uid, chart: live?.metadata.labels?.['helm.sh/chart'] }).toEqual({
        uid: uids[index],
        chart: `${chartName}-6.29.0`,
      });
    }

    // A fixed 6.29.2 recovers on the next fetch, updating the same objects in place.
    await repository.addChart(await chartAt(fixtures.redisExporterChart, '6.29.2'));
    expect(await reconcileSource('exporter-upgrades')).toContain(`fetched ${chartName}@6.29.2`);
    await ready('exporter-upgrades');
    for (const [index, spoke] of spokes.entries()) {
      await eventually(async () => {
        const live = await deployment(spoke, chartName, ns.broken);
        expect({ uid: live?.metadata.uid, chart: live?.metadata.labels?.['helm.sh/chart'] }).toEqual({
          uid: uids[index],
          chart: `${chartName}-6.29.2`,
        });
      });
    }
  }, 300_000);
});
