// GlobalServices from Git on real planes: the hub operator runs as a process of the built CLI with
// the pinned kustomize and helm, spoke-1 and spoke-2 join with `flotilla join` and run the Work
// agent, and the repositories live on the loopback Git server (HTTPS with its own CA, basic auth),
// reached with the credentials of a Secret in the workspace. What a user checks:
// - a Kustomize overlay lands on both spokes with each cluster's ${cluster.…} values, and the
//   service's status names the commit it runs (main@sha1:…);
// - kube-prometheus's published manifests/ folder, CRDs in setup/ included, arrives as it is;
// - a new commit rolls out, and its revert brings back the earlier content and the earlier revision;
// - a repository that goes away leaves both spokes exactly as they were (same uids) and says so
//   (Ready False and Stalled, SourceUnavailable, git's own words), and the service recovers by itself;
// - a wrong password fails with a message, a hub log and Events that hold none of the Secret's values;
// - `flotilla reconcile source --wait` fetches a new commit at once despite a 1h interval;
// - over SSH (Debian's sshd), the Secret's key and known_hosts deliver; a host key other than the
//   known one stops fetches with ssh's words, no key in status, and both spokes keep what they run.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { annotations, apiVersion, labels, type GlobalService } from '../../src/api/index.js';
import { findCondition, type Condition, type KubeObject } from '../../src/runtime/index.js';
import {
  eventually,
  fixtures,
  runToolOk,
  startGitServer,
  temporaryDirectory,
  toolPath,
  uniqueName,
  type GitRepository,
  type GitServer,
} from '../framework/index.js';
import { randomCredentials } from '../framework/https-server.js';
import { runFlotilla } from '../membership/processes.js';
import { fleetOnPlanes, type Spoke } from './fleet-on-planes.js';

type Service = GlobalService & KubeObject;
type ConfigMap = KubeObject & { data?: Record<string, string> };
type Deployment = KubeObject & { spec: { replicas?: number } };
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const DeploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
const NamespaceType = { apiVersion: 'v1', kind: 'Namespace' } as const;
const CRDType = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' } as const;

let cacheDir: { path: string; remove: () => Promise<void> } | undefined;
const setup = fleetOnPlanes({
  prefix: 'git',
  userAgent: 'git-sources-e2e',
  spokes: [
    { plane: 'spoke-1', name: uniqueName('eu-west'), labels: ['env=prod', 'region=eu-west'] },
    { plane: 'spoke-2', name: uniqueName('eu-central'), labels: ['env=prod', 'region=eu-central'] },
  ],
  // kube-prometheus ships Roles into kube-system, and prometheus-adapter's ClusterRole has `*` verbs
  // on `*` resources of metrics.k8s.io: both need the Fleet's consent.
  fleetSpec: {
    restrictions: { globalServices: { deniedNamespaces: ['kube-public', 'kube-node-lease', 'flotilla-system'], rbac: 'Unrestricted' } },
  },
  hubArgs: async () => {
    cacheDir = await temporaryDirectory('git-sources-cache');
    return ['--helm', await toolPath('helm'), '--kustomize', await toolPath('kustomize'), '--source-cache-dir', cacheDir.path];
  },
});
const { hub, hubConfig, workspace, spokes } = setup;
const [one, two] = spokes as [Spoke, Spoke];
const region = (spoke: Spoke): string => (spoke.plane === 'spoke-1' ? 'eu-west' : 'eu-central');
const shop = uniqueName('shop');
const notes = uniqueName('notes');
const onDemand = uniqueName('on-demand');
const overSSH = uniqueName('over-ssh');
const services = ['web', 'kube-prometheus', 'locked', 'on-demand', 'over-ssh'];

// The Git server accepts one user; its name is this run's own, so a leak of it would be found.
const credentials = randomCredentials(uniqueName('deployer'));
const wrongPassword = randomCredentials().password;
let server: GitServer;
let web: GitRepository;
let firstCommit = '';

