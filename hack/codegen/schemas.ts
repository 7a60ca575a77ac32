// Loads schemas/*.yaml — the single source of truth of the flotilla API — and turns the authored
// JSON Schemas (with references into common.yaml) into the self-contained schemas a CRD and ajv need.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** The CRD facts a schema file carries beside its JSON Schema, under `x-flotilla-crd`. */
export interface CrdFacts {
  scope: 'Cluster' | 'Namespaced';
  plural: string;
  singular: string;
  shortNames: string[];
  printerColumns: PrinterColumn[];
}

export interface KindSchema {
  kind: string;
  /** Where it came from, for error messages. */
  file: string;
  crd: CrdFacts;
  /** The schema as authored, references and all. */
  authored: JsonObject;
}

export interface ApiSchemas {
  /** The shared definitions of common.yaml, by name. */
  definitions: Record<string, JsonObject>;
  /** One per kind, in file-name order so every output is deterministic. */
  kinds: KindSchema[];
}

const commonFile = 'common.yaml';
const localRefPrefix = '#/$defs/';
const commonRefPrefix = `${commonFile}#/$defs/`;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYaml(path: string): JsonObject {
  const parsed: unknown = yaml.load(readFileSync(path, 'utf8'));
  if (!isObject(parsed)) throw new Error(`${path}: expected a YAML mapping`);
  return parsed;
}

export function loadSchemas(dir: string): ApiSchemas {
  const common = readYaml(join(dir, commonFile));
  const defs = common.$defs;
  if (!isObject(defs)) throw new Error(`${commonFile}: expected $defs`);
  const definitions: Record<string, JsonObject> = {};
  for (const [name, def] of Object.entries(defs)) {
    if (!isObject(def)) throw new Error(`${commonFile}: $defs.${name} is not a schema`);
    definitions[name] = def;
  }
  const kinds = readdirSync(dir)
    .filter((file) => file.endsWith('.yaml') && file !== commonFile)
    .sort()
    .map((file) => {
      const authored = readYaml(join(dir, file));
      const { 'x-flotilla-crd': crd, title } = authored;
      if (typeof title !== 'string' || !isObject(crd)) throw new Error(`${file}: needs a title (the kind) and x-flotilla-crd`);
      return { kind: title, file, crd: crd as unknown as CrdFacts, authored };
    });
  return { definitions, kinds };
}

/** The definition name a `$ref` points at, whether written inside common.yaml or from a kind's file. */
export function refName(ref: string): string {
  for (const prefix of [commonRefPrefix, localRefPrefix]) {
    if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  }
  throw new Error(`unsupported $ref ${ref}: only ${commonRefPrefix}NAME and ${localRefPrefix}NAME`);
}

/**
 * Rewrites every node of a schema tree bottom-up: `visit` gets each schema node after its children
 * were rewritten, with its path (property names, `[]` for list items, `{}` for map values).
 * Keyword values that are not schemas (enum, default, required, ...) are left alone.
 */
export function mapSchema(node: JsonObject, visit: (node: JsonObject, path: string[]) => JsonObject, path: string[] = []): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, isObject(child) ? mapSchema(child, visit, [...path, name]) : child]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) {
      out[key] = mapSchema(value, visit, [...path, key === 'items' ? '[]' : '{}']);
    } else if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((child) => (isObject(child) ? mapSchema(child, visit, [...path, anyOfBranch]) : child));
    } else {
      out[key] = value;
    }
  }
  return visit(out, path);
}

/** The path segment of an anyOf/allOf/oneOf branch: a type alternative, not a field. */
export const anyOfBranch = '|';

/** Keywords of a schema file's root that describe the file, not the kind's objects. */
export const schemaFileKeywords = ['$schema', '$id', '$defs', 'x-flotilla-crd'];

/**
 * The kind's schema with every reference inlined. Keywords written beside a `$ref` refine the
 * definition: they replace its keywords, except `x-kubernetes-validations`, which add to its rules.
 */
export function resolveSchema(schema: JsonObject, definitions: Record<string, JsonObject>): JsonObject {
  const inline = (node: JsonObject): JsonObject => {
    const { $ref, ...siblings } = node;
    if (typeof $ref !== 'string') return node;
    const name = refName($ref);
    const def = definitions[name];
    if (!def) throw new Error(`$ref to unknown definition ${name}`);
    const resolved = resolveSchema(def, definitions);
    const rules = [...asArray(resolved['x-kubernetes-validations']), ...asArray(siblings['x-kubernetes-validations'])];
    const merged: JsonObject = { ...resolved, ...siblings };
    if (rules.length > 0) merged['x-kubernetes-validations'] = rules;
    return merged;
  };
  return omit(mapSchema(schema, inline), ...schemaFileKeywords);
}

/** A copy of `node` without `keys`. */
export function omit(node: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(node).filter(([key]) => !keys.includes(key)));
}

function asArray(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}
