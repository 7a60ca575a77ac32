// Long synchronous loops over a fleet (a step per cluster) run in slices: once a slice has held the
// event loop for its budget, the loop yields (setImmediate), so timers — the leader lease's renewal
// above all — and I/O run between slices. One service's reconcile over 1,000 clusters otherwise
// holds the loop for seconds on a busy machine, and ten of them back to back cost the lease.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** How long one slice may hold the event loop. */
export const SLICE_BUDGET_MS = 10;

/** `items.map(fn)`, yielding to the event loop whenever a slice has run `budgetMs`; the results are the same. */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T) => R, budgetMs = SLICE_BUDGET_MS): Promise<R[]> {
  const results: R[] = [];
  let sliceStarted = performance.now();
  for (const item of items) {
    results.push(fn(item));
    if (performance.now() - sliceStarted >= budgetMs) {
      await yieldToEventLoop();
      sliceStarted = performance.now();
    }
  }
  return results;
}
