import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Manifest } from '../../api/index.js';
import {
  capabilitiesProblem,
  helmTemplateArgs,
  kustomizationProblem,
  readPlainManifests,
  rendererAt,
  renderTarget,
  withReleaseNamespace,
  type RenderInput,
  type RenderResult,
} from './render.js';
import { testToolPaths } from './testdata/tools.js';
import { testTrees, type TestTrees } from './testdata/trees.js';
import { createToolRunner, type ToolRunner } from './tool.js';

const input: RenderInput = {
  releaseName: 'web',
  namespace: 'apps',
  capabilities: { kubeVersion: 'v1.31.2', apiVersions: ['v1', 'apps/v1', 'batch/v1'] },
};

const cm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
const names = (result: RenderResult): string[] =>
  result.ok ? result.manifests.map((m) => `${m.kind}/${m.metadata.name}`) : [result.message];
const ok = (result: RenderResult): Extract<RenderResult, { ok: true }> => {
  if (!result.ok) throw new Error(result.message);
  return result;
};

let trees: TestTrees;
let runner: ToolRunner;
beforeAll(async () => {
  trees = await testTrees();
  runner = createToolRunner(await testToolPaths());
});
afterAll(async () => {
  await trees.remove();
});

describe('rendererAt', () => {
  it.each<[string, Record<string, string>, string, string]>([
    ['a kustomization.yaml', { 'app/kustomization.yaml': 'resources: []\n', 'app/Chart.yaml': 'name: x\n' }, 'app', 'kustomize'],
    ['a kustomization.yml', { 'app/kustomization.yml': '' }, 'app', 'kustomize'],
    ['a Kustomization', { 'app/Kustomization': '' }, 'app', 'kustomize'],
    ['a Chart.yaml', { 'app/Chart.yaml': 'name: x\n' }, 'app', 'helm'],
    ['anything else', { 'app/a.yaml': cm('a') }, 'app', 'manifests'],
    ['the root', { 'a.yaml': cm('a') }, '', 'manifests'],
  ])('takes %s', async (_name, files, at, renderer) => {
    expect(await rendererAt(await trees.write(files), at)).toEqual({ ok: true, renderer });
  });

  it.each<[string, string, string]>([
    ['a missing path', 'nope', 'path "nope" does not exist in this revision'],
    ['a file', 'a.yaml', 'path "a.yaml" is a file, not a folder'],
  ])('says when the path is %s', async (_name, at, message) => {
    expect(await rendererAt(await trees.write({ 'a.yaml': cm('a') }), at)).toEqual({ ok: false, message });
  });
});

describe('plain manifests', () => {
  it('reads every .yaml, .yml and .json file in byte order of their paths, skipping dot folders and other files', async () => {
    const root = await trees.write({
      'deploy/b.yaml': cm('b'),
      'deploy/a/z.yml': cm('a-z'),
      'deploy/a.yaml': `${cm('a')}---\n${cm('a2')}`,
      'deploy/C.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'upper-c' } }),
      'deploy/.github/workflows/ci.yml': 'on: push\n',
      'deploy/README.md': '# not a manifest',
      'deploy/linked.yaml': { symlinkTo: '../shared/s.yaml' },
      'shared/s.yaml': cm('shared'),
    });
    const read = await readPlainManifests(root, 'deploy');
    expect(read.ok && read.manifests.map((m) => m.metadata.name)).toEqual(['upper-c', 'a', 'a2', 'a-z', 'b', 'shared']);
  });

  it("reads kube-prometheus's published manifests folder, typed lists (ConfigMapList) included", async () => {
    const read = await readPlainManifests(path.resolve(import.meta.dirname, '../../../test/fixtures/kube-prometheus'), 'manifests');
    if (!read.ok) throw new Error(read.message);
    expect(read.manifests).toHaveLength(131);
    expect(read.manifests.filter((m) => m.kind === 'CustomResourceDefinition')).toHaveLength(10);
    expect(read.manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('grafana-dashboard-')).length).toBeGreaterThan(
      20,
    );
  });

  it.each<[string, Record<string, string>, string]>([
    [
      'a file that is not a manifest',
      { 'd/a.yaml': cm('a'), 'd/b.yaml': 'apiVersion: v1\nkind: ConfigMap\n' },
      'b.yaml: document 1 (ConfigMap) has no metadata.name',
    ],
    ['invalid YAML', { 'd/x/bad.yml': 'a: [' }, 'x/bad.yml: is not valid YAML'],
    ['no manifest file', { 'd/README.md': 'hello' }, 'd holds no .yaml, .yml or .json file'],
  ])('names the file on %s', async (_name, files, message) => {
    const read = await readPlainManifests(await trees.write(files), 'd');
    expect(read.ok ? '' : read.message).toContain(message);
  });

  it('refuses to render an empty result rather than ship nothing', async () => {
    const result = await renderTarget({ kind: 'tree', root: await trees.write({ 'd/empty.yaml': '---\n' }), path: 'd' }, input, runner);
    expect(result).toEqual({ ok: false, message: 'the render produced no manifests', transient: false });
  });
});

