import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../api/index.js';
import { manifestIdentity } from '../../work/identity.js';
import { claimConflicts, claimWatch, clusterClaims, createClusterTargets, setClaim, type ClaimWatch, type WorkObject } from './claims.js';
import type { SourceObjects, SourceRef } from './conflicts.js';
import { workObjects } from '../../work/objects.js';

const clusterRole = (name: string, verb = 'get'): Manifest => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
  rules: [{ apiGroups: [''], resources: ['pods'], verbs: [verb] }],
});
const service: SourceRef = { kind: 'GlobalService', namespace: 'fleet-a', name: 'web' };
const bundle: SourceRef = { kind: 'PolicyBundle', namespace: 'fleet-a', name: 'base' };
const at = (source: SourceRef, creationTimestamp: string): SourceRef => ({ ...source, creationTimestamp });
const ids = (...manifests: Manifest[]): ReturnType<typeof manifestIdentity>[] => manifests.map((m) => manifestIdentity(m));

/** The Work set a source writes to `cluster`, as the cache holds it. */
function works(
  source: SourceRef,
  cluster: string,
  manifests: Manifest[],
  meta: { created?: string; version?: string; generation?: number } = {},
  encoding?: { maxDataChars: number },
): WorkObject[] {
  const result = workObjects({
    cluster,
    name: `${source.kind === 'GlobalService' ? 'gs' : 'pb'}-${source.name}`,
    manifests,
    source: { kind: source.kind, namespace: source.namespace, name: source.name, generation: 1, revision: 'r1' },
    ...(encoding ? { encoding: { inlineLimitBytes: 0, ...encoding } } : {}),
  });
  if (!result.ok) throw new Error(result.message);
  return result.works.map((work) => ({
    ...work,
    metadata: {
      ...work.metadata,
      resourceVersion: meta.version ?? '1',
      generation: meta.generation ?? 1,
      ...(meta.created ? { creationTimestamp: meta.created } : {}),
    },
  }));
}

describe('setClaim and clusterClaims', () => {
  it("reads each source's objects on a cluster from its Work set, inline or split into compressed parts", () => {
    const many = Array.from({ length: 40 }, (_, i) => clusterRole(`role-${i}`));
    const split = works(bundle, 'c1', many, { created: '2024-01-02T00:00:00Z' }, { maxDataChars: 200 });
    expect(split.length).toBeGreaterThan(1);
    const claims = clusterClaims([...works(service, 'c1', [clusterRole('a')], { created: '2024-01-01T00:00:00Z' }), ...split.reverse()]);
    expect(claims).toEqual([
      { source: at(service, '2024-01-01T00:00:00Z'), objects: ids(clusterRole('a')) },
      { source: at(bundle, '2024-01-02T00:00:00Z'), objects: ids(...many) },
    ]);
  });

  it('leaves out a set whose parts are not all cached yet', () => {
    const split = works(
      bundle,
      'c1',
      Array.from({ length: 40 }, (_, i) => clusterRole(`role-${i}`)),
      {},
      { maxDataChars: 200 },
    );
    expect(clusterClaims(split.slice(0, 1))).toEqual([]);
    expect(setClaim(split.slice(1))).toBeUndefined();
  });

  it('reads one payload on many clusters alike, and still leaves out a set missing a part of it', () => {
    const many = Array.from({ length: 40 }, (_, i) => clusterRole(`shared-${i}`));
    const encoding = { maxDataChars: 200 };
    const whole = clusterClaims(works(bundle, 'c1', many, {}, encoding));
    expect(whole).toEqual([{ source: bundle, objects: ids(...many) }]);
    expect(clusterClaims(works(bundle, 'c2', many, { version: '7' }, encoding))).toEqual(whole);
    const partial = works(bundle, 'c3', many, {}, encoding);
    expect(clusterClaims(partial.filter((work) => work.spec.part?.index !== 1))).toEqual([]);
  });

  it('reads a policy-only Work as claiming no objects', () => {
    const result = workObjects({
      cluster: 'c1',
      name: 'pb-base',
      manifests: [],
      policy: { mode: 'Enforce' },
      source: { ...bundle, generation: 1, revision: 'r' },
    });
    expect(result.ok && setClaim(result.works)).toEqual({ source: bundle, objects: [] });
  });
});

