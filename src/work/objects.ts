import {
  apiVersion,
  labels,
  memberNamespace,
  type ApplyOptions,
  type Manifest,
  type Work,
  type WorkPolicy,
  type WorkSource,
} from '../api/index.js';
import { workPartName } from './naming.js';
import { encodeContent, type EncodeOptions } from './payload.js';

// The Work object(s) that carry one source's manifests to one member cluster: one Work when the
// content fits (inline, or compressed), else one Work per part of the compressed payload. Every
// part is labelled with the set's name (flotilla.dev/work), which is also part 0's name; the agent
// joins the parts by that label and marks what it applies with it.

export interface WorkObjectsInput {
  cluster: string;
  /** The Work set's name (part 0's name), a DNS-1123 label of at most 63 characters. */
  name: string;
  source: WorkSource;
  manifests: readonly Manifest[];
  applyOptions?: ApplyOptions;
  /** A PolicyBundle's namespaced part, for the agent to expand (on part 0); alone when there are no manifests. */
  policy?: WorkPolicy;
  /** Extra labels, e.g. the fleet's. */
  labels?: Record<string, string>;
  /** Annotations every part carries, e.g. revisionSinceAnnotation. */
  annotations?: Record<string, string>;
  encoding?: EncodeOptions;
}

export type WorkObjectsResult = { ok: true; works: Work[] } | { ok: false; reason: 'TooLarge'; message: string };

/**
 * On a Work: when the hub set its spec.source.revision (RFC 3339), so rollouts can judge
 * progressDeadlineSeconds from the Works alone, across hub restarts.
 */
export const revisionSinceAnnotation = 'flotilla.dev/revision-since';

/** The Works to write for one source on one cluster, deterministically (equal input, equal objects). */
export function workObjects(input: WorkObjectsInput): WorkObjectsResult {
  const encoded =
    input.policy !== undefined && input.manifests.length === 0
      ? { ok: true as const, contents: [{}] }
      : encodeContent(input.manifests, input.encoding);
  if (!encoded.ok) return encoded;
  const works = encoded.contents.map((content, index): Work => ({
    apiVersion,
    kind: 'Work',
    metadata: {
      name: workPartName(input.name, index),
      namespace: memberNamespace(input.cluster),
      labels: {
        ...input.labels,
        [labels.work]: input.name,
        [labels.cluster]: input.cluster,
        [labels.sourceKind]: input.source.kind,
        [labels.sourceNamespace]: input.source.namespace,
        [labels.sourceName]: input.source.name,
      },
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      source: input.source,
      ...content,
      ...(input.policy !== undefined && index === 0 ? { policy: input.policy } : {}),
      ...(input.applyOptions ? { applyOptions: input.applyOptions } : {}),
    },
  }));
  return { ok: true, works };
}
