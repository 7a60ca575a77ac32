// What the benchmarks share: waiting for a condition and counting requests by method.
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