describe('claimConflicts', () => {
  const held = (source: SourceRef, created: string, ...manifests: Manifest[]): SourceObjects => ({
    source: at(source, created),
    objects: ids(...manifests),
  });

  it('reports an object a PolicyBundle ships to a GlobalService that would add it, naming the bundle', () => {
    const onCluster = [held(bundle, '2024-02-01T00:00:00Z', clusterRole('audit'))];
    expect(claimConflicts(service, ids(clusterRole('audit'), clusterRole('mine')), onCluster)).toEqual([
      { object: 'ClusterRole.rbac.authorization.k8s.io/audit', heldBy: onCluster[0]?.source },
    ]);
  });

  it('lets a source keep what its Work already ships against a later claimant, whichever its kind', () => {
    const onCluster = [held(service, '2024-01-01T00:00:00Z', clusterRole('audit')), held(bundle, '2024-02-01T00:00:00Z')];
    expect(claimConflicts(service, ids(clusterRole('audit')), onCluster)).toEqual([]);
    expect(claimConflicts(bundle, ids(clusterRole('audit')), onCluster)).toHaveLength(1);
  });

  it('puts an object a source would newly add after every holder, however old its own Work is', () => {
    const onCluster = [
      held(service, '2024-01-01T00:00:00Z', clusterRole('old')),
      held(bundle, '2024-03-01T00:00:00Z', clusterRole('audit')),
    ];
    expect(claimConflicts(service, ids(clusterRole('old'), clusterRole('audit')), onCluster)).toEqual([
      { object: 'ClusterRole.rbac.authorization.k8s.io/audit', heldBy: onCluster[1]?.source },
    ]);
  });

  it('has no conflict once the holder lets go, nor with itself', () => {
    expect(claimConflicts(service, ids(clusterRole('audit'), clusterRole('audit')), [held(bundle, '2024-02-01T00:00:00Z')])).toEqual([]);
    expect(claimConflicts(service, ids(clusterRole('audit')), [])).toEqual([]);
  });
});

describe('createClusterTargets', () => {
  const wants = (entries: Record<string, Manifest[]>): Map<string, ReturnType<typeof manifestIdentity>[]> =>
    new Map(Object.entries(entries).map(([cluster, manifests]) => [cluster, ids(...manifests)]));
  it.each<[string, ReturnType<typeof manifestIdentity>[] | undefined, string[]]>([
    ['an object one source wants there', ids(clusterRole('audit')), ['fleet-a/web']],
    ['objects both want', ids(clusterRole('audit'), clusterRole('shared')), ['fleet-a/api', 'fleet-a/web']],
    ['an object nobody wants there (another cluster wants it)', ids(clusterRole('elsewhere')), []],
    ['no objects (a drained set)', [], []],
    ['objects not known without decoding', undefined, ['fleet-a/api', 'fleet-a/web']],
  ])('answers the sources wanting %s on a cluster', (_, objects, sources) => {
    const targets = createClusterTargets();
    targets.set('fleet-a/web', wants({ c1: [clusterRole('audit'), clusterRole('shared')], c2: [clusterRole('elsewhere')] }));
    targets.set('fleet-a/api', wants({ c1: [clusterRole('shared')] }));
    expect(targets.claimants('c1', objects).sort()).toEqual(sources);
  });

  it('replaces what a source wanted, and forgets a source that wants nothing', () => {
    const targets = createClusterTargets();
    targets.set('fleet-a/web', wants({ c1: [clusterRole('audit')], c2: [clusterRole('audit')] }));
    targets.set('fleet-a/web', wants({ c3: [clusterRole('audit')] }));
    expect(targets.claimants('c1', undefined)).toEqual([]);
    expect(targets.claimants('c3', ids(clusterRole('audit')))).toEqual(['fleet-a/web']);
    targets.set('fleet-a/web', new Map());
    expect(targets.claimants('c3', undefined)).toEqual([]);
  });
});

