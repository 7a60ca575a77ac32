import { createInformer, type Informer } from '../runtime/informer.js';
import { isForbidden, isNotFound, KubeApiError, objectKey, type Kube, type KubeObject, type TypeRef } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { groupKindKey, groupKindOf, type ScopeResolver } from '../work/identity.js';
import { WORK_LABEL } from './ownership.js';

// The agent's view of the objects it applied: one informer per kind its Works contain, cluster-wide
// but filtered by the ownership label, so it holds only flotilla's objects. Their events are how
// drift and health changes reach the agent within moments — no polling — and reads come from here.
// A kind the agent's RBAC does not let it list (the agent chart's narrow mode) is found before its
// informer starts and reported, so a Work asking for it gets a per-manifest error instead of waiting
// forever for a cache that cannot fill.

/** What `ensure` found: the kind watched and its cache filled, not served, or its list refused by RBAC. */
export type KindAccess = { state: 'watched' } | { state: 'unserved' } | { state: 'forbidden'; message: string };

/** A refusal is remembered this long, so a Work reconciled again does not ask each time; then asked again (RBAC may have grown). */
const REFUSAL_TTL_MS = 30_000;

/** A request the spoke refused for RBAC names the remedy: the agent chart's narrow mode lists what it may manage. */
export function rbacRefusal(apiMessage: string): string {
  return `not allowed by the agent's RBAC on this cluster (flotilla-agent chart rbac.mode=narrow: add it to rbac.manage): ${apiMessage}`;
}

/** The health reason and error a manifest of a kind that cannot be watched reports. */
export function unwatchable(
  type: TypeRef,
  access: Exclude<KindAccess, { state: 'watched' }>,
): { reason: string; message: string; error: string } {
  return access.state === 'forbidden'
    ? { reason: 'Forbidden', message: "the agent's RBAC does not let it watch the kind", error: access.message }
    : {
        reason: 'UnknownKind',
        message: 'the kind is not served',
        error: `the server has no resource for kind ${type.kind} in ${type.apiVersion}`,
      };
}

export interface SpokeCache {
  /**
   * Watches `type` from now on (once) and resolves when its cache is filled; `unserved` when the
   * apiserver does not serve the kind (yet: a CRD may still be on its way), `forbidden` when the
   * agent may not list it.
   */
  ensure(type: TypeRef, signal: AbortSignal): Promise<KindAccess>;
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
  const refusals = new Map<string, { at: number; message: string }>();
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
      const key = typeKey(type);
      let informer = informers.get(key);
      if (!informer) {
        const refused = refusals.get(key);
        if (refused && Date.now() - refused.at < REFUSAL_TTL_MS) return { state: 'forbidden', message: refused.message };
        try {
          const resource = await kube.resource(type);
          clusterScoped.set(groupKindKey(groupKindOf(type)), !resource.namespaced);
          // The list the informer would start with, once: refused, it would retry it forever.
          await kube.list(type, { labelSelector: WORK_LABEL, limit: 1, signal: ensureSignal });
        } catch (error) {
          if (isNotFound(error)) return { state: 'unserved' };
          if (error instanceof KubeApiError && isForbidden(error)) {
            const message = rbacRefusal(error.apiMessage);
            refusals.set(key, { at: Date.now(), message });
            return { state: 'forbidden', message };
          }
          throw error;
        }
        refusals.delete(key);
        // A concurrent ensure of the same kind may have won while discovery answered.
        informer = informers.get(key);
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
          informers.set(key, informer);
          void informer.run(signal);
          logger.debug('watching applied objects of a kind', { kind: type.kind, apiVersion: type.apiVersion });
        }
      }
      await informer.waitForSync(ensureSignal);
      return { state: 'watched' };
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
