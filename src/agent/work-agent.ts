import { setMaxListeners } from 'node:events';
import { flotillaNamespace, fieldManagers, memberNamespace, WorkType, type Manifest, type Work, type WorkStatus } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';
import { runWorkers } from '../runtime/controller.js';
import { createEventRecorder, type EventRecorder } from '../runtime/events.js';
import { createInformer, type Informer } from '../runtime/informer.js';
import type { Kube, KubeObject } from '../runtime/kube.js';
import { silentLogger, type Logger } from '../runtime/log.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import { createWorkQueue, type WorkQueue } from '../runtime/queue.js';
import { writeStatus } from '../runtime/status.js';
import { admissionRules, type AdmissionRules } from '../work/admission.js';
import { sourcePrefixes, workSetName } from '../work/naming.js';
import { applyManifests, pruneEntries, type ApplierContext, type ApplyOutcome } from './applier.js';
import { applyTally, objectEvent, reportedDrift } from './apply-report.js';
import { crashPoint } from './crash-point.js';
import { watchFleetRules } from './fleet-rules.js';
import type { HubTrust } from './hub-trust.js';
import { deletedCopy, type DesiredCopy } from './local-copy.js';
import { loadLocalCopies, type LocalCopyStore } from './local-copy-store.js';
import type { AgentMetrics } from './metrics.js';
import { createNamespacePolicies, type NamespacePolicies } from './namespace-policy.js';
import { workLabelValue, type WorkRef } from './ownership.js';
import { pruneCandidates, type InventoryEntry } from './plan.js';
import { auditManifests } from './policy.js';
import { createSpokeCache, type SpokeCache } from './spoke-cache.js';
import { computeWorkStatus, type ContentProblem, type ManifestResult } from './status.js';
import { createTrustMonitor, type TrustMonitor } from './trust-monitor.js';
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

const SET_INDEX = 'set';
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

/** The agent's parts, which every function of its reconcile reads. */
interface Agent {
  options: WorkAgentOptions;
  hubNamespace: string;
  signal: AbortSignal;
  logger: Logger;
  queue: WorkQueue;
  cache: SpokeCache;
  hubWorks: Informer<Work & KubeObject>;
  copies: LocalCopyStore;
  trust: TrustMonitor;
  policies: NamespacePolicies;
  events: EventRecorder;
  rulesOf: (set: string) => AdmissionRules;
  /** Work sets known, by the ownership label value that leads back to each. */
  setsByLabel: Map<string, string>;
  /**
   * Sets with a manifest left unapplied because another owner holds its object: a prune elsewhere
   * (the other Work leaving) visits them again, since no watch event of theirs would.
   */
  conflictedSets: Set<string>;
  /** Objects of each set whose drift is reported and left in place, so each appearance is counted once. */
  driftReported: Map<string, Set<string>>;
}

/**
 * Starts the agent: reads its local copies from the spoke (so it can enforce them at once, with or
 * without the hub), then watches. Resolves once started; runs until `signal` aborts.
 */
