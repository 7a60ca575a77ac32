import { describe, expect, it } from '@jest/globals';
import { collectVariables, substituteVariables, type VariableContext } from './variables.js';

const context: VariableContext = {
  clusterName: 'paris',
  clusterLabels: { region: 'eu-west', 'topology.kubernetes.io/zone': 'eu-west-1a', replicas: '3', tricky: '${cluster.name}' },
  fleetName: 'prod',
};

describe('substituteVariables', () => {
  it.each<[string, string, string]>([
    ['cluster name', 'web-${cluster.name}', 'web-paris'],
    ['a label', '${cluster.labels.region}', 'eu-west'],
    ['a label key with dots and a slash', '${cluster.labels.topology.kubernetes.io/zone}', 'eu-west-1a'],
    ['fleet name', '${fleet.name}/${cluster.name}', 'prod/paris'],
    ['spaces inside the braces', '${ cluster.name }', 'paris'],
    ['several in one string', '${cluster.name}.${cluster.name}', 'paris.paris'],
    ['an escaped reference stays literal', '$${cluster.name}', '${cluster.name}'],
    ['an escaped foreign reference loses the escape', 'echo $${HOME}', 'echo ${HOME}'],
    ['foreign references are left as written', 'echo ${HOME} ${DS_PROMETHEUS}', 'echo ${HOME} ${DS_PROMETHEUS}'],
    ['an unterminated reference is text', 'cost: ${cluster.name', 'cost: ${cluster.name'],
    ['a label value is not substituted again', '${cluster.labels.tricky}', '${cluster.name}'],
  ])('%s', (_name, input, expected) => {
    expect(substituteVariables(input, context)).toEqual({ ok: true, value: expected });
  });

  it('keeps a whole-value label a string and leaves keys alone', () => {
    const result = substituteVariables(
      { spec: { replicas: '${cluster.labels.replicas}' }, '${cluster.name}': 1, list: [true, 2, null] },
      context,
    );
    expect(result).toEqual({ ok: true, value: { spec: { replicas: '3' }, '${cluster.name}': 1, list: [true, 2, null] } });
  });

  it.each<[string, string, string, string]>([
    ['a missing label', '${cluster.labels.tier}', 'cluster.labels.tier', 'the cluster has no label tier'],
    ['an unknown cluster field', '${cluster.region}', 'cluster.region', 'unknown variable'],
    ['a bare namespace', '${fleet}', 'fleet', 'unknown variable'],
  ])('fails on %s, naming the variable and where it is', (_name, text, variable, reason) => {
    const result = substituteVariables({ metadata: { labels: { 'a/b': text } } }, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.unresolved.variable).toBe(variable);
    expect(result.unresolved.pointer).toBe('/metadata/labels/a~1b');
    expect(result.unresolved.reason).toContain(reason);
  });

  it('does not modify its input', () => {
    const input = { a: ['${cluster.name}'] };
    substituteVariables(input, context);
    expect(input).toEqual({ a: ['${cluster.name}'] });
  });
});

describe('collectVariables', () => {
  it('finds flotilla variables in values only, not escaped or foreign ones', () => {
    const found = collectVariables(
      {
        a: '${cluster.name} ${cluster.labels.region}',
        b: ['$${fleet.name}', '${HOME}'],
        '${cluster.labels.key}': 'x',
        c: '${cluster.zone}',
      },
      new Set(),
    );
    expect([...found].sort()).toEqual(['cluster.labels.region', 'cluster.name', 'cluster.zone']);
  });
});
