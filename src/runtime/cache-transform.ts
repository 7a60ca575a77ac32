// What an informer's cache keeps of each object, so that a hub caching 100,000 Works holds one copy
// of each string they share. JSON.parse makes a fresh string for nearly every value of every object
// (V8 shares only the shortest), and the Works of 10,000 clusters repeat most of theirs: label keys
// and values, condition types, reasons and messages, field managers, their manifests' content, and
// timestamps within the same second. The transform replaces each such string by one instance from
// a bounded intern table, drops managedFields' field sets, and leaves out what its caller says no
// reader of the caches reads.
import { isRecord, type KubeObject, type TypeRef } from './kube.js';

export interface InternTable {
  /** The table's instance of a string equal to `value` (`value` itself the first time it is seen). */
  intern(value: string): string;
  /** Strings held now: never more than twice the capacity. */
  readonly size: number;
}

/**
 * A bounded intern table of two generations: a string is looked up in the current one, then in the
 * previous one (and kept again in the current); when the current one reaches `capacity`, it becomes
 * the previous and the oldest is let go. So strings still being met stay shared, strings met once (a
 * name, a timestamp of long ago) fall out after two generations, and the table never holds more
 * than 2 × `capacity` strings — a cheaper bound than an LRU's reordering on every hit.
 */
export function createInternTable(capacity: number): InternTable {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`intern table capacity must be a positive integer, got ${capacity}`);
  let current = new Map<string, string>();
  let previous = new Map<string, string>();
  return {
    intern(value) {
      const known = current.get(value);
      if (known !== undefined) return known;
      const kept = previous.get(value) ?? value;
      current.set(kept, kept);
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

/**
 * Replaces, in place, every string in `value` (short enough) by the table's instance. In place,
 * because an object JSON.parse built is laid out tighter than a copy made member by member: copied,
 * a cached Work took 370 bytes more (2,070 against 1,700, bench/work-heap.ts with a copying variant).
 */
function internInPlace(value: unknown, table: InternTable, skip?: ReadonlySet<string>): unknown {
  if (typeof value === 'string')
    return value.length > SHARED_BY_V8_LENGTH && value.length <= MAX_INTERNED_LENGTH ? table.intern(value) : value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = internInPlace(value[index], table);
  } else if (isRecord(value)) {
    for (const key in value) if (skip?.has(key) !== true) value[key] = internInPlace(value[key], table);
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
 * sets and without the status members `unreadStatus` names, its other strings shared through one
 * table for every cache it serves (label keys and values repeat across kinds). Deeply equal to the
 * object it is given minus what it leaves out. It takes the object it is given (the informer's
 * parse, which nothing else holds) and changes it in place, as withType does: a copy would cost
 * more CPU and, laid out member by member, more heap.
 */
export function createCacheTransform(options: CacheTransformOptions = {}): <T extends KubeObject>(object: T) => T {
  const table = options.table ?? createInternTable(INTERN_CAPACITY);
  const byType = rulesByType(options.unreadStatus ?? []);
  return <T extends KubeObject>(object: T): T => {
    const { metadata } = object;
    if (metadata.managedFields !== undefined)
      metadata.managedFields = metadata.managedFields.map((entry) => (isRecord(entry) ? without(entry, fieldSet) : entry));
    const unread = unreadMembers(object, byType);
    const record = object as Record<string, unknown>;
    if (unread !== undefined && isRecord(record.status)) record.status = without(record.status, unread);
    for (const key in record) record[key] = internInPlace(record[key], table, key === 'metadata' ? uniqueMetadata : undefined);
    return object;
  };
}