describe('kustomize build with the real kustomize', () => {
  it("builds podinfo's published kustomization", async () => {
    const root = await trees.write({}, { podinfo: true });
    const result = ok(await renderTarget({ kind: 'tree', root, path: 'kustomize' }, input, runner));
    expect(result.renderer).toBe('kustomize');
    expect(names(result).sort()).toEqual(['Deployment/podinfo', 'HorizontalPodAutoscaler/podinfo', 'Service/podinfo']);
  });

  it('builds an overlay over a base elsewhere in the same repository', async () => {
    const root = await trees.write(
      {
        'overlays/eu/kustomization.yaml': 'resources: [../../kustomize]\nnamePrefix: eu-\nnamespace: eu\n',
      },
      { podinfo: true },
    );
    const result = ok(await renderTarget({ kind: 'tree', root, path: 'overlays/eu' }, input, runner));
    expect(result.manifests.map((m) => `${m.metadata.namespace}/${m.metadata.name}`).sort()).toEqual([
      'eu/eu-podinfo',
      'eu/eu-podinfo',
      'eu/eu-podinfo',
    ]);
  });

  it.each<[string, string, string]>([
    [
      'a remote base',
      'resources: [https://github.com/stefanprodan/podinfo//kustomize?ref=6.14.1]\n',
      'which is not in the repository (the hub does not fetch remote bases)',
    ],
    [
      'a base outside the repository',
      'resources: [../../../..]\n',
      'app/kustomization.yaml resources names "../../../..", which is outside the repository',
    ],
    ['a component outside the repository', 'components: [/etc]\n', 'which is outside the repository'],
  ])('refuses %s before running kustomize', async (_name, kustomization, message) => {
    const root = await trees.write({ 'app/kustomization.yaml': kustomization });
    const counted = createToolRunner(await testToolPaths());
    const result = await renderTarget({ kind: 'tree', root, path: 'app' }, input, counted);
    expect(result.ok ? '' : result.message).toContain(message);
    expect(counted.invocations('kustomize')).toBe(0);
  });

  it('refuses a base that reaches out in turn', async () => {
    const root = await trees.write({
      'app/kustomization.yaml': 'resources: [../base]\n',
      'base/kustomization.yaml': 'resources: [../../outside]\n',
    });
    expect(await kustomizationProblem(root, path.join(root, 'app'))).toBe(
      'base/kustomization.yaml resources names "../../outside", which is outside the repository',
    );
  });

  it("reports kustomize's own message when a file lies outside the kustomization's folder", async () => {
    const root = await trees.write({ 'app/kustomization.yaml': 'resources: [../shared/cm.yaml]\n', 'shared/cm.yaml': cm('x') });
    const result = await renderTarget({ kind: 'tree', root, path: 'app' }, input, runner);
    expect(result.ok ? '' : result.message).toMatch(/^kustomize: .*security; file '.*shared\/cm\.yaml' is not in or below '.*app'/);
  });
});

