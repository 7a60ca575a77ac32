// Real manifests as they are published: four files of kube-prometheus's manifests/ folder
// (testdata/kube-prometheus/ORIGIN.md), read through a ConfigMap source and rendered for a cluster
// the way the hub does. They once failed twice: the RoleList was "manifest 0 has no
// metadata.name", and the dashboards' `${cluster}` was "unknown variable".
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../../api/index.js';
import { renderManifests, type RenderCluster } from './render.js';
import { parseManifestDocuments } from '../../../kube-semantics/manifest-documents.js';
import { sourceManifests } from './source.js';

const files = [
  'grafana-dashboardDefinitions.yaml',
  'namespace.yaml',
  'prometheus-roleBindingSpecificNamespaces.yaml',
  'prometheus-roleSpecificNamespaces.yaml',
] as const;
const published = Object.fromEntries(
  files.map((file) => [file, readFileSync(new URL(`./testdata/kube-prometheus/${file}`, import.meta.url), 'utf8')]),
) as Record<(typeof files)[number], string>;

const identities = (manifests: readonly Manifest[]): string[] =>
  manifests.map((m) => `${m.kind} ${m.metadata.namespace ?? ''}/${m.metadata.name}`);

function parsed(file: (typeof files)[number]): Manifest[] {
  const result = parseManifestDocuments(published[file]);
  if (!result.ok) throw new Error(`${file}: ${result.message}`);
  return result.manifests;
}

const paris: RenderCluster = { name: 'paris', labels: { region: 'eu-west' }, groups: new Set(), fleet: 'prod' };

describe("kube-prometheus's published manifests", () => {
  it.each<[string, (typeof files)[number], string[]]>([
    [
      'the RoleList is its three Roles',
      'prometheus-roleSpecificNamespaces.yaml',
      ['Role default/prometheus-k8s', 'Role kube-system/prometheus-k8s', 'Role monitoring/prometheus-k8s'],
    ],
    [
      'the RoleBindingList is its three RoleBindings',
      'prometheus-roleBindingSpecificNamespaces.yaml',
      ['RoleBinding default/prometheus-k8s', 'RoleBinding kube-system/prometheus-k8s', 'RoleBinding monitoring/prometheus-k8s'],
    ],
  ])('%s', (_name, file, expected) => {
    expect(identities(parsed(file))).toEqual(expected);
  });

  it('the ConfigMapList of dashboards is its 32 dashboard ConfigMaps in monitoring', () => {
    const dashboards = parsed('grafana-dashboardDefinitions.yaml');
    expect(dashboards).toHaveLength(32);
    expect(dashboards.every((m) => m.apiVersion === 'v1' && m.kind === 'ConfigMap' && m.metadata.namespace === 'monitoring')).toBe(true);
    expect(dashboards.map((m) => m.metadata.name)).toContain('grafana-dashboard-k8s-resources-multicluster');
  });

  it('reads all four files from one ConfigMap, key by key, as a user would put them there', () => {
    const result = sourceManifests({ configMapRefs: [{ name: 'kube-prometheus' }] }, new Map([['kube-prometheus', published]]));
    if (!result.ok) throw new Error(result.error.message);
    expect(result.manifests).toHaveLength(32 + 1 + 3 + 3);
    expect(identities(result.manifests).slice(32, 33)).toEqual(['Namespace /monitoring']);
  });

  it("renders the dashboards for a cluster byte for byte: Grafana's ${cluster}, ${datasource} and the rest untouched", () => {
    const dashboards = parsed('grafana-dashboardDefinitions.yaml');
    const result = renderManifests(dashboards, [], paris);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.manifests).toEqual(dashboards);
    const text = JSON.stringify(result.manifests);
    for (const reference of ['${cluster}', '${datasource}', '${datasource:queryparam}', '${namespace}', '${__data.fields.Pod}'])
      expect(text).toContain(reference);
    expect(text.split('${').length - 1).toBe(published['grafana-dashboardDefinitions.yaml'].split('${').length - 1);
  });
});
