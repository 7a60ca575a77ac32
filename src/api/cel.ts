// Evaluates the CEL rules of a schema's `x-kubernetes-validations` the way the apiserver does, so the
// ajv validators refuse what `kubectl apply` refuses. Two apiserver behaviours matter here:
//  - CEL sees values typed by the schema: an `integer` field is a CEL int, a `number` a double. JSON
//    has one number type, so values are converted with their schema before evaluation.
//  - Transition rules (those that use `oldSelf`) only run on update, when an old value exists at the
//    same path; on create they are skipped.
import { CelScalar, type CelInput, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

/** One entry of `x-kubernetes-validations`, with the fields flotilla's schemas use. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Where the apiserver reports a failure, relative to the node holding the rule (e.g. `.stages`). */
  fieldPath?: string;
}

/** The slice of a structural schema that decides how CEL sees a value. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
  /** Other keywords (description, enum, ...) do not change how CEL sees a value. */
  [keyword: string]: unknown;
}

export interface RuleViolation {
  rule: ValidationRule;
  message: string;
}

interface CompiledRule {
  rule: ValidationRule;
  isTransition: boolean;
  evaluate: (self: CelInput, oldSelf: CelInput) => unknown;
}

// The Kubernetes CEL environment includes the strings extension (lowerAscii, split, ...); the
// standard library brings has(), size(), all/exists/exists_one, matches() (RE2, as in Go) and duration().
const environment = celEnv({ funcs: strings, variables: { self: CelScalar.DYN, oldSelf: CelScalar.DYN } });

/** Parses and plans one rule; throws on a syntax error, so a bad rule fails code generation. */
function compileRule(rule: ValidationRule): CompiledRule {
  const parsed = parse(rule.rule);
  const program = plan(environment, parsed);
  return {
    rule,
    isTransition: mentionsOldSelf(parsed.expr),
    evaluate: (self, oldSelf) => program({ self, oldSelf }),
  };
}

/** Whether the parsed expression reads the identifier `oldSelf` anywhere. */
function mentionsOldSelf(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return false;
  const { case: kind, value } = node as { case?: unknown; value?: { name?: unknown } };
  if (kind === 'identExpr' && value?.name === 'oldSelf') return true;
  return Object.values(node).some(mentionsOldSelf);
}

/** A JSON value typed for CEL by its schema: integers become CEL ints (bigint), objects maps. */
export function celValue(value: unknown, schema: SchemaNode | undefined): CelInput {
  if (typeof value === 'number') return holdsInteger(schema, value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map((item) => celValue(item, schema?.items));
  if (typeof value === 'object' && value !== null) {
    return new Map(Object.entries(value).map(([key, field]) => [key, celValue(field, fieldSchema(schema, key))]));
  }
  return value as string | boolean | null;
}

function holdsInteger(schema: SchemaNode | undefined, value: number): boolean {
  if (!Number.isInteger(value)) return false;
  // Untyped values (under x-kubernetes-preserve-unknown-fields) decode as the apiserver's JSON
  // decoder does them: whole numbers are int64.
  return schema?.type === 'integer' || schema?.type === undefined;
}

export function fieldSchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  const declared = schema?.properties?.[key];
  if (declared) return declared;
  return typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

export interface CompiledRules {
  /** Whether any rule compares with oldSelf. */
  readonly hasTransitionRules: boolean;
  /** The rules that do not use oldSelf, as the apiserver runs them on every write. */
  check(self: unknown): RuleViolation[];
  /** The rules that use oldSelf, as on an update from `oldSelf` to `self`. */
  checkTransition(self: unknown, oldSelf: unknown): RuleViolation[];
}

const compiledBySchema = new WeakMap<SchemaNode, CompiledRules>();

/** The compiled rules of a schema node (compiled once per node); `schema` types the values they see. */
export function rulesOf(schema: SchemaNode): CompiledRules {
  let compiled = compiledBySchema.get(schema);
  if (!compiled) {
    compiled = compileRules(schema['x-kubernetes-validations'] ?? [], schema);
    compiledBySchema.set(schema, compiled);
  }
  return compiled;
}

function compileRules(rules: readonly ValidationRule[], schema: SchemaNode): CompiledRules {
  const compiled = rules.map(compileRule);
  const run = (candidates: CompiledRule[], self: unknown, oldSelf: unknown): RuleViolation[] => {
    const celSelf = celValue(self, schema);
    const celOldSelf = oldSelf === undefined ? null : celValue(oldSelf, schema);
    return candidates.flatMap((candidate) => violation(candidate, candidate.evaluate(celSelf, celOldSelf)));
  };
  const createRules = compiled.filter((candidate) => !candidate.isTransition);
  const transitionRules = compiled.filter((candidate) => candidate.isTransition);
  return {
    hasTransitionRules: transitionRules.length > 0,
    check: (self) => run(createRules, self, undefined),
    checkTransition: (self, oldSelf) => run(transitionRules, self, oldSelf),
  };
}

function violation({ rule }: CompiledRule, result: unknown): RuleViolation[] {
  if (result === true) return [];
  // The apiserver reports an evaluation error (e.g. a missing field without has()) as a failure too.
  const message = isCelError(result) ? `${rule.message} (rule evaluation failed: ${result.message})` : rule.message;
  return [{ rule, message }];
}

/** A rule failure found on update, with the JSON path of the node that holds the rule. */
export interface TransitionViolation extends RuleViolation {
  path: string[];
}

/**
 * Runs the transition rules of `schema` on an update. Like the apiserver, it pairs old and new
 * values through object properties (and map entries); a rule runs only where both values exist.
 * List items are not paired: the code generator refuses a transition rule inside a list.
 */
export function transitionViolations(schema: SchemaNode, self: unknown, oldSelf: unknown, path: string[] = []): TransitionViolation[] {
  if (self === undefined || oldSelf === undefined) return [];
  const own = rulesOf(schema)
    .checkTransition(self, oldSelf)
    .map((failure) => ({ ...failure, path }));
  if (!isRecord(self) || !isRecord(oldSelf)) return own;
  return [
    ...own,
    ...Object.entries(self).flatMap(([key, value]) => {
      const child = fieldSchema(schema, key);
      return child ? transitionViolations(child, value, oldSelf[key], [...path, key]) : [];
    }),
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
