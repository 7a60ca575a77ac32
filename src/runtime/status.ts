// Status writes done right: compute the desired status from the object, compare with what is there,
// write through the status subresource only when it differs, and on a Conflict re-read and recompute
// (never blindly overwrite someone's newer status). Idle reconciles therefore write nothing.
import { jsonEqual } from './conditions.js';
import { isConflict, type Kube, type KubeObject } from './kube.js';

export interface StatusWriteResult<T> {
  written: boolean;
  object: T;
  attempts: number;
}

/**
 * `desired(object)` answers the full status the object should have (usually its current status with
 * conditions set and `observedGeneration` = `metadata.generation`). Starts from `current` (the cached
 * copy); on Conflict reads the object fresh and asks `desired` again, up to `maxAttempts` times.
 */
export async function writeStatus<T extends KubeObject & { status?: unknown }>(
  kube: Kube,
  current: T,
  desired: (object: T) => T['status'],
  options: { maxAttempts?: number; signal?: AbortSignal; fieldManager?: string } = {},
): Promise<StatusWriteResult<T>> {
  const maxAttempts = options.maxAttempts ?? 5;
  let object = current;
  for (let attempt = 1; ; attempt++) {
    const status = desired(object);
    if (jsonEqual(object.status, status)) return { written: false, object, attempts: attempt };
    try {
      const written = await kube.updateStatus<T>(
        { ...object, status },
        {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.fieldManager !== undefined ? { fieldManager: options.fieldManager } : {}),
        },
      );
      return { written: true, object: written, attempts: attempt };
    } catch (error) {
      if (!isConflict(error) || attempt >= maxAttempts) throw error;
      object = await kube.get<T>(
        object,
        object.metadata.name ?? '',
        object.metadata.namespace,
        options.signal ? { signal: options.signal } : {},
      );
    }
  }
}
