import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { labels, validateWork, type Manifest } from '../api/index.js';
import { workPartName } from './naming.js';
import { workObjects } from './objects.js';

const source = { kind: 'GlobalService' as const, namespace: 'fleet-a', name: 'web', generation: 3, revision: 'r3' };
const configMap = (name: string, size: number): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'shop' },
  data: { x: randomBytes(size / 2).toString('hex') },
});

describe('workObjects', () => {
  it('writes small content inline in one Work, labelled with its set, cluster and source', () => {
    const result = workObjects({ cluster: 'eu1', name: 'web', source, manifests: [configMap('c', 10)], labels: { [labels.fleet]: 'a' } });
    expect(result.ok && result.works).toHaveLength(1);
    const work = result.ok ? result.works[0] : undefined;
    expect(work?.metadata).toEqual({
      name: 'web',
      namespace: 'flotilla-member-eu1',
      labels: {
        [labels.fleet]: 'a',
        [labels.work]: 'web',
        [labels.cluster]: 'eu1',
        [labels.sourceKind]: 'GlobalService',
        [labels.sourceNamespace]: 'fleet-a',
        [labels.sourceName]: 'web',
      },
    });
    expect(work?.spec.manifests).toHaveLength(1);
  });

  it('splits large content into parts that the Work schema accepts', () => {
    const result = workObjects({
      cluster: 'eu1',
      name: 'web',
      source,
      manifests: Array.from({ length: 6 }, (_, i) => configMap(`c${i}`, 700_000)),
    });
    if (!result.ok) throw new Error(result.message);
    expect(result.works.length).toBeGreaterThan(1);
    expect(result.works.map((w) => w.metadata.name)).toEqual(result.works.map((_, i) => workPartName('web', i)));
    for (const work of result.works) {
      expect(work.metadata.labels?.[labels.work]).toBe('web');
      expect(validateWork(work)).toMatchObject({ valid: true });
    }
  });

  it('is deterministic', () => {
    const input = { cluster: 'eu1', name: 'web', source, manifests: [configMap('c', 300_000)] };
    expect(workObjects(input)).toEqual(workObjects(input));
  });
});
