import { annotations, type Manifest, type Override } from '../../../api/index.js';
import type { LruCache } from '../../../runtime/lru.js';
import { digestOf } from '../../../runtime/json.js';
import { mapInSlices } from '../../../runtime/slices.js';
import type { RenderError } from './errors.js';
import { describeManifest } from './manifest.js';
import { applyOverrides, overrideApplies, type OverrideCluster } from './overrides.js';
import { manifestProblem } from '../../../kube-semantics/manifest-documents.js';
import { collectVariables, resolveVariable, substituteVariables, substitutionMode, type VariableContext } from './variables.js';

// Rendering one service for one cluster: substitute variables, apply the overrides that select the
// cluster, check that every result is still a manifest. All or nothing: a cluster gets every
// manifest or an error, never a partial set.
//
// Substitution runs on the source's strings and on the patch values before the patches apply, so
// each string is substituted once (a patch that copies a value copies the substituted one, and a
// `test` operation compares substituted values).
//
// Rendering is cached by a digest of exactly what can change its output: the source content, the
// overrides that select the cluster, and the values of the variables actually referenced (a
// cluster's name counts only where `${cluster.name}` appears). 1000 clusters with the same inputs
// render once; a label change re-renders only clusters whose output can depend on it.

/** What rendering needs to know of a target cluster. */
export interface RenderCluster extends OverrideCluster {
  fleet: string;
}

interface PreparedOverride {
  override: Override;
  digest: string;
  variables: ReadonlySet<string>;
}

/** A service's render inputs, digested once per spec change rather than once per cluster. */
export interface PreparedService {
  manifests: readonly Manifest[];
  /** Whether flotilla's variables are substituted in the manifests (not in a chart's output: its values were). */
  substitute: boolean;
  sourceDigest: string;
  sourceVariables: ReadonlySet<string>;
  overrides: readonly PreparedOverride[];
}

export type RenderResult = { ok: true; manifests: readonly Manifest[] } | { ok: false; error: RenderError };

interface SourceFacts {
  digest: string;
  /** The variables the source references, when substituted. */
  variables: ReadonlySet<string>;
}

// The digest and variables of each source, by the identity of its manifest list. A service is
// reconciled on every change of its Works, and digesting a multi-megabyte source (3.7 MB of
// kube-prometheus: 0.35–1.2 s) each time held the event loop long enough to lose the leader lease.
// The lists come from the informer cache, the origin engine's render cache or one parse of a
// ConfigMap, none of which is ever mutated, so the same list means the same content.
const sourceFactsByList = new WeakMap<readonly Manifest[], SourceFacts>();

function sourceFacts(manifests: readonly Manifest[]): SourceFacts {
  let facts = sourceFactsByList.get(manifests);
  if (!facts) {
    facts = {
      digest: digestOf(manifests),
      // A manifest that opts out references nothing: its cluster's values cannot change it.
      variables: collectVariables(
        manifests.filter((manifest) => substitutionMode(manifest) !== false),
        new Set(),
      ),
    };
    sourceFactsByList.set(manifests, facts);
  }
  return facts;
}

export function prepareService(
  manifests: readonly Manifest[],
  overrides: readonly Override[] | undefined,
  options: { substitute?: boolean } = {},
): PreparedService {
  const substitute = options.substitute ?? true;
  const facts = sourceFacts(manifests);
  return {
    manifests,
    substitute,
    sourceDigest: facts.digest,
    sourceVariables: substitute ? facts.variables : new Set(),
    overrides: (overrides ?? []).map((override) => ({
      override,
      digest: digestOf(override),
      // Only patch values are substituted; names, targets and paths are not.
      variables: collectVariables(
        override.patches.map((patch) => patch.operations.map((operation) => operation.value)),
        new Set(),
      ),
    })),
  };
}

const REVISION_LENGTH = 16;

/**
 * The revision of a service's content: a short digest of its source manifests (as read, so a
 * ConfigMap edit is a new revision) and overrides. Placement, rollout and policies are not part of
 * it: changing where or how a revision rolls out is not new content. A revert of the content gives
 * back the same revision string; key order does not matter, list order does.
 */
export function serviceRevision(prepared: PreparedService): string {
  return digestOf({ source: prepared.sourceDigest, overrides: prepared.overrides.map((entry) => entry.digest) }).slice(0, REVISION_LENGTH);
}

function variableContext(cluster: RenderCluster): VariableContext {
  return { clusterName: cluster.name, clusterLabels: cluster.labels, fleetName: cluster.fleet };
}

