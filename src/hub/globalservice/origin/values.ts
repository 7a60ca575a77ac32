// A chart's values for one cluster: the valuesFrom files in order, then spec.source.chart.values,
// merged the way `helm template -f a.yaml -f b.yaml --set ...` merges them (maps key by key, all
// else replaced, a null removes the key), then flotilla's variables substituted in every string
// (render/variables.ts: ${cluster.name}, ${cluster.labels.KEY}, ${fleet.name}; $${ for a literal).
// Pure, table-tested (values.test.ts).
import { load } from 'js-yaml';
import { substituteVariables, type VariableContext } from '../render/variables.js';

export type Values = Record<string, unknown>;

/** One valuesFrom entry as read: its text, or why it could not be read (undefined: optional and absent). */
export interface ValuesFile {
  /** `ConfigMap/NAME key` or `Secret/NAME key`, for messages. */
  from: string;
  text: string | undefined;
}

export type ValuesResult = { ok: true; values: Values } | { ok: false; message: string };

const isMap = (value: unknown): value is Values => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Helm's coalesce of two value trees: `over` wins; maps merge; null deletes. */
export function mergeValues(base: Values, over: Values): Values {
  const merged = new Map(Object.entries(base));
  for (const [key, value] of Object.entries(over)) {
    const current = merged.get(key);
    if (value === null) merged.delete(key);
    else merged.set(key, isMap(value) && isMap(current) ? mergeValues(current, value) : value);
  }
  return Object.fromEntries(merged);
}

/** The files and inline values merged (cluster-independent: one result for every cluster). */
export function mergedValues(files: readonly ValuesFile[], inline: Values | undefined): ValuesResult {
  let values: Values = {};
  for (const file of files) {
    if (file.text === undefined) continue;
    let parsed: unknown;
    try {
      parsed = load(file.text);
    } catch (error) {
      return { ok: false, message: `valuesFrom ${file.from}: not YAML: ${(error as Error).message.split('\n')[0] ?? ''}` };
    }
    if (parsed === undefined || parsed === null) continue;
    if (!isMap(parsed))
      return {
        ok: false,
        message: `valuesFrom ${file.from}: a values file must be a map, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`,
      };
    values = mergeValues(values, parsed);
  }
  return { ok: true, values: inline ? mergeValues(values, inline) : values };
}

/** The merged values with one cluster's variables in place. */
export function clusterValues(values: Values, context: VariableContext): ValuesResult {
  const substituted = substituteVariables(values, context);
  if (substituted.ok) return { ok: true, values: substituted.value };
  const { variable, pointer, reason } = substituted.unresolved;
  return { ok: false, message: `spec.source.chart values${pointer}: \${${variable}}: ${reason}` };
}
