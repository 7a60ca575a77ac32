import { Buffer } from 'node:buffer';
import { managedBy, type Manifest } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { isRecord, type KubeObject } from '../runtime/kube.js';
import { identityKey, manifestIdentity, type ScopeResolver } from '../work/identity.js';
import { decodeContent, encodeContent, type WorkContent } from '../work/payload.js';
import { inventoryEntry, inventoryKey, mergeInventory, type EffectiveApplyOptions, type InventoryEntry } from './plan.js';
import type { StampedPolicy } from './policy.js';

// The agent's local copy of one Work set, kept in the spoke so that it can enforce the last desired
// state without the hub — also across restarts — and knows what it created (the inventory) without
// listing every kind in the cluster. Secrets, because manifests may carry Secrets: one per set,
// plus one per further part when the compressed manifests exceed what one Secret holds (1 MiB).
// It keeps the Work's policy section too (with its mode), so that without the hub the agent goes
// on stamping the templates into the namespaces the policy selects as they appear or change.
//
// The invariant the copy serves: an object is pruned only when a desired state positively known to be
// complete no longer names it. So every copy the agent writes holds a complete desired state (the
// hub's, as read, or "nothing" once the hub confirmed a deletion) and says so (`complete`); the
// record written before applying holds the new desired state in full, not the old one and not an
// empty list. A copy that is not complete (written by an older agent, or content that does not
// decode) is an inventory only: nothing is enforced or pruned from it until the hub answers.

/** Labels every local copy Secret with its Work set's name; the agent lists them by it. */
export const LOCAL_COPY_LABEL = 'flotilla.dev/local-copy';
/** Base64 characters of compressed manifests per Secret: well inside a Secret's 1 MiB of data. */
export const LOCAL_COPY_PART_CHARS = 512 * 1024;

export interface LocalCopy {
  set: string;
  hubNamespace: string;
  /** The hub Works of the set, by name: a deletion is confirmed against them. */
  works: string[];
  revision: string;
  options: EffectiveApplyOptions;
  /**
   * `manifests` are the whole desired state of `revision` as the hub last gave it. Absent (false) in
   * copies of agents before this field existed: those are inventories only.
   */
  complete: boolean;
  /** What the agent created or adopted and has not pruned, sorted by identity. */
  inventory: InventoryEntry[];
  /** Identity keys of the manifests not yet applied as written; the others are what was last applied. */
  unapplied: string[];
  /** The desired manifests; absent when the stored content cannot be read (then nothing is enforced from it). */
  manifests?: Manifest[];
  /** The Work's policy section; its templates, as last stamped, are the last `stamped` of the manifests. */
  policy?: StampedPolicy;
}

type LocalState = Omit<LocalCopy, 'manifests'>;

/** A desired state the agent is about to enforce: the hub's content, or a complete local copy's. */
export interface DesiredCopy {
  works: string[];
  revision: string;
  options: EffectiveApplyOptions;
  manifests: Manifest[];
  policy?: StampedPolicy;
}

export function localCopyName(set: string, part = 0): string {
  return part === 0 ? `flotilla-work.${set}` : `flotilla-work.${set}.part-${part}`;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

/** The Secrets that hold `copy`, part 0 (with the state) first. */
export function localCopySecrets(copy: LocalCopy, namespace: string): KubeObject[] {
  const { manifests, ...state } = copy;
  const encoded = encodeContent(manifests ?? [], {
    inlineLimitBytes: 0,
    maxDataChars: LOCAL_COPY_PART_CHARS,
    maxParts: Number.MAX_SAFE_INTEGER,
  });
  const contents = encoded.ok ? encoded.contents : [];
  return contents.map((content, index) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: localCopyName(copy.set, index), namespace, labels: { ...managedBy, [LOCAL_COPY_LABEL]: copy.set } },
    type: 'Opaque',
    data: index === 0 ? { state: encode(state), content: encode(content) } : { content: encode(content) },
  }));
}

