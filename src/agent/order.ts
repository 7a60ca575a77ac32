import type { KubeObject } from '../runtime/kube.js';
import { splitApiVersion } from '../runtime/kube.js';
import { groupKindKey, groupKindOf, type GroupKind } from './object.js';

/** Where a manifest lives; `namespace` is empty for cluster-scoped objects. */
export interface ManifestIdentity extends GroupKind {
  version: string;
  namespace: string;
  name: string;
}

/**
 * Answers whether a kind is cluster-scoped. Discovery knows for certain; `undefined` means "don't
 * know" and falls back to the built-in table, then to whether the manifest names a namespace.
 */
export type ScopeResolver = (groupKind: GroupKind) => boolean | undefined;

const WELL_KNOWN_CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ComponentStatus',
  'CustomResourceDefinition.apiextensions.k8s.io',
  'APIService.apiregistration.k8s.io',
  'ClusterRole.rbac.authorization.k8s.io',
  'ClusterRoleBinding.rbac.authorization.k8s.io',
  'StorageClass.storage.k8s.io',
  'CSIDriver.storage.k8s.io',
  'CSINode.storage.k8s.io',
  'VolumeAttachment.storage.k8s.io',
  'PriorityClass.scheduling.k8s.io',
  'RuntimeClass.node.k8s.io',
  'IngressClass.networking.k8s.io',
  'CertificateSigningRequest.certificates.k8s.io',
  'MutatingWebhookConfiguration.admissionregistration.k8s.io',
  'ValidatingWebhookConfiguration.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicy.admissionregistration.k8s.io',
  'ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io',
  'MutatingAdmissionPolicy.admissionregistration.k8s.io',
  'MutatingAdmissionPolicyBinding.admissionregistration.k8s.io',
  'FlowSchema.flowcontrol.apiserver.k8s.io',
  'PriorityLevelConfiguration.flowcontrol.apiserver.k8s.io',
]);

export function isClusterScoped(manifest: KubeObject, resolveScope?: ScopeResolver): boolean {
  const groupKind = groupKindOf(manifest);
  return (
    resolveScope?.(groupKind) ??
    (WELL_KNOWN_CLUSTER_SCOPED.has(groupKindKey(groupKind)) || manifest.metadata.namespace === undefined)
  );
}

export function manifestIdentity(manifest: KubeObject, resolveScope?: ScopeResolver): ManifestIdentity {
  const [group, version] = splitApiVersion(manifest.apiVersion);
  return {
    group,
    version,
    kind: manifest.kind,
    // The apiserver ignores a namespace on a cluster-scoped object, so the identity must as well.
    namespace: isClusterScoped(manifest, resolveScope) ? '' : (manifest.metadata.namespace ?? ''),
    name: manifest.metadata.name ?? '',
  };
}

/**
 * A stable key such as `Deployment.apps/web-ns/web` or `Namespace/web-ns`. The version is left out
 * on purpose: `apps/v1` and a later `apps/v2` of the same name address the same stored object.
 */
export function identityKey(identity: ManifestIdentity): string {
  const scope = identity.namespace === '' ? '' : `${identity.namespace}/`;
  return `${groupKindKey(identity)}/${scope}${identity.name}`;
}

export interface DuplicateIdentity {
  key: string;
  /** Positions in the Work's manifest list, ascending; always two or more. */
  indexes: number[];
}

/** Finds manifests of one Work that address the same object; they are an error, not a merge. */
export function findDuplicateIdentities(
  manifests: readonly KubeObject[],
  resolveScope?: ScopeResolver,
): DuplicateIdentity[] {
  const byKey = new Map<string, number[]>();
  manifests.forEach((manifest, index) => {
    const key = identityKey(manifestIdentity(manifest, resolveScope));
    byKey.set(key, [...(byKey.get(key) ?? []), index]);
  });
  return [...byKey]
    .filter(([, indexes]) => indexes.length > 1)
    .map(([key, indexes]) => ({ key, indexes }));
}

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