describe('claimWatch', () => {
  const watch = (): ClaimWatch => {
    const targets = createClusterTargets();
    const wanting = (...manifests: Manifest[]) => new Map([['c1', ids(...manifests)]]);
    targets.set('fleet-a/web', wanting(clusterRole('mine'), clusterRole('audit'), clusterRole('more')));
    targets.set('fleet-a/rival', wanting(clusterRole('audit'), clusterRole('more')));
    targets.set('fleet-a/bystander', wanting(clusterRole('unrelated')));
    targets.set('fleet-a/elsewhere', new Map([['c2', ids(clusterRole('audit'))]]));
    return claimWatch('GlobalService', targets);
  };
  const [audit] = works(bundle, 'c1', [clusterRole('audit')]) as [WorkObject];
  const [mine] = works(service, 'c1', [clusterRole('mine')]) as [WorkObject];
  const reported = (work: WorkObject, version: string): WorkObject => ({
    ...work,
    metadata: { ...work.metadata, resourceVersion: version },
    status: { observedGeneration: 1 },
  });
  const bothClaimants = ['fleet-a/rival', 'fleet-a/web'];

  it.each<[string, WorkObject, WorkObject, string[]]>([
    [
      "another source's Work claims more objects",
      audit,
      works(bundle, 'c1', [clusterRole('audit'), clusterRole('more')], { version: '2', generation: 2 })[0] as WorkObject,
      bothClaimants,
    ],
    [
      "another source's Work lets go of an object, which the sources wanting it judge again",
      works(bundle, 'c1', [clusterRole('audit'), clusterRole('more')], { version: '2', generation: 2 })[0] as WorkObject,
      works(bundle, 'c1', [clusterRole('other')], { version: '3', generation: 3 })[0] as WorkObject,
      bothClaimants,
    ],
    [
      "another source's Work, deleted and made again under its name (one update across a relist)",
      audit,
      { ...audit, metadata: { ...audit.metadata, uid: 'another', resourceVersion: '7' } },
      bothClaimants,
    ],
    [
      "a new revision of another source's Work that claims the same objects (a fan-out of a changed value)",
      audit,
      works(bundle, 'c1', [clusterRole('audit', 'list')], { version: '2', generation: 2 })[0] as WorkObject,
      [],
    ],
    ["a status-only update of another source's Work", audit, reported(audit, '2'), []],
    ['a status-only update of its own Work', mine, reported(mine, '2'), ['fleet-a/web']],
    [
      'its own Work claiming more objects',
      mine,
      works(service, 'c1', [clusterRole('mine'), clusterRole('more')], { version: '3', generation: 2 })[0] as WorkObject,
      bothClaimants,
    ],
  ])('maps an update where %s to the keys it wakes', (_, old, current, keys) => {
    expect(watch().mapUpdate(old, current).sort()).toEqual(keys);
  });

  it("re-queues the services wanting an object of another source's Work when it is added or gone, and its own service first", () => {
    expect(watch().map(audit).sort()).toEqual(bothClaimants);
    expect(watch().map(mine)).toEqual(['fleet-a/web']);
    const [elsewhere] = works(bundle, 'c3', [clusterRole('audit')]) as [WorkObject];
    expect(watch().map(elsewhere)).toEqual([]);
  });

  it('wakes every service targeting the cluster for a compressed Work whose content no reconcile has decoded yet', () => {
    const [packed] = works(bundle, 'c1', [clusterRole('never-decoded')], {}, { maxDataChars: 100_000 }) as [WorkObject];
    expect(packed.spec.payload).toBeDefined();
    expect(watch().map(packed).sort()).toEqual(['fleet-a/bystander', 'fleet-a/rival', 'fleet-a/web']);
  });
});
