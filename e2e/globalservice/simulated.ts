// Simulated member clusters for rollouts and benchmarks over many clusters: MemberClusters on the real
// hub with no plane behind them, and one in-process stand-in for all their agents that makes the
// requests real agents make of the hub: it watches every GlobalService Work in their namespaces and
// writes the status the agent's own code computes (src/agent/status.ts) for a healthy (or Degraded)
// apply of its manifests, after a delay the test controls; it renews each cluster's heartbeat Lease at
// the agent's default interval (src/agent/member-agent.ts's spec, GET once, then one PUT per interval);
// and it writes the cluster facts (Kubernetes version, served APIs) once, by server-side apply, as the
// agent does. The hub and its apiserver are real; only the spokes are imagined — and all of them
// speak with the identity they are given, one for all (simulatedAgentsKube: a ServiceAccount, as a
// real agent's hub identity is, so the hub's API priority classifies them as it would real agents).
import { setMaxListeners } from 'node:events';
import {
  apiVersion,
  defaultHeartbeatInterval,
  fieldManagers,
  heartbeatLease,
  labels,
  MemberClusterType,
  memberNamespace,
  type MemberClusterStatus,
  type Work,
} from '../../src/api/index.js';
import { heartbeatSpec } from '../../src/agent/member-agent.js';
import { memberAccessObjects } from '../../src/hub/membercluster/access.js';
import { computeWorkStatus, type ManifestResult } from '../../src/agent/status.js';
import { parseDuration } from '../../src/kube-semantics/duration.js';
import {
  clusterOfKubeConfig,
  createInformer,
  isConflict,
  isNotFound,
  kubeFromToken,
  LeaseType,
  writeStatus,
  type Kube,
  type KubeObject,
  type Lease,
} from '../../src/runtime/index.js';
import { decodeContent } from '../../src/work/payload.js';
import { manifestIdentity } from '../../src/work/identity.js';

export type WorkObject = Work & KubeObject;

/** What a simulated cluster does with a revision: answer after `delayMs`, healthy or Degraded. */
export interface Behaviour {
  delayMs: number;
  fail?: boolean;
}

export interface SimulatedAgents {
  /** Status writes made so far. */
  reports(): number;
  stop(): Promise<void>;
}

const WorkType = { apiVersion, kind: 'Work' } as const;

/**
 * One hub identity for every simulated agent: a ServiceAccount `name` in `namespace` holding the
 * agent's own Role and MemberCluster rules (src/hub/membercluster/access.ts) cluster-wide instead of
 * per member, and a client with a token of it (24 h) for the apiserver of `hubKubeconfig`.
 */
export async function simulatedAgentsKube(admin: Kube, hubKubeconfig: string, namespace: string, name: string): Promise<Kube> {
  const rules = memberAccessObjects({ cluster: 'simulated', fleet: 'simulated', uid: '00000000-0000-0000-0000-000000000000' })
    .flatMap((object) => (object.kind === 'Role' || object.kind === 'ClusterRole' ? (object.rules as { resourceNames?: string[] }[]) : []))
    .map((rule) => ({ ...rule, resourceNames: undefined }));
  const rbac = 'rbac.authorization.k8s.io';
  const fieldManager = 'flotilla-simulated';
  await admin.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }, { fieldManager });
  await admin.apply({ apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name }, rules }, { fieldManager });
  await admin.apply(
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
    { fieldManager },
  );
  const answer = await admin.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } },
    },
  );
  return kubeFromToken({ ...clusterOfKubeConfig(hubKubeconfig), token: answer.status.token }, { userAgent: 'flotilla-simulated-agents' });
}

/** Creates `count` MemberClusters named PREFIX-N (N from 0) in `fleet` with `clusterLabels`. */
export async function createSimulatedMembers(
  hub: Kube,
  prefix: string,
  count: number,
  fleet: string,
  clusterLabels: Record<string, string>,
): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  for (let start = 0; start < names.length; start += 32) {
    await Promise.all(
      names
        .slice(start, start + 32)
        .map((name) => hub.create({ apiVersion, kind: 'MemberCluster', metadata: { name, labels: clusterLabels }, spec: { fleet } })),
    );
  }
  return names;
}

