// What the benchmarks share: waiting for a condition, counting requests by method, reading
// Prometheus metrics and a process's memory and CPU from /proc.
import { readFileSync } from 'node:fs';
import { WRITE_METHODS } from '../src/runtime/kube.js';

export type RequestCounts = Readonly<Record<string, number>>;

/** Resolves once `check` holds, polling every `intervalMs`; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The write requests (POST, PUT, PATCH, DELETE) among request counts. */
export const writes = (counts: RequestCounts): number => WRITE_METHODS.reduce((total, m) => total + (counts[m] ?? 0), 0);

/** The requests made between two snapshots of the counts, by method; methods with none are left out. */
export const delta = (after: RequestCounts, before: RequestCounts): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]): [string, number] => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels match `where` (a label's allowed values). */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, readonly string[]> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([key, values]) => values.includes(s.labels[key] ?? '')))
    .reduce((total, s) => total + s.value, 0);
}

/**
 * The q-quantile of a Prometheus histogram between two scrapes, as histogram_quantile computes it:
 * bucket counts summed over the series matching `where` and not `except` (a series is left out when
 * it matches every entry of `except`), linear within the bucket the rank falls in.
 * Undefined when nothing was observed in between.
 */
export function quantileBetween(
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  where: Record<string, readonly string[]>,
  q: number,
  except?: Record<string, readonly string[]>,
): number | undefined {
  const matches = (s: Sample, selector: Record<string, readonly string[]>): boolean =>
    Object.entries(selector).every(([k, v]) => v.includes(s.labels[k] ?? ''));
  const buckets = (samples: readonly Sample[]): Map<number, number> => {
    const byBound = new Map<number, number>();
    for (const s of samples) {
      if (s.name !== `${name}_bucket` || !matches(s, where) || (except !== undefined && matches(s, except))) continue;
      const bound = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
    }
    return byBound;
  };
  const start = buckets(before);
  const counts = [...buckets(after)].map(([bound, n]): [number, number] => [bound, n - (start.get(bound) ?? 0)]).sort(([a], [b]) => a - b);
  const total = counts.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of counts) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / Math.max(1, count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in MiB, from /proc. */
export function processMemoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

/** The CPU seconds (user + system) a process has used, from /proc/PID/stat (clock ticks of 1/100 s on Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's load averages (1, 5, 15 min), to print beside every figure. */
export function machineLoad(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
