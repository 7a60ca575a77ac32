import { createHash } from 'node:crypto';
import { labels, type Work, type WorkSource } from '../api/index.js';

// How the hub names a source's Works and how the agent finds a Work's set again: the names and the
// set label are the contract that joins the parts of one payload on both sides.

const MAX_NAME = 63;

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

/** The set a Work belongs to: its `flotilla.dev/work` label (part 0's name), else its own name. */
export function workSetName(work: Pick<Work, 'metadata'>): string {
  return work.metadata.labels?.[labels.work] ?? work.metadata.name ?? '';
}
