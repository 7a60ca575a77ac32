import { describe, expect, it } from '@jest/globals';
import { clusterValues, mergedValues, mergeValues } from './values.js';

const context = { clusterName: 'eu-1', clusterLabels: { region: 'eu' }, fleetName: 'prod' };

describe('chart values', () => {
  it.each([
    ['maps merge key by key', { a: { x: 1, y: 2 } }, { a: { y: 3, z: 4 } }, { a: { x: 1, y: 3, z: 4 } }],
    ['lists are replaced, not appended', { list: [1, 2] }, { list: [3] }, { list: [3] }],
    ['null removes a key', { a: 1, b: 2 }, { b: null }, { a: 1 }],
    ['a scalar replaces a map', { a: { x: 1 } }, { a: 'flat' }, { a: 'flat' }],
  ])('%s', (_, base, over, expected) => {
    expect(mergeValues(base, over)).toEqual(expected);
  });

  it('merges the files in order, then the inline values, skipping an optional file that is absent', () => {
    const result = mergedValues(
      [
        { from: 'ConfigMap/base values.yaml', text: 'replicas: 1\nimage: {tag: "1.0"}\n' },
        { from: 'Secret/extra values.yaml', text: undefined },
        { from: 'ConfigMap/eu values.yaml', text: 'image: {tag: "1.1"}\n' },
      ],
      { replicas: 3 },
    );
    expect(result).toEqual({ ok: true, values: { replicas: 3, image: { tag: '1.1' } } });
  });

  it.each([
    ['a file that is not YAML', 'a: [', 'valuesFrom ConfigMap/v values.yaml: not YAML'],
    ['a file that is a list', '- a\n- b\n', 'valuesFrom ConfigMap/v values.yaml: a values file must be a map, not a list'],
  ])('refuses %s, naming it', (_, text, message) => {
    const result = mergedValues([{ from: 'ConfigMap/v values.yaml', text }], undefined);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it("substitutes the cluster's variables in string values, and leaves other tools' ${...} alone", () => {
    const values = {
      clusterName: '${cluster.name}',
      ingress: { host: 'app.${cluster.labels.region}.example.com' },
      grafana: '${datasource}',
    };
    expect(clusterValues(values, context)).toEqual({
      ok: true,
      values: { clusterName: 'eu-1', ingress: { host: 'app.eu.example.com' }, grafana: '${datasource}' },
    });
  });

  it('names the value and the variable a cluster lacks', () => {
    const result = clusterValues({ zone: { name: '${cluster.labels.zone}' } }, context);
    expect(result).toEqual({
      ok: false,
      message: 'spec.source.chart values/zone/name: ${cluster.labels.zone}: the cluster has no label zone',
    });
  });
});
