import type { RolloutStage } from '../../../api/index.js';
import { selectorMatches } from '../../../kube-semantics/selector.js';

// The stages of a Staged rollout as sets of targeted clusters. A cluster belongs to the first stage
// that selects it; targeted clusters no stage selects form an implicit last stage (no name, no
// gate), updated after the last named one.

export interface StagedCluster {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface StageClusters {
  /** Undefined for the implicit stage of clusters no stage selects. */
  stage?: RolloutStage;
  clusters: string[];
}

export function partitionStages(
  stages: readonly RolloutStage[],
  clusters: readonly StagedCluster[],
  groupMembers: ReadonlyMap<string, readonly string[]>,
): StageClusters[] {
  const result: StageClusters[] = stages.map((stage) => ({ stage, clusters: [] }));
  const unstaged: string[] = [];
  const groupSets = new Map(
    stages.flatMap((stage) =>
      stage.clusterGroup === undefined ? [] : [[stage.clusterGroup, new Set(groupMembers.get(stage.clusterGroup) ?? [])] as const],
    ),
  );
  const selects = (stage: RolloutStage, cluster: StagedCluster): boolean =>
    stage.clusterGroup !== undefined
      ? groupSets.get(stage.clusterGroup)?.has(cluster.name) === true
      : stage.clusterSelector !== undefined && selectorMatches(stage.clusterSelector, cluster.labels);
  for (const cluster of clusters) {
    const index = stages.findIndex((stage) => selects(stage, cluster));
    (index >= 0 ? result[index]?.clusters : unstaged)?.push(cluster.name);
  }
  return unstaged.length > 0 ? [...result, { clusters: unstaged }] : result;
}

/**
 * The index of the last stage whose gate the approval annotation opens, or -1. The annotation
 * `flotilla.dev/approved-stage: STAGE@REVISION` approves STAGE's gate for that revision only (an
 * approval never carries over to new content), and with it every earlier stage's gate: one
 * annotation holds one value, and moving it on to the next stage must not close a gate already
 * passed.
 */
export function approvedThrough(annotation: string | undefined, stages: readonly RolloutStage[], revision: string): number {
  if (annotation === undefined) return -1;
  const at = annotation.lastIndexOf('@');
  if (at < 0 || annotation.slice(at + 1).trim() !== revision) return -1;
  const name = annotation.slice(0, at).trim();
  return stages.findIndex((stage) => stage.name === name);
}
