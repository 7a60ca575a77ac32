import { describe, expect, it } from '@jest/globals';
import type { Manifest, Override } from '../../../api/index.js';
import { createLruCache } from '../../../runtime/lru.js';
import { manifest } from '../../../work/testing.js';
import {
  prepareService,
  renderCached,
  renderKey,
  renderManifests,
  serviceRevision,
  type RenderCluster,
  type RenderResult,
} from './render.js';

const deployment: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: 'web', image: 'web:1', env: [{ name: 'REGION', value: '${cluster.labels.region}' }] }] } },
  },
};
const namespace: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
const plain: Manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' }, data: { a: '1' } };

const cluster = (name: string, labels: Record<string, string> = { region: 'eu' }, groups: string[] = []): RenderCluster => ({
  name,
  labels,
  groups: new Set(groups),
  fleet: 'prod',
});

const replicas = (name: string, selector: Override['clusterSelector'], value: unknown): Override => ({
  name,
  clusterSelector: selector,
  patches: [
    { target: { kind: 'Deployment' }, operations: [{ op: 'replace', path: '/spec/replicas', value: value as Record<string, unknown> }] },
  ],
});

function rendered(result: RenderResult): readonly Manifest[] {
  if (!result.ok) throw new Error(result.error.message);
  return result.manifests;
}

describe('renderManifests', () => {
  it('substitutes, then patches, leaving the source untouched', () => {
    const override: Override = {
      name: 'eu',
      clusterGroup: 'eu',
      patches: [
        {
          target: { kind: 'Deployment', name: 'web' },
          operations: [
            { op: 'replace', path: '/spec/replicas', value: 5 as unknown as Record<string, unknown> },
            { op: 'add', path: '/metadata/labels', value: { cluster: '${cluster.name}' } },
          ],
        },
      ],
    };
    const [ns, web] = rendered(renderManifests([namespace, deployment], [override], cluster('paris')));
    expect(ns).toEqual(namespace);
    expect(web?.spec).toMatchObject({ replicas: 5, template: { spec: { containers: [{ env: [{ value: 'eu' }] }] } } });
    expect(web?.metadata.labels).toEqual({ cluster: 'paris' });
    expect(deployment.spec).toMatchObject({ replicas: 2 });
  });

  it('applies overrides in order, later ones seeing earlier results', () => {
    const first = replicas('first', {}, 3);
    const second: Override = {
      name: 'second',
      clusterSelector: {},
      patches: [
        {
          target: { kind: 'Deployment' },
          operations: [
            { op: 'test', path: '/spec/replicas', value: 3 as unknown as Record<string, unknown> },
            { op: 'copy', from: '/spec/replicas', path: '/metadata/annotations' },
          ],
        },
      ],
    };
    const [web] = rendered(renderManifests([deployment], [first, second], cluster('paris')));
    expect(web?.metadata.annotations).toBe(3);
  });

  it('treats a patch whose target matches nothing as a no-op', () => {
    const override: Override = {
      name: 'x',
      clusterSelector: {},
      patches: [{ target: { kind: 'StatefulSet' }, operations: [{ op: 'remove', path: '/spec' }] }],
    };
    expect(renderManifests([deployment], [override], cluster('paris'))).toEqual(renderManifests([deployment], [], cluster('paris')));
  });

  it.each<[string, Manifest[], Override[], RenderCluster, string, string]>([
    [
      'an unresolved variable in a manifest',
      [namespace, deployment],
      [],
      cluster('paris', {}),
      'UnresolvedVariable',
      'manifest 1 (Deployment shop/web) at /spec/template/spec/containers/0/env/0/value: ${cluster.labels.region}: the cluster has no label region',
    ],
    [
      'an unresolved variable in a patch value',
      [plain],
      [replicas('sizes', {}, '${cluster.labels.size}')],
      cluster('paris'),
      'UnresolvedVariable',
      'override sizes patches/0/operations/0/value: ${cluster.labels.size}: the cluster has no label size',
    ],
    [
      'a patch on a missing path',
      [plain, deployment],
      [
        {
          name: 'bad',
          clusterSelector: {},
          patches: [{ target: { kind: 'Deployment' }, operations: [{ op: 'remove', path: '/spec/nothing/here' }] }],
        },
      ],
      cluster('paris'),
      'PatchFailed',
      'override bad patch 0 operation 0: remove /spec/nothing/here on manifest 1 (Deployment shop/web)',
    ],
    [
      'a failed test operation',
      [deployment],
      [
        {
          name: 'guard',
          clusterSelector: {},
          patches: [
            {
              target: { kind: 'Deployment' },
              operations: [{ op: 'test', path: '/spec/replicas', value: 9 as unknown as Record<string, unknown> }],
            },
          ],
        },
      ],
      cluster('paris'),
      'PatchFailed',
      'override guard patch 0 operation 0: test /spec/replicas',
    ],
    [
      'a replace without a value',
      [deployment],
      [
        {
          name: 'novalue',
          clusterSelector: {},
          patches: [{ target: { kind: 'Deployment' }, operations: [{ op: 'replace', path: '/spec/replicas' }] }],
        },
      ],
      cluster('paris'),
      'InvalidPatch',
      'override novalue patch 0 operation 0: replace needs a value',
    ],
    [
      'a __proto__ path',
      [deployment],
      [
        {
          name: 'evil',
          clusterSelector: {},
          patches: [{ target: { kind: 'Deployment' }, operations: [{ op: 'add', path: '/__proto__/x', value: {} }] }],
        },
      ],
      cluster('paris'),
      'InvalidPatch',
      'may not contain __proto__',
    ],
    [
      'a patch removing the name',
      [plain, deployment],
      [
        {
          name: 'anon',
          clusterSelector: {},
          patches: [{ target: { kind: 'Deployment' }, operations: [{ op: 'remove', path: '/metadata/name' }] }],
        },
      ],
      cluster('paris'),
      'InvalidManifest',
      'manifest 1 (Deployment shop/web) has no metadata.name after overrides',
    ],
    [
      'an unknown variable of ours, with both ways to keep the text',
      [{ ...plain, data: { 'app.js': 'return `${cluster.id}`' } }],
      [],
      cluster('paris'),
      'UnresolvedVariable',
      'manifest 0 (ConfigMap shop/settings) at /data/app.js: ${cluster.id}: unknown variable: flotilla has cluster.name, cluster.labels.KEY and fleet.name; write $${ for a literal ${, or annotate the manifest flotilla.dev/substitute: disabled to ship it as written',
    ],
    [
      'a misspelt opt-out',
      [namespace, { ...plain, metadata: { ...plain.metadata, annotations: { 'flotilla.dev/substitute': 'no' } } }],
      [],
      cluster('paris'),
      'InvalidManifest',
      'manifest 1 (ConfigMap shop/settings): annotation flotilla.dev/substitute must be disabled to ship the manifest as written, not "no"',
    ],
  ])('fails as a whole on %s, naming it', (_name, manifests, overrides, target, reason, message) => {
    const result = renderManifests(manifests, overrides, target);
    expect(result).toEqual({ ok: false, error: { reason, message: expect.stringContaining(message) as unknown } });
  });
});

