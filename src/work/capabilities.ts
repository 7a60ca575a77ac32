import type { MemberClusterStatus } from '../api/index.js';
import { jsonEqual } from '../runtime/conditions.js';

// A member cluster's capabilities as helm takes them: what `helm template` must be told
// (`--kube-version`, `--api-versions`) to render a chart as `helm install` would on that cluster.
// The agent reports the facts (src/agent/facts.ts writes status.kubernetesVersion and
// status.apiVersions), the hub reads them here: this is their contract.
//
// Note for the caller: `helm template` starts from its own built-in list of group-versions
// (those of the Kubernetes client it was built with) and `--api-versions` adds to it, so a chart
// sees e.g. `batch/v1` whatever the cluster says; the served custom group-versions and every
// `group/version/Kind` are what only the cluster can tell.

export interface HelmCapabilities {
  /**
   * The cluster apiserver's gitVersion as reported (`v1.36.3`, `v1.30.4-eks-a737599`), which is
   * what `.Capabilities.KubeVersion` is when helm talks to that cluster; `--kube-version` takes it.
   */
  kubeVersion: string;
  /** Every served `group/version` and `group/version/Kind`, sorted, each once: one `--api-versions` each. */
  apiVersions: string[];
}

/** What the agent writes as kubernetesVersion when the apiserver's /version has no gitVersion. */
const unknownVersion = 'unknown';

/**
 * The capabilities of a member cluster from its status, or undefined while its agent has not
 * reported both its Kubernetes version and its served APIs (a new cluster, an agent older than
 * this field). Render nothing for it until then rather than render without them: every
 * capability-gated object (a ServiceMonitor behind `.Capabilities.APIVersions.Has
 * "monitoring.coreos.com/v1"`) would be rendered away, and its agent would prune what was there.
 * A list the agent had to cut to its bounds says so in status.apiVersionsOmitted.
 */
export function helmCapabilities(status: MemberClusterStatus | undefined): HelmCapabilities | undefined {
  const kubeVersion = status?.kubernetesVersion;
  const apiVersions = status?.apiVersions;
  if (kubeVersion === undefined || kubeVersion === '' || kubeVersion === unknownVersion || apiVersions === undefined) return undefined;
  // Sorted and unique whoever wrote it, so equal capabilities digest equally in a render cache key.
  return { kubeVersion, apiVersions: [...new Set(apiVersions)].sort() };
}

/**
 * Whether a member's status update changed its capabilities as helmCapabilities reads them. The
 * rest of a MemberCluster's status (its conditions, its Works' counts, the agent's version) is
 * written far more often — every heartbeat transition, every count a fan-out moves — and renders
 * nothing differently: a GlobalService watch that visits only on this (or a change beyond status)
 * spares every service of the fleet a pass over all its clusters per member status write.
 */
export function capabilitiesChanged(old: MemberClusterStatus | undefined, current: MemberClusterStatus | undefined): boolean {
  return old?.kubernetesVersion !== current?.kubernetesVersion || !jsonEqual(old?.apiVersions, current?.apiVersions);
}
