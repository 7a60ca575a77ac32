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
