import type { Manifest, WorkPolicy } from '../api/index.js';
import { isNotFound, isRecord, type Kube, KubeApiError, type KubeObject } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { selectorMatches } from '../kube-semantics/selector.js';
import { detectDrift } from './drift.js';
import { assessHealth } from './health.js';
import { field } from './object.js';
import { manifestIdentity, type ScopeResolver } from '../work/identity.js';
import { unwatchable, type SpokeCache } from './spoke-cache.js';
import type { ManifestResult } from './status.js';

// A PolicyBundle's namespaced part, expanded on the spoke, because only the spoke knows its
// namespaces: the Work's policy section names templates, a namespace selector with exclusions,
// and labels (the Pod Security levels). Templates become concrete manifests, one per selected
// namespace, and flow through the ordinary apply / prune / drift path, so a namespace that leaves
// the selection loses its copies by pruning. The labels are server-side applied onto the namespace
// under a field manager of the Work set's own, carrying nothing else, so the namespace's other
// fields stay whoever's they are and applying an empty set removes exactly our labels. In Audit
// mode nothing is written: each difference is a violation (auditResult, planNamespaceLabels).

/** What the agent knows of a spoke namespace (from its namespace informer). */
export interface NamespaceInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Label keys our labels field manager owns on it; undefined when it owns nothing there. */
  ownedLabels?: readonly string[];
  terminating: boolean;
}

/** The field manager of a Work set's namespace labels (unique per set, at most 128 characters). */
export function namespaceLabelManager(set: string): string {
  return `flotilla-labels/${set}`;
}

/** Reads a namespace from the informer: its labels and which of them `manager` owns. */
export function namespaceInfo(namespace: KubeObject, manager: string): NamespaceInfo {
  const entries = (namespace.metadata.managedFields ?? []).filter((f) => isRecord(f) && f.manager === manager && f.operation === 'Apply');
  const owned = entries.flatMap((entry) => {
    const metadata = field(entry, 'fieldsV1', 'f:metadata');
    const labels = isRecord(metadata) ? metadata['f:labels'] : undefined;
    return isRecord(labels)
      ? Object.keys(labels)
          .filter((k) => k.startsWith('f:'))
          .map((k) => k.slice(2))
      : [];
  });
  return {
    name: namespace.metadata.name ?? '',
    labels: namespace.metadata.labels ?? {},
    ...(entries.length > 0 ? { ownedLabels: owned.sort() } : {}),
    terminating: namespace.metadata.deletionTimestamp !== undefined,
  };
}

/** The namespaces a policy selects, sorted: matched by the selector, not excluded, not terminating. */
export function selectedNamespaces(policy: WorkPolicy | undefined, namespaces: readonly NamespaceInfo[]): string[] {
  const selector = policy?.namespaceSelector;
  if (selector === undefined) return [];
  const excluded = new Set(policy?.excludeNamespaces ?? []);
  return namespaces
    .filter((ns) => !ns.terminating && !excluded.has(ns.name) && selectorMatches(selector, ns.labels))
    .map((ns) => ns.name)
    .sort();
}

/**
 * The policy as its fleet allows it: every known namespace it may not write into (see
 * namespaceAdmitted) is excluded, so it is never stamped or labelled there, and loses what it had.
 */
export function restrictPolicy(
  policy: WorkPolicy,
  namespaces: readonly NamespaceInfo[],
  admitted: (namespace: string) => boolean,
): WorkPolicy {
  const refused = namespaces.map((ns) => ns.name).filter((name) => !admitted(name));
  if (refused.length === 0) return policy;
  return { ...policy, excludeNamespaces: [...new Set([...(policy.excludeNamespaces ?? []), ...refused])].sort() };
}

/** Every template stamped into every selected namespace, namespace by namespace. */
export function expandPolicy(policy: WorkPolicy | undefined, namespaces: readonly NamespaceInfo[]): Manifest[] {
  const templates = policy?.namespaceTemplates ?? [];
  if (templates.length === 0) return [];
  return selectedNamespaces(policy, namespaces).flatMap((namespace) =>
    templates.map((template): Manifest => ({ ...template, metadata: { ...template.metadata, namespace } })),
  );
}

/** A policy as last expanded for a Work set: its section, and how many manifests, at the end of the set's, are its templates. */
export interface StampedPolicy {
  spec: WorkPolicy;
  stamped: number;
}

/**
 * A Work set's manifests under its policy: its own, then every template stamped into every namespace
 * the policy selects now; the same whether the policy comes from the hub or from the local copy.
 */
export function withTemplates(
  own: readonly Manifest[],
  policy: WorkPolicy,
  namespaces: readonly NamespaceInfo[],
): { manifests: Manifest[]; policy: StampedPolicy } {
  const stamped = expandPolicy(policy, namespaces);
  return { manifests: [...own, ...stamped], policy: { spec: policy, stamped: stamped.length } };
}

export type NamespaceLabelPlan =
  /** Server-side apply exactly `labels` onto the namespace as the set's labels manager ({} clears ours). */
  | { namespace: string; action: 'Apply'; labels: Record<string, string>; selected: boolean }
  /** Selected and already labelled as wanted. */
  | { namespace: string; action: 'InPlace' }
  /** Audit: selected and not labelled as wanted; nothing is written. */
  | { namespace: string; action: 'Violation'; paths: string[] };