export async function startWorkAgent(options: WorkAgentOptions): Promise<WorkAgent> {
  const signal = linkedSignal(options.signal);
  const hubNamespace = options.namespace ?? memberNamespace(options.cluster);
  const systemNamespace = options.systemNamespace ?? flotillaNamespace;
  const logger = (options.logger ?? silentLogger()).child({ controller: 'work-agent', cluster: options.cluster });
  const queue = createWorkQueue({
    backoff: { baseMs: 500, maxMs: 15_000, jitter: 0.2 },
    ...(options.runtimeMetrics ? { metrics: options.runtimeMetrics.queue(WORKER_NAME) } : {}),
  });
  const setsByLabel = new Map<string, string>();
  const enqueueAll = (sets: Iterable<string>): void => {
    for (const set of sets) queue.add(set);
  };
  const cache = createSpokeCache({
    kube: options.spoke,
    logger,
    signal,
    onChange: (label) => {
      const set = setsByLabel.get(label);
      if (set !== undefined) queue.add(set);
    },
  });
  const copies = await loadLocalCopies({ spoke: options.spoke, systemNamespace, hubNamespace, logger, signal });
  const fleetRules =
    options.fleet === undefined
      ? undefined
      : await watchFleetRules({
          ...options,
          fleet: options.fleet,
          systemNamespace,
          logger,
          signal,
          onChange: () => {
            enqueueAll(setsByLabel.values());
          },
        });
  // The set's name says its source's kind (pb-NAME for PolicyBundles), with or without the hub.
  const rulesOf = (set: string): AdmissionRules =>
    admissionRules(set.startsWith(`${sourcePrefixes.PolicyBundle}-`) ? 'PolicyBundle' : 'GlobalService', fleetRules?.restrictions(), [
      systemNamespace,
    ]);
  const events = createEventRecorder({ kube: options.spoke, component: 'flotilla-agent', logger });
  const agent: Agent = {
    options,
    hubNamespace,
    signal,
    logger,
    queue,
    cache,
    hubWorks: watchHubWorks(options.hub, hubNamespace, logger, (set) => {
      enqueue(agent, set);
    }),
    copies,
    trust: createTrustMonitor({
      hub: options.hub,
      cluster: options.cluster,
      memberUID: options.memberUID,
      systemNamespace,
      recheckMs: options.trustRecheckMs,
      events,
      metrics: options.metrics,
      logger,
      signal,
      onTrusted: () => {
        enqueueAll(setsByLabel.values());
      },
    }),
    policies: createNamespacePolicies({ spoke: options.spoke, cache, rulesOf, logger, signal, onChange: enqueueAll }),
    events,
    rulesOf,
    setsByLabel,
    conflictedSets: new Set(),
    driftReported: new Map(),
  };
  for (const set of copies.sets()) {
    if (copies.get(set)?.policy) agent.policies.note(set);
    enqueue(agent, set);
  }
  logger.info('work agent starting', { hubNamespace, localCopies: copies.size() });
  return run(agent, options.workers ?? 4);
}

/** One internal signal for the many watches and waits, linked to the caller's, so that Node's
 * listener-leak warning (meant for leaks, not for a process with dozens of informers) stays quiet. */
function linkedSignal(outer: AbortSignal): AbortSignal {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  if (outer.aborted) stop.abort(outer.reason);
  else
    outer.addEventListener(
      'abort',
      () => {
        stop.abort(outer.reason);
      },
      { once: true },
    );
  return stop.signal;
}

