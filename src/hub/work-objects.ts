import { createHash } from 'node:crypto';
import { apiVersion, labels, memberNamespace, type ApplyOptions, type Manifest, type Work, type WorkPolicy, type WorkSource } from '../api/index.js';
import { encodeContent, type EncodeOptions } from '../agent/payload.js';

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

const MAX_NAME = 63;

/**
 * On a Work: when the hub set its spec.source.revision (RFC 3339), so rollouts can judge
 * progressDeadlineSeconds from the Works alone, across hub restarts.
 */
export const revisionSinceAnnotation = 'flotilla.dev/revision-since';

/** The prefix of a source's Work names by its kind: the agent reads a Work set's kind from it. */
export const sourcePrefixes = { GlobalService: 'gs', PolicyBundle: 'pb' } as const;

/** Shortens `text` to `max` characters with a hash of the whole, so distinct long names stay distinct. */
function fitName(text: string, max: number): string {
  if (text.length <= max) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${text.slice(0, max - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/**
 * The Work set's name for a source on any cluster: `gs-NAME` or `pb-NAME` (a service and a bundle
 * of the same name never collide in a member namespace; one cluster belongs to one fleet, so one
 * workspace), shortened with a hash past 63 characters. Deterministic: the hub finds it again after
 * a restart.
 */
export function sourceWorkName(source: Pick<WorkSource, 'kind' | 'name'>): string {
  return fitName(`${sourcePrefixes[source.kind]}-${source.name}`, MAX_NAME);
}

/** Part 0 is the set's name; part N is NAME-part-N, shortened with a hash of the name if needed. */
export function workPartName(name: string, index: number): string {
  if (index === 0) return name;
  const suffix = `-part-${index}`;
  return `${fitName(name, MAX_NAME - suffix.length)}${suffix}`;
}

/** The Works to write for one source on one cluster, deterministically (equal input, equal objects). */
export function workObjects(input: WorkObjectsInput): WorkObjectsResult {
  const encoded = input.policy !== undefined && input.manifests.length === 0
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
