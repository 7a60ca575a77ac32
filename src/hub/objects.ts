// What the hub's reconcilers share: the resource types they read and write, their field manager,
// and the one test that keeps them write-free when idle — does a live object already hold what we
// would apply?
import { fieldManagers, type ClusterGroup, type Fleet, type MemberCluster } from '../api/index.js';
import { jsonEqual, type KubeObject } from '../runtime/index.js';

export const NamespaceType = { apiVersion: 'v1', kind: 'Namespace' } as const;

export type FleetObject = Fleet & KubeObject;
export type MemberObject = MemberCluster & KubeObject;
export type GroupObject = ClusterGroup & KubeObject;

/** The hub operator's field manager (the agent's and the CLI's are in fieldManagers too). */
export const hubFieldManager = fieldManagers.hub;

/**
 * Whether `live` lacks something of `desired`: any top-level field other than metadata differs, or
 * a desired label, or the controller owner, is missing. Fields the apiserver adds (defaults,
 * managedFields) do not count, so an unchanged object is never re-applied.
 */
export function needsApply(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return true;
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (!jsonEqual(value, live[key])) return true;
  }
  const labels = desired.metadata.labels ?? {};
  if (Object.entries(labels).some(([k, v]) => live.metadata.labels?.[k] !== v)) return true;
  const owner = desired.metadata.ownerReferences?.find((r) => r.controller === true);
  return owner !== undefined && !(live.metadata.ownerReferences ?? []).some((r) => r.uid === owner.uid && r.controller === true);
}
