import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../../api/index.js';
import { collectVariables, substituteVariables, substitutionMode, type VariableContext } from './variables.js';

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
    // Other tools' references, as real manifests carry them: only `cluster.`/`fleet.` names are ours.
    [
      'a bare ${cluster} (a Grafana dashboard variable)',
      'label_values(up{cluster="${cluster}"}, job)',
      'label_values(up{cluster="${cluster}"}, job)',
    ],
    ['a bare ${fleet}', 'fleet=${fleet}', 'fleet=${fleet}'],
    ['a Grafana format suffix on ${cluster}', '${cluster:queryparam}&${cluster:csv}', '${cluster:queryparam}&${cluster:csv}'],
    ['Grafana data-link fields', '${__data.fields.Pod} in ${__field.labels.cluster}', '${__data.fields.Pod} in ${__field.labels.cluster}'],
    ['a Flux postBuild variable', '${cluster_env:=dev}', '${cluster_env:=dev}'],
    ['a name that only begins like ours', '${clusters.name} ${fleetName}', '${clusters.name} ${fleetName}'],
    ['ours beside theirs in one string', '${cluster.name}: ${cluster} ${datasource}', 'paris: ${cluster} ${datasource}'],
    ['an escaped unknown variable of ours ships as written', 'const a = `$${cluster.id}`', 'const a = `${cluster.id}`'],
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
    ['a typo of cluster.name', '${cluster.nmae}', 'cluster.nmae', 'flotilla has cluster.name, cluster.labels.KEY and fleet.name'],
    ['a typo of fleet.name', '${fleet.nme}', 'fleet.nme', 'write $${ for a literal ${'],
    ['an empty name in our namespace', '${cluster.}', 'cluster.', 'unknown variable'],
    ['labels without a key', '${cluster.labels.}', 'cluster.labels.', 'the cluster has no label '],
    ['a JavaScript template literal in our namespace', 'return `${cluster.id}`', 'cluster.id', 'unknown variable'],
  ])('fails on %s, naming the variable and where it is', (_name, text, variable, reason) => {
    const result = substituteVariables({ metadata: { labels: { 'a/b': text } } }, context);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.unresolved.variable).toBe(variable);
    expect(result.unresolved.pointer).toBe('/metadata/labels/a~1b');
    expect(result.unresolved.reason).toContain(reason);
    expect(result.unresolved.unknown).toBe(!variable.startsWith('cluster.labels.'));
  });

  it('does not modify its input', () => {
    const input = { a: ['${cluster.name}'] };
    substituteVariables(input, context);
    expect(input).toEqual({ a: ['${cluster.name}'] });
  });
});

describe('collectVariables', () => {
  it('finds flotilla variables in values only, not escaped or foreign ones (bare ${cluster} is foreign)', () => {
    const found = collectVariables(
      {
        a: '${cluster.name} ${cluster.labels.region}',
        b: ['$${fleet.name}', '${HOME}'],
        '${cluster.labels.key}': 'x',
        c: '${cluster.zone}',
        d: '${cluster} ${fleet} ${datasource}',
      },
      new Set(),
    );
    expect([...found].sort()).toEqual(['cluster.labels.region', 'cluster.name', 'cluster.zone']);
  });
});

describe('substitutionMode', () => {
  const manifest = (annotations?: Record<string, unknown>): Manifest => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'dashboards', ...(annotations ? { annotations: annotations as Record<string, string> } : {}) },
  });

  it.each<[string, Record<string, unknown> | undefined, boolean | string]>([
    ['no annotations: substituted', undefined, true],
    ['other annotations only: substituted', { 'grafana.com/folder': 'k8s' }, true],
    ['flotilla.dev/substitute: disabled opts out', { 'flotilla.dev/substitute': 'disabled' }, false],
    [
      'any other value is an error, not a silent substitution',
      { 'flotilla.dev/substitute': 'off' },
      'annotation flotilla.dev/substitute must be disabled to ship the manifest as written, not "off"',
    ],
    ['a YAML boolean is not the word disabled', { 'flotilla.dev/substitute': false }, 'not false'],
    ['Flux annotation is not ours', { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' }, true],
  ])('%s', (_name, annotations, expected) => {
    const mode = substitutionMode(manifest(annotations));
    if (typeof expected === 'string') expect(mode).toEqual(expect.stringContaining(expected));
    else expect(mode).toBe(expected);
  });
});
