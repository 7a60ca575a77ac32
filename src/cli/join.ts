// `flotilla join NAME --fleet F`: registers a cluster with the hub (creates or updates its
// MemberCluster), waits until the hub operator has made the agent's identity — the ServiceAccount of
// this MemberCluster's uid, so one per join — asks for a short-lived token of that identity
// (TokenRequest) and emits the spoke-side bootstrap — the flotilla-system Namespace and a Secret with
// a hub kubeconfig carrying only that token, and the uid — for `kubectl apply`.
// The admin credentials this command runs with never leave it: only the hub's URL and CA go out.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { agentServiceAccount, apiVersion, fieldManagers, memberClusterRoleName, memberNamespace } from '../api/index.js';
import { renderBootstrap, renderHelmValues } from '../agent/bootstrap.js';
import { parseDuration } from '../kube-semantics/duration.js';
import { adoptFieldManager, kubeFromDefault, kubeFromFile, sleep, type Kube, type KubeObject, type TypeRef } from '../runtime/index.js';

/** What `flotilla join` wrote as before the CLI had one field manager. */
const legacyJoinFieldManager = 'flotilla-join';

/** `k=v` flags into labels; throws on anything else. */
export function parseLabels(flags: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new Error(`--label must be key=value, not ${flag}`);
    labels[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return labels;
}

/** The MemberCluster join applies: its fleet and labels, nothing the hub or the agent own. */
export function memberClusterObject(name: string, fleet: string, labels: Record<string, string>): KubeObject {
  return { apiVersion, kind: 'MemberCluster', metadata: { name, labels }, spec: { fleet } };
}

/** Waits until `type/name` exists (the hub operator makes it), and is `ready` if given; answers it. */
async function waitFor(
  kube: Kube,
  type: TypeRef,
  name: string,
  namespace: string | undefined,
  signal: AbortSignal,
  ready: (found: KubeObject) => boolean = () => true,
): Promise<KubeObject> {
  for (;;) {
    const found = await kube.getOrNull(type, name, namespace, { signal });
    if (found && ready(found)) return found;
    await sleep(250, signal);
  }
}

/** Whether a binding grants its role to exactly this ServiceAccount (so to this join's identity). */
export function bindsOnly(binding: KubeObject, serviceAccount: string, namespace: string): boolean {
  const subjects = binding.subjects as { kind?: string; name?: string; namespace?: string }[] | undefined;
  return (
    subjects?.length === 1 &&
    subjects[0]?.kind === 'ServiceAccount' &&
    subjects[0].name === serviceAccount &&
    subjects[0].namespace === namespace
  );
}

/**
 * Applies the MemberCluster and answers it. One still being deleted is waited out first and then
 * made anew: joining it would revive an identity that is being revoked.
 */
async function applyMember(kube: Kube, options: JoinOptions, signal: AbortSignal): Promise<KubeObject> {
  for (;;) {
    // A re-join after an upgrade takes over what an older join applied, so a label left out is removed.
    const existing = await kube.getOrNull({ apiVersion, kind: 'MemberCluster' }, options.name, undefined, { signal });
    if (existing) await adoptFieldManager(kube, existing, legacyJoinFieldManager, fieldManagers.cli, signal);
    const member = await kube.apply(memberClusterObject(options.name, options.fleet, options.labels), {
      fieldManager: fieldManagers.cli,
      force: true,
      signal,
    });
    if (member.metadata.deletionTimestamp === undefined) return member;
    while (await kube.getOrNull({ apiVersion, kind: 'MemberCluster' }, options.name, undefined, { signal })) await sleep(250, signal);
  }
}

export interface JoinOptions {
  name: string;
  fleet: string;
  labels: Record<string, string>;
  /** The hub's URL as the spoke reaches it (default: the URL this command uses). */
  server?: string;
  tokenTtlSeconds: number;
  timeoutMs: number;
  /** `secret` (default): the Namespace and Secret to apply; `helm-values`: the flotilla-agent chart's values. */
  format?: OutputFormat;
}

export const outputFormats = ['secret', 'helm-values'] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** Registers the cluster and answers its bootstrap YAML. */
export async function join(kube: Kube, options: JoinOptions): Promise<string> {
  const namespace = memberNamespace(options.name);
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const memberUID = (await applyMember(kube, options, signal)).metadata.uid ?? '';
    const serviceAccount = agentServiceAccount(memberUID);
    // The binding is the last access object the operator makes: once it names this join's account, the token works.
    await waitFor(
      kube,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
      memberClusterRoleName(options.name),
      undefined,
      signal,
      (binding) => bindsOnly(binding, serviceAccount, namespace),
    );
    await waitFor(kube, { apiVersion: 'v1', kind: 'ServiceAccount' }, serviceAccount, namespace, signal);
    // The hub CA as the cluster publishes it to every namespace for its ServiceAccounts.
    const rootCa = await waitFor(kube, { apiVersion: 'v1', kind: 'ConfigMap' }, 'kube-root-ca.crt', namespace, signal);
    const caData = (rootCa.data as Record<string, string> | undefined)?.['ca.crt'];
    if (caData === undefined) throw new Error(`ConfigMap ${namespace}/kube-root-ca.crt holds no ca.crt`);
    const answer = await kube.request<{ status?: { token?: string } }>(
      'POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: options.tokenTtlSeconds } },
        signal,
      },
    );
    const token = answer.status?.token;
    if (token === undefined || token === '') throw new Error('the hub answered the TokenRequest without a token');
    const credentials = { cluster: options.name, fleet: options.fleet, server: options.server ?? kube.server, caData, token, memberUID };
    return options.format === 'helm-values' ? renderHelmValues(credentials) : renderBootstrap(credentials);
  } catch (error) {
    if (signal.aborted)
      throw new Error(
        `the hub operator did not create the agent's identity in ${namespace} within ${options.timeoutMs / 1000}s; is \`flotilla hub\` running?`,
      );
    throw error;
  }
}

