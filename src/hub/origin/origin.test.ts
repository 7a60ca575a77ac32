import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { startGitServer, type GitRepository, type GitServer } from '../../../e2e/framework/git-server.js';
import { startHelmRepository, type HelmRepository, type PackagedChart } from '../../../e2e/framework/helm-repository.js';
import { startOCIRegistry, type OCIRegistry, type PushedChart } from '../../../e2e/framework/oci-registry.js';
import { createOriginEngine, renderKey, type Artifact, type FetchResult, type OriginEngine } from './origin.js';
import type { RenderInput } from './render.js';
import { testRepositories, type TestRepositories } from './testdata/repos.js';
import { testToolPaths } from './testdata/tools.js';
import { PODINFO } from './testdata/trees.js';
import type { OriginCredentials, OriginPolicy } from './types.js';

// The engine as the GlobalService controller will use it, against the loopback Git server, chart
// repository and OCI registry (HTTPS with a test CA and basic auth, e2e/framework/), with the real
// git, helm and kustomize.

const production: OriginPolicy = { allowLocal: false, allowInsecure: false };
const cluster = (kubeVersion: string, ...apiVersions: string[]): RenderInput['capabilities'] => ({
  kubeVersion,
  apiVersions: ['v1', 'apps/v1', ...apiVersions],
});
const input: RenderInput = { releaseName: 'web', namespace: 'apps', capabilities: cluster('v1.31.0') };

let folders: TestRepositories;
const engines: OriginEngine[] = [];
async function newEngine(policy: OriginPolicy = production): Promise<OriginEngine> {
  const engine = await createOriginEngine({
    cacheDir: await folders.folder(`engine-${engines.length}`),
    tools: await testToolPaths(),
    policy,
  });
  engines.push(engine);
  return engine;
}
const fetched = (result: FetchResult): Extract<FetchResult, { ok: true }> => {
  if (!result.ok) throw new Error(result.message);
  return result;
};

beforeAll(async () => {
  folders = await testRepositories();
});
afterAll(async () => {
  await folders.remove();
});

