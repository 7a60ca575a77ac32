// The facts an agent reports about its cluster into its MemberCluster's status: Kubernetes
// version, node count, summed node capacity and allocatable, the summed requests of the pods
// that still hold their resources, and the APIs the cluster serves. Pure: the agent's loop feeds
// it from its caches and from discovery.
import { isRecord, type KubeObject, type ServedGroupVersion } from '../runtime/index.js';
import { field } from './object.js';
import { addRationals, formatQuantity, maxRational, parseQuantity, ZERO, type Rational } from '../kube-semantics/quantity.js';

/** The MemberCluster status fields the agent owns (server-side apply, field manager flotilla-agent). */
export interface ClusterFacts {
  kubernetesVersion: string;
  agentVersion: string;
  nodeCount: number;
  resources: {
    capacity: { cpu: string; memory: string };
    allocatable: { cpu: string; memory: string };
    requested: { cpu: string; memory: string };
  };
  /** Absent only until discovery first answers on a cluster that never reported them. */
  apiVersions?: string[];
  apiVersionsOmitted?: number;
}

/** The served APIs as status.apiVersions holds them. */
export type APIVersionsFact = Pick<ClusterFacts, 'apiVersions' | 'apiVersionsOmitted'>;

export interface FactsInput {
  /** The spoke apiserver's gitVersion (GET /version). */
  kubernetesVersion: string;
  agentVersion: string;
  nodes: readonly KubeObject[];
  /** Pods of every namespace; terminated ones are skipped here, whatever the caller's filter did. */
  pods: readonly KubeObject[];
  /** What discovery last answered; undefined while it has not answered since the agent started. */
  served: readonly ServedGroupVersion[] | undefined;
  /**
   * The served APIs the MemberCluster already holds: they stand while discovery has no answer, so
   * an agent restarted while its apiserver's discovery fails does not withdraw them (a chart's
   * capability-gated objects would be rendered away and pruned).
   */
  reportedAPIVersions: APIVersionsFact;
}

/** Bounds of status.apiVersions (schemas/membercluster.yaml: maxItems), and the characters of all its entries. */
export const apiVersionsLimits: Readonly<{ entries: number; characters: number }> = { entries: 4096, characters: 256 * 1024 };

/**
 * The served APIs in helm's own vocabulary, as helm lists them when it talks to a live cluster
 * (every `group/version`, and every `group/version/Kind`; subresources' kinds left out, since no
 * chart creates a Scale or an Eviction), sorted so the same cluster always reports the same list.
 * Beyond the bounds, the group-versions come first (charts test those most) and then the
 * group/version/Kinds in sorted order, up to the first that does not fit; the rest are counted as omitted.
 */
export function apiVersionsFact(served: readonly ServedGroupVersion[], limits = apiVersionsLimits): APIVersionsFact {
  const groupVersions = [...new Set(served.map((entry) => entry.groupVersion))].sort();
  const kinds = [...new Set(served.flatMap((entry) => entry.kinds.map((kind) => `${entry.groupVersion}/${kind}`)))].sort();
  const candidates = [...groupVersions, ...kinds];
  const kept: string[] = [];
  let characters = 0;
  for (const entry of candidates) {
    if (kept.length === limits.entries || characters + entry.length > limits.characters) break;
    kept.push(entry);
    characters += entry.length;
  }
  const omitted = candidates.length - kept.length;
  return { apiVersions: kept.sort(), ...(omitted > 0 ? { apiVersionsOmitted: omitted } : {}) };
}

interface CpuMemory {
  cpu: Rational;
  memory: Rational;
}

const zero = (): CpuMemory => ({ cpu: ZERO, memory: ZERO });
const add = (a: CpuMemory, b: CpuMemory): CpuMemory => ({ cpu: addRationals(a.cpu, b.cpu), memory: addRationals(a.memory, b.memory) });
const max = (a: CpuMemory, b: CpuMemory): CpuMemory => ({ cpu: maxRational(a.cpu, b.cpu), memory: maxRational(a.memory, b.memory) });

function cpuMemory(list: unknown): CpuMemory {
  return { cpu: parseQuantity(field(list, 'cpu')) ?? ZERO, memory: parseQuantity(field(list, 'memory')) ?? ZERO };
}

function format(value: CpuMemory): { cpu: string; memory: string } {
  return { cpu: formatQuantity(value.cpu, 'DecimalSI'), memory: formatQuantity(value.memory, 'BinarySI') };
}

function containers(pod: KubeObject, kind: 'containers' | 'initContainers'): unknown[] {
  const list = field(pod, 'spec', kind);
  return Array.isArray(list) ? list : [];
}

/** Succeeded and Failed pods have given their resources back. */
export function isTerminated(pod: KubeObject): boolean {
  const phase = field(pod, 'status', 'phase');
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * A pod's effective request, as the scheduler computes it: the larger of its app containers plus
 * restartable (sidecar) init containers and the peak of its init sequence (each init container
 * plus the sidecars started before it), plus the pod overhead.
 */
export function podRequests(pod: KubeObject): CpuMemory {
  let sidecars = zero();
  let initPeak = zero();
  for (const init of containers(pod, 'initContainers')) {
    const request = cpuMemory(field(init, 'resources', 'requests'));
    if (isRecord(init) && init.restartPolicy === 'Always') {
      sidecars = add(sidecars, request);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(sidecars, request));
    }
  }
  let running = sidecars;
  for (const container of containers(pod, 'containers')) running = add(running, cpuMemory(field(container, 'resources', 'requests')));
  return add(max(running, initPeak), cpuMemory(field(pod, 'spec', 'overhead')));
}

export function clusterFacts(input: FactsInput): ClusterFacts {
  let capacity = zero();
  let allocatable = zero();
  for (const node of input.nodes) {
    capacity = add(capacity, cpuMemory(field(node, 'status', 'capacity')));
    allocatable = add(allocatable, cpuMemory(field(node, 'status', 'allocatable')));
  }
  let requested = zero();
  for (const pod of input.pods) if (!isTerminated(pod)) requested = add(requested, podRequests(pod));
  return {
    kubernetesVersion: input.kubernetesVersion,
    agentVersion: input.agentVersion,
    nodeCount: input.nodes.length,
    resources: { capacity: format(capacity), allocatable: format(allocatable), requested: format(requested) },
    ...(input.served === undefined ? input.reportedAPIVersions : apiVersionsFact(input.served)),
  };
}
