import yaml from 'js-yaml';
import type { ConfigMapManifestsRef, GlobalServiceSource, Manifest } from '../../../api/index.js';
import type { RenderError } from './errors.js';
import { errorMessage } from '../../../runtime/log.js';

// The manifests of a service's source, before any per-cluster change.
//
// How a ConfigMap holds manifests: each selected data key holds one YAML stream of one or more
// documents separated by `---` (JSON is valid YAML, so a `.json` key holding one object works the
// same way). A document may also be a JSON/YAML array of manifests, or a `kind: List` whose `items`
// are manifests, as `kubectl get -o yaml` prints. Empty documents are skipped. Keys are read in
// sorted order (the apiserver serves data sorted), ConfigMaps in the order spec.source lists them.
// Documents are parsed with YAML's core schema, so `2024-01-01` stays a string (not a Date) and
// nothing but plain JSON data can come out of a document.

/** The data of the workspace ConfigMaps the source names, by ConfigMap name. */
export type ConfigMapData = ReadonlyMap<string, Readonly<Record<string, string>>>;

const DEFAULT_KEY = /\.(ya?ml|json)$/;

export type SourceResult = { ok: true; manifests: Manifest[] } | { ok: false; error: RenderError };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a value is not a manifest the hub can ship, or undefined when it is one. */
export function manifestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'is not an object';
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') return 'has no apiVersion';
  if (typeof value.kind !== 'string' || value.kind === '') return 'has no kind';
  const metadata = value.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') return 'has no metadata.name';
  return undefined;
}

/** Spreads arrays and `kind: List` documents into their items. */
function documentItems(document: unknown): unknown[] {
  if (Array.isArray(document)) return document.flatMap(documentItems);
  if (isObject(document) && document.kind === 'List' && Array.isArray(document.items)) return document.items.flatMap(documentItems);
  return document === null || document === undefined ? [] : [document];
}

function keysToRead(ref: ConfigMapManifestsRef, data: Readonly<Record<string, string>>): string[] {
  return ref.keys
    ? [...ref.keys].sort()
    : Object.keys(data)
        .filter((key) => DEFAULT_KEY.test(key))
        .sort();
}

/** The manifests of one ConfigMap data key, or the reason they cannot be read. */
export function parseManifestDocuments(text: string): { ok: true; manifests: Manifest[] } | { ok: false; message: string } {
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    return { ok: false, message: `is not valid YAML: ${errorMessage(error)}` };
  }
  const items = documents.flatMap(documentItems);
  const manifests: Manifest[] = [];
  for (const [index, item] of items.entries()) {
    const problem = manifestProblem(item);
    if (problem !== undefined) return { ok: false, message: `manifest ${index} ${problem}` };
    manifests.push(item as Manifest);
  }
  return { ok: true, manifests };
}

/** Every manifest of a source, in order: inline ones as written, or those of its ConfigMaps. */
export function sourceManifests(source: GlobalServiceSource, configMaps: ConfigMapData): SourceResult {
  if (source.manifests) return { ok: true, manifests: source.manifests };
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
