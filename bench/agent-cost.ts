// What the member agent costs, measured on the agent as it runs for real: `flotilla agent` in its own
// process (the built CLI), joined through a bootstrap Secret, with its own ServiceAccount on each
// plane, applying one Work of 1 Namespace + 500 ConfigMaps (the work of issue 17's OCM comparison).
// It reports the process's own peak RSS (VmHWM) and CPU seconds (/proc/PID/stat), and its requests
// as the apiservers count them: both planes run with an audit log (`testenv up --audit`), and a
// request is the agent's when its audit entry names the agent's ServiceAccount on that plane.
// Run: make build && npx tsx bench/agent-cost.ts   (starts its own hub and spoke in its own FLOTILLA_TESTENV_DIR)
// Env: FLOTILLA_BENCH_IDLE_MS (idle window, default 60000); FLOTILLA_BENCH_AGENT_NODE_FLAGS (node flags
// for the agent process, e.g. "--max-semi-space-size=4", "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { agentServiceAccount, flotillaNamespace, heartbeatLease, MemberClusterType, type Manifest } from '../src/api/index.js';
import { bootstrapObjects } from '../src/agent/bootstrap.js';
import { LeaseType, type KubeObject } from '../src/runtime/index.js';
import { until } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-agent-cost-'));
const { plane, readPlaneState, testenv } = await import('../e2e/framework/index.js');
const { condition, readWork, registerMember, writeWork } = await import('../e2e/agent/harness.js');
const { startProgram } = await import('../e2e/membership/processes.js');

const CONFIGMAPS = 500;
const IDLE_MS = Number(process.env.FLOTILLA_BENCH_IDLE_MS ?? 60_000);
const DRIFT_TRIALS = 5;
const SPOKE_AGENT = 'flotilla-agent';
const workDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-agent-cost-files-'));
const load = (): { loadavg: number[]; uptime: string } => ({
  loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  uptime: execFileSync('uptime', { encoding: 'utf8' }).trim(),
});

// --- The agent process, as /proc sees it.
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** User + system CPU seconds of a process so far (fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}
/** A /proc/PID/status memory line (VmHWM: peak RSS, VmRSS: now) in MiB. */
function memoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Math.round((Number(line?.split(/\s+/)[1]) / 1024) * 10) / 10;
}

/** A free loopback port, for the agent's /metrics. */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => {
        resolve(port);
      });
    });
  });
/** Reconciles of the agent's Work sets so far, from its own /metrics. */
async function workReconciles(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('flotilla_reconcile_total{') && line.includes('controller="work-agent"'))
    .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
}

// --- Requests as the apiservers count them.
interface AuditEntry {
  auditID: string;
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp: string;
}
/** The requests `username` made in [from, to) by verb and resource, from a plane's audit log (a watch counts once, when it opens). */
function auditCount(log: string, username: string, from: number, to: number): { total: number; byRequest: Record<string, number> } {
  const seen = new Set<string>();
  const byRequest: Record<string, number> = {};
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!line.includes(username)) continue;
    const entry = JSON.parse(line) as AuditEntry;
    const at = Date.parse(entry.requestReceivedTimestamp);
    if (entry.user.username !== username || seen.has(entry.auditID) || at < from || at >= to) continue;
    seen.add(entry.auditID);
    const resource = [entry.objectRef?.resource ?? 'nonresource', entry.objectRef?.subresource].filter(Boolean).join('/');
    const key = `${entry.verb} ${resource}`;
    byRequest[key] = (byRequest[key] ?? 0) + 1;
  }
  return { total: seen.size, byRequest };
}
const auditLogOf = (name: 'hub' | 'spoke-1'): string => {
  const log = readPlaneState(name).auditLog;
  if (!log) throw new Error(`plane ${name} has no audit log (started without --audit?)`);
  return log;
};
/** Resolves once `username` has made no request on the plane for `quietMs` (audit entries are written before the answer). */
async function quiet(log: string, username: string, quietMs: number): Promise<number> {
  await until(
    () => {
      const now = Date.now();
      return auditCount(log, username, now - quietMs, now).total === 0;
    },
    300_000,
    250,
  );
  return Date.now();
}