describe('helm template with the real helm, on the real podinfo chart', () => {
  let root: string;
  beforeAll(async () => {
    root = await trees.write({}, { podinfo: true });
  });
  const podinfo = (extra: Partial<RenderInput> = {}): Promise<RenderResult> =>
    renderTarget({ kind: 'tree', root, path: 'charts/podinfo' }, { ...input, ...extra }, runner);

  it('renders the release into its namespace and lists the test hooks it does not ship', async () => {
    const result = ok(await podinfo());
    expect(result.renderer).toBe('helm');
    expect(names(result)).toEqual(['Service/web-podinfo', 'Deployment/web-podinfo']);
    expect(result.manifests.every((m) => m.metadata.namespace === 'apps')).toBe(true);
    expect(result.skippedHooks.map((hook) => hook.manifest.replace(/-test-[a-z0-9]{5}$/, ''))).toEqual([
      'Pod apps/web-podinfo-grpc',
      'Pod apps/web-podinfo-jwt',
      'Pod apps/web-podinfo-service',
    ]);
    expect(result.skippedHooks[0]).toEqual({
      manifest: expect.stringMatching(/^Pod apps\/web-podinfo-grpc-test-/),
      events: ['test-success'],
      shipped: false,
      reason: 'Helm test hooks are shipped only when tests are included',
    });
  });

  it('ships the test hooks when tests are included, named after their content', async () => {
    const result = ok(await podinfo({ includeTests: true }));
    const tests = result.manifests.filter((m) => m.kind === 'Pod');
    expect(tests).toHaveLength(3);
    for (const pod of tests) expect(pod.metadata.name).toMatch(/^web-podinfo-[a-z0-9-]+-[0-9a-f]{8}$/);
    expect(result.skippedHooks).toEqual([]);
  });

  it('ships install and upgrade hooks, and lists delete and rollback hooks as not run', async () => {
    const every = ['preInstall', 'postInstall', 'preUpgrade', 'postUpgrade', 'preDelete', 'postDelete', 'preRollback', 'postRollback'];
    const values = {
      hooks: Object.fromEntries(every.map((hook) => [hook, { job: { enabled: true, hookDeletePolicy: 'hook-succeeded' } }])),
    };
    const result = ok(await podinfo({ values }));
    const jobs = result.manifests.filter((m) => m.kind === 'Job').map((m) => m.metadata.name.replace(/-[0-9a-f]{8}$/, '-HASH'));
    expect(jobs.sort()).toEqual([
      'web-podinfo-post-install-HASH',
      'web-podinfo-post-upgrade-HASH',
      'web-podinfo-pre-install-HASH',
      'web-podinfo-pre-upgrade-HASH',
    ]);
    const notRun = result.skippedHooks.filter((hook) => hook.manifest.startsWith('Job'));
    expect(notRun.map((hook) => [hook.manifest, hook.events, hook.shipped, hook.reason]).sort()).toEqual([
      [
        'Job apps/web-podinfo-post-delete',
        ['post-delete'],
        false,
        'flotilla has no uninstall step: deleting the service prunes what it shipped',
      ],
      ['Job apps/web-podinfo-post-rollback', ['post-rollback'], false, 'flotilla has no rollback step: a revert is a new rollout'],
      [
        'Job apps/web-podinfo-pre-delete',
        ['pre-delete'],
        false,
        'flotilla has no uninstall step: deleting the service prunes what it shipped',
      ],
      ['Job apps/web-podinfo-pre-rollback', ['pre-rollback'], false, 'flotilla has no rollback step: a revert is a new rollout'],
    ]);
  });

  it("reports the chart's kubeVersion constraint against the cluster's version", async () => {
    const result = await podinfo({ capabilities: { kubeVersion: 'v1.22.0', apiVersions: [] } });
    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining('chart requires kubeVersion: >=1.23.0-0 which is incompatible with Kubernetes v1.22.0'),
      transient: false,
    });
  });

  it('renders the packaged chart archive the same as its folder', async () => {
    const packaged = await trees.write({});
    await promisify(execFile)((await testToolPaths()).helm, ['package', path.join(root, 'charts/podinfo'), '--destination', packaged], {
      env: { HOME: packaged, PATH: '' },
    });
    const fromArchive = ok(await renderTarget({ kind: 'chart', archive: path.join(packaged, 'podinfo-6.14.1.tgz') }, input, runner));
    expect(names(fromArchive)).toEqual(names(ok(await podinfo())));
  });
});

