// The loopback chart repositories, driven by the pinned helm as a user (and the hub) would drive
// them: `helm pull` and `helm template` from the HTTPS chart repository with its credentials and CA,
// refused without them; `helm push` to the OCI registry and `helm pull` back, the same bytes, a
// version range resolving to the newest pushed version, and no pull without credentials.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { type HelmRepository, startHelmRepository } from './helm-repository.js';
import { type OCIRegistry, startOCIRegistry } from './oci-registry.js';
import { helm, temporaryDirectory } from './tools.js';

let scratch: { path: string; remove: () => Promise<void> };
let chartDir: string;

beforeAll(async () => {
  scratch = await temporaryDirectory('charts-e2e');
  chartDir = join(scratch.path, 'hello');
  await helmOk(['create', chartDir]);
});

afterAll(async () => {
  await scratch.remove();
});

async function helmOk(args: string[]): Promise<string> {
  const result = await helm(scratch.path, args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout + result.stderr;
}

async function setChartVersion(version: string): Promise<void> {
  const file = join(chartDir, 'Chart.yaml');
  const chart = yaml.load(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, yaml.dump({ ...chart, version }));
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('the loopback Helm chart repository', () => {
  let repository: HelmRepository;
  beforeAll(async () => {
    repository = await startHelmRepository({ basicAuth: true });
  });
  afterAll(async () => {
    await repository.close();
  });

  it('serves a packaged chart that helm pulls with the credentials and CA, byte for byte', async () => {
    const packaged = await repository.addChart(chartDir);
    expect(packaged).toMatchObject({ name: 'hello', version: '0.1.0' });

    const destination = join(scratch.path, 'from-repo');
    await mkdir(destination);
    const { username, password } = repository.credentials ?? { username: '', password: '' };
    const auth = ['--repo', repository.url, '--ca-file', repository.tls.caFile, '--username', username, '--password', password];
    await helmOk(['pull', 'hello', '--version', '0.1.0', ...auth, '--destination', destination]);
    expect(await sha256(join(destination, 'hello-0.1.0.tgz'))).toBe(packaged.digest);

    const rendered = await helmOk(['template', 'web', 'hello', ...auth]);
    expect(rendered).toContain('kind: Deployment');
    expect(rendered).toContain('name: web-hello');
  });

  it('refuses helm without the credentials', async () => {
    const refused = await helm(scratch.path, ['pull', 'hello', '--repo', repository.url, '--ca-file', repository.tls.caFile]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401 Unauthorized');
  });
});

describe('the loopback OCI registry', () => {
  let registry: OCIRegistry;
  beforeAll(async () => {
    registry = await startOCIRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });
  const auth = () => [
    '--ca-file',
    registry.tls.caFile,
    '--username',
    registry.credentials.username,
    '--password',
    registry.credentials.password,
  ];

  it('takes helm push and gives the same chart back to helm pull', async () => {
    await setChartVersion('1.0.0');
    const pushed = await registry.push(chartDir);
    expect(pushed).toEqual({ ref: `${registry.url}/hello`, version: '1.0.0', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    const destination = join(scratch.path, 'from-oci');
    await mkdir(destination);
    const pulled = await helmOk(['pull', pushed.ref, '--version', '1.0.0', ...auth(), '--destination', destination]);
    expect(pulled).toContain(`Digest: ${pushed.digest}`);
    const packaged = join(scratch.path, 'packaged');
    await helmOk(['package', chartDir, '--destination', packaged]);
    expect(await sha256(join(destination, 'hello-1.0.0.tgz'))).toBe(await sha256(join(packaged, 'hello-1.0.0.tgz')));
  });

  it('resolves a version range to the newest pushed version', async () => {
    await setChartVersion('1.1.0');
    await registry.push(chartDir);
    await setChartVersion('2.0.0');
    await registry.push(chartDir);
    const rendered = await helmOk(['template', 'web', `${registry.url}/hello`, '--version', '^1.0.0', ...auth()]);
    expect(rendered).toContain('helm.sh/chart: hello-1.1.0');
  });

  it('refuses a pull without the credentials', async () => {
    const refused = await helm(scratch.path, ['pull', `${registry.url}/hello`, '--version', '1.0.0', '--ca-file', registry.tls.caFile]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/basic credential not found|401|unauthorized/i);
    expect(registry.requests.some((request) => request.status === 401 && request.user === undefined)).toBe(true);
  });
});
