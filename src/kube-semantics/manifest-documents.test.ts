import { describe, expect, it } from '@jest/globals';
import { parseManifestDocuments } from './manifest-documents.js';

const names = (text: string): string[] | string => {
  const result = parseManifestDocuments(text);
  return result.ok ? result.manifests.map((m) => `${m.kind}/${m.metadata.name}`) : result.message;
};

describe('parseManifestDocuments', () => {
  it.each<[string, string, string[]]>([
    ['one YAML document', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n', ['ConfigMap/a']],
    [
      'several documents, empty ones skipped',
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n',
      ['ConfigMap/a', 'ConfigMap/b'],
    ],
    ['a JSON object', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}', ['ConfigMap/a']],
    [
      'a JSON array',
      '[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}]',
      ['ConfigMap/a', 'ConfigMap/b'],
    ],
    ['a kind: List', 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n', ['ConfigMap/a']],
    [
      'a typed list (RoleList), items spelling out their type',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: a}}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: b}}\n',
      ['Role/a', 'Role/b'],
    ],
    [
      'a typed list whose items leave apiVersion and kind out (as the apiserver serves them): the list says',
      'apiVersion: v1\nkind: ConfigMapList\nitems:\n- {metadata: {name: a}}\n',
      ['ConfigMap/a'],
    ],
    [
      'a typed list item that names its own kind keeps it',
      'apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n',
      ['Secret/s'],
    ],
    [
      'a list inside a list, in document order',
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- apiVersion: v1\n  kind: ConfigMapList\n  items: [{metadata: {name: b}}]\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n',
      ['ConfigMap/a', 'ConfigMap/b', 'ConfigMap/c'],
    ],
    ['an empty list', 'apiVersion: v1\nkind: RoleList\nitems: []\n', []],
    ['a list with items: null (kubectl: empty)', 'apiVersion: v1\nkind: List\nitems: null\n', []],
    [
      'a custom kind ending in List without items is an ordinary manifest',
      'apiVersion: example.com/v1\nkind: AccessList\nmetadata: {name: admins}\nspec: {}\n',
      ['AccessList/admins'],
    ],
    [
      'a custom resource with a top-level items array and a kind not ending in List is shipped as it is',
      'apiVersion: example.com/v1\nkind: Menu\nmetadata: {name: lunch}\nitems: [soup, bread]\n',
      ['Menu/lunch'],
    ],
    ['an empty key', '', []],
  ])('reads %s', (_name, text, expected) => {
    expect(names(text)).toEqual(expected);
  });

  it('keeps dates and yes/no as strings (YAML core schema)', () => {
    const result = parseManifestDocuments('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {day: 2024-01-01, flag: yes}\n');
    expect(result.ok && result.manifests[0]?.data).toEqual({ day: '2024-01-01', flag: 'yes' });
  });

  it.each<[string, string, string]>([
    ['invalid YAML', 'a: [', 'is not valid YAML'],
    ['a scalar document', 'hello', 'document 1 is a string ("hello"), not an object'],
    ['a manifest without kind', 'apiVersion: v1\nmetadata: {name: a}', 'document 1 (named a) has no kind'],
    [
      'a manifest without a name, named by its kind',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {}',
      'document 1 (ConfigMap) has no metadata.name',
    ],
    [
      'the second document broken, counted from 1',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: X\n',
      'document 2 (X) has no apiVersion',
    ],
    [
      'a list item without a name: the item and what is known of it',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleList\nitems:\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: a}}\n- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {namespace: monitoring}}\n',
      'document 1 items[1] (Role) has no metadata.name',
    ],
    [
      'an untyped List item without apiVersion and kind (kind: List says nothing of its items)',
      'apiVersion: v1\nkind: List\nitems:\n- {metadata: {name: a, namespace: web}}\n',
      'document 1 items[0] (named web/a) has no apiVersion',
    ],
    [
      'a list whose items is not an array',
      'apiVersion: v1\nkind: RoleList\nitems: {a: 1}\n',
      'document 1 (RoleList) has items that are a object ({"a":1}), not an array',
    ],
    [
      'a nested list item',
      'apiVersion: v1\nkind: List\nitems:\n- kind: List\n  items: [7]\n',
      'document 1 items[0] items[0] is a number (7), not an object',
    ],
    [
      'an element of an array document',
      '[{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}, {kind: ConfigMap}]',
      'document 1 [1] (ConfigMap) has no apiVersion',
    ],
    [
      'an object with items whose kind is no list kind, with a hint',
      'apiVersion: v1\nkind: Roles\nitems: []\n',
      'document 1 (Roles) has no metadata.name; it has an items array, but only kind List or a kind ending in List is read as a list',
    ],
  ])('refuses %s, saying where and what', (_name, text, message) => {
    expect(names(text)).toEqual(expect.stringContaining(message));
  });
});