function decodeField(secret: KubeObject, key: string): unknown {
  const data = secret.data;
  const value = isRecord(data) ? data[key] : undefined;
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isLocalState(value: unknown): value is Omit<LocalState, 'complete'> & { complete?: unknown } {
  return (
    isRecord(value) &&
    typeof value.set === 'string' &&
    typeof value.hubNamespace === 'string' &&
    Array.isArray(value.works) &&
    typeof value.revision === 'string' &&
    isRecord(value.options) &&
    Array.isArray(value.inventory) &&
    Array.isArray(value.unapplied) &&
    (value.policy === undefined || (isRecord(value.policy) && isRecord(value.policy.spec) && typeof value.policy.stamped === 'number'))
  );
}

/**
 * The local copy from the Secrets of one set, or undefined when the state Secret is missing or
 * unreadable. Content that does not decode (a write cut short) leaves `manifests` absent.
 */
export function readLocalCopy(secrets: readonly KubeObject[]): LocalCopy | undefined {
  const first = secrets.find((s) => s.metadata.name !== undefined && decodeField(s, 'state') !== undefined);
  const state = first ? decodeField(first, 'state') : undefined;
  if (!isLocalState(state)) return undefined;
  const complete = state.complete === true;
  // Parts left over from an earlier, larger copy (a clean-up cut short) carry another digest.
  const digest = (content: WorkContent): string | undefined => content.payload?.sha256;
  const own = first ? decodeField(first, 'content') : undefined;
  const contents = secrets
    .map((s) => decodeField(s, 'content'))
    .filter((c): c is WorkContent => isRecord(c) && isRecord(own) && digest(c) === digest(own));
  const decoded = decodeContent(contents);
  return decoded.ok ? { ...state, complete, manifests: decoded.manifests } : { ...state, complete };
}

/**
 * The Work's own manifests in a local copy (those before its stamped templates), to enforce without
 * the hub; undefined when there are none to enforce: not complete, content unreadable, or a policy in Audit mode.
 */
export function ownManifests(copy: LocalCopy): Manifest[] | undefined {
  if (!copy.complete || copy.manifests === undefined || copy.policy?.spec.mode === 'Audit') return undefined;
  return copy.manifests.slice(0, Math.max(0, copy.manifests.length - (copy.policy?.stamped ?? 0)));
}

/** The manifests of `copy` as they were last applied: those not marked unapplied, by identity key. */
export function lastAppliedManifests(copy: LocalCopy | undefined, resolveScope?: ScopeResolver): Map<string, Manifest> {
  const unapplied = new Set(copy?.unapplied ?? []);
  return new Map(
    (copy?.manifests ?? []).map((m) => [identityKey(manifestIdentity(m, resolveScope)), m] as const).filter(([key]) => !unapplied.has(key)),
  );
}

/**
 * The record written before `desired` is applied. It holds `desired` in full, so that a crash after it
 * enforces exactly that and prunes only what `desired` no longer names; it adds whatever `desired` may
 * create to the inventory, so that a crash cannot leak an object; and it marks every manifest not yet
 * applied as written unapplied, so that none is taken for what was last applied.
 */
export function intendedCopy(
  set: string,
  hubNamespace: string,
  previous: LocalCopy | undefined,
  desired: DesiredCopy,
  resolveScope?: ScopeResolver,
): LocalCopy {
  const lastApplied = lastAppliedManifests(previous, resolveScope);
  const unapplied = desired.manifests
    .map((m) => [identityKey(manifestIdentity(m, resolveScope)), m] as const)
    .filter(([key, m]) => !jsonEqual(lastApplied.get(key), m))
    .map(([key]) => key);
  return {
    set,
    hubNamespace,
    works: desired.works,
    revision: desired.revision,
    options: desired.options,
    complete: true,
    inventory: mergeInventory(
      previous?.inventory ?? [],
      desired.manifests.map((m) => inventoryEntry(m, resolveScope)),
      resolveScope,
    ),
    unapplied: [...new Set(unapplied)].sort(),
    manifests: desired.manifests,
    ...(desired.policy ? { policy: desired.policy } : {}),
  };
}

/**
 * The record written after applying and pruning: the inventory keeps what is still desired and what
 * could not be pruned yet; `unapplied` is what the apply left unapplied.
 */
export function appliedCopy(
  intended: LocalCopy,
  unapplied: readonly string[],
  unpruned: readonly InventoryEntry[],
  resolveScope?: ScopeResolver,
): LocalCopy {
  const kept = new Set((intended.manifests ?? []).map((m) => identityKey(manifestIdentity(m, resolveScope))));
  const inventory = mergeInventory(
    intended.inventory.filter((e) => kept.has(inventoryKey(e, resolveScope))),
    unpruned,
    resolveScope,
  );
  return { ...intended, inventory, unapplied: [...unapplied].sort() };
}

/** The record of a set whose Works the hub deleted, while some of its objects are still to prune. */
export function deletedCopy(copy: LocalCopy, unpruned: readonly InventoryEntry[]): LocalCopy {
  return {
    set: copy.set,
    hubNamespace: copy.hubNamespace,
    works: copy.works,
    revision: copy.revision,
    options: copy.options,
    complete: true,
    manifests: [],
    unapplied: [],
    inventory: [...unpruned],
  };
}
