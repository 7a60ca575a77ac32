import { Buffer } from 'node:buffer';
import { isRecord, type KubeObject, splitApiVersion } from '../runtime/kube.js';
import { withoutKey, type JsonObject } from './object.js';
import { quantitiesEqual } from '../kube-semantics/quantity.js';

/**
 * Drift as server-side apply sees ownership: only fields the applied manifest sets are ours, so only
 * they can drift. Defaults, status and fields other managers own (an HPA's `spec.replicas` when the
 * manifest leaves replicas out, a sidecar a webhook injects) are never drift.
 */
export interface DriftReport {
  drifted: boolean;
  /** The object is gone or being deleted: drift of the whole object. */
  missing: boolean;
  /** Drifted field paths, sorted, de-duplicated and capped at `maxPaths`. */
  paths: string[];
  /** How many distinct paths drifted, including those the cap left out. */
  count: number;
}

export interface DriftOptions {
  maxPaths?: number;
}

export const DEFAULT_MAX_DRIFT_PATHS = 50;

/**
 * Merge keys of the common Kubernetes lists (the `x-kubernetes-list-map-keys` of the built-in types).
 * A list is matched by the field that names it; `ports` has two shapes (container and service ports),
 * so candidates are tried in order. A default stands in for a key field the apiserver fills in.
 */
interface MergeKey {
  fields: readonly string[];
  defaults?: Readonly<Record<string, string>>;
}

