// `flotilla dashboard`: the fleet's read-only web page, live. Locally it acts with the kubeconfig's
// identity, as `kubectl proxy` does, on 127.0.0.1 only. With --viewer-tokens each request must bring
// its viewer's own bearer token (from an authenticating proxy, say) and sees only the fleets that
// token may see on the hub; the kubeconfig's identity then only runs the shared watches. Given a
// certificate and key it serves HTTPS, as it must wherever tokens would cross a network in clear.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startDashboard } from '../dashboard/server.js';
import { clusterOfKubeConfig, createLogger, kubeFromDefault, kubeFromFile, kubeFromToken } from '../runtime/index.js';
import { serveUntilStopped } from './serve.js';

interface DashboardFlags {
  kubeconfig?: string;
  context?: string;
  address: string;
  port: string;
  viewerTokens: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the fleet dashboard: a live, read-only page of fleets, clusters, services, policies and capacity.')
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--address <host>', 'the address to listen on (another than 127.0.0.1 only with --viewer-tokens)', '127.0.0.1')
    .option('--port <n>', 'the port to listen on (0: any free one)', '8080')
    .option('--viewer-tokens', "act with each request's own bearer token instead of the kubeconfig's identity (401 without one)", false)
    .option('--tls-cert-file <path>', 'serve HTTPS with this certificate (PEM, with its chain); needs --tls-key-file')
    .option('--tls-key-file <path>', "the certificate's private key (PEM)")
    .action(async (flags: DashboardFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${flags.port}`);
      if (!flags.viewerTokens && flags.address !== '127.0.0.1' && flags.address !== '::1')
        throw new Error('--address other than 127.0.0.1 needs --viewer-tokens: without them every visitor would act with your identity');
      if ((flags.tlsCertFile === undefined) !== (flags.tlsKeyFile === undefined))
        throw new Error('--tls-cert-file and --tls-key-file go together');
      const tls =
        flags.tlsCertFile !== undefined && flags.tlsKeyFile !== undefined
          ? { cert: readFileSync(flags.tlsCertFile, 'utf8'), key: readFileSync(flags.tlsKeyFile, 'utf8') }
          : undefined;
      const options = { userAgent: 'flotilla-dashboard' };
      const kube = flags.kubeconfig === undefined ? kubeFromDefault(options) : kubeFromFile(flags.kubeconfig, flags.context, options);
      const cluster = clusterOfKubeConfig(flags.kubeconfig, flags.context);
      const logger = createLogger({ component: 'flotilla-dashboard' });
      try {
        await serveUntilStopped(async (signal) => {
          const dashboard = await startDashboard(
            {
              kube,
              logger,
              host: flags.address,
              port,
              viewers: flags.viewerTokens ? 'bearer' : 'local',
              ...(tls !== undefined ? { tls } : {}),
              clientFor: (viewer) => {
                if (viewer.kind === 'local') return { kube, close: () => undefined };
                const asViewer = kubeFromToken({ ...cluster, token: viewer.token }, options);
                return {
                  kube: asViewer,
                  close: () => {
                    asViewer.close();
                  },
                };
              },
            },
            signal,
          );
          process.stdout.write(`flotilla dashboard: serving ${dashboard.url}\n`);
          await dashboard.done;
        }, undefined);
      } finally {
        kube.close();
      }
    });
}
