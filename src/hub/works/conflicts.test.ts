import { describe, expect, it } from '@jest/globals';
import type { ManifestIdentity } from '../../work/identity.js';
import { compareSources, describeConflicts, findConflicts, sourceKey, type SourceObjects, type SourceRef } from './conflicts.js';

const service = (name: string, creationTimestamp?: string): SourceRef => ({
  kind: 'GlobalService',
  namespace: 'fleet-prod',
  name,
  ...(creationTimestamp !== undefined ? { creationTimestamp } : {}),
});
const bundle = (name: string, creationTimestamp: string): SourceRef => ({
  kind: 'PolicyBundle',
  namespace: 'fleet-prod',
  name,
  creationTimestamp,
});
const deployment = (name: string): ManifestIdentity => ({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'web', name });
const role = (name: string): ManifestIdentity => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  namespace: '',
  name,
});

const early = service('web', '2025-01-01T00:00:00Z');
const late = service('web-copy', '2025-02-01T00:00:00Z');

describe('compareSources', () => {
  it.each<[string, SourceRef, SourceRef]>([
    ['older first', early, late],
    ['same time: by kind', { ...bundle('a', '2025-01-01T00:00:00Z'), kind: 'GlobalService' }, bundle('a', '2025-01-01T00:00:00Z')],
    ['same time and kind: by name', service('a', '2025-01-01T00:00:00Z'), service('b', '2025-01-01T00:00:00Z')],
    ['without a timestamp: last', late, service('new')],
  ])('%s', (_name, first, second) => {
    expect(compareSources(first, second)).toBeLessThan(0);
    expect(compareSources(second, first)).toBeGreaterThan(0);
  });
});

describe('findConflicts', () => {
  it('lets the earlier source keep an object and reports the later one, per cluster', () => {
    const result = findConflicts(
      new Map<string, SourceObjects[]>([
        [
          'paris',
          [
            { source: late, objects: [deployment('api'), deployment('own')] },
            { source: early, objects: [deployment('api')] },
          ],
        ],
        [
          'ohio',
          [
            { source: early, objects: [deployment('api')] },
            { source: late, objects: [deployment('own')] },
          ],
        ],
      ]),
    );
    expect([...result.keys()]).toEqual([sourceKey(late)]);
    expect([...(result.get(sourceKey(late)) ?? new Map()).entries()]).toEqual([
      ['paris', [{ object: 'Deployment.apps/web/api', heldBy: early }]],
    ]);
  });

  it('sees a GlobalService and a PolicyBundle claiming the same cluster-scoped object', () => {
    const policy = bundle('baseline', '2024-12-01T00:00:00Z');
    const result = findConflicts(
      new Map([
        [
          'paris',
          [
            { source: early, objects: [role('reader')] },
            { source: policy, objects: [role('reader')] },
          ],
        ],
      ]),
    );
    expect(result.get(sourceKey(early))?.get('paris')).toEqual([
      { object: 'ClusterRole.rbac.authorization.k8s.io/reader', heldBy: policy },
    ]);
  });

  it.each<[string, SourceObjects[]]>([
    ['no sources', []],
    ['one source listing an object twice', [{ source: early, objects: [deployment('api'), deployment('api')] }]],
    [
      'same name in different namespaces',
      [
        { source: early, objects: [deployment('api')] },
        { source: late, objects: [{ ...deployment('api'), namespace: 'other' }] },
      ],
    ],
  ])('finds nothing with %s', (_name, sources) => {
    expect(findConflicts(new Map([['paris', sources]])).size).toBe(0);
  });

  it('treats apps/v1 and apps/v2 of one name as the same object', () => {
    const result = findConflicts(
      new Map([
        [
          'paris',
          [
            { source: early, objects: [deployment('api')] },
            { source: late, objects: [{ ...deployment('api'), version: 'v2' }] },
          ],
        ],
      ]),
    );
    expect(result.get(sourceKey(late))?.get('paris')).toHaveLength(1);
  });

  it('handles 1000 clusters × 40 sources × 20 objects quickly', () => {
    const sources = Array.from({ length: 40 }, (_, i) =>
      service(`s${String(i).padStart(2, '0')}`, `2025-01-01T00:00:${String(i).padStart(2, '0')}Z`),
    );
    const perCluster = sources.map((source, i) => ({
      source,
      // Every source shares object 'shared'; the rest are its own.
      objects: [deployment('shared'), ...Array.from({ length: 19 }, (_, j) => deployment(`s${i}-${j}`))],
    }));
    const byCluster = new Map(Array.from({ length: 1000 }, (_, c) => [`c${c}`, perCluster] as const));
    const started = performance.now();
    const result = findConflicts(byCluster);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.size).toBe(39);
    expect(result.has(sourceKey(sources[0] ?? early))).toBe(false);
    expect(result.get(sourceKey(sources[39] ?? early))?.size).toBe(1000);
  });
});

describe('describeConflicts', () => {
  it('names up to three objects and counts the rest', () => {
    const conflicts = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ object: `Deployment.apps/web/${name}`, heldBy: early }));
    expect(describeConflicts(conflicts)).toBe(
      'Deployment.apps/web/a is held by GlobalService fleet-prod/web; Deployment.apps/web/b is held by GlobalService fleet-prod/web; ' +
        'Deployment.apps/web/c is held by GlobalService fleet-prod/web, and 2 more objects',
    );
  });
});
