import { describe, expect, it } from '@jest/globals';
import { renameFieldManagerPatch } from './field-managers.js';

const entry = (manager: string, operation = 'Apply', subresource?: string): Record<string, unknown> => ({
  manager,
  operation,
  apiVersion: 'v1',
  fieldsType: 'FieldsV1',
  fieldsV1: {},
  ...(subresource ? { subresource } : {}),
});

describe('renameFieldManagerPatch', () => {
  it.each([
    [
      "renames the old manager's Apply entry where it is",
      [entry('kube-controller-manager', 'Update'), entry('flotilla')],
      [
        { op: 'test', path: '/metadata/managedFields/1/manager', value: 'flotilla' },
        { op: 'replace', path: '/metadata/managedFields/1/manager', value: 'flotilla-agent' },
      ],
    ],
    ['leaves an object without managedFields alone', undefined, undefined],
    ['leaves an object the new manager already applies alone', [entry('flotilla-agent')], undefined],
    ['does not merge when both managers have an Apply entry', [entry('flotilla'), entry('flotilla-agent')], undefined],
    ["leaves the old manager's Update entries alone (they own nothing apply removes)", [entry('flotilla', 'Update')], undefined],
    ['leaves a status subresource entry alone', [entry('flotilla', 'Apply', 'status')], undefined],
  ])('%s', (_name, managedFields, expected) => {
    expect(renameFieldManagerPatch(managedFields, 'flotilla', 'flotilla-agent')).toEqual(expected);
  });
});
