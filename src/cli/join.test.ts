import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/index.js';
import { bindsOnly } from './join.js';

const binding = (subjects: unknown): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'b' },
  subjects,
});
const account = 'flotilla-agent-0f8fad5b-d9cb-469f-a165-70867728950e';
const namespace = 'flotilla-member-paris';

describe('bindsOnly', () => {
  it.each<[string, unknown, boolean]>([
    ["this join's ServiceAccount", [{ kind: 'ServiceAccount', name: account, namespace }], true],
    ["a former join's ServiceAccount", [{ kind: 'ServiceAccount', name: 'flotilla-agent', namespace }], false],
    ['the same name in another namespace', [{ kind: 'ServiceAccount', name: account, namespace: 'elsewhere' }], false],
    ['a User of that name', [{ kind: 'User', name: account, namespace }], false],
    [
      'it and another subject',
      [
        { kind: 'ServiceAccount', name: account, namespace },
        { kind: 'ServiceAccount', name: 'flotilla-agent', namespace },
      ],
      false,
    ],
    ['no subjects yet', undefined, false],
  ])('answers whether a binding of %s is ready', (_what, subjects, ready) => {
    expect(bindsOnly(binding(subjects), account, namespace)).toBe(ready);
  });
});