/** A Kustomize base and an overlay whose output carries flotilla's variables for each cluster to fill in. */
function shopTree(greeting: string, replicas: number): Record<string, string> {
  return {
    'README.md': 'The shop, as a Kustomize base and a fleet overlay.\n',
    'base/kustomization.yaml':
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [namespace.yaml, deployment.yaml]\n',
    'base/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${shop}\n`,
    'base/deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: shop',
      `  namespace: ${shop}`,
      'spec:',
      '  replicas: 1',
      '  selector: {matchLabels: {app: shop}}',
      '  template:',
      '    metadata: {labels: {app: shop}}',
      '    spec:',
      '      containers:',
      '        - name: shop',
      '          image: registry.k8s.io/pause:3.10',
      '          envFrom: [{configMapRef: {name: shop-config}}]',
      '',
    ].join('\n'),
    'overlays/fleet/kustomization.yaml': [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources: [../../base]',
      `namespace: ${shop}`,
      'labels:',
      '  - pairs: {app.kubernetes.io/part-of: shop}',
      'generatorOptions: {disableNameSuffixHash: true}',
      'configMapGenerator:',
      '  - name: shop-config',
      '    literals:',
      `      - GREETING=${greeting}`,
      'patches:',
      '  - target: {kind: Deployment, name: shop}',
      '    patch: |-',
      '      - {op: replace, path: /spec/replicas, value: ' + String(replicas) + '}',
      '      - {op: add, path: /metadata/annotations, value: {example.com/region: "${cluster.labels.region}"}}',
      '',
    ].join('\n'),
  };
}
const firstGreeting = 'hello from ${cluster.name} in ${cluster.labels.region}';

const service = (name: string): Promise<Service> => hub.get<Service>(ServiceType, name, workspace);
const condition = (s: Service, type: string): Condition | undefined => findCondition(s.status?.conditions, type);
const configMap = (spoke: Spoke, name: string, namespace: string): Promise<ConfigMap | null> =>
  spoke.kube.getOrNull<ConfigMap>(ConfigMapType, name, namespace);
const greeting = async (spoke: Spoke): Promise<string | undefined> => (await configMap(spoke, 'shop-config', shop))?.data?.GREETING;

/** A Git service in the workspace, placed on both spokes, polled every `interval`. */
function gitService(name: string, git: NonNullable<GlobalService['spec']['source']['git']>): Service {
  return {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name, namespace: workspace },
    spec: {
      source: { git },
      placement: { clusterSelector: { matchLabels: { env: 'prod' } } },
      rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 3600 },
    },
  };
}

