// The agent's own Prometheus metrics, beside the runtime's (requests, informers) in one registry:
// what a fleet operator graphs per cluster. No label names an object or a Work, so the series stay
// few however many Works the cluster runs.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Kube } from '../runtime/kube.js';
import type { ApplyErrorReason, ApplyTally } from './apply-report.js';
import type { HubTrustState } from './hub-trust.js';

const TRUST_STATES: readonly HubTrustState[] = ['Unverified', 'Trusted', 'Revoked', 'IdentityChanged'];

export interface AgentMetrics {
  /** The agent's verdict on its hub: 1 for the state it is in, 0 for the others. */
  hubTrust(state: HubTrustState): void;
  /** One Work set applied to the spoke, taking `seconds`. */
  applied(tally: ApplyTally, seconds: number): void;
  /** Objects whose drift is now reported and left in place. */
  driftReported(objects: number): void;
  /** Objects a prune could not remove. */
  pruneFailed(objects: number): void;
  /** Follows every hub request: the hub is reachable while its apiserver answers. */
  watchHub(hub: Kube): () => void;
}

/** An answer from the apiserver, whatever it says; 0 is a failed connection, 5xx an apiserver in trouble. */
export const hubAnswered = (code: number): boolean => code > 0 && code < 500;

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  const trust = new Gauge({
    name: 'flotilla_agent_hub_trust',
    help: 'Whether the agent trusts its hub (1 for the current state): only Trusted takes hub content and prunes',
    labelNames: ['state'],
    registers,
  });
  const worksApplied = new Counter({
    name: 'flotilla_agent_works_applied_total',
    help: 'Work sets applied with every manifest in place',
    registers,
  });
  const applyErrors = new Counter({
    name: 'flotilla_agent_apply_errors_total',
    help: "Objects not applied or not pruned, per attempt: failed (the apiserver refused), conflict (held by someone else), refused (the fleet's restrictions), prune",
    labelNames: ['reason'],
    registers,
  });
  const drift = new Counter({
    name: 'flotilla_agent_drift_total',
    help: 'Objects found changed on the spoke since they were applied: corrected (put back) or reported (left, once per appearance)',
    labelNames: ['action'],
    registers,
  });
  const applyTime = new Histogram({
    name: 'flotilla_agent_apply_duration_seconds',
    help: 'Time to apply one Work set to the spoke (reads from cache, writes only what changed)',
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120],
    registers,
  });
  const hubUp = new Gauge({
    name: 'flotilla_agent_hub_up',
    help: "1 while the hub's apiserver answers the agent's requests, 0 once one could not reach it",
    registers,
  });
  const hubContact = new Gauge({
    name: 'flotilla_agent_hub_last_contact_timestamp_seconds',
    help: 'When the hub last answered a request of the agent (Unix time)',
    registers,
  });
  // Present from the start, so a graph shows zeros rather than gaps.
  for (const reason of ['failed', 'conflict', 'refused', 'prune'] satisfies (ApplyErrorReason | 'prune')[]) applyErrors.inc({ reason }, 0);
  for (const action of ['corrected', 'reported']) drift.inc({ action }, 0);
  return {
    hubTrust(state) {
      for (const each of TRUST_STATES) trust.set({ state: each }, each === state ? 1 : 0);
    },
    applied(tally, seconds) {
      applyTime.observe(seconds);
      if (tally.complete) worksApplied.inc();
      for (const [reason, count] of Object.entries(tally.errors)) if (count > 0) applyErrors.inc({ reason }, count);
      if (tally.corrected > 0) drift.inc({ action: 'corrected' }, tally.corrected);
    },
    driftReported(objects) {
      if (objects > 0) drift.inc({ action: 'reported' }, objects);
    },
    pruneFailed(objects) {
      if (objects > 0) applyErrors.inc({ reason: 'prune' }, objects);
    },
    watchHub: (hub) =>
      hub.onRequest((request) => {
        const up = hubAnswered(request.code);
        hubUp.set(up ? 1 : 0);
        if (up) hubContact.set(Date.now() / 1000);
      }),
  };
}
