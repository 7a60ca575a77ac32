import { setMaxListeners } from 'node:events';
import {
  fieldManagers,
  flotillaNamespace,
  memberNamespace,
  WorkType,
  type Manifest,
  type Work,
  type WorkPolicy,
  type WorkStatus,
} from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { createInformer, type Informer } from '../runtime/informer.js';
import { createEventRecorder, type EventRecorder } from '../runtime/events.js';
import { runWorkers } from '../runtime/controller.js';
import { isForbidden, isNotFound, KubeApiError, type Kube, type KubeObject } from '../runtime/kube.js';
import { sleep } from '../runtime/clock.js';
import { silentLogger, type Logger } from '../runtime/log.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { createWorkQueue } from '../runtime/queue.js';
import { writeStatus } from '../runtime/status.js';
import { sourcePrefixes, workSetName } from '../work/naming.js';
import { admissionRules, namespaceAdmitted, type AdmissionRules } from '../work/admission.js';
import { applyManifests, pruneEntries, type ApplierContext, type ApplyOutcome } from './applier.js';
import { applyTally, objectEvent, reportedDrift } from './apply-report.js';
import { bootstrapSecretName } from './bootstrap.js';
import { crashPoint } from './crash-point.js';
import { watchFleetRules } from './fleet-rules.js';
import { checkMembership, type HubTrust } from './hub-trust.js';
import type { AgentMetrics } from './metrics.js';
import {
  deletedCopy,
  LOCAL_COPY_LABEL,
  localCopyName,
  localCopySecrets,
  readLocalCopy,
  type DesiredCopy,
  type LocalCopy,
} from './local-copy.js';
import { workLabelValue, type WorkRef } from './ownership.js';
import { pruneCandidates, type InventoryEntry } from './plan.js';
import {
  applyNamespaceLabels,
  auditManifests,
  namespaceInfo,
  namespaceLabelManager,
  planNamespaceLabels,
  restrictPolicy,
  withTemplates,
  type NamespaceInfo,
  type PolicyShellContext,
} from './policy.js';
import { createSpokeCache } from './spoke-cache.js';
import { computeWorkStatus, type ContentProblem, type ManifestResult } from './status.js';
import { hubDesired, type HubDesired } from './work-set.js';
import { initialState, runSteps, TRUST_RETRY_MS, type WorkSteps } from './work-steps.js';

// The Work side of the agent: watches the Works in the cluster's own hub namespace, applies each
// Work set to the spoke, prunes, corrects or reports drift, and reports status back. It keeps a
// local copy of every Work set in the spoke, so it goes on enforcing the last applied state while
// the hub is unreachable and after a restart, and it never deletes anything because the hub is
// gone: only a successful list from the hub that lacks a Work, confirmed by a NotFound for it,
// prunes that Work's objects. And only while the hub is its own: the agent takes content from the
// hub, and prunes at all, only right after its MemberCluster was found as recorded at join
// (hub-trust.ts); a revoked identity or another hub leaves everything in place and says so. A Work's policy section is kept in the local copy as well, so its
// templates and labels follow the spoke's namespaces without the hub too, and only the hub's word
// (a Work deleted, a policy dropped) removes them from every namespace.

const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' } as const;
/** An Audit policy is compared again this often, for objects it never applied (no watch sees them). */
const AUDIT_RESYNC_MS = 60_000;
const SET_INDEX = 'set';
/** A trusted membership is checked again this often even when nothing is pruned. */
const TRUSTED_RECHECK_MS = 5 * 60_000;
/** Names the agent's worker loop in the runtime's metrics. */
const WORKER_NAME = 'work-agent';

export interface WorkAgentOptions {
  /** The hub, as the agent's own identity (it reads Works and writes their status, nothing else). */
  hub: Kube;
  /** The spoke the agent applies to. */
  spoke: Kube;
  cluster: string;
  /** The cluster's fleet: its Fleet's restrictions judge every Work (left out: the built-in defaults). */
  fleet?: string;
  /** The hub namespace of this cluster's Works (default flotilla-member-CLUSTER). */
  namespace?: string;
  /** The spoke namespace for local copies (default flotilla-system; it must exist). */
  systemNamespace?: string;
  /** Stops the agent; `done` resolves once it has. */
  signal: AbortSignal;
  logger?: Logger;
  /** Work sets reconciled at once (default 4). */
  workers?: number;
  /** The MemberCluster uid recorded when the cluster joined; without it the first one seen is trusted. */
  memberUID?: string;
  /** How often the membership is checked again while it is not trusted (default 30 s). */
  trustRecheckMs?: number;
  metrics?: AgentMetrics;
  /** The runtime's registry: the agent's queue and reconciles are counted there as a controller's. */
  runtimeMetrics?: RuntimeMetrics;
}

