import type { Manifest, Work, WorkPolicy } from '../api/index.js';
import { decodeContent, type WorkContent } from '../work/payload.js';
import { effectiveApplyOptions, type EffectiveApplyOptions } from './plan.js';
import { findDuplicateIdentities, type ScopeResolver } from '../work/identity.js';
import type { ContentProblem } from './status.js';

// A Work set: the Work objects that together carry one source's manifests for this cluster — one
// Work, or the parts of a split payload. The hub labels every part with the set's name (the name of
// part 0) in `flotilla.dev/work`; a Work without that label is a set of its own. Objects applied on
// the spoke are marked with the set's name, so they keep their owner when the part count changes.

/** What the hub wants for one Work set, as far as the agent can tell. */
export type HubDesired =
  | { state: 'Content'; manifests: Manifest[]; options: EffectiveApplyOptions; revision: string; policy?: WorkPolicy }
  /** The Works are there but cannot be applied yet (a part missing) or at all (corrupt, duplicates). */
  | { state: 'Unreadable'; problem: ContentProblem }
  /** The hub answered a full list without this set: its Works were deleted. */
  | { state: 'Deleted' }
  /** The agent has not heard from the hub yet: nothing is known, nothing may be concluded. */
  | { state: 'Unknown' };

const WAITING = new Set(['MissingParts', 'MixedContent']);

/** Part 0 (or the only Work) first, so its source and options speak for the set. */
function byPart(works: readonly Work[]): Work[] {
  return [...works].sort((a, b) => (a.spec.part?.index ?? 0) - (b.spec.part?.index ?? 0));
}

/**
 * Decides from the hub's Works of one set (from the informer cache) and whether that cache has
 * completed a list. Absence is only "deleted" after a successful list: an unreachable hub leaves
 * the cache as it was and never turns into deletions.
 */
export function hubDesired(works: readonly Work[], hubSynced: boolean, resolveScope?: ScopeResolver): HubDesired {
  if (works.length === 0) return hubSynced ? { state: 'Deleted' } : { state: 'Unknown' };
  const ordered = byPart(works);
  const first = ordered[0] as Work;
  const contents: WorkContent[] = ordered.map(({ spec }) => ({
    ...(spec.manifests ? { manifests: spec.manifests } : {}),
    ...(spec.payload ? { payload: spec.payload } : {}),
    ...(spec.part ? { part: spec.part } : {}),
  }));
  // A PolicyBundle's Work may carry only a policy section (nothing cluster-scoped): no manifests.
  const policyOnly =
    ordered.length === 1 && first.spec.policy !== undefined && first.spec.manifests === undefined && first.spec.payload === undefined;
  const decoded = policyOnly ? { ok: true as const, manifests: [] } : decodeContent(contents);
  if (!decoded.ok) {
    return { state: 'Unreadable', problem: { reason: decoded.reason, message: decoded.message, stalled: !WAITING.has(decoded.reason) } };
  }
  const duplicates = findDuplicateIdentities(decoded.manifests, resolveScope);
  if (duplicates.length > 0) {
    const named = duplicates.map((d) => `${d.key} (manifests ${d.indexes.join(', ')})`).join('; ');
    return {
      state: 'Unreadable',
      problem: { reason: 'DuplicateManifests', message: `several manifests address one object: ${named}`, stalled: true },
    };
  }
  return {
    state: 'Content',
    manifests: decoded.manifests,
    options: effectiveApplyOptions(first.spec.applyOptions),
    revision: first.spec.source.revision,
    ...(first.spec.policy ? { policy: first.spec.policy } : {}),
  };
}
