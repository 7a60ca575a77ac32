import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../../api/index.js';
import { sourceManifests } from './source.js';

const cm = (name: string): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });

describe('sourceManifests', () => {
  const yamlOf = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
  const configMaps = new Map<string, Record<string, string>>([
    ['one', { 'b.yaml': yamlOf('b'), 'a.yml': yamlOf('a'), 'notes.txt': 'ignored', 'c.json': JSON.stringify(cm('c')) }],
    ['two', { 'x.yaml': yamlOf('x') }],
    ['text', { 'README.md': 'just words' }],
  ]);

  it('returns inline manifests as they are', () => {
    expect(sourceManifests({ manifests: [cm('a')] }, new Map())).toEqual({ ok: true, manifests: [cm('a')] });
  });

  it('reads ConfigMaps in list order and their .yaml/.yml/.json keys in key order', () => {
    const result = sourceManifests({ configMapRefs: [{ name: 'two' }, { name: 'one' }] }, configMaps);
    expect(result.ok && result.manifests.map((m) => m.metadata.name)).toEqual(['x', 'a', 'b', 'c']);
  });

  it('reads a source once per change of its ConfigMaps: the same list back until one changes', () => {
    const source = { configMapRefs: [{ name: 'two' }, { name: 'one' }] };
    const first = sourceManifests(source, configMaps);
    const again = sourceManifests(source, new Map(configMaps));
    const changed = sourceManifests(source, new Map([...configMaps, ['two', { 'x.yaml': yamlOf('y') }]]));
    expect(first.ok && again.ok && again.manifests === first.manifests).toBe(true);
    expect(changed.ok && changed.manifests.map((m) => m.metadata.name)).toEqual(['y', 'a', 'b', 'c']);
    expect(sourceManifests({ configMapRefs: [{ name: 'gone' }] }, configMaps).ok).toBe(false);
  });

  it('reads only the listed keys, whatever their suffix', () => {
    const result = sourceManifests({ configMapRefs: [{ name: 'one', keys: ['c.json', 'b.yaml'] }] }, configMaps);
    expect(result.ok && result.manifests.map((m) => m.metadata.name)).toEqual(['b', 'c']);
  });

  it.each<[string, Parameters<typeof sourceManifests>[0], string, string]>([
    ['a missing ConfigMap', { configMapRefs: [{ name: 'gone' }] }, 'ConfigMapNotFound', 'ConfigMap gone does not exist'],
    [
      'a missing listed key',
      { configMapRefs: [{ name: 'two', keys: ['y.yaml'] }] },
      'ConfigMapKeyNotFound',
      'ConfigMap two has no key y.yaml',
    ],
    ['a ConfigMap without manifest keys', { configMapRefs: [{ name: 'text' }] }, 'InvalidSource', 'has no .yaml, .yml or .json key'],
    [
      'an unparsable key, named',
      { configMapRefs: [{ name: 'text', keys: ['README.md'] }] },
      'InvalidSource',
      'ConfigMap text key README.md: document 1 is a string ("just words"), not an object',
    ],
  ])('fails on %s', (_name, source, reason, message) => {
    const result = sourceManifests(source, configMaps);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.reason).toBe(reason);
    expect(result.error.message).toContain(message);
  });
});