describe('the substitution opt-out', () => {
  const dashboard: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'dashboard', namespace: 'monitoring', annotations: { 'flotilla.dev/substitute': 'disabled' } },
    data: { 'app.json': '{"title": "${cluster.name}", "js": "`${cluster.id}`", "escaped": "$${x}", "grafana": "${cluster}"}' },
  };

  it('ships an annotated manifest exactly as written, escapes included, beside substituted ones', () => {
    const [ships, web] = rendered(renderManifests([dashboard, deployment], [], cluster('paris')));
    expect(ships).toEqual(dashboard);
    expect(web?.spec).toMatchObject({ template: { spec: { containers: [{ env: [{ value: 'eu' }] }] } } });
  });

  it('still substitutes override patch values that target it', () => {
    const label: Override = {
      name: 'owner',
      clusterSelector: {},
      patches: [
        { target: { kind: 'ConfigMap' }, operations: [{ op: 'add', path: '/metadata/labels', value: { cluster: '${cluster.name}' } }] },
      ],
    };
    const [ships] = rendered(renderManifests([dashboard], [label], cluster('paris')));
    expect(ships?.metadata.labels).toEqual({ cluster: 'paris' });
    expect(ships?.data).toEqual(dashboard.data);
  });

  it('keeps the render key free of the variables an annotated manifest mentions', () => {
    const prepared = prepareService([dashboard], []);
    expect(renderKey(prepared, cluster('a')).key).toBe(renderKey(prepared, cluster('b')).key);
  });
});

describe('prepareService', () => {
  it('digests a manifest list once, however many services and reconciles prepare it', () => {
    const list = [deployment, plain];
    const first = prepareService(list, []);
    const again = prepareService(list, [replicas('big', { matchLabels: { size: 'big' } }, 9)]);
    expect(again.sourceVariables).toBe(first.sourceVariables);
    expect(again.sourceDigest).toBe(first.sourceDigest);
    // An equal list that is another object is digested again, to the same digest.
    const copy = prepareService(structuredClone(list), []);
    expect(copy.sourceVariables).not.toBe(first.sourceVariables);
    expect(copy.sourceDigest).toBe(first.sourceDigest);
    expect(prepareService(list, [], { substitute: false }).sourceVariables.size).toBe(0);
  });
});

