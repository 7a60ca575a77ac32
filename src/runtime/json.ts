// Canonical JSON: equal content gives equal bytes and digests, whatever order its keys came in
// (kubectl, Argo CD and Flux reorder freely). Array order is kept: it is meaningful in manifests.
import { createHash } from 'node:crypto';
import { isRecord } from './kube.js';

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isRecord(item)
      ? Object.fromEntries(
          Object.keys(item)
            .sort()
            .map((key) => [key, item[key]]),
        )
      : item,
  );
}

/** The hex SHA-256 of a value's canonical JSON. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