async function readyAt(name: string, check: (s: Service) => void = () => undefined): Promise<Service> {
  return eventually(
    async () => {
      const s = await service(name);
      expect({ ready: condition(s, 'Ready'), clusters: s.status?.clusters }).toMatchObject({
        ready: { status: 'True' },
        clusters: { targeted: 2, updated: 2, available: 2, failed: 0 },
      });
      expect(s.status?.observedGeneration).toBe(s.metadata.generation);
      check(s);
      return s;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

const credentialsSecret = (name: string, password: string): KubeObject & { stringData: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: workspace },
  stringData: { username: credentials.username, password, 'ca.crt': server.tls.caPEM },
});

beforeAll(async () => {
  server = await startGitServer({ credentials });
  await setup.start();
  await hub.create(credentialsSecret('git-credentials', credentials.password));
  web = await server.createRepository('shop', { files: shopTree(firstGreeting, 2) });
  firstCommit = (await web.git(['rev-parse', 'HEAD'])).trim();
}, 180_000);

afterAll(async () => {
  for (const name of services) await hub.delete(ServiceType, name, workspace).catch(() => undefined);
  await eventually(
    async () => {
      expect((await hub.list(ServiceType, { namespace: workspace })).items).toHaveLength(0);
    },
    { timeoutMs: 120_000 },
  ).catch(() => undefined);
  for (const spoke of spokes) {
    for (const namespace of [shop, notes, onDemand, overSSH]) await spoke.kube.delete(NamespaceType, namespace).catch(() => undefined);
  }
  await setup.stop();
  await server.close();
  await cacheDir?.remove();
}, 180_000);

describe('GlobalServices from Git', () => {
  let firstRevision = '';

  it("delivers a Kustomize overlay to both spokes with each cluster's own values, and names the commit", async () => {
    await hub.create(
      gitService('web', {
        url: web.url,
        ref: { branch: 'main' },
        path: 'overlays/fleet',
        secretRef: { name: 'git-credentials' },
        interval: '2s',
      }),
    );
    const s = await readyAt('web');
    expect(s.status?.source).toMatchObject({
      revision: `main@sha1:${firstCommit}`,
      url: web.url,
      digest: expect.stringMatching(/^sha256:/),
    });
    firstRevision = s.status?.revision ?? '';
    for (const spoke of spokes) {
      expect(await greeting(spoke)).toBe(`hello from ${spoke.name} in ${region(spoke)}`);
      const deployment = await spoke.kube.get<Deployment>(DeploymentType, 'shop', shop);
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.metadata.annotations?.['example.com/region']).toBe(region(spoke));
      expect(deployment.metadata.labels?.['app.kubernetes.io/part-of']).toBe('shop');
    }
  }, 180_000);

  it("delivers kube-prometheus's published manifests/ folder as it is: its CRDs Established on both spokes", async () => {
    const repository = await server.createRepository('kube-prometheus', { fromDir: fixtures.kubePrometheus });
    const commit = (await repository.git(['rev-parse', 'HEAD'])).trim();
    await hub.create(
      gitService('kube-prometheus', { url: repository.url, path: 'manifests', secretRef: { name: 'git-credentials' }, interval: '1m' }),
    );
    const crds = ['prometheuses', 'alertmanagers', 'servicemonitors', 'podmonitors', 'prometheusrules', 'thanosrulers'];
    const delivered = async (spoke: Spoke): Promise<void> => {
      for (const plural of crds) {
        const crd = await spoke.kube.get<KubeObject & { status?: { conditions?: Condition[] } }>(
          CRDType,
          `${plural}.monitoring.coreos.com`,
        );
        expect(findCondition(crd.status?.conditions, 'Established')?.status).toBe('True');
      }
      // Custom resources of those CRDs, and a sample of the rest, cluster-scoped and namespaced.
      const prometheus = await spoke.kube.getOrNull<KubeObject & { spec: { replicas?: number } }>(
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'Prometheus' },
        'k8s',
        'monitoring',
      );
      expect(prometheus?.spec.replicas).toBe(2);
      expect(
        await spoke.kube.getOrNull({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' }, 'kube-state-metrics', 'monitoring'),
      ).not.toBeNull();
      expect(await spoke.kube.getOrNull(DeploymentType, 'prometheus-operator', 'monitoring')).not.toBeNull();
      expect(await spoke.kube.getOrNull({ apiVersion: 'apps/v1', kind: 'DaemonSet' }, 'node-exporter', 'monitoring')).not.toBeNull();
      expect(
        await spoke.kube.getOrNull({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }, 'prometheus-k8s'),
      ).not.toBeNull();
      expect(
        await spoke.kube.getOrNull({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' }, 'prometheus-k8s', 'kube-system'),
      ).not.toBeNull();
      const dashboards = await configMap(spoke, 'grafana-dashboard-k8s-resources-multicluster', 'monitoring');
      expect(Object.values(dashboards?.data ?? {}).join('')).toContain('${datasource}');
    };
    await eventually(
      async () => {
        const s = await service('kube-prometheus');
        expect(s.status?.source?.revision).toBe(`main@sha1:${commit}`);
        expect(s.status?.clusters).toMatchObject({ targeted: 2, updated: 2, failed: 0 });
        for (const spoke of spokes) await delivered(spoke);
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    // What the spokes say (the Work's conditions): every manifest applied, and all but one healthy —
    // prometheus-adapter's APIService waits for pods that kwok's fake nodes only pretend to run.
    await eventually(
      async () => {
        for (const spoke of spokes) {
          const work = await hub.get<KubeObject & { status?: { conditions?: Condition[] } }>(
            { apiVersion, kind: 'Work' },
            'gs-kube-prometheus',
            `flotilla-member-${spoke.name}`,
          );
          expect(findCondition(work.status?.conditions, 'Applied')).toMatchObject({ status: 'True' });
          expect(findCondition(work.status?.conditions, 'Available')?.message).toMatch(
            /^1 of \d+ manifests not healthy: APIService.apiregistration.k8s.io\/v1beta1.metrics.k8s.io: /,
          );
        }
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
  }, 480_000);

  it('rolls a new commit out to both spokes, and its revert back to the earlier content and revision', async () => {
    const before = await one.kube.get<Deployment>(DeploymentType, 'shop', shop);
    const second = await web.commit('howdy, three replicas', { files: shopTree('howdy from ${cluster.name}', 3) });
    const rolled = await readyAt('web', (s) => {
      expect(s.status?.source?.revision).toBe(`main@sha1:${second}`);
    });
    expect(rolled.status?.revision).not.toBe(firstRevision);
    for (const spoke of spokes) {
      await eventually(async () => {
        expect(await greeting(spoke)).toBe(`howdy from ${spoke.name}`);
      });
      expect((await spoke.kube.get<Deployment>(DeploymentType, 'shop', shop)).spec.replicas).toBe(3);
    }

    await web.git(['revert', '--no-edit', 'HEAD']);
    const reverted = await web.push();
    expect(reverted).not.toBe(firstCommit);
    const back = await readyAt('web', (s) => {
      expect(s.status?.source?.revision).toBe(`main@sha1:${reverted}`);
    });
    // The revision is the content's: the revert commit is a new commit with the first one's content.
    expect(back.status?.revision).toBe(firstRevision);
    for (const spoke of spokes) {
      await eventually(async () => {
        expect(await greeting(spoke)).toBe(`hello from ${spoke.name} in ${region(spoke)}`);
      });
      expect((await spoke.kube.get<Deployment>(DeploymentType, 'shop', shop)).spec.replicas).toBe(2);
    }
    // Updated in place, never recreated.
    expect((await one.kube.get<Deployment>(DeploymentType, 'shop', shop)).metadata.uid).toBe(before.metadata.uid);
  }, 300_000);

  it('leaves both spokes untouched while the repository is gone, says so, and recovers by itself', async () => {
    const objects = async (): Promise<string[]> =>
      (
        await Promise.all(
          spokes.flatMap((spoke) => [
            spoke.kube.get(NamespaceType, shop),
            spoke.kube.get(DeploymentType, 'shop', shop),
            spoke.kube.get(ConfigMapType, 'shop-config', shop),
          ]),
        )
      ).map((object) => `${object.kind}/${object.metadata.name ?? ''}=${object.metadata.uid ?? ''}`);
    const before = await objects();
    const revision = (await service('web')).status?.revision;
    const refusedBefore = server.requests.filter((r) => r.status === 503).length;

    server.setAvailable(false);
    const down = await eventually(
      async () => {
        const s = await service('web');
        expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'SourceUnavailable' });
        // Stalled too, so kstatus (Flux's health check) reads Failed rather than waiting on it.
        expect(condition(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'SourceUnavailable' });
        return s;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // git's own words: the server answered 503.
    expect(condition(down, 'Ready')?.message).toContain('The requested URL returned error: 503');
    expect(down.status?.revision).toBe(revision);
    // The hub keeps asking (every 2s, the interval); wait for a few more refusals before looking again.
    await eventually(
      () => {
        expect(server.requests.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(refusedBefore + 3);
      },
      { timeoutMs: 60_000 },
    );
    expect(await objects()).toEqual(before);
    for (const spoke of spokes) expect(await greeting(spoke)).toBe(`hello from ${spoke.name} in ${region(spoke)}`);

    server.setAvailable(true);
    await readyAt('web', (s) => {
      expect(s.status?.revision).toBe(revision);
    });
    expect(await objects()).toEqual(before);
  }, 240_000);

  it('says a wrong password is refused without writing any of the Secret’s values to status, the hub log or Events', async () => {
    const repository = await server.createRepository('notes', {
      files: {
        'deploy/notes.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${notes}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes, namespace: ${notes}}\ndata: {version: v1}\n`,
      },
    });
    await hub.create(credentialsSecret('wrong-credentials', wrongPassword));
    await hub.create(
      gitService('locked', { url: repository.url, path: 'deploy', secretRef: { name: 'wrong-credentials' }, interval: '2s' }),
    );
    const locked = await eventually(
      async () => {
        const s = await service('locked');
        expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'SourceUnavailable' });
        return s;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(condition(locked, 'Ready')?.message).toBe(
      `authentication failed for ${server.origin}: the server refused the credentials of the secretRef Secret (HTTP 401)`,
    );
    expect((await hub.list({ apiVersion, kind: 'Work' }, { labelSelector: `${labels.sourceName}=locked` })).items).toHaveLength(0);

    const base64 = (text: string): string => Buffer.from(text).toString('base64');
    const secrets = [
      wrongPassword,
      base64(wrongPassword),
      base64(`${credentials.username}:${wrongPassword}`),
      credentials.password,
      base64(credentials.password),
      base64(`${credentials.username}:${credentials.password}`),
      credentials.username,
      base64(credentials.username),
      base64(server.tls.caPEM),
    ];
    // `kubectl events -n WORKSPACE`: the service's Warning says what failed.
    const events = await eventually(async () => {
      const listed = await hub.list<KubeObject & { type?: string; reason?: string; message?: string; involvedObject?: { name?: string } }>(
        { apiVersion: 'v1', kind: 'Event' },
        { namespace: workspace },
      );
      expect(listed.items.filter((e) => e.involvedObject?.name === 'locked').map((e) => [e.type, e.reason, e.message])).toContainEqual([
        'Warning',
        'SourceUnavailable',
        condition(locked, 'Ready')?.message,
      ]);
      return listed.items;
    });
    const hubLog = readFileSync(setup.hubProgram().logFile, 'utf8');
    expect(hubLog).toContain('locked');
    const places = { status: JSON.stringify(locked.status), hubLog, events: JSON.stringify(events) };
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) expect({ place, leaks: text.includes(secret) }).toEqual({ place, leaks: false });
    }

    // Put the right password in the Secret: the hub fetches at once (the Secret changed) and delivers.
    await hub.patch(
      { apiVersion: 'v1', kind: 'Secret' },
      'wrong-credentials',
      workspace,
      { stringData: { password: credentials.password } },
      { type: 'merge' },
    );
    await readyAt('locked');
    for (const spoke of spokes) expect((await configMap(spoke, 'notes', notes))?.data?.version).toBe('v1');
  }, 180_000);

  it('fetches a new commit at once on `flotilla reconcile source --wait`, whatever the interval', async () => {
    const deployment = (version: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${onDemand}}\n---\n` +
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: release, namespace: ${onDemand}}\ndata: {version: ${version}}\n`;
    const repository = await server.createRepository('on-demand', { files: { 'deploy/release.yaml': deployment('v1') } });
    const first = (await repository.git(['rev-parse', 'HEAD'])).trim();
    await hub.create(
      gitService('on-demand', { url: repository.url, path: 'deploy', secretRef: { name: 'git-credentials' }, interval: '1h' }),
    );
    await readyAt('on-demand', (s) => {
      expect(s.status?.source?.revision).toBe(`main@sha1:${first}`);
    });
    const fetches = () => server.requests.filter((r) => r.path.startsWith('/on-demand.git/')).length;
    const fetchedBefore = fetches();

    const second = await repository.commit('v2', { files: { 'deploy/release.yaml': deployment('v2') } });
    // A change that is not the origin's makes the hub reconcile the service, and it does not fetch.
    const edited = await hub.patch<Service>(
      ServiceType,
      'on-demand',
      workspace,
      { spec: { rollout: { progressDeadlineSeconds: 1800 } } },
      { type: 'merge' },
    );
    const reconciled = await readyAt('on-demand', (s) => {
      expect(s.status?.observedGeneration).toBe(edited.metadata.generation);
    });
    expect(reconciled.status?.source?.revision).toBe(`main@sha1:${first}`);
    expect(fetches()).toBe(fetchedBefore);

    const result = await runFlotilla(['reconcile', 'source', 'on-demand', '-n', workspace, '--wait', '--kubeconfig', hubConfig]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(`fetched main@sha1:${second}`) });
    const fetched = await service('on-demand');
    expect(fetched.status?.source?.revision).toBe(`main@sha1:${second}`);
    expect(fetched.metadata.annotations?.[annotations.requestedAt]).toEqual(expect.any(String));
    expect(fetched.status?.lastHandledRequest).toBe(fetched.metadata.annotations?.[annotations.requestedAt]);
    for (const spoke of [one, two]) {
      await eventually(async () => {
        expect((await configMap(spoke, 'release', onDemand))?.data?.version).toBe('v2');
      });
    }
  }, 180_000);

  it("delivers over SSH with the Secret's key and known_hosts, and stops at a host key other than the known one", async () => {
    const front = await server.serveSSH();
    const release = (version: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${overSSH}}\n---\n` +
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: release, namespace: ${overSSH}}\ndata: {version: ${version}}\n`;
    const repository = await server.createRepository('over-ssh', { files: { 'deploy/release.yaml': release('v1') } });
    const commit = (await repository.git(['rev-parse', 'HEAD'])).trim();
    await hub.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ssh-key', namespace: workspace },
      stringData: { identity: front.identity, known_hosts: front.knownHosts },
    });
    const loginsBefore = front.logins();
    await hub.create(
      gitService('over-ssh', { url: front.url('over-ssh.git'), path: 'deploy', secretRef: { name: 'ssh-key' }, interval: '2s' }),
    );
    const delivered = await readyAt('over-ssh', (s) => {
      expect(s.status?.source?.revision).toBe(`main@sha1:${commit}`);
    });
    expect(front.logins()).toBeGreaterThan(loginsBefore);
    for (const spoke of spokes) expect((await configMap(spoke, 'release', overSSH))?.data?.version).toBe('v1');

    // The same address with another host key, as after a man in the middle: ssh refuses, the hub says so.
    const other = await temporaryDirectory('impostor');
    await runToolOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other.path, 'key')]);
    const impostorKey = (await readFile(join(other.path, 'key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await other.remove();
    const impostor = `${front.knownHosts.split(' ')[0]} ${impostorKey}\n`;
    await hub.patch(
      { apiVersion: 'v1', kind: 'Secret' },
      'ssh-key',
      workspace,
      { stringData: { known_hosts: impostor } },
      { type: 'merge' },
    );
    const refused = await eventually(
      async () => {
        const s = await service('over-ssh');
        expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'SourceUnavailable' });
        return s;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(condition(refused, 'Ready')?.message).toContain('Host key verification failed');
    const keyLines = front.identity.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    const status = JSON.stringify(refused.status);
    for (const line of keyLines) expect(status.includes(line)).toBe(false);
    expect(refused.status?.revision).toBe(delivered.status?.revision);
    for (const spoke of spokes) expect((await configMap(spoke, 'release', overSSH))?.data?.version).toBe('v1');
  }, 180_000);
});
