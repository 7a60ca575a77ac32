// A wake-up that coalesces: a loop waits on `next()`, event handlers call `fire()`, and however
// many fires come before the loop looks again, it wakes once, `debounceMs` after the first of them
// (so a burst of cache events makes one pass, not one per event).
export interface Trigger {
  fire: () => void;
  /** Resolves `debounceMs` after the next fire, or after the one that came since the last `next()`. */
  next: () => Promise<void>;
}

export function trigger(debounceMs: number): Trigger {
  let pending = false;
  let waiter: (() => void) | undefined;
  return {
    fire() {
      pending = true;
      if (waiter) {
        const resolve = waiter;
        waiter = undefined;
        setTimeout(resolve, debounceMs);
      }
    },
    next() {
      if (pending) {
        pending = false;
        return new Promise((resolve) => setTimeout(resolve, debounceMs));
      }
      return new Promise((resolve) => {
        waiter = () => {
          pending = false;
          resolve();
        };
      });
    },
  };
}
