// Benchmark of what the hub's per-member ClusterRoleBindings cost every request on the hub apiserver.
// Each member's identity (src/hub/membercluster/access.ts) holds a ClusterRole and a
// ClusterRoleBinding (its own MemberCluster and Fleet are cluster-scoped), and Kubernetes' RBAC
// authorizer walks every ClusterRoleBinding before the namespace's RoleBindings on each request
// (pkg/registry/rbac/validation/rule.go, VisitRulesFor). An agent's heartbeat is allowed by its
// namespace's RoleBinding, so it pays that walk in full. RBAC_AGENTS agents, each with the real
// objects of one member's identity and its own token from TokenRequest, renew their heartbeat Leases
// side by side while the hub holds K other members' ClusterRole + ClusterRoleBinding, for K up and
// then down again (each K but the largest twice, from both sides, so that a drift of the machine's
// load does not pass for a trend). Per K:
// the apiserver's own authorization time per request (authorization_duration_seconds), its CPU per
// request (/proc of kube-apiserver) and the renewals per second.
// The objects have no ownerReferences: there is no MemberCluster behind them, and the
// controller-manager's garbage collector would delete what a missing owner holds.
// Run: npx tsx bench/rbac-scan.ts   (RBAC_KS=0,2500,5000,10000, RBAC_RENEWALS=3000, RBAC_AGENTS=8;
// starts its own hub plane in a fresh FLOTILLA_TESTENV_DIR)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentServiceAccount, heartbeatLease, memberNamespace } from '../src/api/index.js';
import { memberAccessObjects } from '../src/hub/membercluster/access.js';
import { microTime } from '../src/runtime/leader.js';
import { forEachLimited } from '../src/runtime/limit.js';
import {
  clusterOfKubeConfig,
  kubeFromFile,
  kubeFromToken,
  type Kube,
  type KubeObject,
  type Lease,
  LeaseType,
} from '../src/runtime/index.js';
import { machineLoad, parseMetrics, processCpuSeconds, sumOf } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-rbac-'));
const { plane, readPlaneState, testenv } = await import('../e2e/framework/index.js');

const KS = (process.env.RBAC_KS ?? '0,2500,5000,10000').split(',').map(Number);
const RENEWALS = Number(process.env.RBAC_RENEWALS ?? 3000);
const AGENTS = Number(process.env.RBAC_AGENTS ?? 8);
const fieldManager = 'bench-rbac';
const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${message} (load ${machineLoad()})\n`);
};

/** A uid for a member that has no MemberCluster: its name's number, padded. */
const uidOf = (cluster: string): string => `00000000-0000-0000-0000-${cluster.replace(/\D/g, '').padStart(12, '0')}`;
/** One member's identity objects as the hub makes them, without the owner there is no MemberCluster for. */
const identityOf = (cluster: string): KubeObject[] =>
  memberAccessObjects({ cluster, fleet: 'bench', uid: uidOf(cluster) }).map((object) => ({
    ...object,
    metadata: { ...object.metadata, ownerReferences: undefined },
  }));
/** The cluster-scoped part of a member's identity: what grows with the fleet in every authorization. */
const clusterScopedOf = (cluster: string): KubeObject[] =>
  identityOf(cluster).filter((object) => object.kind === 'ClusterRole' || object.kind === 'ClusterRoleBinding');

log(`starting the hub in ${process.env.FLOTILLA_TESTENV_DIR}`);
await testenv('up', '--owner-pid', String(process.pid), 'hub');
const hubConfig = plane('hub').kubeconfigPath;
const apiserverPid = readPlaneState('hub').pids['kube-apiserver'] ?? 0;
const admin = kubeFromFile(hubConfig, undefined, { userAgent: 'bench' });

// The probes: AGENTS real member identities, each speaking with its own token and renewing its
// own heartbeat Lease as the agent does (a PUT of the Lease it last wrote; member-agent.ts).
const probes = await Promise.all(
  Array.from({ length: AGENTS }, async (_, i) => {
    const cluster = `probe-${i}`;
    for (const object of identityOf(cluster)) await admin.apply(object, { fieldManager });
    const namespace = memberNamespace(cluster);
    const token = await admin.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/${agentServiceAccount(uidOf(cluster))}/token`,
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } },
    );
    const agent: Kube = kubeFromToken({ ...clusterOfKubeConfig(hubConfig), token: token.status.token }, { userAgent: 'bench-rbac-agent' });
    const lease = await agent.create<Lease>({
      ...LeaseType,
      metadata: { name: heartbeatLease, namespace },
      spec: { leaseDurationSeconds: 60 },
    });
    return { agent, lease };
  }),
);

/** RENEWALS heartbeats in all, the probes renewing side by side: the apiserver's cost of each. */
async function measure(k: number): Promise<Record<string, number | string>> {
  const before = parseMetrics(await admin.request<string>('GET', '/metrics'));
  const cpuBefore = processCpuSeconds(apiserverPid);
  const started = performance.now();
  await Promise.all(
    probes.map(async (probe) => {
      for (let renewal = 0; renewal < RENEWALS / AGENTS; renewal++) {
        const renewTime = microTime(Date.now());
        probe.lease = await probe.agent.update<Lease>({ ...probe.lease, spec: { ...probe.lease.spec, renewTime } });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = processCpuSeconds(apiserverPid) - cpuBefore;
  const after = parseMetrics(await admin.request<string>('GET', '/metrics'));
  const between = (name: string): number => sumOf(after, name, { result: ['allowed'] }) - sumOf(before, name, { result: ['allowed'] });
  const requests = between('authorization_duration_seconds_count');
  return {
    clusterRoleBindings: k,
    requests,
    authorizationMsPerRequest: Math.round((between('authorization_duration_seconds_sum') / requests) * 1000 * 1000) / 1000,
    apiserverCpuMsPerRequest: Math.round(((cpu * 1000) / requests) * 100) / 100,
    renewalsPerSecond: Math.round((RENEWALS / seconds) * 10) / 10,
    load: machineLoad(),
  };
}

/** Makes the hub hold exactly the cluster-scoped identities of members filler-0 … filler-(k-1). */
let held = 0;
async function holdIdentities(k: number): Promise<void> {
  const from = Math.min(held, k);
  const fillers = Array.from({ length: Math.abs(k - held) }, (_, i) => `filler-${from + i}`);
  await forEachLimited(fillers, 32, async (cluster) => {
    for (const object of clusterScopedOf(cluster))
      await (k > held ? admin.create(object) : admin.delete(object, object.metadata.name ?? ''));
  });
  held = k;
  // The authorizer reads bindings from its informer: let it catch up with the last writes.
  await new Promise((resolve) => setTimeout(resolve, 3000));
}

const sweep = [...KS, ...KS.slice(0, -1).reverse()];
const results = [];
for (const k of sweep) {
  log(`holding ${k} members' ClusterRole + ClusterRoleBinding`);
  await holdIdentities(k);
  const result = await measure(k);
  log(JSON.stringify(result));
  results.push(result);
}
process.stdout.write(`${JSON.stringify({ renewals: RENEWALS, agents: AGENTS, results }, null, 2)}\n`);
await testenv('down', 'hub');
