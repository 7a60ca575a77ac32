import { annotations, type Manifest } from '../../../api/index.js';

// `${...}` substitution in the string values of a service's manifests and override patches.
//
// Real manifests are full of other tools' `${...}`: Grafana dashboards (`${datasource}`,
// `${cluster}`, `${cluster:queryparam}`, `${__data.fields.Pod}`), shell scripts (`${HOME}`), env
// templates, Flux's `${cluster_env}`. Only what is unmistakably flotilla's is touched. The rules:
// - flotilla's references are the names inside `${...}` (spaces trimmed) that start with
//   `cluster.` or `fleet.`: flotilla's own namespaces. The variables are `${cluster.name}`,
//   `${cluster.labels.KEY}` (KEY may hold dots and slashes, as label keys do) and `${fleet.name}`.
//   Any other name in those namespaces (`${cluster.nmae}`, a label the cluster does not have) is a
//   render error naming the variable and where it is, never an empty string and never shipped as
//   written: a typo must not reach a thousand clusters unnoticed.
// - Everything else is left exactly as written, `${cluster}` and `${fleet}` included: Grafana's
//   kube-prometheus dashboards use a bare `${cluster}` as their own dashboard variable (checked on
//   kube-prometheus's published manifests/, which have `${cluster}` and `${datasource}` but no
//   `${cluster.` or `${fleet.` anywhere). Grafana's format suffix (`${cluster:csv}`) is not ours
//   either. Shell cannot have a dot in a variable name, nor can Flux's postBuild variables.
// - What can collide is text in flotilla's namespaces meant for another tool, such as a
//   JavaScript template literal `${cluster.id}` in a script: it fails the render with a message
//   saying how to keep it, with one of the two ways out below.
// - `$${` is the escape for a literal `${`, in any string: `$${cluster.name}` ships
//   `${cluster.name}`, and `$${HOME}` ships `${HOME}` (as in Flux and Docker Compose).
// - A manifest annotated `flotilla.dev/substitute: disabled` (Flux's
//   `kustomize.toolkit.fluxcd.io/substitute: disabled`) is shipped exactly as written: no variable
//   is replaced and no escape is undone in it. The annotation is read from the manifest as the
//   source holds it (an override cannot add it) and is shipped with it. Override patch values are
//   always substituted: they are flotilla's own text, even when they patch such a manifest. Any
//   other value of the annotation is an error, so a misspelt opt-out is not silently ignored.
// - Only values change, never object keys, and a value stays a string even when it is one whole
//   reference ("${cluster.labels.replicas}" gives "3", not 3): no type guessing.
// - Each string is substituted exactly once, so a label value that itself contains `${...}` is
//   shipped verbatim.

export interface VariableContext {
  clusterName: string;
  clusterLabels: Readonly<Record<string, string>>;
  fleetName: string;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const LABEL_PREFIX = 'cluster.labels.';

function isFlotillaVariable(name: string): boolean {
  return name.startsWith('cluster.') || name.startsWith('fleet.');
}

/** The one value of the annotation `flotilla.dev/substitute` that opts a manifest out. */
const substituteDisabled = 'disabled';

/**
 * Whether a manifest is substituted: true, false when it opts out, or the reason its annotation is
 * wrong (a misspelt opt-out must not be ignored).
 */
export function substitutionMode(manifest: Manifest): boolean | string {
  const value: unknown = manifest.metadata.annotations?.[annotations.substitute];
  if (value === undefined) return true;
  if (value === substituteDisabled) return false;
  return `annotation ${annotations.substitute} must be ${substituteDisabled} to ship the manifest as written, not ${JSON.stringify(value)}`;
}

/** The value of one flotilla variable for a cluster; undefined when it does not exist there. */
export function resolveVariable(name: string, context: VariableContext): string | undefined {
  if (name === 'cluster.name') return context.clusterName;
  if (name === 'fleet.name') return context.fleetName;
  if (name.startsWith(LABEL_PREFIX)) {
    const key = name.slice(LABEL_PREFIX.length);
    return Object.hasOwn(context.clusterLabels, key) ? context.clusterLabels[key] : undefined;
  }
  return undefined;
}

/**
 * Why a variable has no value, for an error message a user can act on. It does not name the cluster:
 * a cached render error is shared by every cluster with the same inputs.
 */
function unresolvedReason(name: string): string {
  return name.startsWith(LABEL_PREFIX)
    ? `the cluster has no label ${name.slice(LABEL_PREFIX.length)}`
    : 'unknown variable: flotilla has cluster.name, cluster.labels.KEY and fleet.name; write $${ for a literal ${';
}

const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** A copy of a JSON value with `map` applied to every string value (never to keys), given its JSON pointer. */
function mapStrings(value: unknown, pointer: string, map: (text: string, pointer: string) => string): unknown {
  if (typeof value === 'string') return map(value, pointer);
  if (Array.isArray(value)) return value.map((item, index) => mapStrings(item, `${pointer}/${index}`, map));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, `${pointer}/${pointerToken(key)}`, map)]));
  }
  return value;
}

/** The flotilla variables a JSON value references, added to `into`. */
export function collectVariables(value: unknown, into: Set<string>): Set<string> {
  mapStrings(value, '', (text) => {
    for (const match of text.matchAll(REFERENCE)) {
      const name = match[1]?.trim();
      if (name !== undefined && isFlotillaVariable(name)) into.add(name);
    }
    return text;
  });
  return into;
}

export interface UnresolvedVariable {
  variable: string;
  /** JSON pointer of the string that references it, within the substituted value. */
  pointer: string;
  reason: string;
  /** No such variable exists (rather than a label the cluster lacks): perhaps another tool's text. */
  unknown: boolean;
}

export type SubstitutionResult<T> = { ok: true; value: T } | { ok: false; unresolved: UnresolvedVariable };

function substituteText(text: string, context: VariableContext): { ok: true; text: string } | { ok: false; variable: string } {
  let missing: string | undefined;
  const result = text.replace(REFERENCE, (whole, rawName: string | undefined) => {
    if (rawName === undefined) return '${';
    const name = rawName.trim();
    if (!isFlotillaVariable(name)) return whole;
    const value = resolveVariable(name, context);
    missing ??= value === undefined ? name : undefined;
    return value ?? whole;
  });
  return missing === undefined ? { ok: true, text: result } : { ok: false, variable: missing };
}

/** A copy of a JSON value with every string substituted; the first unresolved variable fails it. */
export function substituteVariables<T>(value: T, context: VariableContext): SubstitutionResult<T> {
  let unresolved: UnresolvedVariable | undefined;
  const substituted = mapStrings(value, '', (text, pointer) => {
    if (unresolved) return text;
    const result = substituteText(text, context);
    if (result.ok) return result.text;
    const unknown = !result.variable.startsWith(LABEL_PREFIX);
    unresolved = { variable: result.variable, pointer, reason: unresolvedReason(result.variable), unknown };
    return text;
  });
  // The copy has the input's shape: only string values were replaced, by strings.
  return unresolved ? { ok: false, unresolved } : { ok: true, value: substituted as T };
}
