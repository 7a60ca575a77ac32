// What an informer's cache keeps of each object, so that a hub caching 100,000 Works holds one copy
// of each string they share. JSON.parse makes a fresh string for nearly every value of every object
// (V8 shares only the shortest), and the Works of 10,000 clusters repeat most of theirs: label keys
// and values, condition types, reasons and messages, field managers, their manifests' content, and
// timestamps within the same second. The transform replaces each such string by one instance from
// a bounded intern table, and each object or array equal to one met before by that one's frozen
// instance (a service's manifests, sent alike to every cluster; a Role's rules), drops
// managedFields' field sets, and leaves out what its caller says no reader of the caches reads.
import { isRecord, type KubeObject, type TypeRef } from './kube.js';

export interface InternTable {
  /** The table's instance of a string equal to `value` (`value` itself the first time it is seen). */
  intern(value: string): string;
  /** Strings held now: never more than twice the capacity. */
  readonly size: number;
}

/**
 * A bounded table of two generations: a key is looked up in the current one, then in the previous
 * one (and kept again in the current); when the current one reaches `capacity`, it becomes the
 * previous and the oldest is let go. So values still being met stay shared, values met once (a
 * name, a timestamp of long ago) fall out after two generations, and the table never holds more
 * than 2 × `capacity` — a cheaper bound than an LRU's reordering on every hit.
 */
function twoGenerations<V>(capacity: number): { intern(key: string, value: V): V; readonly size: number } {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`intern table capacity must be a positive integer, got ${capacity}`);
  let current = new Map<string, V>();
  let previous = new Map<string, V>();
  return {
    intern(key, value) {
      const known = current.get(key);
      if (known !== undefined) return known;
      const kept = previous.get(key) ?? value;
      current.set(key, kept);
      if (current.size >= capacity) {
        previous = current;
        current = new Map();
      }
      return kept;
    },
    get size() {
      return current.size + previous.size;
    },
  };
}

/** A bounded intern table of strings (two generations of at most `capacity` each). */
export function createInternTable(capacity: number): InternTable {
  const strings = twoGenerations<string>(capacity);
  return {
    intern: (value) => strings.intern(value, value),
    get size() {
      return strings.size;
    },
  };
}

/**
 * Strings longer than this are kept as they are: long values (a payload's data, a failure's whole
 * message) are rarely shared, and with them the table's bound would be one of megabytes.
 */
export const MAX_INTERNED_LENGTH = 256;

/**
 * Strings this short are kept as they are: V8's JSON.parse already makes every value of up to 10
 * characters one shared instance ("True", "Applied", "v1"), so looking them up would cost CPU for
 * no byte.
 */
const SHARED_BY_V8_LENGTH = 10;

/** Strings the hub's table holds per generation: two hold the 20,000 namespaces and cluster names of 10,000 clusters, with room for the rest. */
export const INTERN_CAPACITY = 16_384;

// Metadata unique to each object (and each version of it): interning it could only churn the
// table. An ownerReference's uid, shared by every object of one owner, is interned.
const uniqueMetadata = new Set(['uid', 'resourceVersion']);

/** Values (objects and arrays) the hub's table holds per generation. */
export const SHARED_VALUES_CAPACITY = 16_384;

/** A value whose key would be longer than this is kept as it is (a manifest's data, a long message), and so is every value holding it. */
export const MAX_SHARED_KEY_LENGTH = 1024;

/**
 * Equal objects and arrays, shared: a Role's `verbs`, a Work's `spec.source` and `applyOptions`,
 * the manifests one service sends to every cluster, the conditions its agents report in the same
 * second. A value is shared when everything it holds is a string, number, boolean, null or a shared
 * value; its key is made of those (a shared value by its number), so equal keys mean deeply equal
 * values. Shared values are frozen: a reader that changed one would change it in every object
 * holding it, and throws instead. An ObjectMeta (it holds a resourceVersion) is never shared.
 */
interface SharedValues {
  share(value: object): object;
}

function createSharedValues(capacity: number): SharedValues {
  const table = twoGenerations<object>(capacity);
  const ids = new WeakMap<object, number>();
  let nextId = 0;
  const part = (member: unknown): string | undefined => {
    if (member === null || typeof member !== 'object') return JSON.stringify(member);
    const id = ids.get(member);
    return id === undefined ? undefined : `#${id}`;
  };
  const keyOf = (value: object): string | undefined => {
    let key = Array.isArray(value) ? '[' : '{';
    for (const [name, member] of Object.entries(value)) {
      const text = part(member);
      if (text === undefined) return undefined;
      key += Array.isArray(value) ? `${text},` : `${JSON.stringify(name)}:${text},`;
      if (key.length > MAX_SHARED_KEY_LENGTH) return undefined;
    }
    return key;
  };
  return {
    share(value) {
      if (ids.has(value)) return value;
      const key = keyOf(value);
      if (key === undefined) return value;
      const shared = table.intern(key, value);
      if (shared === value) ids.set(Object.freeze(value), nextId++);
      return shared;
    },
  };
}

