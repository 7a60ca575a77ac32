// Checks the authored API before anything is generated, so a schema mistake fails `make generate`
// with a pointed message instead of a CRD the apiserver refuses or a validator that disagrees with it.
import { rulesOf } from '../../src/api/cel.js';
import { type JsonObject, anyOfBranch, isObject, mapSchema } from './schemas.js';

const ruleFields = new Set(['rule', 'message', 'fieldPath']);

/** Problems in one kind's resolved schema, each naming the field. */
export function lintSchema(kind: string, resolved: JsonObject): string[] {
  const problems: string[] = [];
  const where = (path: string[]): string =>
    `${kind} ${path.length === 0 ? '(root)' : path.join('.').replaceAll('.[]', '[]').replaceAll('.{}', '{}')}`;
  mapSchema(resolved, (node, path) => {
    if (path.at(-1) === anyOfBranch) return node;
    if (typeof node.description !== 'string' || node.description.trim() === '') {
      problems.push(`${where(path)}: every field needs a description (kubectl explain shows it)`);
    }
    if (node.type === undefined && !node['x-kubernetes-int-or-string'] && !node['x-kubernetes-preserve-unknown-fields']) {
      problems.push(`${where(path)}: a structural schema needs a type`);
    }
    const rules = node['x-kubernetes-validations'];
    if (rules !== undefined) problems.push(...lintRules(where(path), rules, node, path));
    return node;
  });
  return problems;
}

function lintRules(where: string, rules: unknown, node: JsonObject, path: string[]): string[] {
  if (!Array.isArray(rules)) return [`${where}: x-kubernetes-validations must be a list`];
  const problems = rules.flatMap((rule) => {
    if (!isObject(rule) || typeof rule.rule !== 'string' || typeof rule.message !== 'string') {
      return [`${where}: every rule needs rule and message (the message is what kubectl apply shows)`];
    }
    // The ajv keyword implements exactly these fields; anything else would be checked by the
    // apiserver only.
    const unsupported = Object.keys(rule).filter((field) => !ruleFields.has(field));
    return unsupported.length > 0 ? [`${where}: rule fields ${unsupported.join(', ')} are not supported by the ajv validators`] : [];
  });
  if (problems.length > 0) return problems;
  try {
    const compiled = rulesOf(node);
    if (compiled.hasTransitionRules && path.includes('[]')) {
      return [`${where}: a rule using oldSelf inside a list cannot be checked by the ajv validators (list items are not paired)`];
    }
  } catch (error) {
    return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
  }
  return [];
}
