// `flotilla hub`: runs the hub operator as a process, exactly as it runs in its Pod (where, without
// --kubeconfig, it uses its in-cluster identity). Exits non-zero when it loses leadership, so that
// a fresh process campaigns again.
import type { Command } from 'commander';
import { runHub } from '../hub/operator.js';
import { createLogger, kubeFromDefault, kubeFromFile, shutdownSignal } from '../runtime/index.js';

interface HubFlags {
  kubeconfig?: string;
  context?: string;
  healthPort: string;
  identity?: string;
}

export function registerHub(program: Command): void {
  program
    .command('hub')
    .description('Run the hub operator: reconcile Fleets, MemberClusters and ClusterGroups (leader-elected).')
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--health-port <port>', 'port for /healthz, /readyz and /metrics (0: any free port)', '8081')
    .option('--identity <name>', 'leader-election identity of this replica (default: host name and a random suffix)')
    .action(async (flags: HubFlags) => {
      const healthPort = Number(flags.healthPort);
      if (!Number.isInteger(healthPort) || healthPort < 0) throw new Error(`--health-port must be a port number, not ${flags.healthPort}`);
      const kube = flags.kubeconfig === undefined ? kubeFromDefault({ userAgent: 'flotilla-hub' }) : kubeFromFile(flags.kubeconfig, flags.context, { userAgent: 'flotilla-hub' });
      const logger = createLogger({ component: 'flotilla-hub' });
      try {
        const end = await runHub({ kube, logger, healthPort, ...(flags.identity !== undefined ? { identity: flags.identity } : {}) }, shutdownSignal());
        if (end === 'lost') throw new Error('lost the leader lease');
      } finally {
        kube.close();
      }
    });
}
