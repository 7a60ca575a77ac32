// Reading raw JSON objects. The agent's decisions take objects exactly as the apiserver serves them
// (the runtime's KubeObject), so a manifest from a Work and a live object from the cache have one
// shape: metadata is typed, everything else is `unknown` and narrowed where it is read.

import { isRecord } from '../runtime/kube.js';

export type JsonObject = Record<string, unknown>;

/** Reads a nested field (`field(obj, 'status', 'conditions')`), undefined when any step is missing. */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A copy of a map without one key. */
export function withoutKey<V>(map: Readonly<Record<string, V>>, key: string): Record<string, V> {
  return Object.fromEntries(Object.entries(map).filter(([entryKey]) => entryKey !== key));
}
