/**
 * Which member clusters a ClusterGroup, a placement or a rollout stage selects: Kubernetes
 * LabelSelector semantics over a MemberCluster's labels, plus explicit names and exclusions.
 */
import type { LabelSelector } from '../api/index.js';
import { selectorMatches } from '../kube-semantics/selector.js';

/** What selection needs to know of a member cluster. */
export interface SelectableCluster {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface ClusterChoice {
  /** Clusters whose labels match; an empty selector `{}` matches every cluster, an absent one none. */
  selector?: LabelSelector | null;
  /** Clusters chosen by name, whatever their labels. */
  names?: readonly string[];
  /** Clusters never chosen, even when named or matched. */
  exclude?: readonly string[];
}

/** The names of the clusters a choice selects, sorted so that results compare and render stably. */
export function selectClusters(clusters: Iterable<SelectableCluster>, choice: ClusterChoice): string[] {
  const named = new Set(choice.names ?? []);
  const excluded = new Set(choice.exclude ?? []);
  const chosen: string[] = [];
  for (const cluster of clusters) {
    if (excluded.has(cluster.name)) continue;
    const bySelector = choice.selector != null && selectorMatches(choice.selector, cluster.labels);
    if (bySelector || named.has(cluster.name)) chosen.push(cluster.name);
  }
  return chosen.sort();
}
