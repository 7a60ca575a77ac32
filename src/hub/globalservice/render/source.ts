import type { ConfigMapManifestsRef, GlobalServiceSource, Manifest } from '../../../api/index.js';
import type { RenderError } from './errors.js';
import { parseManifestDocuments } from '../../../kube-semantics/manifest-documents.js';

// The manifests of a service's source, before any per-cluster change.
//
// How a ConfigMap holds manifests: each selected data key holds one YAML stream, read as
// kube-semantics/manifest-documents.ts says (documents, lists read the way kubectl reads them,
// errors naming document, item and field). Keys are read in sorted order (the apiserver serves
// data sorted), ConfigMaps in the order spec.source lists them.

/** The data of the workspace ConfigMaps the source names, by ConfigMap name. */
export type ConfigMapData = ReadonlyMap<string, Readonly<Record<string, string>>>;

const DEFAULT_KEY = /\.(ya?ml|json)$/;

export type SourceResult = { ok: true; manifests: Manifest[] } | { ok: false; error: RenderError };

function keysToRead(ref: ConfigMapManifestsRef, data: Readonly<Record<string, string>>): string[] {
  return ref.keys
    ? [...ref.keys].sort()
    : Object.keys(data)
        .filter((key) => DEFAULT_KEY.test(key))
        .sort();
}

// The last result for each source, with the ConfigMap data it was read from. The source and the data
// records are the informer cache's objects, never mutated, so the same objects mean the same result:
// a service reconciled on every change of its Works parses its ConfigMaps once per change of them,
// not once per reconcile, and keeps one manifest list whose digest is taken once (render.ts).
const lastRead = new WeakMap<
  GlobalServiceSource,
  { data: readonly (Readonly<Record<string, string>> | undefined)[]; result: SourceResult }
>();

/** Every manifest of a source, in order: inline ones as written, or those of its ConfigMaps. */
export function sourceManifests(source: GlobalServiceSource, configMaps: ConfigMapData): SourceResult {
  if (source.manifests) return { ok: true, manifests: source.manifests };
  const data = (source.configMapRefs ?? []).map((ref) => configMaps.get(ref.name));
  const last = lastRead.get(source);
  if (last && last.data.length === data.length && last.data.every((record, index) => record === data[index])) return last.result;
  const result = readConfigMaps(source, configMaps);
  lastRead.set(source, { data, result });
  return result;
}

function readConfigMaps(source: GlobalServiceSource, configMaps: ConfigMapData): SourceResult {
  const manifests: Manifest[] = [];
  for (const ref of source.configMapRefs ?? []) {
    const data = configMaps.get(ref.name);
    if (!data) return { ok: false, error: { reason: 'ConfigMapNotFound', message: `ConfigMap ${ref.name} does not exist` } };
    const keys = keysToRead(ref, data);
    if (keys.length === 0)
      return { ok: false, error: { reason: 'InvalidSource', message: `ConfigMap ${ref.name} has no .yaml, .yml or .json key` } };
    for (const key of keys) {
      const text = data[key];
      if (text === undefined)
        return { ok: false, error: { reason: 'ConfigMapKeyNotFound', message: `ConfigMap ${ref.name} has no key ${key}` } };
      const parsed = parseManifestDocuments(text);
      if (!parsed.ok)
        return { ok: false, error: { reason: 'InvalidSource', message: `ConfigMap ${ref.name} key ${key}: ${parsed.message}` } };
      manifests.push(...parsed.manifests);
    }
  }
  if (manifests.length === 0) return { ok: false, error: { reason: 'InvalidSource', message: 'the source holds no manifests' } };
  return { ok: true, manifests };
}
