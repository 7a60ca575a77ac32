// Named points where the crash-point test (e2e/agent/crash.e2e.ts) can kill the agent exactly: with
// FLOTILLA_AGENT_CRASH_AT=NAME in its environment the agent sends itself SIGKILL on reaching NAME,
// as a kernel OOM kill or a node failure would stop it, with no cleanup. Timed kills from outside
// cover the rest of a reconcile; these cover the instants a timer cannot hit reliably.

/** `after-intent`: the local copy of the new desired state is written, nothing of it applied yet. */
export type CrashPointName = 'after-intent';

export function crashPoint(name: CrashPointName): void {
  if (process.env.FLOTILLA_AGENT_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
