import { applyPatch, type Operation } from 'rfc6902';
import type { JsonPatchOperation, Manifest, ManifestPatch, Override, PatchTarget } from '../../../api/index.js';
import { selectorMatches } from '../../../kube-semantics/selector.js';
import type { RenderError } from './errors.js';
import { describeManifest } from './manifest.js';
import { errorMessage } from '../../../runtime/log.js';

// Per-cluster overrides: RFC 6902 JSON patches (applied by the rfc6902 library) on the manifests a
// patch's target matches, override by override in spec order, so later overrides see the result of
// earlier ones. A patch whose target matches no manifest is a no-op: overrides are often written
// for a manifest that only some revisions carry.

/** What an override needs to know of a cluster to decide whether it applies there. */
export interface OverrideCluster {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** The ClusterGroups (of the service's workspace) whose members include the cluster. */
  groups: ReadonlySet<string>;
}

export function overrideApplies(override: Override, cluster: OverrideCluster): boolean {
  if (override.clusterGroup !== undefined) return cluster.groups.has(override.clusterGroup);
  if (override.clusterSelector !== undefined) return selectorMatches(override.clusterSelector, cluster.labels);
  return (override.clusterNames ?? []).includes(cluster.name);
}

export function patchTargets(target: PatchTarget, manifest: Manifest): boolean {
  return (
    manifest.kind === target.kind &&
    (target.apiVersion === undefined || manifest.apiVersion === target.apiVersion) &&
    (target.name === undefined || manifest.metadata.name === target.name) &&
    (target.namespace === undefined || manifest.metadata.namespace === target.namespace)
  );
}

// The pointer library skips `__proto__` tokens instead of refusing them, which would silently patch
// a different field; no Kubernetes field has that name, so such a path is a mistake or an attack.
const FORBIDDEN_TOKEN = /(^|\/)__proto__(\/|$)/;

/** The library's operation for ours, or why ours is not a valid RFC 6902 operation. */
function toOperation(operation: JsonPatchOperation): Operation | string {
  const { op, path, from, value } = operation;
  if (FORBIDDEN_TOKEN.test(path) || (from !== undefined && FORBIDDEN_TOKEN.test(from))) return 'a path may not contain __proto__';
  switch (op) {
    case 'add':
    case 'replace':
    case 'test':
      // The CRD cannot require an untyped value, so its absence is reported here.
      return value === undefined ? `${op} needs a value` : { op, path, value };
    case 'remove':
      return { op, path };
    case 'move':
    case 'copy':
      return from === undefined ? `${op} needs from` : { op, path, from };
  }
}

function applyOperation(manifest: Manifest, operation: Operation): string | undefined {
  try {
    const [error] = applyPatch(manifest, [operation]);
    return error ? error.message : undefined;
  } catch (error) {
    // The pointer parser throws on a malformed pointer rather than returning an error.
    return errorMessage(error);
  }
}

function patchError(override: Override, patchIndex: number, operationIndex: number, detail: string): string {
  return `override ${override.name} patch ${patchIndex} operation ${operationIndex}: ${detail}`;
}

/** Applies one patch to every manifest it targets, in place. */
function applyManifestPatch(manifests: Manifest[], override: Override, patch: ManifestPatch, patchIndex: number): RenderError | undefined {
  for (const [manifestIndex, manifest] of manifests.entries()) {
    if (!patchTargets(patch.target, manifest)) continue;
    for (const [operationIndex, operation] of patch.operations.entries()) {
      const converted = toOperation(operation);
      if (typeof converted === 'string') {
        return { reason: 'InvalidPatch', message: patchError(override, patchIndex, operationIndex, converted) };
      }
      const failure = applyOperation(manifest, converted);
      if (failure !== undefined) {
        const where = `${operation.op} ${operation.path} on ${describeManifest(manifestIndex, manifest)}`;
        return { reason: 'PatchFailed', message: patchError(override, patchIndex, operationIndex, `${where}: ${failure}`) };
      }
    }
  }
  return undefined;
}

/**
 * The manifests with the overrides' patches applied (a deep copy; the input is not changed), or the
 * first patch that failed, naming the override, patch, operation and manifest.
 */
export function applyOverrides(
  manifests: readonly Manifest[],
  overrides: readonly Override[],
): { ok: true; manifests: Manifest[] } | { ok: false; error: RenderError } {
  const patched = structuredClone(manifests) as Manifest[];
  for (const override of overrides) {
    for (const [patchIndex, patch] of override.patches.entries()) {
      const error = applyManifestPatch(patched, override, patch, patchIndex);
      if (error) return { ok: false, error };
    }
  }
  return { ok: true, manifests: patched };
}
