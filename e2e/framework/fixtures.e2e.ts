// The real charts under test/fixtures/ render offline with the pinned helm and show what their
// ORIGIN.md files promise the source tests: CRDs, hooks, a ServiceMonitor gated on the cluster's
// served API versions, Helm's crds/ folder; the manifests folder is the published one.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { fixtures } from './fixtures.js';
import { helm, temporaryDirectory } from './tools.js';

let home: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  home = await temporaryDirectory('fixtures-e2e');
});
afterAll(async () => {
  await home.remove();
});

interface Rendered {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
}

async function template(chart: string, ...flags: string[]): Promise<Rendered[]> {
  const result = await helm(home.path, ['template', 'fixture', chart, '--namespace', 'fixture', ...flags]);
  if (result.code !== 0) throw new Error(`helm template ${chart} failed: ${result.stderr}`);
  return yaml.loadAll(result.stdout).filter((doc): doc is Rendered => doc !== null && typeof doc === 'object');
}

const kinds = (docs: Rendered[]) => docs.map((doc) => doc.kind);
const hooks = (docs: Rendered[]) => docs.flatMap((doc) => doc.metadata.annotations?.['helm.sh/hook'] ?? []);

describe('the chart fixtures', () => {
  it('cert-manager renders its CRDs when asked and has post-install hooks', async () => {
    expect(kinds(await template(fixtures.certManagerChart))).not.toContain('CustomResourceDefinition');
    const docs = await template(fixtures.certManagerChart, '--set', 'crds.enabled=true');
    expect(kinds(docs).filter((kind) => kind === 'CustomResourceDefinition')).toHaveLength(6);
    expect(hooks(docs)).toContain('post-install');
    expect(docs.find((doc) => doc.kind === 'Job')?.metadata.annotations?.['helm.sh/hook']).toBe('post-install');
  });

  it('ingress-nginx has hook Jobs before and after install', async () => {
    const docs = await template(fixtures.ingressNginxChart);
    expect(hooks(docs)).toEqual(expect.arrayContaining(['pre-install,pre-upgrade', 'post-install,post-upgrade']));
    expect(kinds(docs.filter((doc) => doc.metadata.annotations?.['helm.sh/hook'] !== undefined))).toContain('Job');
  });

  it('prometheus-redis-exporter renders a ServiceMonitor only for a cluster serving monitoring.coreos.com/v1', async () => {
    const enabled = ['--set', 'serviceMonitor.enabled=true'];
    expect(kinds(await template(fixtures.redisExporterChart, ...enabled))).not.toContain('ServiceMonitor');
    const withCRD = await template(fixtures.redisExporterChart, ...enabled, '--api-versions', 'monitoring.coreos.com/v1');
    expect(kinds(withCRD)).toContain('ServiceMonitor');
  });

  it("sealed-secrets keeps its CRD in Helm's crds/ folder, rendered only with --include-crds", async () => {
    expect(kinds(await template(fixtures.sealedSecretsChart))).not.toContain('CustomResourceDefinition');
    const docs = await template(fixtures.sealedSecretsChart, '--include-crds');
    expect(docs.find((doc) => doc.kind === 'CustomResourceDefinition')?.metadata.name).toBe('sealedsecrets.bitnami.com');
  });
});

describe('the manifest fixtures', () => {
  it('kube-prometheus has its 95 published files, list kinds and CRDs under setup/', async () => {
    const manifests = join(fixtures.kubePrometheus, 'manifests');
    const files = (await readdir(manifests, { recursive: true })).filter((file) => file.endsWith('.yaml'));
    expect(files).toHaveLength(95);
    expect(files.filter((file) => file.startsWith('setup/') && file.endsWith('CustomResourceDefinition.yaml'))).toHaveLength(10);
    const kindOf = async (file: string) => (yaml.load(await readFile(join(manifests, file), 'utf8')) as { kind: string }).kind;
    expect(await kindOf('prometheus-roleSpecificNamespaces.yaml')).toBe('RoleList');
    expect(await kindOf('prometheus-roleBindingSpecificNamespaces.yaml')).toBe('RoleBindingList');
  });
});