export interface WorkAgentStats {
  /** Work sets known (from the hub or a local copy). */
  sets: number;
  reconciles: number;
  errors: number;
  /** Keys queued or being reconciled. */
  pending: number;
  hubSynced: boolean;
  /** Kinds watched on the spoke. */
  watchedKinds: number;
  /** Whether the agent believes the hub (see hub-trust.ts). */
  hubTrust: HubTrust['state'];
}

export interface WorkAgent {
  /** Resolves when the agent has stopped (after `signal` aborted). */
  readonly done: Promise<void>;
  stats(): WorkAgentStats;
}

/**
 * Starts the agent: reads its local copies from the spoke (so it can enforce them at once, with or
 * without the hub), then watches. Resolves once started; runs until `signal` aborts.
 */
export async function startWorkAgent(options: WorkAgentOptions): Promise<WorkAgent> {
  const { hub, spoke } = options;
  // One internal signal for the many watches and waits, linked to the caller's, so that Node's
  // listener-leak warning (meant for leaks, not for a process with dozens of informers) stays quiet.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  if (options.signal.aborted) stop.abort(options.signal.reason);
  else
    options.signal.addEventListener(
      'abort',
      () => {
        stop.abort(options.signal.reason);
      },
      { once: true },
    );
  const signal = stop.signal;
  const hubNamespace = options.namespace ?? memberNamespace(options.cluster);
  const systemNamespace = options.systemNamespace ?? flotillaNamespace;
  const logger = (options.logger ?? silentLogger()).child({ controller: 'work-agent', cluster: options.cluster });
  const queue = createWorkQueue({
    backoff: { baseMs: 500, maxMs: 15_000, jitter: 0.2 },
    ...(options.runtimeMetrics ? { metrics: options.runtimeMetrics.queue(WORKER_NAME) } : {}),
  });
  const stats = { reconciles: 0, errors: 0 };

  // Work sets by name, and the ownership label value that leads back to each.
  const copies = new Map<string, LocalCopy>();
  const copyParts = new Map<string, number>();
  const setsByLabel = new Map<string, string>();
  const refOf = (set: string): WorkRef => ({ namespace: hubNamespace, name: set });
  const noteSet = (set: string): void => {
    setsByLabel.set(workLabelValue(refOf(set)), set);
  };
  const enqueue = (set: string): void => {
    noteSet(set);
    queue.add(set);
  };

  const cache = createSpokeCache({
    kube: spoke,
    logger,
    signal,
    onChange: (label) => {
      const set = setsByLabel.get(label);
      if (set !== undefined) queue.add(set);
    },
  });

  // The spoke's namespaces, watched once a Work carries a policy: their events re-expand every
  // policy set, so a new, relabelled or deleted namespace gets or loses its copies at once.
  const policySets = new Set<string>();
  // Sets with a manifest left unapplied because another owner holds its object: a prune elsewhere
  // (the other Work leaving) visits them again, since no watch event of theirs would.
  const conflictedSets = new Set<string>();
  let namespaces: Informer | undefined;
  const namespacesChanged = (): void => {
    for (const set of policySets) queue.add(set);
  };
  async function namespaceCache(): Promise<Informer> {
    if (!namespaces) {
      namespaces = createInformer({ kube: spoke, type: NAMESPACE_TYPE, logger });
      namespaces.addHandler({
        onAdd: namespacesChanged,
        onUpdate: (old, current) => {
          if (
            !jsonEqual(old.metadata.labels, current.metadata.labels) ||
            old.metadata.deletionTimestamp !== current.metadata.deletionTimestamp
          )
            namespacesChanged();
        },
        onDelete: namespacesChanged,
      });
      void namespaces.run(signal);
    }
    await namespaces.waitForSync(signal);
    return namespaces;
  }
  const policyContext: PolicyShellContext = { kube: spoke, cache, signal, logger };

  const hubWorks: Informer<Work & KubeObject> = createInformer<Work & KubeObject>({
    kube: hub,
    type: WorkType,
    namespace: hubNamespace,
    logger,
    indexes: { [SET_INDEX]: (w) => [workSetName(w)] },
  });
  hubWorks.addHandler({
    onAdd: (w) => {
      enqueue(workSetName(w));
    },
    onUpdate: (old, current) => {
      // Status writes (ours) change neither generation nor labels: nothing to do for them.
      if (old.metadata.generation === current.metadata.generation && jsonEqual(old.metadata.labels, current.metadata.labels)) return;
      enqueue(workSetName(old));
      enqueue(workSetName(current));
    },
    onDelete: (w) => {
      enqueue(workSetName(w));
    },
  });

  // --- local copies ------------------------------------------------------------------------------
  const listed = await spoke.list(
    { apiVersion: 'v1', kind: 'Secret' },
    { namespace: systemNamespace, labelSelector: LOCAL_COPY_LABEL, signal },
  );
  const secretsBySet = new Map<string, KubeObject[]>();
  for (const secret of listed.items) {
    const set = secret.metadata.labels?.[LOCAL_COPY_LABEL] ?? '';
    secretsBySet.set(set, [...(secretsBySet.get(set) ?? []), secret]);
  }
  for (const [set, secrets] of secretsBySet) {
    const copy = readLocalCopy(secrets);
    if (copy?.hubNamespace !== hubNamespace) continue;
    if (copy.manifests === undefined) logger.warn('local copy content unreadable; enforcing nothing for it until the hub answers', { set });
    copies.set(set, copy);
    copyParts.set(set, secrets.length);
    if (copy.policy) policySets.add(set);
    enqueue(set);
  }
  logger.info('work agent starting', { hubNamespace, localCopies: copies.size });

  async function saveCopy(copy: LocalCopy): Promise<void> {
    if (jsonEqual(copies.get(copy.set), copy)) return;
    const secrets = localCopySecrets(copy, systemNamespace);
    // Further parts first: part 0 carries the state and names the digest the parts must match.
    for (const secret of [...secrets.slice(1), ...secrets.slice(0, 1)]) {
      await spoke.apply(secret, { fieldManager: fieldManagers.agent, force: true, signal });
    }
    for (let part = secrets.length; part < (copyParts.get(copy.set) ?? 0); part++) {
      await spoke
        .delete({ apiVersion: 'v1', kind: 'Secret' }, localCopyName(copy.set, part), systemNamespace, { signal })
        .catch(ignoreNotFound);
    }
    copies.set(copy.set, copy);
    copyParts.set(copy.set, secrets.length);
  }

  async function dropCopy(set: string): Promise<void> {
    for (let part = (copyParts.get(set) ?? 1) - 1; part >= 0; part--) {
      await spoke.delete({ apiVersion: 'v1', kind: 'Secret' }, localCopyName(set, part), systemNamespace, { signal }).catch(ignoreNotFound);
    }
    copies.delete(set);
    copyParts.delete(set);
  }

  const fleetRules =
    options.fleet === undefined
      ? undefined
      : await watchFleetRules({
          hub,
          spoke,
          systemNamespace,
          fleet: options.fleet,
          logger,
          signal,
          onChange: () => {
            for (const set of setsByLabel.values()) queue.add(set);
          },
        });
  // The set's name says its source's kind (pb-NAME for PolicyBundles), with or without the hub.
  const rulesOf = (set: string): AdmissionRules =>
    admissionRules(set.startsWith(`${sourcePrefixes.PolicyBundle}-`) ? 'PolicyBundle' : 'GlobalService', fleetRules?.restrictions(), [
      systemNamespace,
    ]);
  const applier = (set: string, enforced: Pick<DesiredCopy, 'options'>): ApplierContext => ({
    kube: spoke,
    cache,
    logger: logger.child({ work: set }),
    signal,
    work: refOf(set),
    options: enforced.options,
    admission: rulesOf(set),
  });
  /** The policy as the fleet lets it write into the spoke's namespaces now. */
  const allowedPolicy = (set: string, policy: WorkPolicy, namespaces: readonly NamespaceInfo[]): WorkPolicy => {
    const rules = rulesOf(set);
    return restrictPolicy(policy, namespaces, (namespace) => namespaceAdmitted(namespace, rules));
  };

  // --- hub trust -------------------------------------------------------------------------------
  // Hub content is taken, and anything pruned, only while the agent's membership checks out; the
  // check is made at start, again before every prune, and, while it fails, every trustRecheckMs.
  let trust: HubTrust = { state: 'Unverified', message: 'not checked yet', ...(options.memberUID ? { memberUID: options.memberUID } : {}) };
  const events: EventRecorder = createEventRecorder({ kube: spoke, component: 'flotilla-agent', logger });
  // About the agent's bootstrap Secret: `kubectl get events -n flotilla-system` shows them to the spoke's admin.
  const trustSubject: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapSecretName, namespace: systemNamespace },
  };

  /** Checks the membership now; a change of verdict is logged, recorded as a spoke Event and re-enqueues every set. */
  async function verifyHub(): Promise<boolean> {
    const next = await checkMembership(hub, options.cluster, trust.memberUID, signal);
    if (signal.aborted) return false;
    const changed = next.state !== trust.state;
    // Not reachable says nothing new about a verdict already reached: keep it.
    if (next.state !== 'Unverified' || trust.state === 'Unverified') trust = next;
    options.metrics?.hubTrust(trust.state);
    if (changed && trust === next) {
      if (next.state === 'Trusted') {
        logger.info("the hub is this agent's own: taking its Works", { memberUID: next.memberUID });
        for (const set of setsByLabel.values()) queue.add(set);
      } else if (next.state !== 'Unverified') {
        logger.warn('not trusting the hub: keeping everything applied, enforcing the local copies, pruning nothing', {
          state: next.state,
          reason: next.message,
        });
        events.event(
          trustSubject,
          'Warning',
          next.state === 'Revoked' ? 'HubAccessRevoked' : 'HubIdentityChanged',
          `${next.message}; keeping everything applied and pruning nothing`,
        );
      }
    }
    // A prune needs this very check to have passed, not an earlier one.
    return next.state === 'Trusted';
  }

  async function trustLoop(): Promise<void> {
    while (!signal.aborted) {
      await verifyHub();
      await sleep(trust.state === 'Trusted' ? TRUSTED_RECHECK_MS : (options.trustRecheckMs ?? 30_000), signal).catch(() => undefined);
    }
  }

  /** A hub request of ours was refused as unauthenticated or forbidden: look again at once. */
  function noteHubRefusal(error: unknown): void {
    if (error instanceof KubeApiError && (error.code === 401 || isForbidden(error))) void verifyHub();
  }

  // --- reconcile ---------------------------------------------------------------------------------

  /**
   * Prunes `candidates`, which a desired state no longer names, when that state may be believed: the
   * hub's only after the membership was confirmed just now; a complete local copy's (written after
   * such a read) also while the hub is unreachable, but never once the hub revoked the agent or
   * turned out to be another (those keep everything). Candidates not pruned stay in the inventory.
   */
  async function pruneIfTrusted(
    set: string,
    copy: Pick<DesiredCopy, 'options'>,
    candidates: InventoryEntry[],
    basis: 'hub' | 'local copy',
  ): Promise<{ remaining: InventoryEntry[]; errors: string[] }> {
    if (candidates.length === 0) return { remaining: [], errors: [] };
    const believed = basis === 'hub' ? await verifyHub() : trust.state === 'Trusted' || trust.state === 'Unverified';
    if (!believed) {
      logger.warn("not pruning: the hub is not confirmed as this agent's own", {
        work: set,
        objects: candidates.length,
        state: trust.state,
        basis,
      });
      return { remaining: candidates, errors: [] };
    }
    const pruned = await pruneEntries(applier(set, copy), candidates);
    // What a set could not apply because another Work held it may be free now.
    if (pruned.writes > 0) for (const other of conflictedSets) if (other !== set) queue.add(other);
    return pruned;
  }

  /** The Work set's Works were deleted on the hub: confirm it, then prune (or orphan) what it left. */
  async function removeSet(set: string): Promise<{ requeueAfter?: number }> {
    const copy = copies.get(set);
    if (!copy) return {};
    for (const name of copy.works) {
      if (await hub.getOrNull(WorkType, name, hubNamespace, { signal })) {
        logger.warn('a Work missing from the hub cache still exists; not pruning', { work: name });
        return {};
      }
    }
    // A hub that is not the agent's own says nothing: the copy, and all it applied, stay as they are.
    if (!(await verifyHub())) {
      logger.warn("Work gone from a hub not confirmed as this agent's own; keeping all it applied", {
        set,
        objects: copy.inventory.length,
        state: trust.state,
      });
      return { requeueAfter: TRUST_RETRY_MS };
    }
    logger.info('Work deleted on the hub; removing what it applied', {
      set,
      objects: copy.inventory.length,
      deletionPolicy: copy.options.deletionPolicy,
    });
    if (policySets.has(set)) await reconcileNamespaceLabels(set, undefined);
    policySets.delete(set);
    const pruned = await pruneIfTrusted(set, copy, pruneCandidates(copy.inventory, [], cache.resolveScope), 'hub');
    if (pruned.remaining.length > 0) {
      // The hub's word stands: the desired state is now nothing, whatever is left to prune.
      await saveCopy(deletedCopy(copy, pruned.remaining));
      if (pruned.errors.length === 0) return { requeueAfter: TRUST_RETRY_MS };
      throw new Error(`could not prune ${pruned.errors.length} object(s): ${pruned.errors.slice(0, 3).join('; ')}`);
    }
    await dropCopy(set);
    conflictedSets.delete(set);
    setsByLabel.delete(workLabelValue(refOf(set)));
    return {};
  }

  /** The spoke's namespaces as the set's policy sees them (from the namespace informer). */
  async function namespaceInfos(set: string): Promise<NamespaceInfo[]> {
    const manager = namespaceLabelManager(set);
    return (await namespaceCache()).store.list().map((ns) => namespaceInfo(ns, manager));
  }

  /** The namespaces' policy labels as `policy` wants them (none: ours removed); results for the selected. */
  async function reconcileNamespaceLabels(set: string, policy: WorkPolicy | undefined): Promise<ManifestResult[]> {
    const namespaces = await namespaceInfos(set);
    return applyNamespaceLabels(policyContext, set, planNamespaceLabels(policy && allowedPolicy(set, policy, namespaces), namespaces));
  }

  /** A set's manifests for this cluster: the Work's own plus its policy's templates in every selected namespace. */
  async function expandedManifests(
    set: string,
    own: Manifest[],
    policy: WorkPolicy | undefined,
  ): Promise<Pick<DesiredCopy, 'manifests' | 'policy'>> {
    if (policy === undefined) return { manifests: own };
    policySets.add(set);
    const namespaces = await namespaceInfos(set);
    const expanded = withTemplates(own, allowedPolicy(set, policy, namespaces), namespaces);
    return { manifests: expanded.manifests, policy: { ...expanded.policy, spec: policy } };
  }

  /** Objects of each set whose drift is reported and left in place, so each appearance is counted once. */
  const driftReported = new Map<string, Set<string>>();

  /** Applies a set's desired state, and tells the spoke's admin (Events) and the fleet's operator (metrics). */
  async function applyObserved(set: string, enforced: DesiredCopy, lastApplied: ReadonlyMap<string, Manifest>): Promise<ApplyOutcome> {
    const started = performance.now();
    const outcome = await applyManifests(applier(set, enforced), enforced.manifests, lastApplied);
    if (outcome.results.some((r) => r.conflict !== undefined)) conflictedSets.add(set);
    else conflictedSets.delete(set);
    options.metrics?.applied(applyTally(outcome.results, outcome.notes), (performance.now() - started) / 1000);
    const drift = reportedDrift(driftReported.get(set) ?? new Set(), outcome.results);
    driftReported.set(set, drift.drifted);
    options.metrics?.driftReported(drift.appeared);
    const work = `${hubNamespace}/${set}`;
    for (const note of outcome.notes) {
      const event = objectEvent(note, work);
      events.event(event.regarding, event.type, event.reason, event.message);
    }
    return outcome;
  }

  const steps: WorkSteps = {
    hubNamespace,
    resolveScope: (...args) => cache.resolveScope(...args),
    expand: expandedManifests,
    saveCopy,
    intentSaved: () => {
      crashPoint('after-intent');
    },
    apply: applyObserved,
    async prune(set, enforced, candidates, basis) {
      const pruned = await pruneIfTrusted(set, enforced, candidates, basis);
      options.metrics?.pruneFailed(pruned.errors.length);
      return pruned;
    },
    labelled: (set) => policySets.has(set),
    async labelNamespaces(set, policy) {
      const results = await reconcileNamespaceLabels(set, policy);
      if (policy === undefined) policySets.delete(set);
      return results;
    },
    reportStatus,
  };

  async function reconcile(set: string): Promise<{ requeueAfter?: number }> {
    const works = hubWorks.store.byIndex(SET_INDEX, set);
    const desired: HubDesired =
      trust.state === 'Trusted' ? hubDesired(works, hubWorks.hasSynced(), cache.resolveScope) : { state: 'Unknown' };
    if (desired.state === 'Deleted') return removeSet(set);
    const copy = copies.get(set);
    if (desired.state === 'Content' && desired.policy?.mode === 'Audit') {
      // Audit writes none of the policy's objects or labels: it only compares and reports. The local
      // copy (if any) records the mode, once, so that a restart without the hub does not go back to
      // enforcing what was applied before.
      if (copy) await saveCopy({ ...copy, policy: { spec: desired.policy, stamped: copy.policy?.stamped ?? 0 } });
      const { manifests } = await expandedManifests(set, desired.manifests, desired.policy);
      const results = [...(await auditManifests(policyContext, manifests)), ...(await reconcileNamespaceLabels(set, desired.policy))];
      await reportStatus(works, desired.revision, results, undefined);
      return { requeueAfter: AUDIT_RESYNC_MS };
    }
    const { requeueAfter } = await runSteps(initialState(set, works, desired, copy), steps);
    return requeueAfter === undefined ? {} : { requeueAfter };
  }

  async function reportStatus(
    works: readonly Work[],
    revision: string,
    results: readonly ManifestResult[],
    problem: ContentProblem | undefined,
    pruneFailures: readonly string[] = [],
  ): Promise<void> {
    // Nothing is written to a hub the agent does not trust to be its own.
    if (trust.state !== 'Trusted') return;
    for (const work of works) {
      await writeStatus<Work & KubeObject>(
        hub,
        work as Work & KubeObject,
        (current): WorkStatus =>
          computeWorkStatus(current.status, {
            generation: current.metadata.generation ?? 0,
            revision,
            results,
            ...(problem ? { contentProblem: problem } : {}),
            pruneFailures,
          }),
        { signal, fieldManager: fieldManagers.agent },
      ).catch((error: unknown) => {
        noteHubRefusal(error);
        throw error;
      });
    }
  }

  // --- run -----------------------------------------------------------------------------------------
  const hubRun = hubWorks.run(signal);
  const trustRun = trustLoop();
  // Once the hub has answered a full list, sets known only locally may have been deleted meanwhile.
  void hubWorks.waitForSync(signal).then(
    () => {
      for (const set of copies.keys()) queue.add(set);
    },
    () => undefined,
  );
  const workers = runWorkers(queue, reconcile, {
    name: WORKER_NAME,
    workers: options.workers ?? 4,
    signal,
    logger,
    ...(options.runtimeMetrics ? { metrics: options.runtimeMetrics } : {}),
    onResult: (outcome) => {
      stats.reconciles++;
      if (outcome === 'error') stats.errors++;
    },
  });
  const done = Promise.all([hubRun, trustRun, workers]).then(async () => {
    await events.flush();
    logger.info('work agent stopped');
  });

  return {
    done,
    stats: () => ({
      sets: setsByLabel.size,
      reconciles: stats.reconciles,
      errors: stats.errors,
      pending: queue.len() + queue.processing(),
      hubSynced: hubWorks.hasSynced(),
      watchedKinds: cache.watched(),
      hubTrust: trust.state,
    }),
  };
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}