/**
 * What to do with each namespace's labels. A selected namespace must carry every wanted label and
 * our manager must own no other label; a namespace no longer selected (or a policy without labels)
 * loses the labels we own there. Audit never writes, so it only reports selected namespaces.
 */
export function planNamespaceLabels(policy: WorkPolicy | undefined, namespaces: readonly NamespaceInfo[]): NamespaceLabelPlan[] {
  const wanted = Object.fromEntries(Object.entries(policy?.namespaceLabels ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  const wantedKeys = Object.keys(wanted);
  const selected = new Set(wantedKeys.length > 0 ? selectedNamespaces(policy, namespaces) : []);
  const audit = policy?.mode === 'Audit';
  const plans: NamespaceLabelPlan[] = [];
  for (const ns of [...namespaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const owned = ns.ownedLabels ?? [];
    if (!selected.has(ns.name)) {
      if (!audit && owned.length > 0 && !ns.terminating) plans.push({ namespace: ns.name, action: 'Apply', labels: {}, selected: false });
      continue;
    }
    const missing = wantedKeys.filter((key) => ns.labels[key] !== wanted[key]).map((key) => `metadata.labels[${JSON.stringify(key)}]`);
    if (audit) {
      plans.push(
        missing.length > 0 ? { namespace: ns.name, action: 'Violation', paths: missing } : { namespace: ns.name, action: 'InPlace' },
      );
      continue;
    }
    const extra = owned.some((key) => !(key in wanted));
    plans.push(
      missing.length > 0 || extra
        ? { namespace: ns.name, action: 'Apply', labels: wanted, selected: true }
        : { namespace: ns.name, action: 'InPlace' },
    );
  }
  return plans;
}

/** The SSA body that sets exactly `labels` on a namespace as its own manager. */
export function namespaceLabelsObject(namespace: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } };
}

/** A namespace's labels outcome as a status entry, so violations and progress show with the manifests. */
export function namespaceLabelResult(plan: NamespaceLabelPlan, applied: boolean, error?: string): ManifestResult {
  const identity = { group: '', version: 'v1', kind: 'Namespace', namespace: '', name: plan.namespace };
  const inPlace = plan.action === 'InPlace' || applied;
  return {
    identity,
    applied: inPlace,
    health: { status: 'Healthy', reason: 'Labelled', message: 'the namespace carries the policy labels' },
    ...(plan.action === 'Violation' ? { drift: { drifted: true, missing: false, paths: plan.paths, count: plan.paths.length } } : {}),
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Audit: how a live object measures up to a policy manifest, without touching it. Missing or
 * differing in any field the manifest sets is a violation (reported as drift); otherwise in place.
 */
export function auditResult(manifest: Manifest, live: KubeObject | undefined, resolveScope?: ScopeResolver): ManifestResult {
  const drift = detectDrift(manifest, live);
  return {
    identity: manifestIdentity(manifest, resolveScope),
    applied: !drift.drifted,
    health: drift.missing ? { status: 'Healthy', reason: 'Audit', message: 'not present (Audit mode writes nothing)' } : assessHealth(live),
    ...(drift.drifted ? { drift } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The shell: carries out the plans above on the spoke, reading live objects from the spoke cache.

export interface PolicyShellContext {
  kube: Kube;
  cache: SpokeCache;
  signal: AbortSignal;
  logger: Logger;
}

/** Audit: compares every manifest with the live object; reads only, never writes. */
export async function auditManifests(
  { kube, cache, signal }: PolicyShellContext,
  manifests: readonly Manifest[],
): Promise<ManifestResult[]> {
  const results: ManifestResult[] = [];
  for (const manifest of manifests) {
    const identity = manifestIdentity(manifest, cache.resolveScope);
    const access = await cache.ensure(manifest, signal);
    if (access.state !== 'watched') {
      const why = unwatchable(manifest, access);
      results.push({ identity, applied: false, health: { status: 'Unknown', reason: why.reason, message: why.message }, error: why.error });
      continue;
    }
    // The cache holds only objects flotilla applied; one it never applied is read directly.
    const live =
      cache.get(manifest, identity.namespace, identity.name) ??
      (await kube.getOrNull(manifest, identity.name, identity.namespace === '' ? undefined : identity.namespace, { signal })) ??
      undefined;
    results.push(auditResult(manifest, live, cache.resolveScope));
  }
  return results;
}

/** Carries out label plans (Audit plans write nothing); results for the selected namespaces. */
export async function applyNamespaceLabels(
  { kube, signal, logger }: PolicyShellContext,
  set: string,
  plans: readonly NamespaceLabelPlan[],
): Promise<ManifestResult[]> {
  const results: ManifestResult[] = [];
  for (const plan of plans) {
    if (plan.action !== 'Apply') {
      results.push(namespaceLabelResult(plan, false));
      continue;
    }
    let error: string | undefined;
    try {
      await kube.apply(namespaceLabelsObject(plan.namespace, plan.labels), {
        fieldManager: namespaceLabelManager(set),
        force: true,
        signal,
      });
      logger.info(plan.selected ? 'labelled a namespace with the policy levels' : 'removed the policy labels from a namespace', {
        namespace: plan.namespace,
        labels: Object.keys(plan.labels).length,
      });
    } catch (failure) {
      if (signal.aborted) throw failure;
      // A namespace deleted meanwhile needs no labels.
      if (!isNotFound(failure)) error = failure instanceof KubeApiError ? failure.apiMessage : String(failure);
    }
    if (plan.selected) results.push(namespaceLabelResult(plan, error === undefined, error));
  }
  return results;
}