/** What an agent reports of its cluster that charts render against (src/work/capabilities.ts), and optionally its capacity. */
export type SimulatedFacts = Required<Pick<MemberClusterStatus, 'kubernetesVersion' | 'apiVersions'>> &
  Pick<MemberClusterStatus, 'resources'>;

/** Writes `facts` into each named MemberCluster's status once, by server-side apply under the agent's field manager, as its agent does. */
export async function reportSimulatedFacts(hub: Kube, names: readonly string[], facts: SimulatedFacts): Promise<void> {
  for (let start = 0; start < names.length; start += 32) {
    await Promise.all(
      names
        .slice(start, start + 32)
        .map((name) =>
          hub.apply(
            { ...MemberClusterType, metadata: { name }, status: facts },
            { fieldManager: fieldManagers.agent, force: true, subresource: 'status' },
          ),
        ),
    );
  }
}

/**
 * What the agent's status code makes of a Work whose every manifest was applied and judged healthy
 * (or Degraded when `behaviour.fail`). A part of a split payload decodes to nothing on its own and
 * is reported as a Work of no manifests.
 */
export function simulatedWorkStatus(work: WorkObject, behaviour: Behaviour, now: Date): WorkObject['status'] {
  const decoded = decodeContent([work.spec]);
  const manifests = decoded.ok ? decoded.manifests : [];
  const health: ManifestResult['health'] =
    behaviour.fail === true
      ? { status: 'Degraded', reason: 'Unhealthy', message: 'unhealthy (simulated)' }
      : { status: 'Healthy', reason: 'Current', message: 'healthy (simulated)' };
  const results = manifests.map((manifest) => ({ identity: manifestIdentity(manifest as KubeObject), applied: true, health }));
  return computeWorkStatus(work.status, { generation: work.metadata.generation ?? 0, revision: work.spec.source.revision, results }, now);
}

/**
 * Starts the simulated agent for every Work in a flotilla-member-PREFIX-* namespace. `behaviour`
 * decides per cluster and revision; at most `concurrency` status writes are in flight.
 */
