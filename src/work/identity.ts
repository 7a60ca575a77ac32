import type { KubeObject } from '../runtime/kube.js';
import { splitApiVersion } from '../runtime/kube.js';

// Which stored object a manifest addresses: the hub judges conflicts between sources by it, the
// agent applies, prunes and reports by it, so both must compute it the same way.

export interface GroupKind {
  group: string;
  kind: string;
}

/** `Deployment.apps`, or just `ConfigMap` for the core group: how kubectl names a kind unambiguously. */
export function groupKindKey({ group, kind }: GroupKind): string {
  return group === '' ? kind : `${kind}.${group}`;
}

export function groupKindOf(object: { apiVersion: string; kind: string }): GroupKind {
  return { group: splitApiVersion(object.apiVersion)[0], kind: object.kind };
}

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

/** Whether a built-in kind is cluster-scoped, as every Kubernetes serves it (false for any other kind). */
export function isWellKnownClusterScoped(groupKind: GroupKind): boolean {
  return WELL_KNOWN_CLUSTER_SCOPED.has(groupKindKey(groupKind));
}

export function isClusterScoped(manifest: KubeObject, resolveScope?: ScopeResolver): boolean {
  const groupKind = groupKindOf(manifest);
  return resolveScope?.(groupKind) ?? (isWellKnownClusterScoped(groupKind) || manifest.metadata.namespace === undefined);
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
export function findDuplicateIdentities(manifests: readonly KubeObject[], resolveScope?: ScopeResolver): DuplicateIdentity[] {
  const byKey = new Map<string, number[]>();
  manifests.forEach((manifest, index) => {
    const key = identityKey(manifestIdentity(manifest, resolveScope));
    byKey.set(key, [...(byKey.get(key) ?? []), index]);
  });
  return [...byKey].filter(([, indexes]) => indexes.length > 1).map(([key, indexes]) => ({ key, indexes }));
}
