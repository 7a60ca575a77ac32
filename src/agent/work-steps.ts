import type { Manifest, Work, WorkPolicy } from '../api/index.js';
import { soonest } from '../runtime/clock.js';
import type { ApplyOutcome } from './applier.js';
import { appliedCopy, intendedCopy, lastAppliedManifests, ownManifests, type DesiredCopy, type LocalCopy } from './local-copy.js';
import type { ScopeResolver } from '../work/identity.js';
import { pruneCandidates, type InventoryEntry } from './plan.js';
import type { ContentProblem, ManifestResult } from './status.js';
import type { HubDesired } from './work-set.js';

// The Work agent's reconcile of one Work set, as a short chain of small steps over one state, each
// testable alone (after OCM's manifestwork controller): the desired state → the local copy records
// the intent → apply → prune → the local copy records what was applied → namespace labels → status.
// A policy in Audit mode has a chain of its own, which writes nothing to the spoke: the local copy
// records the mode → compare → namespace labels (compared, not written) → status.
// Each step reads the state and the world through `WorkSteps`, and returns the state grown by what
// it learned; the visit asked for soonest wins. The shell (work-agent.ts) wires the world in.

/** Objects kept back from a prune (the hub not confirmed) are tried again after this. */
export const TRUST_RETRY_MS = 10_000;
/** An Audit policy is compared again this often, for objects it never applied (no watch sees them). */
export const AUDIT_RESYNC_MS = 60_000;
/** A custom resource waits this long for its CRD to be Established. */
export const CRD_WAIT_MS = 1000;
/** A set with objects the apiserver refused is applied again after this (backoff is for throws). */
export const APPLY_RETRY_MS = 15_000;
/** A set held back by an object another Work holds looks again after this, should no prune elsewhere wake it. */
export const HELD_RETRY_MS = 20_000;

export interface SetState {
  set: string;
  /** The hub's Works of the set (for status), from the cache. */
  works: readonly Work[];
  desired: HubDesired;
  /** The local copy as this reconcile found it. */
  copy: LocalCopy | undefined;
  /** What is enforced: the hub's content, or a complete local copy's; none when neither is there. */
  enforced?: DesiredCopy;
  /** The local copy recording the intent, before anything is applied. */
  intended?: LocalCopy;
  outcome?: ApplyOutcome;
  /** Dropped objects the prune kept (not believed) or could not remove. */
  unpruned: InventoryEntry[];
  results: ManifestResult[];
  pruneFailures: string[];
  requeueAfter?: number;
}

/** The world as the steps see it. */
export interface WorkSteps {
  hubNamespace: string;
  resolveScope: ScopeResolver;
  /** The set's own manifests plus its policy's templates in every namespace the policy selects now. */
  expand(set: string, own: Manifest[], policy: WorkPolicy | undefined): Promise<Pick<DesiredCopy, 'manifests' | 'policy'>>;
  saveCopy(copy: LocalCopy): Promise<void>;
  /** Called right after the intent is saved (crash tests kill the agent there). */
  intentSaved(): void;
  apply(set: string, enforced: DesiredCopy, lastApplied: ReadonlyMap<string, Manifest>): Promise<ApplyOutcome>;
  /** Audit: how the live objects measure up to `manifests`, writing nothing. */
  audit(manifests: readonly Manifest[]): Promise<ManifestResult[]>;
  /** Prunes `candidates` when the basis may be believed (see hub-trust.ts); what is left stays in the inventory. */
  prune(
    set: string,
    enforced: DesiredCopy,
    candidates: InventoryEntry[],
    basis: 'hub' | 'local copy',
  ): Promise<{ remaining: InventoryEntry[]; errors: string[] }>;
  /** Whether the set's policy wrote namespace labels that may still be there. */
  labelled(set: string): boolean;
  /** The namespaces' labels as `policy` wants them (undefined: ours removed); results for the selected. */
  labelNamespaces(set: string, policy: WorkPolicy | undefined): Promise<ManifestResult[]>;
  reportStatus(
    works: readonly Work[],
    revision: string,
    results: readonly ManifestResult[],
    problem: ContentProblem | undefined,
    pruneFailures: readonly string[],
  ): Promise<void>;
}

export type Step = (state: SetState, world: WorkSteps) => Promise<SetState>;

/** The visit an apply asks for: soon while a CRD is on its way, later while the apiserver refuses some. */
export function applyRequeue(outcome: Pick<ApplyOutcome, 'waiting' | 'results' | 'heldByAnotherWork'>): number | undefined {
  if (outcome.waiting) return CRD_WAIT_MS;
  if (outcome.results.some((r) => r.error !== undefined)) return APPLY_RETRY_MS;
  // Looking again reads only the watch cache (the holder's object is flotilla's): no request while it holds.
  return outcome.heldByAnotherWork ? HELD_RETRY_MS : undefined;
}

/**
 * The policy whose namespace labels to put in place, if any: the hub's, or the stored one's when the
 * hub is not heard; `{ policy: undefined }` removes them, which only the hub's word (its Work
 * without a policy, while labels of the set may be there) does.
 */
export function labelPolicy(
  desired: HubDesired,
  enforced: DesiredCopy | undefined,
  labelled: boolean,
): { policy: WorkPolicy | undefined } | undefined {
  const policy = desired.state === 'Content' ? desired.policy : enforced?.policy?.spec;
  if (policy !== undefined || (desired.state === 'Content' && labelled)) return { policy };
  return undefined;
}

