// Simulated member clusters for rollouts over many clusters: MemberClusters on the real hub with no
// plane behind them, and one in-process "agent" that watches every GlobalService Work in their
// namespaces and answers as a real agent would — status.appliedRevision and Applied/Available (or
// Degraded) conditions for the Work's generation — after a delay the test controls — and the cluster
// facts charts render against (Kubernetes version, served APIs). The hub and its apiserver are
// real; only the spokes are imagined.
import {
  apiVersion,
  fieldManagers,
  labels,
  MemberClusterType,
  memberNamespace,
  type MemberCluster,
  type MemberClusterStatus,
  type Work,
} from '../../src/api/index.js';
import {
  createInformer,
  setCondition,
  writeStatus,
  type Condition,
  type ConditionInput,
  type Kube,
  type KubeObject,
} from '../../src/runtime/index.js';

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

/** What an agent reports of its cluster that charts render against (src/work/capabilities.ts). */
export type SimulatedFacts = Required<Pick<MemberClusterStatus, 'kubernetesVersion' | 'apiVersions'>>;

/** Writes `facts` into each named MemberCluster's status, as its agent would (other status fields kept). */
export async function reportSimulatedFacts(hub: Kube, names: readonly string[], facts: SimulatedFacts): Promise<void> {
  for (let start = 0; start < names.length; start += 32) {
    await Promise.all(
      names.slice(start, start + 32).map(async (name) => {
        const member = await hub.get<MemberCluster & KubeObject>(MemberClusterType, name);
        await writeStatus(hub, member, (current) => ({ ...current.status, ...facts }), {
          fieldManager: fieldManagers.agent,
          maxAttempts: 10,
        });
      }),
    );
  }
}

function report(work: WorkObject, behaviour: Behaviour, now: Date): WorkObject['status'] {
  const generation = work.metadata.generation ?? 0;
  const condition = (type: string, status: 'True' | 'False', reason: string): ConditionInput => ({
    type,
    status,
    reason,
    message: `${reason} (simulated)`,
  });
  let conditions = (work.status?.conditions ?? []) as Condition[];
  for (const entry of [
    condition('Applied', 'True', 'Applied'),
    condition('Available', behaviour.fail === true ? 'False' : 'True', behaviour.fail === true ? 'Unhealthy' : 'Available'),
    condition('Degraded', behaviour.fail === true ? 'True' : 'False', behaviour.fail === true ? 'Unhealthy' : 'Healthy'),
  ])
    conditions = setCondition(conditions, entry, { observedGeneration: generation, now });
  return { observedGeneration: generation, appliedRevision: work.spec.source.revision, conditions };
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
      void writeStatus(hub, work, (current) => report(current, answer, new Date()), { signal: controller.signal })
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
