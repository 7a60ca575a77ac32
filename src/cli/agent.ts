// `flotilla agent`: runs a member cluster's agent as a process, exactly as it runs in its Pod. It
// reaches its own cluster through --kubeconfig (in-cluster without it) and the hub through the
// bootstrap Secret in that cluster's flotilla-system namespace.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { defaultHeartbeatInterval } from '../api/index.js';
import { runMemberAgent } from '../agent/member-agent.js';
import { createLogger, kubeFromDefault, kubeFromFile } from '../runtime/index.js';
import { duration, healthAddressHelp, parseAddress, serveUntilStopped } from './serve.js';
import { packageVersion } from './version.js';

interface AgentFlags {
  kubeconfig?: string;
  context?: string;
  heartbeatInterval: string;
  discoveryInterval: string;
  tokenTtl: string;
  tokenRefreshFraction: string;
  tokenRefreshAfter?: string;
  identity?: string;
  healthAddress: string;
}

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('Run the agent of a member cluster: apply its Works, heartbeat, report cluster facts, rotate its token.')
    .option('--kubeconfig <path>', 'kubeconfig of this member cluster (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--heartbeat-interval <duration>', 'how often to renew the heartbeat Lease on the hub', defaultHeartbeatInterval)
    .option(
      '--discovery-interval <duration>',
      "how often to ask this cluster's discovery for the APIs it serves even when no CRD or APIService changed (a resync; unchanged answers cost a 304 each)",
      '10m',
    )
    .option('--token-ttl <duration>', 'lifetime to request for each new hub token (the apiserver refuses less than 10m)', '1h')
    .option('--token-refresh-fraction <f>', 'renew the hub token after this fraction of its lifetime', '0.8')
    .option('--token-refresh-after <duration>', 'renew the hub token this long after it was issued, if earlier (forces rotations in tests)')
    .option('--identity <name>', 'holder identity written into the heartbeat Lease (default: host name)')
    .option('--health-address <host:port>', healthAddressHelp(8082), '127.0.0.1:8082')
    .action(async (flags: AgentFlags) => {
      const fraction = Number(flags.tokenRefreshFraction);
      if (!(fraction > 0 && fraction < 1))
        throw new Error(`--token-refresh-fraction must be between 0 and 1, not ${flags.tokenRefreshFraction}`);
      const tokenTtlMs = duration('--token-ttl', flags.tokenTtl);
      const health = parseAddress('--health-address', flags.healthAddress);
      if (tokenTtlMs < 600_000) throw new Error('--token-ttl must be at least 10m: the apiserver refuses shorter tokens');
      const spoke =
        flags.kubeconfig === undefined
          ? kubeFromDefault({ userAgent: 'flotilla-agent' })
          : kubeFromFile(flags.kubeconfig, flags.context, { userAgent: 'flotilla-agent' });
      try {
        await serveUntilStopped(
          (signal) =>
            runMemberAgent(
              {
                spoke,
                logger: createLogger({ component: 'flotilla-agent' }),
                agentVersion: packageVersion(),
                identity: flags.identity ?? hostname(),
                health,
                heartbeatIntervalMs: duration('--heartbeat-interval', flags.heartbeatInterval),
                discoveryIntervalMs: duration('--discovery-interval', flags.discoveryInterval),
                tokenTtlSeconds: Math.round(tokenTtlMs / 1000),
                refresh: {
                  fraction,
                  ...(flags.tokenRefreshAfter !== undefined ? { afterMs: duration('--token-refresh-after', flags.tokenRefreshAfter) } : {}),
                },
              },
              signal,
            ),
          undefined,
        );
      } finally {
        spoke.close();
      }
    });
}