process.stderr.write(`starting hub and spoke-1 (audited) in ${process.env.FLOTILLA_TESTENV_DIR}\n`);
await testenv('up', '--owner-pid', String(process.pid), '--audit', 'hub', 'spoke-1');
let stopAgent = (): Promise<void> => Promise.resolve();
try {
  const member = await registerMember('spoke-1');
  const memberUID = (await member.hubAdmin.get(MemberClusterType, member.cluster)).metadata.uid ?? '';
  const hubUser = `system:serviceaccount:${member.hubNamespace}:${agentServiceAccount(memberUID)}`;
  const spokeUser = `system:serviceaccount:${flotillaNamespace}:${SPOKE_AGENT}`;

  // The join's bootstrap, and a spoke identity of the agent's own (bound to cluster-admin, the agent chart's broad mode).
  for (const object of bootstrapObjects({
    ...member.hubCredentials,
    caData: member.hubCredentials.caData ?? '',
    cluster: member.cluster,
    fleet: 'agent-e2e',
    memberUID,
  }))
    await member.spokeAdmin.apply(object, { fieldManager: 'flotilla-bench', force: true });
  await member.spokeAdmin.apply(
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SPOKE_AGENT, namespace: flotillaNamespace } },
    { fieldManager: 'flotilla-bench' },
  );
  await member.spokeAdmin.apply(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'flotilla-bench-agent' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: SPOKE_AGENT, namespace: flotillaNamespace }],
    },
    { fieldManager: 'flotilla-bench' },
  );
  const spokeToken = await member.spokeAdmin.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${flotillaNamespace}/serviceaccounts/${SPOKE_AGENT}/token`,
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } },
  );
  const spokeCluster = plane('spoke-1').kubeConfig().getCurrentCluster();
  const kubeconfig = join(workDir, 'spoke-agent.kubeconfig');
  writeFileSync(
    kubeconfig,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'spoke', cluster: { server: spokeCluster?.server, 'certificate-authority-data': spokeCluster?.caData } }],
      users: [{ name: SPOKE_AGENT, user: { token: spokeToken.status.token } }],
      contexts: [{ name: 'agent', context: { cluster: 'spoke', user: SPOKE_AGENT } }],
      'current-context': 'agent',
    }),
    { mode: 0o600 },
  );

  const nodeFlags = (process.env.FLOTILLA_BENCH_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const metricsPort = await freePort();
  const agent = startProgram(
    'bench-agent-cost',
    ['agent', '--kubeconfig', kubeconfig, '--identity', 'bench', '--health-address', `127.0.0.1:${metricsPort}`],
    { nodeArgs: nodeFlags },
  );
  stopAgent = () => agent.stop();
  const pid = agent.child.pid ?? 0;
  process.stderr.write(`agent pid ${pid}, log ${agent.logFile}\n`);
  await until(async () => (await member.hubAdmin.getOrNull(LeaseType, heartbeatLease, member.hubNamespace)) !== null, 120_000, 250);
  const startedAt = await quiet(auditLogOf('spoke-1'), spokeUser, 3000);
  const started = { rssMiB: memoryMiB(pid, 'VmRSS'), cpuSeconds: cpuSeconds(pid) };

  // Cold apply: the Work written on the hub → Available, the agent's own CPU.
  const ns = 'bench-cost';
  const manifests: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    ...Array.from({ length: CONFIGMAPS }, (_, i): Manifest => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: ns },
      data: { index: String(i), text: 'x'.repeat(512) },
    })),
  ];
  const coldLoad = load();
  const reconcilesBefore = await workReconciles(metricsPort);
  const cpuBefore = cpuSeconds(pid);
  const coldFrom = Date.now();
  const works = await writeWork(member, 'bench', manifests);
  await until(async () => condition(await readWork(member, 'bench'), 'Available') === 'True', 300_000, 50);
  const coldMs = Date.now() - coldFrom;
  const coldCpu = cpuSeconds(pid) - cpuBefore;
  const coldTo = await quiet(auditLogOf('spoke-1'), spokeUser, 3000);
  const coldSpoke = auditCount(auditLogOf('spoke-1'), spokeUser, coldFrom, coldTo);
  const coldHub = auditCount(auditLogOf('hub'), hubUser, coldFrom, coldTo);
  const coldReconciles = (await workReconciles(metricsPort)) - reconcilesBefore;
  const settledRss = memoryMiB(pid, 'VmRSS');

  // Idle: nothing changes for IDLE_MS.
  const idleLoad = load();
  const idleFrom = Date.now();
  const idleCpuBefore = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idleTo = Date.now();
  const perMinute = (n: number): number => Math.round((n * 60_000 * 10) / (idleTo - idleFrom)) / 10;
  const idleSpoke = auditCount(auditLogOf('spoke-1'), spokeUser, idleFrom, idleTo);
  const idleHub = auditCount(auditLogOf('hub'), hubUser, idleFrom, idleTo);
  const idleCpu = cpuSeconds(pid) - idleCpuBefore;

  // Drift: a ConfigMap edited by someone else, until the agent has put it back.
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap' };
  const driftMs: number[] = [];
  for (let trial = 0; trial < DRIFT_TRIALS; trial++) {
    const name = `cm-${trial * 97}`;
    const from = performance.now();
    await member.spokeAdmin.patch(configMap, name, ns, { data: { index: 'edited' } }, { type: 'merge', fieldManager: 'kubectl-edit' });
    await until(
      async () => (await member.spokeAdmin.get<KubeObject & { data: Record<string, string> }>(configMap, name, ns)).data.index !== 'edited',
      60_000,
      10,
    );
    driftMs.push(Math.round(performance.now() - from));
  }
  const peakRss = memoryMiB(pid, 'VmHWM');
  await stopAgent();

  const objects = manifests.length;
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'agent-cost',
        counted: 'apiserver audit logs (testenv up --audit), entries whose user is the agent ServiceAccount of that plane',
        objects,
        works: works.length,
        nodeFlags,
        agentStarted: { ...started, spokeRequests: auditCount(auditLogOf('spoke-1'), spokeUser, 0, startedAt).total },
        coldApply: {
          load: coldLoad,
          msToAvailable: coldMs,
          cpuSeconds: Math.round(coldCpu * 100) / 100,
          workSetReconciles: coldReconciles,
          spokeRequests: coldSpoke,
          spokeRequestsPerObject: Math.round((coldSpoke.total / objects) * 100) / 100,
          hubRequests: coldHub,
        },
        memory: { peakRssMiB: peakRss, settledRssMiB: settledRss },
        idle: {
          load: idleLoad,
          minutes: Math.round(((idleTo - idleFrom) / 60_000) * 100) / 100,
          spokeRequestsPerMin: perMinute(idleSpoke.total),
          spokeRequests: idleSpoke.byRequest,
          hubRequestsPerMin: perMinute(idleHub.total),
          hubRequests: idleHub.byRequest,
          cpuSecondsPerMin: Math.round(((idleCpu * 60_000) / (idleTo - idleFrom)) * 1000) / 1000,
        },
        drift: { correctionMs: driftMs, maxMs: Math.max(...driftMs) },
        targets: { peakRssMiB: 100, coldApplyCpuSeconds: 0.8, spokeRequestsPerObject: 1, idleSpokeRequestsPerMin: 0, driftMs: 1000 },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await stopAgent();
  await testenv('down');
}