const byName: readonly MergeKey[] = [{ fields: ['name'] }];
const MERGE_KEYS: Readonly<Record<string, readonly MergeKey[]>> = {
  containers: byName,
  initContainers: byName,
  ephemeralContainers: byName,
  env: byName,
  volumes: byName,
  imagePullSecrets: byName,
  resourceClaims: byName,
  schedulingGates: byName,
  webhooks: byName,
  ports: [
    { fields: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
    { fields: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  ],
  volumeMounts: [{ fields: ['mountPath'] }],
  volumeDevices: [{ fields: ['devicePath'] }],
  hostAliases: [{ fields: ['ip'] }],
  readinessGates: [{ fields: ['conditionType'] }],
  resizePolicy: [{ fields: ['resourceName'] }],
  topologySpreadConstraints: [{ fields: ['topologyKey', 'whenUnsatisfiable'] }],
};

// Maps whose values are quantities (resources, quotas, limit ranges, PV capacity, pod overhead).
const QUANTITY_MAPS = new Set([
  'limits',
  'requests',
  'capacity',
  'hard',
  'overhead',
  'max',
  'min',
  'default',
  'defaultRequest',
  'maxLimitRequestRatio',
]);
const QUANTITY_FIELDS = new Set(['sizeLimit', 'storage']);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function childPath(path: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

interface Context {
  path: string;
  /** The name of the field holding the value: decides merge keys and quantity handling. */
  fieldName: string;
  parentFieldName: string;
  /** The value is an entry of a user-keyed map (labels, data): missing is drift even if it is empty. */
  isMapEntry: boolean;
  /** The value is such a map. */
  isExactMap: boolean;
}

/** JSON zero values the apiserver drops on output (`omitempty`): setting one is indistinguishable from not. */
function isZeroValue(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return value === '' || value === 0 || value === false;
}

function scalarsEqual(desired: unknown, live: unknown, context: Context): boolean {
  if (desired === live) return true;
  if (QUANTITY_MAPS.has(context.parentFieldName) || QUANTITY_FIELDS.has(context.fieldName)) {
    return quantitiesEqual(desired, live);
  }
  // int-or-string fields (`targetPort`, `maxSurge`) keep the type they were written with, and a
  // manifest rendered from a template may write either; the same number is the same value.
  const numeric = [desired, live].map((value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value));
  return typeof desired !== typeof live && typeof numeric[0] === 'number' && numeric[0] === numeric[1];
}

function keyOf(item: unknown, mergeKey: MergeKey): string | undefined {
  if (!isRecord(item)) return undefined;
  const parts = mergeKey.fields.map((f) => {
    const value = item[f] ?? mergeKey.defaults?.[f];
    return typeof value === 'string' || typeof value === 'number' ? `${f}=${value}` : undefined;
  });
  return parts.every((part) => part !== undefined) ? parts.join(',') : undefined;
}

/** The merge key of a list, if every item has one and none repeats; otherwise the list is atomic. */
function mergeKeyFor(fieldName: string, desired: readonly unknown[]): MergeKey | undefined {
  return MERGE_KEYS[fieldName]?.find((mergeKey) => {
    const keys = desired.map((item) => keyOf(item, mergeKey));
    return keys.every((key) => key !== undefined) && new Set(keys).size === keys.length;
  });
}

function compareKeyedList(desired: readonly unknown[], live: unknown, mergeKey: MergeKey, context: Context, out: string[]): void {
  const liveByKey = new Map<string, unknown>();
  for (const item of Array.isArray(live) ? live : []) {
    const key = keyOf(item, mergeKey);
    if (key !== undefined) liveByKey.set(key, item);
  }
  for (const item of desired) {
    const key = keyOf(item, mergeKey) ?? '';
    const path = `${context.path}[${key}]`;
    const liveItem = liveByKey.get(key);
    if (liveItem === undefined) out.push(path);
    else compareValue(item, liveItem, { ...context, path }, out);
  }
}

/** An atomic list is owned whole: same length, and each item matches its counterpart. */
function compareAtomicList(desired: readonly unknown[], live: unknown, context: Context, out: string[]): void {
  const matches =
    Array.isArray(live) &&
    live.length === desired.length &&
    desired.every((item, i) => {
      const itemDrift: string[] = [];
      compareValue(item, live[i], context, itemDrift);
      return itemDrift.length === 0;
    });
  if (!matches) out.push(context.path);
}

function compareValue(desired: unknown, live: unknown, context: Context, out: string[]): void {
  // Server-side apply treats an explicit null as "not set".
  if (desired === undefined || desired === null) return;
  if (live === undefined && !context.isMapEntry && isZeroValue(desired)) return;
  if (Array.isArray(desired)) {
    const mergeKey = mergeKeyFor(context.fieldName, desired);
    if (mergeKey) compareKeyedList(desired, live, mergeKey, context, out);
    else compareAtomicList(desired, live, context, out);
    return;
  }
  if (isRecord(desired)) {
    // An absent parent reads as empty so that each missing leaf is named, not just the subtree.
    const liveObject = live ?? {};
    if (!isRecord(liveObject)) {
      out.push(context.path);
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      const child: Context = {
        path: childPath(context.path, key),
        fieldName: key,
        parentFieldName: context.fieldName,
        isMapEntry: context.isExactMap,
        isExactMap: false,
      };
      compareValue(value, liveObject[key], child, out);
    }
    return;
  }
  if (!scalarsEqual(desired, live, context)) out.push(context.path);
}

const EXACT_KEY_MAPS = new Set(['data', 'binaryData']);
const NOT_SPEC = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** A Secret's `stringData` is write-only: the apiserver stores it base64-encoded under `data`. */
function foldStringData(manifest: KubeObject): JsonObject {
  const stringData = manifest.stringData;
  if (manifest.kind !== 'Secret' || splitApiVersion(manifest.apiVersion)[0] !== '' || !isRecord(stringData)) {
    return manifest;
  }
  const encoded = Object.fromEntries(
    Object.entries(stringData).map(([key, value]) => [
      key,
      typeof value === 'string' ? Buffer.from(value, 'utf8').toString('base64') : value,
    ]),
  );
  return { ...withoutKey(manifest, 'stringData'), data: { ...(isRecord(manifest.data) ? manifest.data : {}), ...encoded } };
}

/** All drifted paths of `live` against the `applied` manifest, uncapped and unsorted. */
function driftedPaths(applied: KubeObject, live: KubeObject): string[] {
  const out: string[] = [];
  const root = (path: string, isExactMap: boolean): Context => ({
    path,
    fieldName: path,
    parentFieldName: '',
    isMapEntry: false,
    isExactMap,
  });
  for (const mapName of ['labels', 'annotations'] as const) {
    const path = `metadata.${mapName}`;
    compareValue(applied.metadata[mapName], live.metadata[mapName], root(path, true), out);
  }
  const desired = foldStringData(applied);
  for (const [key, value] of Object.entries(desired)) {
    if (!NOT_SPEC.has(key)) compareValue(value, live[key], root(childPath('', key), EXACT_KEY_MAPS.has(key)), out);
  }
  return out;
}

export function detectDrift(applied: KubeObject, live: KubeObject | undefined, options: DriftOptions = {}): DriftReport {
  if (live === undefined || live.metadata.deletionTimestamp !== undefined) {
    return { drifted: true, missing: true, paths: [], count: 0 };
  }
  const unique = [...new Set(driftedPaths(applied, live))].sort();
  return {
    drifted: unique.length > 0,
    missing: false,
    paths: unique.slice(0, options.maxPaths ?? DEFAULT_MAX_DRIFT_PATHS),
    count: unique.length,
  };
}
