import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseIndex, registryConfig, repoURLProblem, resolveChartVersion, type IndexEntry } from './helm-repo.js';
import { httpGet, type GetOptions } from './http-get.js';
import type { OriginPolicy } from './types.js';

const production: OriginPolicy = { allowLocal: false, allowInsecure: false };

describe('repoURLProblem', () => {
  it.each<[string, OriginPolicy, string | undefined]>([
    ['https://charts.example/stable', production, undefined],
    ['oci://registry.example/charts', production, undefined],
    ['http://127.0.0.1:8080/charts', { allowLocal: false, allowInsecure: true }, undefined],
    ['http://charts.example', production, 'repoURL uses http://, which nothing secures'],
    ['https://robot:secret@charts.example', production, 'repoURL holds credentials: put them in the secretRef Secret'],
    ['file:///srv/charts', { allowLocal: true, allowInsecure: true }, 'repoURL "file:///srv/charts" is neither https:// nor oci://'],
    ['charts.example', production, 'repoURL "charts.example" is not a URL'],
  ])('%s → %s', (url, policy, problem) => {
    const found = repoURLProblem(url, policy);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});

describe('parseIndex and resolveChartVersion', () => {
  const index = [
    'apiVersion: v1',
    'entries:',
    '  web:',
    '  - {version: 2.0.0-rc.1, urls: [web-2.0.0-rc.1.tgz]}',
    '  - {version: 1.10.0, urls: [web-1.10.0.tgz], digest: ABC}',
    '  - {version: 1.9.3, urls: [https://cdn.example/web-1.9.3.tgz]}',
    '  - {version: v1.2.0, urls: [web-v1.2.0.tgz]}',
    '  - {version: nightly, urls: [web-nightly.tgz]}',
    'generated: 2024-01-01T00:00:00Z',
  ].join('\n');
  const parsed = parseIndex(index, 'web');
  const entries: IndexEntry[] = parsed.ok ? parsed.entries : [];

  it('reads entries, digests lower-cased', () => {
    expect(entries.map((entry) => entry.version)).toEqual(['2.0.0-rc.1', '1.10.0', '1.9.3', 'v1.2.0', 'nightly']);
    expect(entries[1]?.digest).toBe('abc');
  });

  it.each<[string | undefined, string]>([
    [undefined, '1.10.0'],
    ['*', '1.10.0'],
    ['~1.9', '1.9.3'],
    ['1.9.3', '1.9.3'],
    ['1.2.0', 'v1.2.0'],
    ['>=2.0.0-0', '2.0.0-rc.1'],
    ['<1.5', 'v1.2.0'],
  ])('version %s → %s', (version, resolved) => {
    const result = resolveChartVersion(entries, 'web', version);
    expect(result.ok && result.entry.version).toBe(resolved);
  });

  it.each<[string, string]>([
    ['3.0.0', 'chart web has no version 3.0.0'],
    ['^3', 'no version of chart web matches "^3"'],
    ['latest please', 'version "latest please" is neither a version nor a semver range'],
  ])('version %s fails: %s', (version, message) => {
    expect(resolveChartVersion(entries, 'web', version)).toEqual({ ok: false, message });
  });

  it.each<[string, string, string]>([
    ['a chart it lacks', index, 'the repository has no chart "api"'],
    ['invalid YAML', 'entries: [', 'index.yaml is not valid YAML'],
  ])('says so for %s', (_name, text, message) => {
    const result = parseIndex(text, 'api');
    expect(result.ok ? '' : result.message).toContain(message);
  });
});

describe('registryConfig', () => {
  it('writes basic auth for the registry host the way docker and helm read it', () => {
    expect(JSON.parse(registryConfig('registry.example:5000', { username: 'robot', password: 'pw' }))).toEqual({
      auths: { 'registry.example:5000': { auth: Buffer.from('robot:pw').toString('base64') } },
    });
  });
});

describe('httpGet', () => {
  interface Seen {
    path: string;
    authorization: string | undefined;
  }
  const seen: Seen[] = [];
  const servers: Server[] = [];
  const origins: string[] = [];
  const record = (headers: IncomingHttpHeaders, path: string) => seen.push({ path, authorization: headers.authorization });

  beforeAll(async () => {
    for (let index = 0; index < 2; index += 1) {
      const server = createServer((request, response) => {
        record(request.headers, `${index}${request.url ?? ''}`);
        if (request.url === '/redirect-away') response.writeHead(302, { location: `${origins[1] ?? ''}/chart.tgz` }).end();
        else if (request.url === '/redirect-home') response.writeHead(301, { location: '/chart.tgz' }).end();
        else if (request.url === '/big') response.end('x'.repeat(2000));
        else response.end('chart bytes');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  const options = (): GetOptions => ({
    credentialsOrigin: origins[0] ?? '',
    credentials: { username: 'robot', password: 'pw' },
    allowInsecure: true,
    maxBytes: 1000,
    timeoutMs: 5000,
  });
  const basic = `Basic ${Buffer.from('robot:pw').toString('base64')}`;

  it("sends the credentials to the repository's own origin, through a redirect within it", async () => {
    seen.length = 0;
    const result = await httpGet(`${origins[0] ?? ''}/redirect-home`, options());
    expect(result.ok && result.body.toString()).toBe('chart bytes');
    expect(seen).toEqual([
      { path: '0/redirect-home', authorization: basic },
      { path: '0/chart.tgz', authorization: basic },
    ]);
  });

  it('sends no credentials to another host, even when the repository redirects there', async () => {
    seen.length = 0;
    const result = await httpGet(`${origins[0] ?? ''}/redirect-away`, options());
    expect(result.ok).toBe(true);
    expect(seen).toEqual([
      { path: '0/redirect-away', authorization: basic },
      { path: '1/chart.tgz', authorization: undefined },
    ]);
  });

  it('stops at the size limit and refuses plain http unless allowed', async () => {
    expect(await httpGet(`${origins[0] ?? ''}/big`, options())).toEqual({
      ok: false,
      message: `GET ${origins[0] ?? ''}/big: the response exceeds 1000 bytes`,
    });
    const refused = await httpGet(`${origins[0] ?? ''}/chart.tgz`, { ...options(), allowInsecure: false });
    expect(refused.ok ? '' : refused.message).toContain('plain http is refused');
  });
});
