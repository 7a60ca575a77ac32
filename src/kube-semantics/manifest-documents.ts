import yaml from 'js-yaml';
import type { Manifest } from '../api/index.js';
import { errorMessage } from '../runtime/log.js';

// Reading Kubernetes manifests out of YAML text, the way every flotilla source holds them (a
// ConfigMap key, a file of a Git repository, the output of helm or kustomize).
//
// A text is one YAML stream of one or more documents separated by `---` (JSON is valid YAML, so a
// `.json` file holding one object works the same way). Empty documents are skipped. Documents are
// parsed with YAML's core schema, so `2024-01-01` stays a string (not a Date) and nothing but plain
// JSON data can come out of a document.
//
// A document is a manifest, or a list of manifests read the way kubectl reads one:
// - `kind: List` or any typed list (`RoleList`, `RoleBindingList`, `ConfigMapList`, what
//   `kubectl get -o yaml` prints and what kube-prometheus publishes) whose `items` is an array
//   stands for its items, in order; lists inside lists are spread too.
// - An item of a typed list that has neither apiVersion nor kind takes the list's apiVersion and
//   the list's kind without `List` (a `RoleList` item is a Role), as kubectl does for the lists
//   the apiserver serves without them.
// - A JSON/YAML array of manifests stands for its elements.
// kubectl goes further and takes any object with an `items` array for a list, whatever its kind;
// flotilla asks the kind to say so, so that a custom resource with a top-level `items` field is
// shipped as the object it is. A `*List` kind without `items` is likewise an ordinary manifest (a
// custom kind may end in List).
//
// An error names the document (counted from 1, as an editor counts `---` sections), the list item
// within it, what is known of the object (kind, namespace/name) and the field that is missing, so
// that `ConfigMap monitoring key roles.yaml: document 1 items[2] (Role kube-system/x) has no
// apiVersion` points at the line to fix.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Why a value is not a manifest the hub can ship, or undefined when it is one. */
export function manifestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `is ${describeValue(value)}, not an object`;
  if (!nonEmptyString(value.apiVersion)) return 'has no apiVersion';
  if (!nonEmptyString(value.kind)) return 'has no kind';
  const metadata = value.metadata;
  if (!isObject(metadata) || !nonEmptyString(metadata.name)) return 'has no metadata.name';
  return undefined;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return `a ${typeof value} (${text.length > 40 ? `${text.slice(0, 40)}…` : text})`;
}

/** `(Role kube-system/prometheus-k8s)`: what is known of an object that failed, for a message. */
function identity(value: unknown): string {
  if (!isObject(value)) return '';
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const name = nonEmptyString(metadata.name) ? (nonEmptyString(metadata.namespace) ? `${metadata.namespace}/` : '') + metadata.name : '';
  if (nonEmptyString(value.kind)) return ` (${value.kind}${name === '' ? '' : ` ${name}`})`;
  return name === '' ? '' : ` (named ${name})`;
}

/** A list kubectl would spread: `kind: List` or a typed `*List`, with its items. */
function listKind(value: Record<string, unknown>): string | undefined {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && 'items' in value ? value.kind : undefined;
}

const notAListHint = '; it has an items array, but only kind List or a kind ending in List is read as a list';

type Items = { ok: true; manifests: Manifest[] } | { ok: false; message: string };

/** Each element's manifests, in order; the first problem stops it. */
function spread(elements: readonly unknown[], where: (index: number) => string, into: Manifest[]): string | undefined {
  for (const [index, element] of elements.entries()) {
    const problem = documentManifests(element, where(index), into);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The items of a list document (`listKind` said it is one). */
function listManifests(list: Record<string, unknown>, kind: string, where: string, into: Manifest[]): string | undefined {
  // kubectl reads `items: null` as an empty list.
  if (list.items === null) return undefined;
  if (!Array.isArray(list.items)) return `${where} (${kind}) has items that are ${describeValue(list.items)}, not an array`;
  const items: unknown[] = list.items;
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  // kubectl's rule for typed lists: an item that says neither apiVersion nor kind is of the list's type.
  const typed = items.map((item) =>
    itemKind !== undefined && isObject(item) && item.apiVersion === undefined && item.kind === undefined
      ? { apiVersion: list.apiVersion, kind: itemKind, ...item }
      : item,
  );
  return spread(typed, (index) => `${where} items[${index}]`, into);
}

/** The manifests a parsed document stands for; `where` names it in errors (`document 2 items[0]`). */
function documentManifests(value: unknown, where: string, into: Manifest[]): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return spread(value, (index) => `${where} [${index}]`, into);
  const kind = isObject(value) ? listKind(value) : undefined;
  if (isObject(value) && kind !== undefined) return listManifests(value, kind, where, into);
  const problem = manifestProblem(value);
  if (problem !== undefined)
    return `${where}${identity(value)} ${problem}${isObject(value) && Array.isArray(value.items) ? notAListHint : ''}`;
  // manifestProblem checked the shape a Manifest promises.
  into.push(value as Manifest);
  return undefined;
}

/** The manifests of one YAML text, or the reason they cannot be read. */
export function parseManifestDocuments(text: string): Items {
  let documents: unknown[];
  try {
    documents = yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    return { ok: false, message: `is not valid YAML: ${errorMessage(error)}` };
  }
  const manifests: Manifest[] = [];
  for (const [index, document] of documents.entries()) {
    const problem = documentManifests(document, `document ${index + 1}`, manifests);
    if (problem !== undefined) return { ok: false, message: problem };
  }
  return { ok: true, manifests };
}
