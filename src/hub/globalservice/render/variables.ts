// `${...}` substitution in the string values of a service's manifests and override patches.
//
// The rules, decided once:
// - `${cluster.name}`, `${cluster.labels.KEY}` (KEY may hold dots and slashes, as label keys do) and
//   `${fleet.name}` are flotilla's variables. Any other reference in the `cluster`/`fleet` namespaces
//   (a typo, a missing label) is a render error naming the variable, never an empty string.
// - References outside those namespaces (`${HOME}` in a shell script, `${DS_PROMETHEUS}` in a
//   dashboard) are left exactly as written: manifests carry other tools' templates all the time.
// - `$${` is the escape for a literal `${`, in any string: `$${cluster.name}` ships `${cluster.name}`.
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
  return name === 'cluster' || name === 'fleet' || name.startsWith('cluster.') || name.startsWith('fleet.');
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
    : 'unknown variable (use cluster.name, cluster.labels.KEY or fleet.name)';
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
    unresolved = { variable: result.variable, pointer, reason: unresolvedReason(result.variable) };
    return text;
  });
  // The copy has the input's shape: only string values were replaced, by strings.
  return unresolved ? { ok: false, unresolved } : { ok: true, value: substituted as T };
}
