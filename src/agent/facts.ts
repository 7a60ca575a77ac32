// The facts an agent reports about its cluster into its MemberCluster's status: Kubernetes
// version, node count, summed node capacity and allocatable, and the summed requests of the pods
// that still hold their resources. Pure: the agent's loop feeds it from its caches.
import { isRecord, type KubeObject } from '../runtime/index.js';
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
}

export interface FactsInput {
  /** The spoke apiserver's gitVersion (GET /version). */
  kubernetesVersion: string;
  agentVersion: string;
  nodes: readonly KubeObject[];
  /** Pods of every namespace; terminated ones are skipped here, whatever the caller's filter did. */
  pods: readonly KubeObject[];
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
  };
}
