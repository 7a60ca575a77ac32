// Real manifests as they are published, delivered the way a user of the ConfigMap source would:
// four files of kube-prometheus's manifests/ folder (src/hub/globalservice/render/testdata/
// kube-prometheus/ORIGIN.md) put as they are into one ConfigMap on the hub, one key per file, and
// a GlobalService that names it. The RoleList and RoleBindingList arrive on the spoke as their
// Roles and RoleBindings, the ConfigMapList as its 32 Grafana dashboards with every `${cluster}`,
// `${datasource}` and the like exactly as published, while an override's `${cluster.name}` is
// still flotilla's. The hub runs as the built CLI; the spoke's Work agent runs in-process as the
// identity `flotilla join` gave it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { apiVersion, type GlobalService } from '../../src/api/index.js';
import { findCondition, type Kube, type KubeObject } from '../../src/runtime/index.js';
import { eventually, repoRoot, uniqueName } from '../framework/index.js';
import { fleetOnPlanes } from './fleet-on-planes.js';

const fixtures = join(repoRoot, 'src', 'hub', 'globalservice', 'render', 'testdata', 'kube-prometheus');
const files = [
  'grafana-dashboardDefinitions.yaml',
  'namespace.yaml',
  'prometheus-roleBindingSpecificNamespaces.yaml',
  'prometheus-roleSpecificNamespaces.yaml',
];
const published = Object.fromEntries(files.map((file) => [file, readFileSync(join(fixtures, file), 'utf8')]));

const setup = fleetOnPlanes({
  prefix: 'kp',
  userAgent: 'published-manifests-e2e',
  spokes: [{ plane: 'spoke-1', name: uniqueName('edge') }],
  // kube-prometheus puts a Role and a RoleBinding into kube-system, which a Fleet refuses by default.
  fleetSpec: { restrictions: { globalServices: { deniedNamespaces: ['kube-public', 'kube-node-lease', 'flotilla-system'] } } },
});
const { workspace } = setup;
const hub: Kube = setup.hub;
const [edge] = setup.spokes;
if (!edge) throw new Error('no spoke');
const spoke: Kube = edge.kube;
const cluster = edge.name;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const ConfigMapType = { apiVersion: 'v1', kind: 'ConfigMap' } as const;
const RoleType = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' } as const;
const RoleBindingType = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' } as const;
type ConfigMap = KubeObject & { data?: Record<string, string> };

/** The dashboards as the file publishes them, read here with plain js-yaml rather than flotilla's reader. */
const publishedDashboards = (yaml.load(published['grafana-dashboardDefinitions.yaml'] ?? '') as { items: ConfigMap[] }).items;

beforeAll(() => setup.start(), 180_000);

afterAll(async () => {
  await hub.delete(ServiceType, 'kube-prometheus', workspace).catch(() => undefined);
  await eventually(
    async () => {
      expect(await hub.getOrNull(ServiceType, 'kube-prometheus', workspace)).toBeNull();
    },
    { timeoutMs: 60_000 },
  ).catch(() => undefined);
  await setup.stop();
}, 120_000);

describe("kube-prometheus's published manifests through a ConfigMap source", () => {
  it('arrive on the spoke as Roles, RoleBindings and dashboards, every ${…} of Grafana untouched', async () => {
    // `kubectl create configmap kube-prometheus --from-file=…` of the four files: one key per file, as published.
    await hub.create({ ...ConfigMapType, metadata: { name: 'kube-prometheus', namespace: workspace }, data: published });
    const service: GlobalService & KubeObject = {
      apiVersion,
      kind: 'GlobalService',
      metadata: { name: 'kube-prometheus', namespace: workspace },
      spec: {
        source: { configMapRefs: [{ name: 'kube-prometheus' }] },
        placement: { clusterNames: [cluster] },
        rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 600 },
        overrides: [
          {
            name: 'owner',
            clusterNames: [cluster],
            patches: [
              {
                target: { kind: 'ConfigMap', name: 'grafana-dashboard-k8s-resources-multicluster' },
                operations: [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/cluster': '${cluster.name}' } }],
              },
            ],
          },
        ],
      },
    };
    await hub.create(service);
    await eventually(
      async () => {
        const s = await hub.get<GlobalService & KubeObject>(ServiceType, 'kube-prometheus', workspace);
        expect({ ready: findCondition(s.status?.conditions, 'Ready'), clusters: s.status?.clusters }).toMatchObject({
          ready: { status: 'True' },
          clusters: { targeted: 1, updated: 1, available: 1, failed: 0 },
        });
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );

    for (const namespace of ['default', 'kube-system', 'monitoring']) {
      const role = await spoke.get<KubeObject & { rules: { apiGroups: string[] }[] }>(RoleType, 'prometheus-k8s', namespace);
      expect(role.rules.flatMap((rule) => rule.apiGroups)).toContain('discovery.k8s.io');
      const binding = await spoke.get<KubeObject & { subjects: { name: string }[] }>(RoleBindingType, 'prometheus-k8s', namespace);
      expect(binding.subjects.map((subject) => subject.name)).toEqual(['prometheus-k8s']);
    }

    expect(publishedDashboards).toHaveLength(32);
    for (const dashboard of publishedDashboards) {
      const delivered = await spoke.get<ConfigMap>(ConfigMapType, dashboard.metadata.name ?? '', 'monitoring');
      expect(delivered.data).toEqual(dashboard.data);
    }
    const multicluster = await spoke.get<ConfigMap>(ConfigMapType, 'grafana-dashboard-k8s-resources-multicluster', 'monitoring');
    const json = Object.values(multicluster.data ?? {}).join('');
    expect(json).toContain('${datasource}');
    expect(multicluster.metadata.annotations?.['example.com/cluster']).toBe(cluster);
    const withCluster = publishedDashboards.filter((d) => Object.values(d.data ?? {}).some((text) => text.includes('${cluster}')));
    expect(withCluster.length).toBeGreaterThan(0);
    for (const dashboard of withCluster) {
      const delivered = await spoke.get<ConfigMap>(ConfigMapType, dashboard.metadata.name ?? '', 'monitoring');
      expect(Object.values(delivered.data ?? {}).join('')).toContain('${cluster}');
    }
  }, 300_000);

  it('removes every delivered object from the spoke when the service is deleted', async () => {
    await hub.delete(ServiceType, 'kube-prometheus', workspace);
    await eventually(
      async () => {
        expect(await hub.getOrNull(ServiceType, 'kube-prometheus', workspace)).toBeNull();
        expect(await spoke.getOrNull(RoleType, 'prometheus-k8s', 'kube-system')).toBeNull();
        expect(await spoke.getOrNull(ConfigMapType, 'grafana-dashboard-k8s-resources-multicluster', 'monitoring')).toBeNull();
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }, 180_000);
});
