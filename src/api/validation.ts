// ajv validators for the flotilla kinds, from the same resolved schemas as the CRDs. They refuse what
// the apiserver refuses: ajv checks the OpenAPI keywords, a keyword of ours runs the CEL rules of
// `x-kubernetes-validations` (src/api/cel.ts), defaults are applied first as the apiserver does, and
// unknown fields are refused as `kubectl apply` (strict field validation) refuses them.
import { Ajv, type ErrorObject, type AnySchemaObject } from 'ajv';
import ajvFormats from 'ajv-formats';
import { type SchemaNode, type ValidationRule, rulesOf, transitionViolations } from './cel.js';

/** A resolved flotilla schema (generated into src/api/generated/schemas.ts). */
export type JsonSchema = SchemaNode;

/** One refused field, named as the apiserver names it (e.g. `spec.rollout.stages[0].name`). */
export interface FieldError {
  field: string;
  message: string;
}

export type ValidationResult<T> =
  | { valid: true; /** The object with the schema's defaults applied, as the apiserver stores it. */ object: T }
  | { valid: false; errors: FieldError[] };

export interface KindValidator<T> {
  /** Validates an object as on create. */
  (object: unknown): ValidationResult<T>;
  /** Validates an update, including the rules that compare with the old object (immutability). */
  update(oldObject: unknown, newObject: unknown): ValidationResult<T>;
}

const celKeyword = 'x-kubernetes-validations';
// ajv in strict mode refuses unknown keywords; these only guide the apiserver (list merging,
// pruning), so ajv accepts them as annotations.
const annotationKeywords = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
];

// ajv-formats is CommonJS with its plugin on `exports.default`; an ESM default import is the whole
// `exports` object.
const addFormats = ajvFormats.default;

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false });
  addFormats(ajv);
  ajv.addKeyword({ keyword: annotationKeywords });
  ajv.addKeyword({
    keyword: celKeyword,
    schemaType: 'array',
    // Run after the node's other keywords, so the rules see the defaults of its properties.
    post: true,
    errors: true,
    compile: (_rules: ValidationRule[], parentSchema: AnySchemaObject) => {
      const compiled = rulesOf(parentSchema);
      const check = (data: unknown): boolean => {
        const violations = compiled.check(data);
        check.errors = violations.map(({ rule, message }) => ({
          keyword: celKeyword,
          message,
          params: { rule: rule.rule, fieldPath: rule.fieldPath ?? '' },
        }));
        return violations.length === 0;
      };
      check.errors = [] as Partial<ErrorObject>[];
      return check;
    },
  });
  return ajv;
}

let shared: Ajv | undefined;

/** Builds the validator of one kind; the schema is compiled on first use, so importing is cheap. */
export function kindValidator<T>(schema: JsonSchema): KindValidator<T> {
  let compiled: ReturnType<Ajv['compile']> | undefined;
  const validate = (object: unknown): ValidationResult<T> => {
    shared ??= createAjv();
    compiled ??= shared.compile(schema);
    // useDefaults writes into the value it checks: work on a copy.
    const copy: unknown = structuredClone(object);
    if (compiled(copy)) return { valid: true, object: copy as T };
    return { valid: false, errors: (compiled.errors ?? []).map(fieldError) };
  };
  const update = (oldObject: unknown, newObject: unknown): ValidationResult<T> => {
    const result = validate(newObject);
    const transitions = transitionViolations(schema, newObject, oldObject).map(({ path, rule, message }) => ({
      field: fieldName([...path.map((key) => `.${key}`), ...relativeFieldPath(rule.fieldPath)]),
      message,
    }));
    if (transitions.length === 0) return result;
    return { valid: false, errors: [...(result.valid ? [] : result.errors), ...transitions] };
  };
  return Object.assign(validate, { update });
}

/** An ajv error as the apiserver would name its field. */
function fieldError(error: ErrorObject): FieldError {
  const params = error.params as { missingProperty?: string; additionalProperty?: string; fieldPath?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  const field = [
    ...instanceSegments(error.instancePath, error.schemaPath),
    ...(child === undefined ? [] : [`.${child}`]),
    ...relativeFieldPath(params.fieldPath),
  ];
  return { field: fieldName(field), message: error.message ?? error.keyword };
}

/**
 * The segments of an error's instance path, each written as the apiserver writes it: `.field` for
 * a property or map key, `[0]` for a list item. A JSON pointer cannot tell a list index from a map
 * key that is a number, so the schema path of the error is walked alongside it.
 */
function instanceSegments(instancePath: string, schemaPath: string): string[] {
  const instance = pointerSegments(instancePath);
  const segments: string[] = [];
  const keywords = pointerSegments(schemaPath.replace(/^#/, ''));
  for (let at = 0; at < keywords.length && segments.length < instance.length; at += 1) {
    const next = instance[segments.length] ?? '';
    if (keywords[at] === 'properties') {
      segments.push(`.${next}`);
      at += 1; // the property's name
    } else if (keywords[at] === 'additionalProperties') {
      segments.push(`.${next}`);
    } else if (keywords[at] === 'items') {
      segments.push(`[${next}]`);
    }
  }
  return [...segments, ...instance.slice(segments.length).map((segment) => `.${segment}`)];
}

function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** A CEL rule's fieldPath (`.stages`, `.metadata.name`) as segments. */
function relativeFieldPath(fieldPath: string | undefined): string[] {
  return fieldPath
    ? fieldPath
        .split('.')
        .filter((segment) => segment !== '')
        .map((segment) => `.${segment}`)
    : [];
}

/** Segments (`.spec`, `[0]`) joined as the apiserver prints a field: `spec.stages[0].name`. */
export function fieldName(segments: readonly string[]): string {
  return segments.join('').replace(/^\./, '');
}