/** The cache key of a cluster's render, and the overrides that select the cluster. */
export function renderKey(prepared: PreparedService, cluster: RenderCluster): { key: string; overrides: Override[] } {
  const matching = prepared.overrides.filter((entry) => overrideApplies(entry.override, cluster));
  const referenced = new Set(prepared.sourceVariables);
  for (const entry of matching) for (const name of entry.variables) referenced.add(name);
  const context = variableContext(cluster);
  const values = Object.fromEntries([...referenced].sort().map((name) => [name, resolveVariable(name, context) ?? null]));
  return {
    key: digestOf({
      source: prepared.sourceDigest,
      ...(prepared.substitute ? {} : { substitute: false }),
      overrides: matching.map((entry) => entry.digest),
      values,
    }),
    overrides: matching.map((entry) => entry.override),
  };
}

function substituteOverrides(
  overrides: readonly Override[],
  context: VariableContext,
): { ok: true; overrides: Override[] } | { ok: false; error: RenderError } {
  const substituted: Override[] = [];
  for (const override of overrides) {
    const patches = substituteVariables(override.patches, context);
    if (!patches.ok) {
      const { variable, pointer, reason } = patches.unresolved;
      return {
        ok: false,
        error: { reason: 'UnresolvedVariable', message: `override ${override.name} patches${pointer}: \${${variable}}: ${reason}` },
      };
    }
    substituted.push({ ...override, patches: patches.value });
  }
  return { ok: true, overrides: substituted };
}

/**
 * Renders the manifests for one cluster, uncached; `overrides` are those that select the cluster.
 * `substitute: false` leaves the manifests' strings as they are (a chart's output); override patch
 * values are substituted either way.
 */
export function renderManifests(
  manifests: readonly Manifest[],
  overrides: readonly Override[],
  cluster: RenderCluster,
  substitute = true,
): RenderResult {
  const context = variableContext(cluster);
  const substituted: Manifest[] = [];
  for (const [index, manifest] of manifests.entries()) {
    const mode = substitute ? substitutionMode(manifest) : false;
    if (typeof mode === 'string')
      return { ok: false, error: { reason: 'InvalidManifest', message: `${describeManifest(index, manifest)}: ${mode}` } };
    if (!mode) {
      substituted.push(manifest);
      continue;
    }
    const result = substituteVariables(manifest, context);
    if (!result.ok) {
      const { variable, pointer, reason, unknown } = result.unresolved;
      const optOut = unknown ? `, or annotate the manifest ${annotations.substitute}: disabled to ship it as written` : '';
      return {
        ok: false,
        error: {
          reason: 'UnresolvedVariable',
          message: `${describeManifest(index, manifest)} at ${pointer}: \${${variable}}: ${reason}${optOut}`,
        },
      };
    }
    substituted.push(result.value);
  }
  const patches = substituteOverrides(overrides, context);
  if (!patches.ok) return patches;
  const patched = applyOverrides(substituted, patches.overrides);
  if (!patched.ok) return patched;
  for (const [index, manifest] of patched.manifests.entries()) {
    const problem = manifestProblem(manifest);
    if (problem !== undefined) {
      const original = manifests[index] ?? manifest;
      return {
        ok: false,
        error: { reason: 'InvalidManifest', message: `${describeManifest(index, original)} ${problem} after overrides` },
      };
    }
  }
  return { ok: true, manifests: patched.manifests };
}

/**
 * A cluster's render, from the cache when the same inputs were rendered before. Cached manifests
 * are shared between clusters: callers must not modify them.
 */
export function renderCached(
  cache: LruCache<RenderResult>,
  prepared: PreparedService,
  cluster: RenderCluster,
): { result: RenderResult; cached: boolean } {
  const { key, overrides } = renderKey(prepared, cluster);
  const hit = cache.get(key);
  if (hit) return { result: hit, cached: true };
  const result = renderManifests(prepared.manifests, overrides, cluster, prepared.substitute);
  cache.set(key, result);
  return { result, cached: false };
}

/**
 * Each cluster's render (renderCached), in slices (mapInSlices): a fan-out whose clusters all render
 * differently (an override naming the cluster), or a large fleet of cached renders, would
 * otherwise hold the loop for the whole fleet at once.
 */
export async function renderEach(
  cache: LruCache<RenderResult>,
  prepared: PreparedService,
  clusters: readonly RenderCluster[],
): Promise<Map<string, RenderResult>> {
  return new Map(await mapInSlices(clusters, (cluster) => [cluster.name, renderCached(cache, prepared, cluster).result] as const));
}
