import { renameFieldManagerPatch } from './field-managers.js';
import { withoutFieldSets } from './informer.js';
import type { KubeObject } from './kube.js';

const work = (managedFields?: unknown[]): KubeObject => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'Work',
  metadata: { name: 'gs-app', namespace: 'flotilla-member-a', resourceVersion: '7', ...(managedFields ? { managedFields } : {}) },
  spec: { manifests: [] },
});

describe('withoutFieldSets', () => {
  const entries = [
    { manager: 'flotilla', operation: 'Apply', apiVersion: 'flotilla.dev/v1alpha1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
    { manager: 'flotilla-agent', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': { 'f:conditions': {} } } },
  ];

  it('keeps who wrote the object, in order, without the field sets', () => {
    expect(withoutFieldSets(work(entries)).metadata.managedFields).toEqual([
      { manager: 'flotilla', operation: 'Apply', apiVersion: 'flotilla.dev/v1alpha1', fieldsType: 'FieldsV1' },
      { manager: 'flotilla-agent', operation: 'Update', subresource: 'status' },
    ]);
  });

  it('leaves the rest of the object and the original alone', () => {
    const original = work(entries);
    const kept = withoutFieldSets(original);
    expect({ ...kept, metadata: { ...kept.metadata, managedFields: undefined } }).toEqual({
      ...original,
      metadata: { ...original.metadata, managedFields: undefined },
    });
    expect((original.metadata.managedFields?.[0] as { fieldsV1?: unknown }).fieldsV1).toBeDefined();
  });

  it('returns an object without managedFields as it is', () => {
    const bare = work();
    expect(withoutFieldSets(bare)).toBe(bare);
  });

  it('still lets a field manager be renamed: the entries keep their indexes', () => {
    expect(renameFieldManagerPatch(withoutFieldSets(work(entries)).metadata.managedFields, 'flotilla', 'flotilla-hub')).toEqual(
      renameFieldManagerPatch(entries, 'flotilla', 'flotilla-hub'),
    );
  });
});
