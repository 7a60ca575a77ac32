import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from './kube.js';
import { createStore, labelIndex, NAMESPACE_INDEX, ownerIndex } from './store.js';

const obj = (name: string, namespace: string | undefined, rv: string, labels: Record<string, string> = {}, owner?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name,
    resourceVersion: rv,
    labels,
    ...(namespace ? { namespace } : {}),
    ...(owner ? { ownerReferences: [{ apiVersion: 'x/v1', kind: 'Owner', name: owner, uid: 'u', controller: true }] } : {}),
  },
});

describe('store indexes', () => {
  const shared = createStore();
  it('indexes by namespace and by custom functions, and keeps them in step on update and delete', () => {
    const store = createStore({ cluster: labelIndex('cluster') });
    store.upsert(obj('a', 'ns1', '1', { cluster: 'c1' }));
    store.upsert(obj('b', 'ns1', '1', { cluster: 'c2' }));
    store.upsert(obj('c', 'ns2', '1', { cluster: 'c1' }));
    expect(
      store
        .byIndex('cluster', 'c1')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(store.indexKeys(NAMESPACE_INDEX, 'ns1').sort()).toEqual(['ns1/a', 'ns1/b']);

    store.upsert(obj('a', 'ns1', '2', { cluster: 'c2' }));
    expect(store.byIndex('cluster', 'c1').map((o) => o.metadata.name)).toEqual(['c']);
    expect(
      store
        .byIndex('cluster', 'c2')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);

    expect(store.remove('ns1/a')?.metadata.resourceVersion).toBe('2');
    expect(store.remove('ns1/a')).toBeUndefined();
    expect(store.byIndex('cluster', 'c2').map((o) => o.metadata.name)).toEqual(['b']);
    store.remove('ns2/c');
    expect(store.indexKeys('cluster', 'c1')).toEqual([]);
  });

  // One key under a value is kept without a Set; each step checks the answer across that change.
  it.each<[string, (store: ReturnType<typeof createStore>) => void, string[]]>([
    ['one object', (s) => s.upsert(obj('a', 'ns', '1')), ['ns/a']],
    ['the same object updated', (s) => s.upsert(obj('a', 'ns', '2')), ['ns/a']],
    ['a second', (s) => s.upsert(obj('b', 'ns', '1')), ['ns/a', 'ns/b']],
    ['a third', (s) => s.upsert(obj('c', 'ns', '1')), ['ns/a', 'ns/b', 'ns/c']],
    ['one of three updated', (s) => s.upsert(obj('b', 'ns', '2')), ['ns/a', 'ns/b', 'ns/c']],
    ['one of three gone', (s) => s.remove('ns/a'), ['ns/b', 'ns/c']],
    ['one of two gone', (s) => s.remove('ns/c'), ['ns/b']],
    ['a key it never held gone', (s) => s.remove('ns/x'), ['ns/b']],
    ['the last one moved to another namespace', (s) => (s.remove('ns/b'), s.upsert(obj('b', 'other', '3'))), []],
    ['one back', (s) => s.upsert(obj('d', 'ns', '1')), ['ns/d']],
  ])('answers the keys under a value after %s', (_, change, keys) => {
    change(shared);
    expect(shared.indexKeys(NAMESPACE_INDEX, 'ns').sort()).toEqual(keys);
    expect(
      shared
        .list({ namespace: 'ns' })
        .map((o) => `ns/${o.metadata.name ?? ''}`)
        .sort(),
    ).toEqual(keys);
  });

  it('indexes objects without the label nowhere, multi-valued functions everywhere they say', () => {
    const store = createStore({ multi: (o) => Object.keys(o.metadata.labels ?? {}) });
    store.upsert(obj('a', 'ns', '1', { x: '1', y: '2' }));
    store.upsert(obj('b', 'ns', '1'));
    expect(store.indexKeys('multi', 'x')).toEqual(['ns/a']);
    expect(store.indexKeys('multi', 'y')).toEqual(['ns/a']);
    expect(() => store.indexKeys('nope', 'x')).toThrow('no index named nope');
  });

  it('survives an index function that throws', () => {
    const store = createStore({
      bad: () => {
        throw new Error('boom');
      },
    });
    store.upsert(obj('a', 'ns', '1'));
    expect(store.get('ns/a')).toBeDefined();
    expect(store.indexKeys('bad', 'x')).toEqual([]);
  });

  it('adds an index later and indexes existing objects at once', () => {
    const store = createStore();
    store.upsert(obj('a', 'ns', '1', {}, 'o1'));
    store.upsert(obj('b', undefined, '1', {}, 'o1'));
    store.addIndex('owner', ownerIndex());
    expect(store.indexKeys('owner', 'Owner/ns/o1')).toEqual(['ns/a']);
    expect(store.indexKeys('owner', 'Owner/o1')).toEqual(['b']);
  });

  it('lists by namespace and labels', () => {
    const store = createStore();
    store.upsert(obj('a', 'ns1', '1', { app: 'x', tier: 'web' }));
    store.upsert(obj('b', 'ns1', '1', { app: 'y' }));
    store.upsert(obj('c', 'ns2', '1', { app: 'x' }));
    store.upsert(obj('d', undefined, '1', { app: 'x' }));
    expect(
      store
        .list({ namespace: 'ns1' })
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(
      store
        .list({ labels: { app: 'x' } })
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c', 'd']);
    expect(store.list({ namespace: 'ns1', labels: { app: 'x', tier: 'web' } }).map((o) => o.metadata.name)).toEqual(['a']);
    expect(store.list({ namespace: '' }).map((o) => o.metadata.name)).toEqual(['d']);
  });
});

describe('store replace (relist)', () => {
  it('answers exactly what changed: new, changed resourceVersion, gone — unchanged emits nothing', () => {
    const store = createStore({ cluster: labelIndex('cluster') });
    store.upsert(obj('same', 'ns', '1', { cluster: 'c1' }));
    store.upsert(obj('changed', 'ns', '1', { cluster: 'c1' }));
    store.upsert(obj('gone', 'ns', '1', { cluster: 'c1' }));
    const result = store.replace([
      obj('same', 'ns', '1', { cluster: 'c1' }),
      obj('changed', 'ns', '5', { cluster: 'c2' }),
      obj('new', 'ns', '6'),
    ]);
    expect(result.added.map((o) => o.metadata.name)).toEqual(['new']);
    expect(result.updated.map((u) => [u.old.metadata.resourceVersion, u.current.metadata.resourceVersion])).toEqual([['1', '5']]);
    expect(result.deleted.map((o) => o.metadata.name)).toEqual(['gone']);
    expect(store.keys().sort()).toEqual(['ns/changed', 'ns/new', 'ns/same']);
    expect(store.indexKeys('cluster', 'c1')).toEqual(['ns/same']);
    expect(store.indexKeys('cluster', 'c2')).toEqual(['ns/changed']);
    expect(store.size()).toBe(3);
  });

  it('empties the store when the list is empty', () => {
    const store = createStore();
    store.upsert(obj('a', 'ns', '1'));
    expect(store.replace([]).deleted.map((o) => o.metadata.name)).toEqual(['a']);
    expect(store.size()).toBe(0);
    expect(store.indexKeys(NAMESPACE_INDEX, 'ns')).toEqual([]);
  });
});