export function startSimulatedAgents(
  hub: Kube,
  prefix: string,
  behaviour: (cluster: string, revision: string) => Behaviour,
  concurrency = 32,
): SimulatedAgents {
  const controller = new AbortController();
  // Each status write in flight listens on it (node:http): up to `concurrency` at once, by design.
  setMaxListeners(0, controller.signal);
  const namespacePrefix = memberNamespace(`${prefix}-`);
  const informer = createInformer<WorkObject>({ kube: hub, type: WorkType, labelSelector: `${labels.sourceKind}=GlobalService` });
  const due = new Map<string, NodeJS.Timeout>();
  const ready: string[] = [];
  let inFlight = 0;
  let reports = 0;

  const pump = (): void => {
    while (inFlight < concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      const work = informer.store.get(key);
      if (!work) continue;
      const cluster = work.metadata.labels?.[labels.cluster] ?? '';
      const answer = behaviour(cluster, work.spec.source.revision);
      inFlight++;
      void writeStatus(hub, work, (current) => simulatedWorkStatus(current, answer, new Date()), { signal: controller.signal })
        .then(
          (result) => {
            if (result.written) reports++;
          },
          () => {
            if (!controller.signal.aborted) schedule(key, 200);
          },
        )
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };
  const schedule = (key: string, delayMs: number): void => {
    if (due.has(key) || controller.signal.aborted) return;
    due.set(
      key,
      setTimeout(() => {
        due.delete(key);
        ready.push(key);
        pump();
      }, delayMs),
    );
  };
  const consider = (work: WorkObject): void => {
    if (!(work.metadata.namespace ?? '').startsWith(namespacePrefix)) return;
    const status = work.status;
    if (status?.observedGeneration === work.metadata.generation && status?.appliedRevision === work.spec.source.revision) return;
    const cluster = work.metadata.labels?.[labels.cluster] ?? '';
    schedule(`${work.metadata.namespace ?? ''}/${work.metadata.name ?? ''}`, behaviour(cluster, work.spec.source.revision).delayMs);
  };
  informer.addHandler({
    onAdd: consider,
    onUpdate: (_, current) => {
      consider(current);
    },
    onDelete: () => undefined,
  });
  const running = informer.run(controller.signal);
  return {
    reports: () => reports,
    async stop() {
      controller.abort(new Error('done'));
      for (const timer of due.values()) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}

export interface SimulatedHeartbeats {
  /** Lease writes (creates and renewals) made so far. */
  renewals(): number;
  /** Stops renewing one cluster's Lease, as if its agent went silent (a renewal in flight still lands). */
  silence(cluster: string): void;
  stop(): Promise<void>;
}

/** The agent's own default (`flotilla agent --heartbeat-interval`). */
export const agentHeartbeatIntervalMs = parseDuration(defaultHeartbeatInterval) ?? 60_000;

/**
 * A renewal may take this long at a saturated hub apiserver (its p99 while 10,000 clusters took 10
 * Works each) without the simulated fleet falling behind its agents' schedule (the default lanes).
 */
const SLOWEST_RENEWAL_MS = 3000;

/**
 * Renews each named cluster's heartbeat Lease every `intervalMs` as its agent does: the first
 * renewal reads the Lease (creating it when missing), later ones are one PUT of the copy in hand.
 * The clusters start spread evenly over one interval, as agents started at different times are.
 * Each cluster renews on its own schedule, as real agents do, so a slow answer delays only its own
 * cluster; at most `concurrency` writes are in flight (default: enough for every cluster to renew
 * once an interval at SLOWEST_RENEWAL_MS each, at least 32), and a write that fails is retried at
 * the next tick. With batches of 32 that each waited for their slowest write, 10,000 clusters fell
 * minutes behind while the hub was creating Works, and thousands of them read Unknown.
 */
export function startSimulatedHeartbeats(
  hub: Kube,
  names: readonly string[],
  options: { intervalMs?: number; concurrency?: number } = {},
): SimulatedHeartbeats {
  const intervalMs = options.intervalMs ?? agentHeartbeatIntervalMs;
  const concurrency = options.concurrency ?? Math.max(32, Math.ceil((names.length * SLOWEST_RENEWAL_MS) / intervalMs));
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const { signal } = controller;
  const started = Date.now();
  const clusters = names.map((name, index) => ({
    name,
    dueAt: started + Math.floor((index * intervalMs) / Math.max(1, names.length)),
    lease: undefined as Lease | undefined,
    silent: false,
    renewing: false,
  }));
  let renewals = 0;
  const inFlight = new Set<Promise<void>>();
  const renew = async (cluster: (typeof clusters)[number]): Promise<void> => {
    const namespace = memberNamespace(cluster.name);
    const spec = heartbeatSpec(`simulated-${cluster.name}`, intervalMs, Date.now());
    try {
      cluster.lease ??= (await hub.getOrNull<Lease>(LeaseType, heartbeatLease, namespace, { signal })) ?? undefined;
      cluster.lease = cluster.lease
        ? await hub.update<Lease>(
            { ...cluster.lease, spec: { ...cluster.lease.spec, ...spec } },
            { signal, fieldManager: fieldManagers.agent },
          )
        : await hub.create<Lease>(
            { ...LeaseType, metadata: { name: heartbeatLease, namespace }, spec },
            { signal, fieldManager: fieldManagers.agent },
          );
      renewals++;
      cluster.dueAt += intervalMs;
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) cluster.lease = undefined;
    }
  };
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      const now = Date.now();
      for (const cluster of clusters) {
        if (inFlight.size >= concurrency) break;
        if (cluster.silent || cluster.renewing || cluster.dueAt > now) continue;
        cluster.renewing = true;
        const renewal = renew(cluster).finally(() => {
          cluster.renewing = false;
          inFlight.delete(renewal);
        });
        inFlight.add(renewal);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await Promise.all(inFlight);
  };
  const running = loop();
  return {
    renewals: () => renewals,
    silence(name) {
      const cluster = clusters.find((c) => c.name === name);
      if (cluster) cluster.silent = true;
    },
    async stop() {
      controller.abort(new Error('done'));
      await running;
    },
  };
}
