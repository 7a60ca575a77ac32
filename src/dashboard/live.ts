// Coalescing of change notifications per viewer: a burst of hub events (a rollout touching a
// thousand Works) becomes at most one message per interval, and the first change after a quiet
// spell goes out at once, so a page hears of a change well within a second.

/** How long to wait before sending, given when the last message went out (undefined: never). */
export function delayBeforeSend(lastSentAt: number | undefined, now: number, intervalMs: number): number {
  if (lastSentAt === undefined) return 0;
  return Math.max(0, lastSentAt + intervalMs - now);
}

export interface Coalescer {
  /** Something changed: `send` runs now or at the end of the current interval, once for the burst. */
  changed(): void;
  stop(): void;
}

export function createCoalescer(intervalMs: number, send: () => void, now: () => number = Date.now): Coalescer {
  let lastSentAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    lastSentAt = now();
    send();
  };
  return {
    changed() {
      if (timer !== undefined) return;
      timer = setTimeout(flush, delayBeforeSend(lastSentAt, now(), intervalMs));
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