describe('a Git origin over HTTPS with basic auth', () => {
  let server: GitServer;
  let repo: GitRepository;
  let credentials: OriginCredentials;
  beforeAll(async () => {
    server = await startGitServer();
    repo = await server.createRepository('app', {
      fromDir: PODINFO,
      files: { 'plain/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' },
    });
    credentials = { ...server.credentials, caCert: server.tls.caPEM };
  });
  afterAll(async () => {
    await server.close();
  });

  it('fetches the branch, reports the revision in Flux form, and renders what is at the path', async () => {
    const engine = await newEngine();
    const head = (await repo.git(['rev-parse', 'HEAD'])).trim();
    const result = fetched(
      await engine.fetchOrigin({ kind: 'git', url: repo.url, path: 'kustomize' }, credentials, { holder: 'fleet-a/web' }),
    );
    expect(result.revision).toBe(`main@sha1:${head}`);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const rendered = await engine.renderArtifact(result.artifact, input);
    expect(rendered.ok && rendered.manifests.map((m) => m.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Service']);
  });

  it('rolls forward on a new commit and back on a revert: same content, same digest, no second render', async () => {
    const engine = await newEngine();
    const origin = { kind: 'git', url: repo.url, path: 'kustomize' } as const;
    const before = fetched(await engine.fetchOrigin(origin, credentials));
    await engine.renderArtifact(before.artifact, input);
    await repo.commit('scale up', { files: { 'kustomize/hpa.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hpa-gone}\n' } });
    const changed = fetched(await engine.fetchOrigin(origin, credentials));
    expect(changed.digest).not.toBe(before.digest);
    await repo.git(['revert', '--no-edit', 'HEAD']);
    const reverted = fetched(await engine.fetchOrigin(origin, credentials));
    await repo.push();
    const afterPush = fetched(await engine.fetchOrigin(origin, credentials));
    expect(reverted.revision).toBe(changed.revision);
    expect(afterPush.revision).not.toBe(before.revision);
    expect(afterPush.digest).toBe(before.digest);
    const runs = engine.invocations('kustomize');
    const again = await engine.renderArtifact(afterPush.artifact, input);
    expect(again.ok).toBe(true);
    expect(engine.invocations('kustomize')).toBe(runs);
  });

  it('reports a wrong password without the password, the username:password pair or its base64', async () => {
    const engine = await newEngine();
    const wrong = { username: server.credentials.username, password: 'Wr0ng-Passw0rd-123', caCert: server.tls.caPEM };
    const result = await engine.fetchOrigin({ kind: 'git', url: repo.url }, wrong);
    expect(result.ok).toBe(false);
    const text = JSON.stringify(result);
    expect(text).toContain('SourceUnavailable');
    expect(text).toContain('the server refused the credentials of the secretRef Secret (HTTP 401)');
    for (const secret of [wrong.password, Buffer.from(`${wrong.username}:${wrong.password}`).toString('base64')])
      expect(text).not.toContain(secret);
  });

  it('refuses a server its CA does not vouch for', async () => {
    const engine = await newEngine();
    const result = await engine.fetchOrigin({ kind: 'git', url: repo.url }, server.credentials);
    expect(result.ok ? '' : result.message).toMatch(/SSL certificate problem|server certificate verification failed/);
  });

  it('reports the repository going away, and fetches again once it is back', async () => {
    const engine = await newEngine();
    server.setAvailable(false);
    try {
      const down = await engine.fetchOrigin({ kind: 'git', url: repo.url }, credentials);
      expect(down).toEqual({ ok: false, reason: 'SourceUnavailable', message: expect.stringContaining('503') });
    } finally {
      server.setAvailable(true);
    }
    expect((await engine.fetchOrigin({ kind: 'git', url: repo.url }, credentials)).ok).toBe(true);
  });

  it('says which path is missing in the revision', async () => {
    const engine = await newEngine();
    const result = fetched(await engine.fetchOrigin({ kind: 'git', url: repo.url, path: 'nope' }, credentials));
    expect(await engine.renderArtifact(result.artifact, input)).toEqual({
      ok: false,
      reason: 'RenderFailed',
      message: 'path "nope" does not exist in this revision',
      transient: false,
    });
  });
});

describe('a chart from an HTTPS chart repository with basic auth', () => {
  let repository: HelmRepository;
  let packaged: PackagedChart;
  let credentials: OriginCredentials;
  beforeAll(async () => {
    repository = await startHelmRepository({ basicAuth: true });
    packaged = await repository.addChart(`${PODINFO}/charts/podinfo`);
    credentials = { ...(repository.credentials ?? { username: '', password: '' }), caCert: repository.tls.caPEM };
  });
  afterAll(async () => {
    await repository.close();
  });

  it('resolves a range to the version, checks the index digest, and polls with one index GET', async () => {
    const engine = await newEngine();
    const origin = { kind: 'helm', repoURL: repository.url, chart: 'podinfo', version: '^6.0.0' } as const;
    const first = fetched(await engine.fetchOrigin(origin, credentials));
    expect([first.revision, first.digest]).toEqual(['podinfo@6.14.1', `sha256:${packaged.digest}`]);
    const requests = repository.requests.length;
    const again = fetched(await engine.fetchOrigin(origin, credentials));
    expect(again.artifact).toEqual(first.artifact);
    expect(repository.requests.slice(requests).map((request) => request.path)).toEqual(['/charts/index.yaml']);
    const rendered = await engine.renderArtifact(first.artifact, input);
    expect(rendered.ok && rendered.manifests.map((m) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      'Service/apps/web-podinfo',
      'Deployment/apps/web-podinfo',
    ]);
  });

  it('refuses an archive whose bytes differ from the digest the index lists', async () => {
    const other = await startHelmRepository();
    try {
      const chart = await other.addChart(`${PODINFO}/charts/podinfo`);
      await writeFile(chart.file, 'not the chart that was indexed');
      const result = await (
        await newEngine()
      ).fetchOrigin({ kind: 'helm', repoURL: other.url, chart: 'podinfo' }, { caCert: other.tls.caPEM });
      expect(result.ok ? '' : result.message).toContain(`but index.yaml says ${chart.digest}`);
    } finally {
      await other.close();
    }
  });

  it.each<[string, string | undefined, string]>([
    ['a version it lacks', '9.9.9', 'chart podinfo has no version 9.9.9'],
    ['a range nothing matches', '>=7', 'no version of chart podinfo matches ">=7"'],
    ['a wrong password', undefined, '/charts/index.yaml: HTTP 401'],
  ])('reports %s', async (_name, version, message) => {
    const given = version === undefined ? { ...credentials, password: 'nope-nope-nope' } : credentials;
    const result = await (
      await newEngine()
    ).fetchOrigin({ kind: 'helm', repoURL: repository.url, chart: 'podinfo', ...(version ? { version } : {}) }, given);
    expect(result.ok ? '' : result.message).toContain(message);
    expect(JSON.stringify(result)).not.toContain('nope-nope-nope');
  });

  it('refuses plain http unless the hub allows insecure sources', async () => {
    const result = await (await newEngine()).fetchOrigin({ kind: 'helm', repoURL: 'http://charts.example/repo', chart: 'x' });
    expect(result.ok ? '' : result.message).toContain('--allow-insecure-sources');
  });
});

describe('a chart from an OCI registry with basic auth', () => {
  let registry: OCIRegistry;
  let pushed: PushedChart;
  let credentials: OriginCredentials;
  beforeAll(async () => {
    registry = await startOCIRegistry();
    pushed = await registry.push(`${PODINFO}/charts/podinfo`);
    credentials = { ...registry.credentials, caCert: registry.tls.caPEM };
  });
  afterAll(async () => {
    await registry.close();
  });

  it.each<[string, string | undefined]>([
    ['an exact version', '6.14.1'],
    ['a range', '~6.14'],
    ['no version (the newest)', undefined],
  ])('pulls %s with the real helm and reports the manifest digest', async (_name, version) => {
    const engine = await newEngine();
    const result = fetched(
      await engine.fetchOrigin({ kind: 'helm', repoURL: registry.url, chart: 'podinfo', ...(version ? { version } : {}) }, credentials),
    );
    expect(result.revision).toBe('podinfo@6.14.1');
    expect(result.artifact.ociDigest).toBe(pushed.digest);
    const rendered = await engine.renderArtifact(result.artifact, input);
    expect(rendered.ok && rendered.manifests.length).toBe(2);
  });

  it('reports a wrong password without it', async () => {
    const result = await (
      await newEngine()
    ).fetchOrigin({ kind: 'helm', repoURL: registry.url, chart: 'podinfo' }, { ...credentials, password: 'Wr0ng-0ci-Pass' });
    expect(result.ok ? '' : result.message).toContain('401');
    expect(JSON.stringify(result)).not.toContain('Wr0ng-0ci-Pass');
    expect(JSON.stringify(result)).not.toContain(Buffer.from(`${credentials.username ?? ''}:Wr0ng-0ci-Pass`).toString('base64'));
  });
});

describe('rendering once per distinct input', () => {
  let artifact: Artifact;
  let engine: OriginEngine;
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
    const repo = await server.createRepository('fleet', { fromDir: PODINFO });
    engine = await newEngine();
    const origin = { kind: 'git', url: repo.url, path: 'charts/podinfo' } as const;
    artifact = fetched(await engine.fetchOrigin(origin, { ...server.credentials, caCert: server.tls.caPEM })).artifact;
  });
  afterAll(async () => {
    await server.close();
  });

  it('runs helm 3 times for 1000 clusters with 3 distinct values and capabilities', async () => {
    const inputs = Array.from({ length: 1000 }, (_, index): RenderInput => {
      const kind = index % 3;
      return {
        ...input,
        values: { replicaCount: kind === 2 ? 3 : 1 },
        capabilities: kind === 1 ? cluster('v1.31.0', 'monitoring.coreos.com/v1') : cluster('v1.31.0'),
      };
    });
    const before = engine.invocations('helm');
    const results = await Promise.all(inputs.map((each) => engine.renderArtifact(artifact, each)));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(engine.invocations('helm') - before).toBe(3);
    const replicas = (index: number) => results[index]?.ok && results[index].manifests.find((m) => m.kind === 'Deployment')?.spec;
    expect([replicas(0), replicas(2)]).toEqual([expect.objectContaining({ replicas: 1 }), expect.objectContaining({ replicas: 3 })]);
  });

  it('keys a render by what helm reads, in any order of API versions, and ignores secrets to scrub', () => {
    const a = renderKey(artifact, 'helm', { ...input, capabilities: cluster('v1.31.0', 'b/v1', 'a/v1') });
    expect(renderKey(artifact, 'helm', { ...input, capabilities: cluster('v1.31.0', 'a/v1', 'b/v1', 'a/v1'), sensitive: ['x'] })).toBe(a);
    expect(renderKey(artifact, 'helm', { ...input, capabilities: cluster('v1.32.0', 'a/v1', 'b/v1') })).not.toBe(a);
    expect(renderKey(artifact, 'helm', { ...input, capabilities: cluster('v1.31.0', 'b/v1', 'a/v1'), includeTests: true })).not.toBe(a);
    expect(renderKey(artifact, 'kustomize', input)).toBe(
      renderKey(artifact, 'kustomize', { ...input, values: { x: 1 }, capabilities: cluster('v1.20.0') }),
    );
  });
});
