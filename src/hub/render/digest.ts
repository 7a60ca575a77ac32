import { createHash } from 'node:crypto';

// Digests of JSON content for cache keys and revisions. Object keys are sorted first, so a spec
// whose fields were merely reordered (kubectl, Argo CD and Flux all reorder freely) digests the
// same; array order is kept, because list order is meaningful in manifests and patches.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isPlainObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item,
  );
}

/** The hex SHA-256 of a value's canonical JSON. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