describe('helm template with the real helm, on a chart probing its inputs', () => {
  const probe = {
    'Chart.yaml': 'apiVersion: v2\nname: probe\nversion: 0.1.0\n',
    'crds/widgets.yaml': [
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata: {name: clusterwidgets.example.com}',
      'spec:',
      '  group: example.com',
      '  scope: Cluster',
      '  names: {kind: ClusterWidget, plural: clusterwidgets}',
      '  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]',
      '',
    ].join('\n'),
    'templates/all.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: {{ .Release.Name }}-facts}',
      'data:',
      '  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}',
      '  greeting: {{ .Values.greeting | quote }}',
      '  namespace: {{ .Release.Namespace }}',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: ClusterRole',
      'metadata: {name: {{ .Release.Name }}-reader}',
      'rules: []',
      '---',
      'apiVersion: example.com/v1',
      'kind: ClusterWidget',
      'metadata: {name: global}',
      '{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}',
      '---',
      'apiVersion: monitoring.coreos.com/v1',
      'kind: ServiceMonitor',
      'metadata: {name: {{ .Release.Name }}}',
      'spec: {selector: {}, endpoints: []}',
      '{{- end }}',
      '',
    ].join('\n'),
  };
  let root: string;
  beforeAll(async () => {
    root = await trees.write(Object.fromEntries(Object.entries(probe).map(([file, text]) => [`probe/${file}`, text])));
  });
  const render = (extra: Partial<RenderInput>): Promise<RenderResult> =>
    renderTarget({ kind: 'tree', root, path: 'probe' }, { ...input, ...extra }, runner);

  it('hands helm the values, the release namespace and the kube version', async () => {
    const result = ok(await render({ values: { greeting: 'hello ${cluster.name} stays' } }));
    const facts = result.manifests.find((m) => m.kind === 'ConfigMap');
    expect(facts?.data).toEqual({ kubeVersion: 'v1.31.2', greeting: 'hello ${cluster.name} stays', namespace: 'apps' });
  });

  it('renders the ServiceMonitor exactly when the cluster serves monitoring.coreos.com/v1', async () => {
    const without = ok(await render({}));
    const withMonitoring = ok(await render({ capabilities: { kubeVersion: 'v1.31.2', apiVersions: ['v1', 'monitoring.coreos.com/v1'] } }));
    expect(names(without)).not.toContain('ServiceMonitor/web');
    expect(names(withMonitoring)).toContain('ServiceMonitor/web');
  });

  it('includes crds/ by default and leaves it out when asked; cluster-scoped objects get no namespace', async () => {
    const result = ok(await render({}));
    const namespaces = Object.fromEntries(result.manifests.map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.namespace]));
    expect(namespaces).toEqual({
      'CustomResourceDefinition/clusterwidgets.example.com': undefined,
      'ConfigMap/web-facts': 'apps',
      'ClusterRole/web-reader': undefined,
      'ClusterWidget/global': undefined,
    });
    expect(names(ok(await render({ includeCRDs: false })))).not.toContain('CustomResourceDefinition/clusterwidgets.example.com');
  });

  it("reports helm's message with the template file and line, in one line", async () => {
    const broken = await trees.write({ 'c/Chart.yaml': probe['Chart.yaml'], 'c/templates/bad.yaml': 'a: {{ .Values.missing.deeper }}\n' });
    const result = await renderTarget({ kind: 'tree', root: broken, path: 'c' }, input, runner);
    expect(result).toEqual({
      ok: false,
      message:
        'helm: probe/templates/bad.yaml:1:13 executing "probe/templates/bad.yaml" at <.Values.missing.deeper>: nil pointer evaluating interface {}.deeper',
      transient: false,
    });
  });

  it('lets no chart make helm reach the network (a values.schema.json $ref to a URL)', async () => {
    const chart = await trees.write({
      'c/Chart.yaml': probe['Chart.yaml'],
      'c/values.schema.json': JSON.stringify({ $ref: 'https://203.0.113.7/schema.json' }),
      'c/templates/a.yaml': cm('a'),
    });
    const result = await renderTarget({ kind: 'tree', root: chart, path: 'c' }, input, runner);
    expect(result.ok ? '' : result.message).toContain('proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused');
  });

  it('scrubs values that came from Secrets out of the error', async () => {
    const failing = await trees.write({
      'c/Chart.yaml': probe['Chart.yaml'],
      'c/templates/fail.yaml': '{{ fail (printf "bad token %s" .Values.token) }}\n',
    });
    const result = await renderTarget(
      { kind: 'tree', root: failing, path: 'c' },
      { ...input, values: { token: 's3cr3t-t0ken' }, sensitive: ['s3cr3t-t0ken'] },
      runner,
    );
    expect(result.ok ? '' : result.message).toContain('bad token ***');
    expect(JSON.stringify(result)).not.toContain('s3cr3t-t0ken');
  });
});