function watchHubWorks(hub: Kube, namespace: string, logger: Logger, enqueue: (set: string) => void): Informer<Work & KubeObject> {
  const works = createInformer<Work & KubeObject>({
    kube: hub,
    type: WorkType,
    namespace,
    logger,
    indexes: { [SET_INDEX]: (w) => [workSetName(w)] },
  });
  works.addHandler({
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
  return works;
}

function run(agent: Agent, workers: number): WorkAgent {
  const { signal, queue, hubWorks } = agent;
  const stats = { reconciles: 0, errors: 0 };
  const hubRun = hubWorks.run(signal);
  const trustRun = agent.trust.run();
  // Once the hub has answered a full list, sets known only locally may have been deleted meanwhile.
  void hubWorks.waitForSync(signal).then(
    () => {
      for (const set of agent.copies.sets()) queue.add(set);
    },
    () => undefined,
  );
  const working = runWorkers(queue, (set) => reconcileSet(agent, set), {
    name: WORKER_NAME,
    workers,
    signal,
    logger: agent.logger,
    ...(agent.options.runtimeMetrics ? { metrics: agent.options.runtimeMetrics } : {}),
    onResult: (outcome) => {
      stats.reconciles++;
      if (outcome === 'error') stats.errors++;
    },
  });
  const done = Promise.all([hubRun, trustRun, working]).then(async () => {
    await agent.events.flush();
    agent.logger.info('work agent stopped');
  });
  return {
    done,
    stats: () => ({
      sets: agent.setsByLabel.size,
      reconciles: stats.reconciles,
      errors: stats.errors,
      pending: queue.len() + queue.processing(),
      hubSynced: hubWorks.hasSynced(),
      watchedKinds: agent.cache.watched(),
      hubTrust: agent.trust.current().state,
    }),
  };
}

const refOf = (agent: Agent, set: string): WorkRef => ({ namespace: agent.hubNamespace, name: set });

function enqueue(agent: Agent, set: string): void {
  agent.setsByLabel.set(workLabelValue(refOf(agent, set)), set);
  agent.queue.add(set);
}

async function reconcileSet(agent: Agent, set: string): Promise<{ requeueAfter?: number }> {
  const works = agent.hubWorks.store.byIndex(SET_INDEX, set);
  const desired: HubDesired =
    agent.trust.current().state === 'Trusted'
      ? hubDesired(works, agent.hubWorks.hasSynced(), agent.cache.resolveScope)
      : { state: 'Unknown' };
  if (desired.state === 'Deleted') return removeSet(agent, set);
  const { requeueAfter } = await runSteps(initialState(set, works, desired, agent.copies.get(set)), workSteps(agent));
  return requeueAfter === undefined ? {} : { requeueAfter };
}

/** The world the reconcile chain (work-steps.ts) sees. */
function workSteps(agent: Agent): WorkSteps {
  return {
    hubNamespace: agent.hubNamespace,
    resolveScope: (...args) => agent.cache.resolveScope(...args),
    expand: (set, own, policy) => agent.policies.expand(set, own, policy),
    saveCopy: (copy) => agent.copies.save(copy),
    intentSaved: () => {
      crashPoint('after-intent');
    },
    apply: (set, enforced, lastApplied) => applyObserved(agent, set, enforced, lastApplied),
    audit: (manifests) =>
      auditManifests({ kube: agent.options.spoke, cache: agent.cache, signal: agent.signal, logger: agent.logger }, manifests),
    async prune(set, enforced, candidates, basis) {
      const pruned = await pruneIfTrusted(agent, set, enforced, candidates, basis);
      agent.options.metrics?.pruneFailed(pruned.errors.length);
      return pruned;
    },
    labelled: (set) => agent.policies.has(set),
    labelNamespaces: (set, policy) => agent.policies.labelNamespaces(set, policy),
    reportStatus: (works, revision, results, problem, pruneFailures) =>
      reportStatus(agent, works, revision, results, problem, pruneFailures),
  };
}

function applierFor(agent: Agent, set: string, enforced: Pick<DesiredCopy, 'options'>): ApplierContext {
  return {
    kube: agent.options.spoke,
    cache: agent.cache,
    logger: agent.logger.child({ work: set }),
    signal: agent.signal,
    work: refOf(agent, set),
    options: enforced.options,
    admission: agent.rulesOf(set),
  };
}

/** Applies a set's desired state, and tells the spoke's admin (Events) and the fleet's operator (metrics). */
async function applyObserved(
  agent: Agent,
  set: string,
  enforced: DesiredCopy,
  lastApplied: ReadonlyMap<string, Manifest>,
): Promise<ApplyOutcome> {
  const { metrics } = agent.options;
  const started = performance.now();
  const outcome = await applyManifests(applierFor(agent, set, enforced), enforced.manifests, lastApplied);
  if (outcome.results.some((r) => r.conflict !== undefined)) agent.conflictedSets.add(set);
  else agent.conflictedSets.delete(set);
  metrics?.applied(applyTally(outcome.results, outcome.notes), (performance.now() - started) / 1000);
  const drift = reportedDrift(agent.driftReported.get(set) ?? new Set(), outcome.results);
  agent.driftReported.set(set, drift.drifted);
  metrics?.driftReported(drift.appeared);
  for (const note of outcome.notes) {
    const event = objectEvent(note, `${agent.hubNamespace}/${set}`);
    agent.events.event(event.regarding, event.type, event.reason, event.message);
  }
  return outcome;
}

/**
 * Prunes `candidates`, which a desired state no longer names, when that state may be believed: the
 * hub's only after the membership was confirmed just now; a complete local copy's (written after
 * such a read) also while the hub is unreachable, but never once the hub revoked the agent or
 * turned out to be another (those keep everything). Candidates not pruned stay in the inventory.
 */
async function pruneIfTrusted(
  agent: Agent,
  set: string,
  copy: Pick<DesiredCopy, 'options'>,
  candidates: InventoryEntry[],
  basis: 'hub' | 'local copy',
): Promise<{ remaining: InventoryEntry[]; errors: string[] }> {
  if (candidates.length === 0) return { remaining: [], errors: [] };
  const state: HubTrust['state'] = agent.trust.current().state;
  const believed = basis === 'hub' ? await agent.trust.verify() : state === 'Trusted' || state === 'Unverified';
  if (!believed) {
    agent.logger.warn("not pruning: the hub is not confirmed as this agent's own", {
      work: set,
      objects: candidates.length,
      state: agent.trust.current().state,
      basis,
    });
    return { remaining: candidates, errors: [] };
  }
  const pruned = await pruneEntries(applierFor(agent, set, copy), candidates);
  // What a set could not apply because another Work held it may be free now.
  if (pruned.writes > 0) for (const other of agent.conflictedSets) if (other !== set) agent.queue.add(other);
  return pruned;
}

/** The Work set's Works were deleted on the hub: confirm it, then prune (or orphan) what it left. */
async function removeSet(agent: Agent, set: string): Promise<{ requeueAfter?: number }> {
  const copy = agent.copies.get(set);
  if (!copy) return {};
  for (const name of copy.works) {
    if (await agent.options.hub.getOrNull(WorkType, name, agent.hubNamespace, { signal: agent.signal })) {
      agent.logger.warn('a Work missing from the hub cache still exists; not pruning', { work: name });
      return {};
    }
  }
  // A hub that is not the agent's own says nothing: the copy, and all it applied, stay as they are.
  if (!(await agent.trust.verify())) {
    agent.logger.warn("Work gone from a hub not confirmed as this agent's own; keeping all it applied", {
      set,
      objects: copy.inventory.length,
      state: agent.trust.current().state,
    });
    return { requeueAfter: TRUST_RETRY_MS };
  }
  agent.logger.info('Work deleted on the hub; removing what it applied', {
    set,
    objects: copy.inventory.length,
    deletionPolicy: copy.options.deletionPolicy,
  });
  if (agent.policies.has(set)) await agent.policies.labelNamespaces(set, undefined);
  agent.policies.forget(set);
  const pruned = await pruneIfTrusted(agent, set, copy, pruneCandidates(copy.inventory, [], agent.cache.resolveScope), 'hub');
  if (pruned.remaining.length > 0) {
    // The hub's word stands: the desired state is now nothing, whatever is left to prune.
    await agent.copies.save(deletedCopy(copy, pruned.remaining));
    if (pruned.errors.length === 0) return { requeueAfter: TRUST_RETRY_MS };
    throw new Error(`could not prune ${pruned.errors.length} object(s): ${pruned.errors.slice(0, 3).join('; ')}`);
  }
  await agent.copies.drop(set);
  agent.conflictedSets.delete(set);
  agent.setsByLabel.delete(workLabelValue(refOf(agent, set)));
  return {};
}

async function reportStatus(
  agent: Agent,
  works: readonly Work[],
  revision: string,
  results: readonly ManifestResult[],
  problem: ContentProblem | undefined,
  pruneFailures: readonly string[],
): Promise<void> {
  // Nothing is written to a hub the agent does not trust to be its own.
  if (agent.trust.current().state !== 'Trusted') return;
  for (const work of works) {
    await writeStatus<Work & KubeObject>(
      agent.options.hub,
      work as Work & KubeObject,
      (current): WorkStatus =>
        computeWorkStatus(current.status, {
          generation: current.metadata.generation ?? 0,
          revision,
          results,
          ...(problem ? { contentProblem: problem } : {}),
          pruneFailures,
        }),
      { signal: agent.signal, fieldManager: fieldManagers.agent },
    ).catch((error: unknown) => {
      agent.trust.noteHubRefusal(error);
      throw error;
    });
  }
}
