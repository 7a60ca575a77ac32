// flotilla's finalizer on the hub objects whose removal needs work elsewhere (a MemberCluster's
// identity, a GlobalService's objects on every spoke). Both writes are JSON patches that test the
// list first, so a finalizer someone else adds or removes meanwhile is never lost.
import { finalizer } from '../api/index.js';
import { isNotFound, type Kube, type KubeObject, type TypeRef } from '../runtime/index.js';

export async function ensureFinalizer(kube: Kube, type: TypeRef, object: KubeObject, signal: AbortSignal): Promise<void> {
  const finalizers = object.metadata.finalizers;
  if (finalizers?.includes(finalizer)) return;
  const ops =
    finalizers === undefined
      ? [
          { op: 'test' as const, path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
          { op: 'add' as const, path: '/metadata/finalizers', value: [finalizer] },
        ]
      : [
          { op: 'test' as const, path: '/metadata/finalizers', value: finalizers },
          { op: 'add' as const, path: '/metadata/finalizers/-', value: finalizer },
        ];
  await kube.patch(type, object.metadata.name ?? '', object.metadata.namespace, ops, { type: 'json', signal });
}

export async function removeFinalizer(kube: Kube, type: TypeRef, object: KubeObject, signal: AbortSignal): Promise<void> {
  const finalizers = object.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) return;
  await kube
    .patch(
      type,
      object.metadata.name ?? '',
      object.metadata.namespace,
      [
        { op: 'test', path: '/metadata/finalizers', value: finalizers },
        { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== finalizer) },
      ],
      { type: 'json', signal },
    )
    .catch((error: unknown) => {
      // A stale cache: the finalizer was already removed and the object is gone.
      if (!isNotFound(error)) throw error;
    });
}
