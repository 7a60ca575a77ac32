import { describe, expect, it } from '@jest/globals';
import type { Manifest, Work } from '../api/index.js';
import { workObjects } from '../work/objects.js';
import { manifest } from '../work/testing.js';
import { hubDesired } from './work-set.js';

const source = { kind: 'GlobalService' as const, namespace: 'fleet-a', name: 'web', generation: 1, revision: 'r1' };
const manifests: Manifest[] = [manifest('v1', 'Namespace', 'shop'), manifest('v1', 'ConfigMap', 'cfg', 'shop', { data: { a: '1' } })];

function works(content: readonly Manifest[], encoding = {}): Work[] {
  const result = workObjects({
    cluster: 'eu1',
    name: 'web',
    source,
    manifests: content,
    applyOptions: { driftPolicy: 'Report' },
    encoding,
  });
  if (!result.ok) throw new Error(result.message);
  return result.works;
}

describe('hubDesired', () => {
  it('decodes inline content with its options and revision', () => {
    expect(hubDesired(works(manifests), true)).toEqual({
      state: 'Content',
      manifests,
      revision: 'r1',
      options: { driftPolicy: 'Report', deletionPolicy: 'Delete', adoption: 'Never', force: false },
    });
  });

  it('joins the parts of a split payload in any order', () => {
    const split = works(manifests, { inlineLimitBytes: 0, maxDataChars: 64 });
    expect(split.length).toBeGreaterThan(1);
    expect(hubDesired([...split].reverse(), true)).toMatchObject({ state: 'Content', manifests });
  });

  it('waits for a missing part without stalling', () => {
    const split = works(manifests, { inlineLimitBytes: 0, maxDataChars: 64 });
    expect(hubDesired(split.slice(1), true)).toMatchObject({ state: 'Unreadable', problem: { reason: 'MissingParts', stalled: false } });
  });

  it('stalls on manifests that address one object twice', () => {
    const twice = [...manifests, manifest('v1', 'ConfigMap', 'cfg', 'shop', { data: { a: '2' } })];
    expect(hubDesired(works(twice), true)).toMatchObject({ state: 'Unreadable', problem: { reason: 'DuplicateManifests', stalled: true } });
  });

  it('calls a set deleted only after the hub answered a full list', () => {
    expect(hubDesired([], true)).toEqual({ state: 'Deleted' });
    expect(hubDesired([], false)).toEqual({ state: 'Unknown' });
  });
});
