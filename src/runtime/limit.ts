// Bounded concurrency over a list: the one limiter of the agent's applies, the hub's Work writes and
// the fan-out bench's floor. Lanes take the next item as soon as theirs is done, so one slow
// request holds up only its own lane, never a whole batch.

/** Runs `fn` over `items` with at most `limit` calls in flight, every item attempted, in order of start. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, lane));
}
