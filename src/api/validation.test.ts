import { describe, expect, it } from '@jest/globals';
import { celValue, rulesOf, transitionViolations, type SchemaNode } from './cel.js';
import { validateGlobalService, validateMemberCluster, validatePolicyBundle } from './index.js';
import { fieldName } from './validation.js';

const rolloutSchema: SchemaNode = {
  type: 'object',
  properties: { replicas: { type: 'integer' }, ratio: { type: 'number' }, budget: { 'x-kubernetes-int-or-string': true } },
};

describe('celValue', () => {
  it('types numbers by their schema: integer and int-or-string counts are CEL ints, numbers doubles', () => {
    const value = celValue({ replicas: 3, ratio: 1, budget: 2 }, rolloutSchema) as Map<string, unknown>;
    expect([...value]).toEqual([
      ['replicas', 3n],
      ['ratio', 1],
      ['budget', 2n],
    ]);
  });

  it('lets an int-or-string rule tell a count from a percentage', () => {
    const schema: SchemaNode = {
      'x-kubernetes-int-or-string': true,
      'x-kubernetes-validations': [{ rule: "type(self) == int ? self >= 1 : self.matches('^[0-9]+%$')", message: 'bad budget' }],
    };
    expect(rulesOf(schema).check(2)).toEqual([]);
    expect(rulesOf(schema).check('25%')).toEqual([]);
    expect(
      rulesOf(schema)
        .check(0)
        .map((failure) => failure.message),
    ).toEqual(['bad budget']);
  });
});

describe('rules', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      fleet: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'fleet is immutable' }] },
      size: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self.missing > 1', message: 'needs missing' }] },
    },
  };

  it('skips transition rules on create, as the apiserver does', () => {
    expect(rulesOf(schema.properties?.fleet ?? {}).check('prod')).toEqual([]);
    expect(rulesOf(schema.properties?.fleet ?? {}).hasTransitionRules).toBe(true);
  });

  it('runs transition rules where the old and new objects both have the field', () => {
    expect(transitionViolations(schema, { fleet: 'b' }, { fleet: 'a' }).map(({ path, message }) => ({ path, message }))).toEqual([
      { path: ['fleet'], message: 'fleet is immutable' },
    ]);
    expect(transitionViolations(schema, { fleet: 'a' }, { fleet: 'a' })).toEqual([]);
    expect(transitionViolations(schema, { fleet: 'b' }, {})).toEqual([]);
  });

  it('reports a rule that fails to evaluate as a failure, with the reason', () => {
    const [failure] = rulesOf(schema.properties?.size ?? {}).check(3);
    expect(failure?.message).toMatch(/^needs missing \(rule evaluation failed: .+\)$/);
  });
});

describe('kind validators', () => {
  const service = {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'GlobalService',
    metadata: { name: 'web', namespace: 'fleet-prod', labels: { team: 'a' } },
    spec: { placement: { clusterGroups: ['canary'] }, source: { configMapRefs: [{ name: 'web' }] } },
  };

  it('returns the object with defaults and leaves the input alone', () => {
    const input = structuredClone(service);
    const result = validateGlobalService(input);
    expect(result.valid ? result.object.spec : undefined).toEqual({ ...service.spec, deletionPolicy: 'Delete', adoption: 'Never' });
    expect(input).toEqual(service);
  });

  it('accepts any metadata the apiserver accepts, but refuses unknown spec fields', () => {
    expect(validateGlobalService({ ...service, metadata: { ...service.metadata, annotations: { a: 'b' } } }).valid).toBe(true);
    expect(validateGlobalService({ ...service, spec: { ...service.spec, replicas: 2 } })).toEqual({
      valid: false,
      errors: [{ field: 'spec.replicas', message: 'must NOT have additional properties' }],
    });
  });

  it('names list items and map keys as the apiserver does', () => {
    const bundle = {
      apiVersion: 'flotilla.dev/v1alpha1',
      kind: 'PolicyBundle',
      metadata: { name: 'b' },
      spec: { placement: { clusterSelector: {} }, namespaceSelector: {}, resourceQuotas: [{ name: 'q', hard: { '0': 'x' } }] },
    };
    const result = validatePolicyBundle(bundle);
    expect(result.valid ? [] : result.errors.map((error) => error.field)).toEqual(['spec.resourceQuotas[0].hard.0']);
  });

  it('refuses an update that moves a cluster to another fleet, and allows pausing it', () => {
    const cluster = { apiVersion: 'flotilla.dev/v1alpha1', kind: 'MemberCluster', metadata: { name: 'a' }, spec: { fleet: 'prod' } };
    expect(validateMemberCluster.update(cluster, { ...cluster, spec: { fleet: 'dev' } })).toEqual({
      valid: false,
      errors: [{ field: 'spec.fleet', message: 'fleet is immutable; delete the MemberCluster and join the cluster to the other fleet' }],
    });
    expect(validateMemberCluster.update(cluster, { ...cluster, spec: { fleet: 'prod', paused: true } }).valid).toBe(true);
  });
});

describe('fieldName', () => {
  it('joins segments as kubectl prints them', () => {
    expect(fieldName(['.spec', '.stages', '[0]', '.name'])).toBe('spec.stages[0].name');
  });
});
