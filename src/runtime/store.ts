// The informer's read cache: objects by `namespace/name` key, plus secondary indexes maintained on
// every change, so reconcilers answer "which Works belong to this cluster" from memory.
import { objectKey, type KubeObject } from './kube.js';

/** Index values for an object; an object may sit under several values (or none). */
export type IndexFunc<T extends KubeObject = KubeObject> = (object: T) => string[];

/** Indexes every store has. */
export const NAMESPACE_INDEX = 'namespace';

/** An index on one label's value. */
export function labelIndex<T extends KubeObject>(label: string): IndexFunc<T> {
  return (o) => {
    const value = o.metadata.labels?.[label];
    return value === undefined ? [] : [value];
  };
}

/** An index on the owners' `kind/name` (controller owner only when `controllerOnly`). */
export function ownerIndex<T extends KubeObject>(controllerOnly = true): IndexFunc<T> {
  return (o) =>
    (o.metadata.ownerReferences ?? [])
      .filter((r) => !controllerOnly || r.controller === true)
      .map((r) => `${r.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${r.name}`);
}

export interface ReplaceResult<T> {
  added: T[];
  updated: { old: T; current: T }[];
  deleted: T[];
}

export interface Store<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  keys(): string[];
  /** All objects, optionally of one namespace and/or carrying all of `labels`. */
  list(filter?: { namespace?: string; labels?: Record<string, string> }): T[];
  byIndex(index: string, value: string): T[];
  indexKeys(index: string, value: string): string[];
  /** Adds an index; existing objects are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void;
  /** Inserts or replaces; answers the object it replaced. */
  upsert(object: T): T | undefined;
  /** Removes by key; answers the object it removed. */
  remove(key: string): T | undefined;
  /**
   * Makes the store hold exactly `objects` (a relist) and answers what changed, so an informer
   * emits only real differences: unchanged resourceVersions are neither added nor updated again.
   */
  replace(objects: T[]): ReplaceResult<T>;
  size(): number;
}

/** The keys under one index value: one key as it is, more in a Set. */
type Bucket = string | Set<string>;

function withKey(bucket: Bucket | undefined, key: string): Bucket {
  if (bucket === undefined || bucket === key) return key;
  if (typeof bucket === 'string') return new Set([bucket, key]);
  return bucket.add(key);
}

/** The bucket without `key`: undefined once empty, its last key as it is once only one is left. */
function withoutKey(bucket: Bucket | undefined, key: string): Bucket | undefined {
  if (bucket === undefined || bucket === key) return undefined;
  if (typeof bucket === 'string') return bucket;
  bucket.delete(key);
  if (bucket.size > 1) return bucket;
  const [last] = bucket;
  return last;
}

const keysOf = (bucket: Bucket | undefined): string[] => (bucket === undefined ? [] : typeof bucket === 'string' ? [bucket] : [...bucket]);

// eslint-disable-next-line max-lines-per-function -- the store is an object of small methods (get, list, byIndex, apply, ...) sharing its maps; each method is short.
export function createStore<T extends KubeObject = KubeObject>(indexes: Record<string, IndexFunc<T>> = {}): Store<T> {
  const items = new Map<string, T>();
  const indexFns = new Map<string, IndexFunc<T>>([[NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? '']]]);
  for (const [name, fn] of Object.entries(indexes)) indexFns.set(name, fn);
  // index name → value → keys. A value most objects have alone (its namespace, for the Roles,
  // Leases and ServiceAccounts of one cluster each) holds its one key as it is: a Set of one costs
  // about 400 bytes, and at 3,000 clusters the hub held 21,000 of them (9 MiB, a heap snapshot).
  const indices = new Map<string, Map<string, Bucket>>();

  function valuesOf(fn: IndexFunc<T>, object: T): string[] {
    try {
      return fn(object);
    } catch {
      return []; // a buggy index function must not corrupt the cache
    }
  }

  function indexObject(key: string, object: T, only?: string): void {
    for (const [name, fn] of indexFns) {
      if (only !== undefined && name !== only) continue;
      let index = indices.get(name);
      if (!index) indices.set(name, (index = new Map<string, Bucket>()));
      for (const value of valuesOf(fn, object)) index.set(value, withKey(index.get(value), key));
    }
  }

  function unindexObject(key: string, object: T): void {
    for (const [name, fn] of indexFns) {
      const index = indices.get(name);
      if (!index) continue;
      for (const value of valuesOf(fn, object)) {
        const bucket = withoutKey(index.get(value), key);
        if (bucket === undefined)
          index.delete(value); // no empty buckets left behind as objects churn
        else index.set(value, bucket);
      }
    }
  }

  const store: Store<T> = {
    get: (key) => items.get(key),
    has: (key) => items.has(key),
    keys: () => [...items.keys()],
    list(filter = {}) {
      const source = filter.namespace !== undefined ? store.byIndex(NAMESPACE_INDEX, filter.namespace) : [...items.values()];
      const labels = filter.labels;
      if (!labels) return source;
      return source.filter((o) => Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v));
    },
    byIndex(index, value) {
      return store
        .indexKeys(index, value)
        .map((key) => items.get(key))
        .filter((o): o is T => o !== undefined);
    },
    indexKeys(index, value) {
      if (!indexFns.has(index)) throw new Error(`no index named ${index}`);
      return keysOf(indices.get(index)?.get(value));
    },
    addIndex(name, fn) {
      indexFns.set(name, fn);
      indices.delete(name);
      for (const [key, object] of items) indexObject(key, object, name);
    },
    upsert(object) {
      const key = objectKey(object);
      const old = items.get(key);
      if (old) unindexObject(key, old);
      items.set(key, object);
      indexObject(key, object);
      return old;
    },
    remove(key) {
      const old = items.get(key);
      if (!old) return undefined;
      unindexObject(key, old);
      items.delete(key);
      return old;
    },
    replace(objects) {
      const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
      const seen = new Set<string>();
      for (const object of objects) {
        const key = objectKey(object);
        seen.add(key);
        const old = store.upsert(object);
        if (!old) result.added.push(object);
        else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) result.updated.push({ old, current: object });
      }
      for (const key of [...items.keys()]) {
        if (seen.has(key)) continue;
        const old = store.remove(key);
        if (old) result.deleted.push(old);
      }
      return result;
    },
    size: () => items.size,
  };
  return store;
}
