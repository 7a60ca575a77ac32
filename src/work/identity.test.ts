import { describe, expect, it } from '@jest/globals';
import { findDuplicateIdentities, identityKey, isClusterScoped, manifestIdentity, type ScopeResolver } from './identity.js';
import { manifest } from './testing.js';

describe('manifestIdentity and identityKey', () => {
  it.each([
    ['namespaced core kind', manifest('v1', 'ConfigMap', 'cfg', 'shop'), 'ConfigMap/shop/cfg'],
    ['namespaced grouped kind', manifest('apps/v1', 'Deployment', 'web', 'shop'), 'Deployment.apps/shop/web'],
    [
      'cluster-scoped kind',
      manifest('rbac.authorization.k8s.io/v1', 'ClusterRole', 'reader'),
      'ClusterRole.rbac.authorization.k8s.io/reader',
    ],
    ['namespace on a cluster-scoped kind is ignored', manifest('v1', 'Namespace', 'shop', 'stray'), 'Namespace/shop'],
    ['unknown kind without namespace is cluster-scoped', manifest('example.com/v1', 'Widget', 'w'), 'Widget.example.com/w'],
    ['unknown kind with namespace is namespaced', manifest('example.com/v1', 'Widget', 'w', 'shop'), 'Widget.example.com/shop/w'],
  ])('%s', (_name, object, key) => {
    expect(identityKey(manifestIdentity(object))).toBe(key);
  });

  it('leaves the version out of the key, since two versions address one object', () => {
    const v1 = manifestIdentity(manifest('autoscaling/v1', 'HorizontalPodAutoscaler', 'h', 'shop'));
    const v2 = manifestIdentity(manifest('autoscaling/v2', 'HorizontalPodAutoscaler', 'h', 'shop'));
    expect(v1.version).toBe('v1');
    expect(v2.version).toBe('v2');
    expect(identityKey(v1)).toBe(identityKey(v2));
  });

  it('does not confuse a custom kind that shares a built-in name with the built-in', () => {
    expect(isClusterScoped(manifest('example.com/v1', 'Namespace', 'n', 'shop'))).toBe(false);
  });

  it('prefers what discovery says over the built-in table and the namespace heuristic', () => {
    const discovery: ScopeResolver = ({ group, kind }) => (group === 'example.com' && kind === 'Widget' ? true : undefined);
    expect(manifestIdentity(manifest('example.com/v1', 'Widget', 'w', 'shop'), discovery).namespace).toBe('');
    expect(manifestIdentity(manifest('v1', 'ConfigMap', 'c', 'shop'), discovery).namespace).toBe('shop');
  });
});

describe('findDuplicateIdentities', () => {
  it.each([
    ['no duplicates', [manifest('v1', 'ConfigMap', 'a', 'x'), manifest('v1', 'ConfigMap', 'b', 'x')], []],
    ['same name in different namespaces', [manifest('v1', 'ConfigMap', 'a', 'x'), manifest('v1', 'ConfigMap', 'a', 'y')], []],
    ['same name, different kinds', [manifest('v1', 'ConfigMap', 'a', 'x'), manifest('v1', 'Secret', 'a', 'x')], []],
    [
      'exact duplicate',
      [manifest('v1', 'ConfigMap', 'a', 'x'), manifest('v1', 'Secret', 'a', 'x'), manifest('v1', 'ConfigMap', 'a', 'x')],
      [{ key: 'ConfigMap/x/a', indexes: [0, 2] }],
    ],
    [
      'same object through two versions',
      [manifest('autoscaling/v1', 'HorizontalPodAutoscaler', 'h', 'x'), manifest('autoscaling/v2', 'HorizontalPodAutoscaler', 'h', 'x')],
      [{ key: 'HorizontalPodAutoscaler.autoscaling/x/h', indexes: [0, 1] }],
    ],
    [
      'a cluster-scoped object written with and without a namespace',
      [manifest('v1', 'Namespace', 'n'), manifest('v1', 'Namespace', 'n', 'junk'), manifest('v1', 'Namespace', 'n')],
      [{ key: 'Namespace/n', indexes: [0, 1, 2] }],
    ],
  ])('%s', (_name, manifests, expected) => {
    expect(findDuplicateIdentities(manifests)).toEqual(expected);
  });
});