/**
 * Replaces, in place, every string in `value` (short enough) by the table's instance, and every
 * value it holds by its shared instance (children first, so a parent's key names shared children).
 * In place, because an object JSON.parse built is laid out tighter than a copy made member by
 * member: copied, a cached Work took 370 bytes more (2,070 against 1,700, bench/work-heap.ts with a
 * copying variant).
 */
function internInPlace(value: unknown, table: InternTable, values: SharedValues, skip?: ReadonlySet<string>): unknown {
  if (typeof value === 'string')
    return value.length > SHARED_BY_V8_LENGTH && value.length <= MAX_INTERNED_LENGTH ? table.intern(value) : value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = internInPlace(value[index], table, values);
    return values.share(value);
  }
  if (isRecord(value)) {
    for (const key in value) if (skip?.has(key) !== true) value[key] = internInPlace(value[key], table, values);
    return 'resourceVersion' in value ? value : values.share(value);
  }
  return value;
}

/** Members of `status` that no reader of the caches reads, for the objects of one type (and, if given, labels). */
export interface UnreadStatus {
  type: TypeRef;
  /** Only objects carrying every one of these labels. */
  labels?: Readonly<Record<string, string>>;
  /** Top-level members of the object's status. */
  members: readonly string[];
}

export interface CacheTransformOptions {
  unreadStatus?: readonly UnreadStatus[];
  /** The table the strings are shared through (default: one of INTERN_CAPACITY for this transform alone). */
  table?: InternTable;
  /** Objects and arrays held per generation of the shared values' table (default SHARED_VALUES_CAPACITY). */
  sharedValuesCapacity?: number;
}

/** Rules by `apiVersion/kind`, each with its labels as pairs: looked up once per object, not scanned. */
type RulesByType = Map<string, { labels: [string, string][]; members: readonly string[] }[]>;

const typeKey = (type: TypeRef): string => `${type.apiVersion}/${type.kind}`;

function rulesByType(rules: readonly UnreadStatus[]): RulesByType {
  const byType: RulesByType = new Map();
  for (const rule of rules) {
    const key = typeKey(rule.type);
    byType.set(key, [...(byType.get(key) ?? []), { labels: Object.entries(rule.labels ?? {}), members: rule.members }]);
  }
  return byType;
}

/** The status members the rules leave out of `object`; undefined when none. */
function unreadMembers(object: KubeObject, byType: RulesByType): Set<string> | undefined {
  let unread: Set<string> | undefined;
  for (const rule of byType.get(typeKey(object)) ?? []) {
    if (!rule.labels.every(([key, value]) => object.metadata.labels?.[key] === value)) continue;
    unread ??= new Set();
    for (const member of rule.members) unread.add(member);
  }
  return unread;
}

/** A copy of `record` without the members `leftOut` names. */
function without(record: Record<string, unknown>, leftOut: ReadonlySet<string>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in record) if (!leftOut.has(key)) copy[key] = record[key];
  return copy;
}

// The one member of a managedFields entry the caches do without: its field set, most of a small
// object's bytes and read by no reader of them. The entries themselves stay, in order (manager,
// operation, apiVersion, time: who wrote the object), so a field manager's rename
// (field-managers.ts) still addresses and tests the right one.
const fieldSet = new Set(['fieldsV1']);

/**
 * A transform for informers (InformerOptions.transform): the object without managedFields' field
 * sets and without the status members `unreadStatus` names, its other strings and its values shared
 * through tables for every cache it serves (label keys and values repeat across kinds), shared
 * values frozen: readers of the caches must not change what they read. Deeply equal to the
 * object it is given minus what it leaves out. It takes the object it is given (the informer's
 * parse, which nothing else holds) and changes it in place, as withType does: a copy would cost
 * more CPU and, laid out member by member, more heap.
 */
export function createCacheTransform(options: CacheTransformOptions = {}): <T extends KubeObject>(object: T) => T {
  const table = options.table ?? createInternTable(INTERN_CAPACITY);
  const values = createSharedValues(options.sharedValuesCapacity ?? SHARED_VALUES_CAPACITY);
  const byType = rulesByType(options.unreadStatus ?? []);
  return <T extends KubeObject>(object: T): T => {
    const { metadata } = object;
    if (metadata.managedFields !== undefined)
      metadata.managedFields = metadata.managedFields.map((entry) => (isRecord(entry) ? without(entry, fieldSet) : entry));
    const unread = unreadMembers(object, byType);
    const record = object as Record<string, unknown>;
    if (unread !== undefined && isRecord(record.status)) record.status = without(record.status, unread);
    for (const key in record) record[key] = internInPlace(record[key], table, values, key === 'metadata' ? uniqueMetadata : undefined);
    return object;
  };
}
