/**
 * Kubernetes LabelSelector semantics (matchLabels and matchExpressions) over a label map, as the
 * Kubernetes API defines them; the hub selects member clusters with it, the agent namespaces.
 */
import type { LabelSelector, LabelSelectorRequirement } from '../api/index.js';

export type { LabelSelector, LabelSelectorRequirement };

function requirementHolds(labels: Readonly<Record<string, string>>, req: LabelSelectorRequirement): boolean {
  const present = Object.hasOwn(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return present && values.includes(labels[req.key] ?? '');
    case 'NotIn':
      return !present || !values.includes(labels[req.key] ?? '');
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/** Whether labels satisfy a selector, as the Kubernetes API defines it (all terms ANDed). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    // The generated map type admits undefined; parsed JSON never holds it.
    if (value !== undefined && labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementHolds(labels, req));
}

// One requirement of kubectl's `-l` syntax: `key`, `!key`, `key=v`, `key==v`, `key!=v`,
// `key in (a,b)`, `key notin (a,b)`.
const SET_TERM = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^()]*)\)$/;
const EQUALITY_TERM = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const EXISTS_TERM = /^(!?)([^\s!=(),]+)$/;

/** Splits at the commas that are not inside `( )`. */
function selectorTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

/**
 * A label selector written as `kubectl get -l` takes it, as a LabelSelector; throws, naming the
 * term, on what the apiserver would refuse too.
 */
export function parseSelector(text: string): LabelSelector {
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const term of selectorTerms(text)) {
    const set = SET_TERM.exec(term);
    const equality = EQUALITY_TERM.exec(term);
    const exists = EXISTS_TERM.exec(term);
    if (set) {
      const values = (set[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      matchExpressions.push({ key: set[1] ?? '', operator: set[2] === 'in' ? 'In' : 'NotIn', values });
    } else if (equality) {
      matchExpressions.push({ key: equality[1] ?? '', operator: equality[2] === '!=' ? 'NotIn' : 'In', values: [equality[3] ?? ''] });
    } else if (exists) {
      matchExpressions.push({ key: exists[2] ?? '', operator: exists[1] === '!' ? 'DoesNotExist' : 'Exists' });
    } else {
      throw new Error(`"${term}" is not a label selector term (key=value, key!=value, key in (a,b), key notin (a,b), key, !key)`);
    }
  }
  return { matchExpressions };
}
