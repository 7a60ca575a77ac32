import type { KubeObject } from '../runtime/kube.js';
import { groupKindKey, groupKindOf, isClusterScoped, type ScopeResolver } from '../work/identity.js';

/**
 * Apply phases. CRDs and Namespaces first so later objects have somewhere to live; admission and
 * aggregation last, because a webhook or policy registered before the workloads that serve or
 * satisfy it can reject everything applied after it.
 */
const PHASE = { Foundations: 0, ClusterScoped: 1, Namespaced: 2, Admission: 3 } as const;
type Phase = (typeof PHASE)[keyof typeof PHASE];

const FOUNDATION_KINDS = new Set(['Namespace', 'CustomResourceDefinition.apiextensions.k8s.io']);
const ADMISSION_KINDS = new Set([
  'APIService.apiregistration.k8s.io',
  'MutatingWebhookConfiguration.admissionregistration.k8s.io',
  'ValidatingWebhookConfiguration.admissionregistration.k8s.io',
  'MutatingAdmissionPolicy.admissionregistration.k8s.io',
  'MutatingAdmissionPolicyBinding.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicy.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io',
]);

// Helm's install order, restricted to what is still served: what a kind depends on comes first.
const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition.apiextensions.k8s.io',
  'PriorityClass.scheduling.k8s.io',
  'NetworkPolicy.networking.k8s.io',
  'ResourceQuota',
  'LimitRange',
  'PodDisruptionBudget.policy',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'StorageClass.storage.k8s.io',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'ClusterRole.rbac.authorization.k8s.io',
  'ClusterRoleBinding.rbac.authorization.k8s.io',
  'Role.rbac.authorization.k8s.io',
  'RoleBinding.rbac.authorization.k8s.io',
  'Service',
  'DaemonSet.apps',
  'Pod',
  'ReplicationController',
  'ReplicaSet.apps',
  'Deployment.apps',
  'HorizontalPodAutoscaler.autoscaling',
  'StatefulSet.apps',
  'Job.batch',
  'CronJob.batch',
  'IngressClass.networking.k8s.io',
  'Ingress.networking.k8s.io',
  'APIService.apiregistration.k8s.io',
  'MutatingAdmissionPolicy.admissionregistration.k8s.io',
  'MutatingAdmissionPolicyBinding.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicy.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io',
  'MutatingWebhookConfiguration.admissionregistration.k8s.io',
  'ValidatingWebhookConfiguration.admissionregistration.k8s.io',
];
const KIND_RANK = new Map(KIND_ORDER.map((key, rank) => [key, rank]));
// Kinds the table does not know (custom resources mostly) go after the known ones of their phase,
// in the order the author wrote them: that order often encodes a dependency (Issuer before Certificate).
const UNKNOWN_KIND_RANK = KIND_ORDER.length;

function phaseOf(manifest: KubeObject, resolveScope?: ScopeResolver): Phase {
  const key = groupKindKey(groupKindOf(manifest));
  if (FOUNDATION_KINDS.has(key)) return PHASE.Foundations;
  if (ADMISSION_KINDS.has(key)) return PHASE.Admission;
  return isClusterScoped(manifest, resolveScope) ? PHASE.ClusterScoped : PHASE.Namespaced;
}

/** The manifests in the order to apply them; a new array, the input is left alone. */
export function applyOrder<T extends KubeObject>(manifests: readonly T[], resolveScope?: ScopeResolver): T[] {
  return manifests
    .map((manifest, index) => ({
      manifest,
      index,
      phase: phaseOf(manifest, resolveScope),
      rank: KIND_RANK.get(groupKindKey(groupKindOf(manifest))) ?? UNKNOWN_KIND_RANK,
    }))
    .sort((a, b) => a.phase - b.phase || a.rank - b.rank || a.index - b.index)
    .map(({ manifest }) => manifest);
}

/** The order to delete in: the exact reverse of the apply order, so dependents go before what they need. */
export function pruneOrder<T extends KubeObject>(manifests: readonly T[], resolveScope?: ScopeResolver): T[] {
  return applyOrder(manifests, resolveScope).reverse();
}
