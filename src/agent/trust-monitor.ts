// Whether the agent believes its hub, kept current (the verdict itself: hub-trust.ts). The
// membership is checked at start, again before every prune the hub asks for, at once when the hub
// refuses a request of ours as unauthenticated or forbidden, and while it fails every `recheckMs`.
// A change of verdict is logged, counted in the hub-trust gauge and, when trust is lost, told to the
// spoke's admin as a Warning Event on the bootstrap Secret (`kubectl get events -n flotilla-system`).
import { sleep } from '../runtime/clock.js';
import type { EventRecorder } from '../runtime/events.js';
import { isForbidden, KubeApiError, type Kube, type KubeObject } from '../runtime/kube.js';
import type { Logger } from '../runtime/log.js';
import { bootstrapSecretName } from './bootstrap.js';
import { checkMembership, type HubTrust } from './hub-trust.js';
import type { AgentMetrics } from './metrics.js';

/** A trusted membership is checked again this often even when nothing is pruned. */
const TRUSTED_RECHECK_MS = 5 * 60_000;

export interface TrustMonitor {
  current(): HubTrust;
  /** Checks now; true only when this very check found the hub to be the agent's own. */
  verify(): Promise<boolean>;
  /** A hub request of ours failed: a 401 or 403 makes the monitor look again at once. */
  noteHubRefusal(error: unknown): void;
  /** Checks on a timer until the signal aborts. */
  run(): Promise<void>;
}

export function createTrustMonitor(options: {
  hub: Kube;
  cluster: string;
  memberUID: string | undefined;
  systemNamespace: string;
  /** While the check fails, how often it is made again (default 30 s). */
  recheckMs?: number;
  events: EventRecorder;
  metrics: AgentMetrics | undefined;
  logger: Logger;
  signal: AbortSignal;
  /** The hub became trusted: every set deserves a look. */
  onTrusted: () => void;
}): TrustMonitor {
  const { logger, signal } = options;
  let trust: HubTrust = { state: 'Unverified', message: 'not checked yet', ...(options.memberUID ? { memberUID: options.memberUID } : {}) };
  const subject: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapSecretName, namespace: options.systemNamespace },
  };

  function announce(next: HubTrust): void {
    if (next.state === 'Trusted') {
      logger.info("the hub is this agent's own: taking its Works", { memberUID: next.memberUID });
      options.onTrusted();
    } else if (next.state !== 'Unverified') {
      logger.warn('not trusting the hub: keeping everything applied, enforcing the local copies, pruning nothing', {
        state: next.state,
        reason: next.message,
      });
      const reason = next.state === 'Revoked' ? 'HubAccessRevoked' : 'HubIdentityChanged';
      options.events.event(subject, 'Warning', reason, `${next.message}; keeping everything applied and pruning nothing`);
    }
  }

  async function verify(): Promise<boolean> {
    const next = await checkMembership(options.hub, options.cluster, trust.memberUID, signal);
    if (signal.aborted) return false;
    const changed = next.state !== trust.state;
    // Not reachable says nothing new about a verdict already reached: keep it.
    if (next.state !== 'Unverified' || trust.state === 'Unverified') trust = next;
    options.metrics?.hubTrust(trust.state);
    if (changed && trust === next) announce(next);
    // A prune needs this very check to have passed, not an earlier one.
    return next.state === 'Trusted';
  }

  return {
    current: () => trust,
    verify,
    noteHubRefusal(error) {
      if (error instanceof KubeApiError && (error.code === 401 || isForbidden(error))) void verify();
    },
    async run() {
      while (!signal.aborted) {
        await verify();
        await sleep(trust.state === 'Trusted' ? TRUSTED_RECHECK_MS : (options.recheckMs ?? 30_000), signal).catch(() => undefined);
      }
    },
  };
}
