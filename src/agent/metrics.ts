// The agent's own Prometheus metrics, beside the runtime's (requests, informers) in one registry.
import { Gauge, type Registry } from 'prom-client';
import type { HubTrustState } from './hub-trust.js';

const TRUST_STATES: readonly HubTrustState[] = ['Unverified', 'Trusted', 'Revoked', 'IdentityChanged'];

export interface AgentMetrics {
  /** The agent's verdict on its hub: 1 for the state it is in, 0 for the others. */
  hubTrust(state: HubTrustState): void;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const trust = new Gauge({
    name: 'flotilla_agent_hub_trust',
    help: 'Whether the agent trusts its hub (1 for the current state): only Trusted takes hub content and prunes',
    labelNames: ['state'], registers: [registry],
  });
  return {
    hubTrust(state) {
      for (const each of TRUST_STATES) trust.set({ state: each }, each === state ? 1 : 0);
    },
  };
}
