// `flotilla hub`: runs the hub operator as a process, exactly as it runs in its Pod (where, without
// --kubeconfig, it uses its in-cluster identity). Exits non-zero when it loses leadership, so that
// a fresh process campaigns again, and when it cannot start (its health address taken, say).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { runHub } from '../hub/operator.js';
import { createLogger, kubeFromDefault, kubeFromFile } from '../runtime/index.js';
import { duration, healthAddressHelp, parseAddress, serveUntilStopped } from './serve.js';

interface HubFlags {
  kubeconfig?: string;
  context?: string;
  healthAddress: string;
  identity?: string;
  leaseDuration: string;
  git: string;
  helm: string;
  kustomize: string;
  sourceCacheDir?: string;
  allowLocalSources: boolean;
  allowInsecureSources: boolean;
  workspaceSecretReader?: string;
}

export function registerHub(program: Command): void {
  program
    .command('hub')
    .description(
      'Run the hub operator: reconcile Fleets, MemberClusters, ClusterGroups, GlobalServices and PolicyBundles, writing their Works (leader-elected).',
    )
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--health-address <host:port>', healthAddressHelp(8081), '127.0.0.1:8081')
    .option('--identity <name>', 'leader-election identity of this replica (default: host name and a random suffix)')
    .option(
      '--lease-duration <duration>',
      'how long leadership lasts without a renewal; longer rides out a starved machine, at the cost of a slower takeover',
      '15s',
    )
    .option('--git <path>', 'the git that fetches Git origins', process.env.FLOTILLA_GIT ?? 'git')
    .option('--helm <path>', 'the helm that renders charts (helm template)', process.env.FLOTILLA_HELM ?? 'helm')
    .option('--kustomize <path>', 'the kustomize that builds overlays', process.env.FLOTILLA_KUSTOMIZE ?? 'kustomize')
    .option('--source-cache-dir <dir>', 'a folder the hub owns for fetched origins, emptied at start (default: a new temporary folder)')
    .option('--allow-local-sources', "let GlobalServices fetch file:// URLs and local paths (tests only: it exposes the hub's disk)", false)
    .option(
      '--allow-insecure-sources',
      'let GlobalServices fetch over plain http:// and git:// (tests only: nothing authenticates the server)',
      false,
    )
    .option(
      '--workspace-secret-reader <clusterrole>',
      "bind this ClusterRole (Secret get) to the hub's own ServiceAccount in each fleet workspace (the chart passes flotilla-hub-workspace-secrets)",
    )
    .action(async (flags: HubFlags) => {
      const health = parseAddress('--health-address', flags.healthAddress);
      const kube =
        flags.kubeconfig === undefined
          ? kubeFromDefault({ userAgent: 'flotilla-hub' })
          : kubeFromFile(flags.kubeconfig, flags.context, { userAgent: 'flotilla-hub' });
      const logger = createLogger({ component: 'flotilla-hub' });
      // A folder of its own making the hub removes when it stops; a given one is the caller's to keep.
      const ownsCacheDir = flags.sourceCacheDir === undefined;
      const cacheDir = flags.sourceCacheDir ?? (await mkdtemp(path.join(tmpdir(), 'flotilla-hub-sources-')));
      try {
        const end = await serveUntilStopped(
          (signal) =>
            runHub(
              {
                kube,
                logger,
                health,
                ...(flags.identity !== undefined ? { identity: flags.identity } : {}),
                leaseDurationSeconds: Math.ceil(duration('--lease-duration', flags.leaseDuration) / 1000),
                ...(flags.workspaceSecretReader !== undefined ? { workspaceSecretReader: flags.workspaceSecretReader } : {}),
                origins: {
                  tools: { git: flags.git, helm: flags.helm, kustomize: flags.kustomize },
                  policy: { allowLocal: flags.allowLocalSources, allowInsecure: flags.allowInsecureSources },
                  cacheDir,
                },
              },
              signal,
            ),
          'stopped',
        );
        if (end === 'lost') throw new Error('lost the leader lease');
      } finally {
        kube.close();
        if (ownsCacheDir) await rm(cacheDir, { recursive: true, force: true });
      }
    });
}
