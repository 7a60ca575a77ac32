// The Work agent on real planes: a member registered on the hub with the agent's real least-privilege
// identity (memberAccessObjects + a TokenRequest token), the agent component running in-process
// against the hub as that identity and against a spoke as its admin, and helpers to write Works.
import { Buffer } from 'node:buffer';
import {
  agentServiceAccount,
  apiVersion,
  memberNamespace,
  WorkType,
  type ApplyOptions,
  type Manifest,
  type Work,
} from '../../src/api/index.js';
import { startWorkAgent, type WorkAgent, type WorkAgentOptions } from '../../src/agent/work-agent.js';
import { crdDirectory, installCrds, readCrds } from '../../src/cli/install.js';
import { memberAccessObjects } from '../../src/hub/membercluster/access.js';
import { workObjects } from '../../src/work/objects.js';
import { createLogger, silentLogger } from '../../src/runtime/log.js';
import { kubeFromFile, kubeFromToken, type Kube, type KubeObject } from '../../src/runtime/kube.js';
import { plane, uniqueName, type PlaneName } from '../framework/index.js';

export const adminKube = (name: PlaneName): Kube => kubeFromFile(plane(name).kubeconfigPath, undefined, { userAgent: 'flotilla-e2e' });

let installed: Promise<void> | undefined;
/** The flotilla CRDs on the hub, through the `flotilla install` code path (once per run). */
export function installFlotilla(hub: Kube): Promise<void> {
  installed ??= installCrds(hub, readCrds(crdDirectory()), { timeoutMs: 60_000 });
  return installed;
}

export interface Member {
  cluster: string;
  spokeName: PlaneName;
  /** The hub as the agent's own ServiceAccount. */
  hubAsAgent: Kube;
  /** The same identity as plain credentials, for an agent in a child process. */
  hubCredentials: { server: string; token: string; caData?: string };
  hubAdmin: Kube;
  spokeAdmin: Kube;
  systemNamespace: string;
  hubNamespace: string;
}

/** Registers a member cluster on the hub as the hub operator would, and mints its agent a token. */
export async function registerMember(spokeName: PlaneName): Promise<Member> {
  const hubAdmin = adminKube('hub');
  const spokeAdmin = adminKube(spokeName);
  await installFlotilla(hubAdmin);
  const cluster = uniqueName('member');
  const fleet = 'agent-e2e';
  const memberCluster = await hubAdmin.create({ apiVersion, kind: 'MemberCluster', metadata: { name: cluster }, spec: { fleet } });
  for (const object of memberAccessObjects({ cluster, fleet, uid: memberCluster.metadata.uid ?? '' })) {
    await hubAdmin.apply(object, { fieldManager: 'flotilla-e2e', force: true });
  }
  const hubNamespace = memberNamespace(cluster);
  const tokenRequest = await hubAdmin.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${hubNamespace}/serviceaccounts/${agentServiceAccount(memberCluster.metadata.uid ?? '')}/token`,
    {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    },
  );
  const hubCluster = plane('hub').kubeConfig().getCurrentCluster();
  const hubCredentials = {
    server: hubAdmin.server,
    token: tokenRequest.status.token,
    ...(hubCluster?.caData ? { caData: Buffer.from(hubCluster.caData, 'base64').toString('utf8') } : {}),
  };
  const hubAsAgent = kubeFromToken(hubCredentials, { userAgent: 'flotilla-agent-e2e', timeoutMs: 5_000 });
  // Its own system namespace per member, so suites sharing a spoke keep their local copies apart.
  const systemNamespace = `fs-${cluster}`;
  await spokeAdmin.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: systemNamespace } }, { fieldManager: 'flotilla-e2e' });
  return { cluster, spokeName, hubAsAgent, hubCredentials, hubAdmin, spokeAdmin, systemNamespace, hubNamespace };
}

export async function unregisterMember(member: Member): Promise<void> {
  await member.hubAdmin.delete({ apiVersion, kind: 'MemberCluster' }, member.cluster).catch(() => undefined);
  await member.spokeAdmin.delete({ apiVersion: 'v1', kind: 'Namespace' }, member.systemNamespace).catch(() => undefined);
  for (const kube of [member.hubAdmin, member.hubAsAgent, member.spokeAdmin]) kube.close();
}

export interface RunningAgent {
  agent: WorkAgent;
  /** The spoke client the agent uses: its request counts are the agent's own. */
  spoke: Kube;
  stop(): Promise<void>;
}

/** Starts the Work agent in-process; FLOTILLA_E2E_LOG=debug|info|warn shows its logs. */
export async function runAgent(
  member: Member,
  extra: Pick<WorkAgentOptions, 'memberUID' | 'trustRecheckMs' | 'metrics'> = {},
): Promise<RunningAgent> {
  const controller = new AbortController();
  const spoke = adminKube(member.spokeName);
  const level = process.env.FLOTILLA_E2E_LOG;
  const agent = await startWorkAgent({
    ...extra,
    hub: member.hubAsAgent,
    spoke,
    cluster: member.cluster,
    systemNamespace: member.systemNamespace,
    signal: controller.signal,
    logger: level ? createLogger({ component: `agent-${member.cluster}`, level }) : silentLogger(),
  });
  return {
    agent,
    spoke,
    async stop() {
      controller.abort(new Error('test done'));
      await agent.done;
      spoke.close();
    },
  };
}

/** Writes the Work(s) of one source through the hub-side function, as the hub operator will. */
export async function writeWork(
  member: Member,
  name: string,
  manifests: readonly Manifest[],
  applyOptions?: ApplyOptions,
  revision = '1',
): Promise<Work[]> {
  const result = workObjects({
    cluster: member.cluster,
    name,
    manifests,
    ...(applyOptions ? { applyOptions } : {}),
    source: { kind: 'GlobalService', namespace: 'fleet-agent-e2e', name, generation: 1, revision },
  });
  if (!result.ok) throw new Error(result.message);
  for (const work of result.works) await member.hubAdmin.apply(work as Work & KubeObject, { fieldManager: 'flotilla-hub', force: true });
  return result.works;
}

export async function readWork(member: Member, name: string): Promise<Work> {
  return member.hubAdmin.get<Work & KubeObject>(WorkType, name, member.hubNamespace);
}

export function condition(work: Work, type: string): string | undefined {
  return work.status?.conditions?.find((c) => c.type === type)?.status;
}

/** A small app: a Namespace, a ConfigMap `settings` and a two-replica Deployment `web`. */
export function webApp(ns: string): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { mode: 'fast' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
      },
    },
  ];
}
