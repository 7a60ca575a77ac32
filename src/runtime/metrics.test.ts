import { resourceOfPath } from './metrics.js';

describe('resourceOfPath', () => {
  it.each([
    ['a namespaced core object', '/api/v1/namespaces/flotilla-member-a/leases/flotilla-agent-heartbeat', 'leases'],
    ['a namespaced custom object', '/apis/flotilla.dev/v1alpha1/namespaces/ns/works/gs-app', 'works'],
    ['a status subresource', '/apis/flotilla.dev/v1alpha1/namespaces/ns/works/gs-app/status', 'works/status'],
    ['a cluster-scoped object with a query', '/apis/flotilla.dev/v1alpha1/memberclusters/a/status?fieldManager=x', 'memberclusters/status'],
    ['a create in a namespace', '/apis/coordination.k8s.io/v1/namespaces/flotilla-system/leases', 'leases'],
    ['a namespace itself', '/api/v1/namespaces/flotilla-member-a', 'namespaces'],
    ['a cluster-scoped create', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'selfsubjectreviews'],
    ['a path that names nothing', '/metrics', 'unknown'],
  ])('%s', (_name, path, expected) => {
    expect(resourceOfPath(path)).toBe(expected);
  });
});