describe('helm arguments', () => {
  it('passes every input as a flag value and the release and chart after --, so nothing is read as a flag', () => {
    const args = helmTemplateArgs(
      '/charts/x',
      { ...input, releaseName: '--post-renderer=evil', capabilities: { kubeVersion: '1.30', apiVersions: ['b/v1', 'a/v1', 'b/v1'] } },
      '/tmp/v.json',
    );
    expect(args).toEqual([
      'template',
      '--namespace=apps',
      '--values=/tmp/v.json',
      '--kube-version=1.30',
      '--api-versions=a/v1',
      '--api-versions=b/v1',
      '--include-crds',
      '--',
      '--post-renderer=evil',
      '/charts/x',
    ]);
  });

  it.each<[string, string[], string | undefined]>([
    ['v1.31.2', ['v1', 'apps/v1', 'monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor'], undefined],
    ['1.30', [], undefined],
    ['v1.30.4-eks-a737599', [], undefined],
    ['latest', [], 'kubeVersion "latest" is not a Kubernetes version'],
    ['v1.31.0', ['a/v1,b/v1'], 'apiVersions entry "a/v1,b/v1" is not a group/version'],
  ])('checks capabilities %s %j', (kubeVersion, apiVersions, problem) => {
    expect(capabilitiesProblem({ kubeVersion, apiVersions })).toBe(problem);
  });
});

describe('withReleaseNamespace', () => {
  it('gives the namespace to namespaced objects only, knowing built-in kinds and the CRDs rendered beside them', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'other' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } },
      { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'd' } },
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'globals.example.com' },
        spec: { group: 'example.com', scope: 'Cluster', names: { kind: 'Global' } },
      },
      { apiVersion: 'example.com/v1', kind: 'Global', metadata: { name: 'e' } },
    ] as Manifest[];
    expect(withReleaseNamespace(objects, 'apps').map((m) => m.metadata.namespace)).toEqual([
      'apps',
      'other',
      undefined,
      'apps',
      undefined,
      undefined,
    ]);
  });
});
