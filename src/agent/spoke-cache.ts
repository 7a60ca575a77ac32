import { createInformer, type Informer } from '../runtime/informer.js';
import { isNotFound, objectKey, type Kube, type KubeObject, type TypeRef } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { groupKindKey, groupKindOf, type ScopeResolver } from '../work/identity.js';
import { WORK_LABEL } from './ownership.js';

// The agent's view of the objects it applied: one informer per kind its Works contain, cluster-wide
// but filtered by the ownership label, so it holds only flotilla's objects. Their events are how
// drift and health changes reach the agent within moments — no polling — and reads come from here.

export interface SpokeCache {
  /**
   * Watches `type` from now on (once) and resolves when its cache is filled; false when the
   * apiserver does not serve the kind (yet: a CRD may still be on its way).
   */
  ensure(type: TypeRef, signal: AbortSignal): Promise<boolean>;
  /** The live object, from a watched kind's cache; undefined when absent or the kind is not watched. */
  get(type: TypeRef, namespace: string, name: string): KubeObject | undefined;
  /** Cluster scope as discovery said, for the kinds `ensure` resolved. */
  resolveScope: ScopeResolver;
  /**
   * The agent wrote `written` (the apiserver's answer): its own watch event for that version changes
   * nothing the agent does not know, so it wakes no reconcile. Only events of other versions do.
   */
  noteOwnWrite(type: TypeRef, written: KubeObject): void;
  /** Kinds watched. */
  watched(): number;
}

export interface SpokeCacheOptions {
  kube: Kube;
  logger: Logger;
  /** Stops every watch. */
  signal: AbortSignal;
  /** Called with the ownership label value of every object that is added, changed or deleted. */
  onChange: (workLabel: string) => void;
}

const typeKey = (type: TypeRef): string => `${type.kind}.${type.apiVersion}`;

export function createSpokeCache({ kube, logger, signal, onChange }: SpokeCacheOptions): SpokeCache {
  const informers = new Map<string, Informer>();
  const clusterScoped = new Map<string, boolean>();
  /** The resourceVersion of the agent's last write of each object, until its watch event arrives. */
  const ownWrites = new Map<string, string>();
  const writeKey = (type: TypeRef, object: KubeObject): string => `${typeKey(type)}/${objectKey(object)}`;
  const notify = (object: KubeObject): void => {
    const value = object.metadata.labels?.[WORK_LABEL];
    if (value !== undefined) onChange(value);
  };
  const notifyUnlessOwn = (type: TypeRef, object: KubeObject): void => {
    const key = writeKey(type, object);
    const own = ownWrites.get(key);
    ownWrites.delete(key);
    if (own !== object.metadata.resourceVersion) notify(object);
  };

  return {
    async ensure(type, ensureSignal) {
      let informer = informers.get(typeKey(type));
      if (!informer) {
        try {
          const resource = await kube.resource(type);
          clusterScoped.set(groupKindKey(groupKindOf(type)), !resource.namespaced);
        } catch (error) {
          if (isNotFound(error)) return false;
          throw error;
        }
        // A concurrent ensure of the same kind may have won while discovery answered.
        informer = informers.get(typeKey(type));
        if (!informer) {
          informer = createInformer({ kube, type: { apiVersion: type.apiVersion, kind: type.kind }, labelSelector: WORK_LABEL, logger });
          informer.addHandler({
            onAdd: (object) => {
              notifyUnlessOwn(type, object);
            },
            onUpdate: (_old, current) => {
              notifyUnlessOwn(type, current);
            },
            onDelete: (object) => {
              ownWrites.delete(writeKey(type, object));
              notify(object);
            },
          });
          informers.set(typeKey(type), informer);
          void informer.run(signal);
          logger.debug('watching applied objects of a kind', { kind: type.kind, apiVersion: type.apiVersion });
        }
      }
      await informer.waitForSync(ensureSignal);
      return true;
    },
    get(type, namespace, name) {
      return informers.get(typeKey(type))?.store.get(namespace === '' ? name : `${namespace}/${name}`);
    },
    noteOwnWrite(type, written) {
      if (written.metadata.resourceVersion !== undefined) ownWrites.set(writeKey(type, written), written.metadata.resourceVersion);
    },
    resolveScope: (groupKind) => clusterScoped.get(groupKindKey(groupKind)),
    watched: () => informers.size,
  };
}