interface JoinFlags {
  fleet: string;
  label: string[];
  output?: string;
  outputFormat: string;
  kubeconfig?: string;
  context?: string;
  server?: string;
  tokenTtl: string;
  timeout: string;
}

export function registerJoin(program: Command): void {
  program
    .command('join')
    .description('Register a member cluster with the hub and print its agent bootstrap (kubectl apply it on the cluster).')
    .argument('<name>', 'the member cluster name')
    .requiredOption('--fleet <name>', 'the fleet the cluster joins')
    .option(
      '--label <key=value>',
      'a label of the MemberCluster (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('-o, --output <file>', 'write the bootstrap to this file (mode 0600) instead of stdout')
    .option(
      '--output-format <format>',
      'secret: the Namespace and bootstrap Secret to kubectl apply; helm-values: a values file for the flotilla-agent chart (helm install -f)',
      'secret',
    )
    .option('--kubeconfig <path>', 'kubeconfig of the hub (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--context <name>', 'context of --kubeconfig to use')
    .option('--server <url>', 'the hub URL as the member cluster reaches it (default: the one in the kubeconfig)')
    .option('--token-ttl <duration>', 'lifetime of the bootstrap token; the agent renews it (at least 10m)', '1h')
    .option('--timeout <seconds>', 'how long to wait for the hub operator', '60')
    .action(async (name: string, flags: JoinFlags) => {
      const ttl = parseDuration(flags.tokenTtl);
      if (ttl === undefined || ttl < 600_000) throw new Error(`--token-ttl must be a duration of at least 10m, not ${flags.tokenTtl}`);
      const timeoutSeconds = Number(flags.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
        throw new Error(`--timeout must be a positive number of seconds, not ${flags.timeout}`);
      const format = outputFormats.find((f) => f === flags.outputFormat);
      if (format === undefined) throw new Error(`--output-format must be one of ${outputFormats.join(', ')}, not ${flags.outputFormat}`);
      const kube = flags.kubeconfig === undefined ? kubeFromDefault() : kubeFromFile(flags.kubeconfig, flags.context);
      try {
        const bootstrap = await join(kube, {
          name,
          fleet: flags.fleet,
          labels: parseLabels(flags.label),
          tokenTtlSeconds: Math.round(ttl / 1000),
          timeoutMs: timeoutSeconds * 1000,
          format,
          ...(flags.server !== undefined ? { server: flags.server } : {}),
        });
        if (flags.output === undefined) process.stdout.write(bootstrap);
        else {
          writeFileSync(flags.output, bootstrap, { mode: 0o600 });
          process.stderr.write(
            format === 'helm-values'
              ? `wrote the bootstrap of ${name} to ${flags.output}; install the agent with helm install flotilla-agent charts/flotilla-agent -n flotilla-system --create-namespace -f ${flags.output}\n`
              : `wrote the bootstrap of ${name} to ${flags.output}; apply it with kubectl apply -f ${flags.output} on the cluster\n`,
          );
        }
      } finally {
        kube.close();
      }
    });
}
