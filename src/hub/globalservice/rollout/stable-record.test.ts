import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readStableRecord, stableRecord, stableRecordName, stableRecordRevision } from './stable-record.js';

const service = { namespace: 'fleet-a', name: 'web', uid: 'u-1', apiVersion: 'flotilla.dev/v1alpha1' };
const content = {
  revision: 'r1',
  manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: 'shop' }, data: { value: '${cluster.name}' } }],
  overrides: [{ name: 'eu', clusterSelector: { matchLabels: { region: 'eu' } }, patches: [] }],
};

describe('the stable-revision record', () => {
  it('gives back what it recorded, and its revision without decoding', () => {
    const record = stableRecord(service, content);
    expect(record?.metadata).toMatchObject({
      name: 'gs-web-stable',
      namespace: 'fleet-a',
      ownerReferences: [{ kind: 'GlobalService', name: 'web', uid: 'u-1', controller: true }],
    });
    expect(stableRecordRevision(record)).toBe('r1');
    expect(readStableRecord(record)).toEqual(content);
  });

  it.each<[string, Record<string, unknown> | undefined]>([
    ['no record', undefined],
    ['no data', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gs-web-stable' } }],
    [
      'data that is not gzip',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, binaryData: { 'stable.json.gz': 'bm90IGd6aXA=' } },
    ],
  ])('reads nothing from %s', (_name, record) => {
    expect(readStableRecord(record as Parameters<typeof readStableRecord>[0])).toBeUndefined();
  });

  it('records nothing too large for a ConfigMap', () => {
    const huge = {
      ...content,
      manifests: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: randomBytes(1024 * 1024).toString('base64') } },
      ],
    };
    expect(stableRecord(service, huge)).toBeUndefined();
  });

  it('names the record after the service, within 63 characters', () => {
    expect(stableRecordName('a'.repeat(80)).length).toBeLessThanOrEqual(63);
  });
});