describe('renderKey', () => {
  const prepared = prepareService(
    [deployment, plain],
    [replicas('big', { matchLabels: { size: 'big' } }, 9), replicas('named', {}, '${cluster.name}')],
  );
  const onlyRegion = prepareService([deployment], []);

  it.each<[string, RenderCluster, RenderCluster, boolean]>([
    ['same referenced values, different names', cluster('a'), cluster('b'), true],
    ['a referenced label differs', cluster('a', { region: 'eu' }), cluster('b', { region: 'us' }), false],
    ['an unreferenced label differs', cluster('a', { region: 'eu', team: 'x' }), cluster('b', { region: 'eu', team: 'y' }), true],
    ['a label missing on both', cluster('a', {}), cluster('b', {}), true],
    ['groups no override uses', cluster('a', { region: 'eu' }, ['g']), cluster('b', { region: 'eu' }), true],
  ])('%s: equal keys = %s', (_name, a, b, equal) => {
    expect(renderKey(onlyRegion, a).key === renderKey(onlyRegion, b).key).toBe(equal);
  });

  it('includes matching overrides and the variables they reference', () => {
    const big = renderKey(prepared, cluster('a', { region: 'eu', size: 'big' }));
    expect(big.overrides.map((o) => o.name)).toEqual(['big', 'named']);
    // `named` references cluster.name, so two clusters can no longer share a render.
    expect(renderKey(prepared, cluster('b', { region: 'eu', size: 'big' })).key).not.toBe(big.key);
  });
});

describe('renderCached', () => {
  it('renders 1000 clusters with the same inputs once', () => {
    const cache = createLruCache<RenderResult>(100);
    const prepared = prepareService([namespace, deployment], [replicas('eu', { matchLabels: { region: 'eu' } }, 4)]);
    const renders = Array.from({ length: 1000 }, (_, i) =>
      renderCached(cache, prepared, cluster(`c${i}`, { region: 'eu', index: String(i) })),
    );
    expect(renders.filter((r) => !r.cached)).toHaveLength(1);
    expect(cache.size).toBe(1);
    expect(new Set(renders.map((r) => r.result)).size).toBe(1);
  });

  it('re-renders only the clusters whose referenced label changed', () => {
    const cache = createLruCache<RenderResult>(100);
    const prepared = prepareService([deployment], []);
    const fleet = Array.from({ length: 10 }, (_, i) => cluster(`c${i}`, { region: i < 5 ? 'eu' : 'us' }));
    expect(fleet.map((c) => renderCached(cache, prepared, c)).filter((r) => !r.cached)).toHaveLength(2);
    const relabelled = fleet.map((c) => (c.name === 'c0' ? cluster('c0', { region: 'ap' }) : c));
    const again = relabelled.map((c) => renderCached(cache, prepared, c));
    expect(again.flatMap((r, i) => (r.cached ? [] : [relabelled[i]?.name]))).toEqual(['c0']);
    expect(rendered(again[0]?.result ?? { ok: false, error: { reason: 'InvalidSource', message: '' } })[0]?.spec).toMatchObject({
      template: { spec: { containers: [{ env: [{ value: 'ap' }] }] } },
    });
  });
});

describe('serviceRevision', () => {
  const base = prepareService([namespace, deployment], [replicas('eu', {}, 3)]);

  it('is short, stable and ignores key order', () => {
    const reordered = prepareService(
      [{ metadata: { name: 'shop' }, kind: 'Namespace', apiVersion: 'v1' }, deployment],
      [replicas('eu', {}, 3)],
    );
    expect(serviceRevision(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(serviceRevision(reordered)).toBe(serviceRevision(base));
  });

  it('changes with content and returns to the same string on a revert', () => {
    const changed = prepareService([namespace, { ...deployment, spec: { replicas: 3 } }], [replicas('eu', {}, 3)]);
    const newOverride = prepareService([namespace, deployment], [replicas('eu', {}, 4)]);
    const swapped = prepareService([deployment, namespace], [replicas('eu', {}, 3)]);
    const reverted = prepareService([namespace, deployment], [replicas('eu', {}, 3)]);
    const revisions = [base, changed, newOverride, swapped].map(serviceRevision);
    expect(new Set(revisions).size).toBe(4);
    expect(serviceRevision(reverted)).toBe(serviceRevision(base));
  });
});

describe('a chart output (substitute: false)', () => {
  const output = manifest('v1', 'ConfigMap', 'helm-out', 'web', { data: { literal: '${cluster.name}' } });
  const paris = { name: 'paris', labels: { region: 'eu' }, groups: new Set<string>(), fleet: 'prod' };

  it("ships the chart's strings as helm wrote them, and still substitutes override values", () => {
    const override = {
      name: 'label',
      patches: [
        { target: { kind: 'ConfigMap' }, operations: [{ op: 'add' as const, path: '/metadata/labels', value: { at: '${cluster.name}' } }] },
      ],
    };
    const prepared = prepareService([output], [override], { substitute: false });
    const result = renderManifests(prepared.manifests, [override], paris, prepared.substitute);
    expect(result).toEqual({
      ok: true,
      manifests: [{ ...output, metadata: { ...output.metadata, labels: { at: 'paris' } } }],
    });
  });

  it('does not share a cached render with the same manifests substituted', () => {
    const cache = createLruCache<RenderResult>(8);
    const raw = renderCached(cache, prepareService([output], [], { substitute: false }), paris).result;
    const substituted = renderCached(cache, prepareService([output], []), paris).result;
    expect(raw.ok && raw.manifests[0]?.data).toEqual({ literal: '${cluster.name}' });
    expect(substituted.ok && substituted.manifests[0]?.data).toEqual({ literal: 'paris' });
  });
});
