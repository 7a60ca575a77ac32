// The only place that touches @kubernetes/client-node. Everything else in flotilla talks to the
// apiserver through the `Kube` interface, on plain parsed JSON (timestamps stay strings), so caches
// hold one representation and moving to client-node 2.x is a change in kube/ only.
//
// This file is the public surface; the implementation is split by concern under kube/:
// types (object shapes, the interface), errors, transport (HTTP, auth, request counting),
// discovery, client (constructors and REST verbs) and watch. Import from here, not from kube/.
export * from './kube/types.js';
export * from './kube/errors.js';
export {
  clusterOfKubeConfig,
  kubeFromDefault,
  kubeFromFile,
  kubeFromKubeConfig,
  kubeFromPortable,
  kubeFromToken,
  kubeInCluster,
} from './kube/client.js';