/** The desired state to enforce now: the hub's content when it is known; otherwise a complete local copy's. */
export const chooseDesired: Step = async (state, world) => {
  const { set, desired, copy } = state;
  if (desired.state === 'Content') {
    const expanded = await world.expand(set, desired.manifests, desired.policy);
    return {
      ...state,
      enforced: {
        ...expanded,
        options: desired.options,
        revision: desired.revision,
        works: state.works.map((w) => w.metadata.name ?? '').sort(),
      },
    };
  }
  const stored = copy && ownManifests(copy);
  if (!copy || !stored) return state;
  return {
    ...state,
    enforced: {
      ...(await world.expand(set, stored, copy.policy?.spec)),
      options: copy.options,
      revision: copy.revision,
      works: copy.works,
    },
  };
};

/** The new desired state in full, and all it may create, is recorded before anything is applied. */
export const recordIntent: Step = async (state, world) => {
  if (!state.enforced) return state;
  const intended = intendedCopy(state.set, world.hubNamespace, state.copy, state.enforced, world.resolveScope);
  await world.saveCopy(intended);
  world.intentSaved();
  return { ...state, intended };
};

export const applyDesired: Step = async (state, world) => {
  if (!state.enforced) return state;
  const outcome = await world.apply(state.set, state.enforced, lastAppliedManifests(state.copy, world.resolveScope));
  return { ...state, outcome, results: outcome.results, requeueAfter: soonest(state.requeueAfter, applyRequeue(outcome)) };
};

/** Removes what the intent remembers and the desired state no longer names, if the basis is believed. */
export const pruneDropped: Step = async (state, world) => {
  if (!state.enforced || !state.intended) return state;
  const candidates = pruneCandidates(state.intended.inventory, state.enforced.manifests, world.resolveScope);
  const pruned = await world.prune(state.set, state.enforced, candidates, state.desired.state === 'Content' ? 'hub' : 'local copy');
  const kept = pruned.remaining.length > 0 && pruned.errors.length === 0;
  return {
    ...state,
    unpruned: pruned.remaining,
    pruneFailures: [...state.pruneFailures, ...pruned.errors],
    requeueAfter: kept ? soonest(state.requeueAfter, TRUST_RETRY_MS) : state.requeueAfter,
  };
};

/** The local copy now says what is in place: the intent less what was not applied, plus what was not pruned. */
export const recordApplied: Step = async (state, world) => {
  if (!state.intended || !state.outcome) return state;
  await world.saveCopy(appliedCopy(state.intended, state.outcome.unapplied, state.unpruned, world.resolveScope));
  return state;
};

/** The labels follow the namespaces under the policy in force (see labelPolicy). */
export const labelNamespaces: Step = async (state, world) => {
  const wanted = labelPolicy(state.desired, state.enforced, world.labelled(state.set));
  if (!wanted) return state;
  return { ...state, results: [...state.results, ...(await world.labelNamespaces(state.set, wanted.policy))] };
};

/** The Works' status, once; a failed prune then fails the reconcile, for a retry with backoff. */
export const reportStatus: Step = async (state, world) => {
  const problem = state.desired.state === 'Unreadable' ? state.desired.problem : undefined;
  const revision = state.enforced?.revision ?? (state.desired.state === 'Content' ? state.desired.revision : '');
  await world.reportStatus(state.works, revision, state.results, problem, state.pruneFailures);
  const failures = state.pruneFailures;
  if (failures.length > 0) throw new Error(`prune failed for ${failures.length} object(s): ${failures.slice(0, 3).join('; ')}`);
  return state;
};

/** Enforcing a Work set, in order. */
export const ENFORCE_STEPS: readonly Step[] = [
  chooseDesired,
  recordIntent,
  applyDesired,
  pruneDropped,
  recordApplied,
  labelNamespaces,
  reportStatus,
];

/**
 * Audit: the local copy (if any) records the mode, once, so that a restart without the hub does not
 * go back to enforcing what was applied before; what was applied stays as it is.
 */
export const recordAuditMode: Step = async (state, world) => {
  const { copy, desired } = state;
  if (!copy || desired.state !== 'Content' || !desired.policy) return state;
  await world.saveCopy({ ...copy, policy: { spec: desired.policy, stamped: copy.policy?.stamped ?? 0 } });
  return state;
};

/** Audit: every manifest (templates expanded into the selected namespaces) compared with the live object. */
export const auditDesired: Step = async (state, world) => {
  if (state.desired.state !== 'Content') return state;
  const { manifests } = await world.expand(state.set, state.desired.manifests, state.desired.policy);
  const results = await world.audit(manifests);
  return { ...state, results: [...state.results, ...results], requeueAfter: soonest(state.requeueAfter, AUDIT_RESYNC_MS) };
};

/** Auditing a Work set's policy: nothing is written to the spoke. */
export const AUDIT_STEPS: readonly Step[] = [recordAuditMode, auditDesired, labelNamespaces, reportStatus];

/** The chain for a set: Audit when the hub's policy says so, enforcement otherwise (a local copy alone is always enforced). */
export function stepsFor(desired: HubDesired): readonly Step[] {
  return desired.state === 'Content' && desired.policy?.mode === 'Audit' ? AUDIT_STEPS : ENFORCE_STEPS;
}

export function initialState(set: string, works: readonly Work[], desired: HubDesired, copy: LocalCopy | undefined): SetState {
  return { set, works, desired, copy, unpruned: [], results: [], pruneFailures: [] };
}

export async function runSteps(state: SetState, world: WorkSteps, steps: readonly Step[] = stepsFor(state.desired)): Promise<SetState> {
  let current = state;
  for (const step of steps) current = await step(current, world);
  return current;
}
