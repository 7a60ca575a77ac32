// Benchmark of leadership under load: kube-prometheus's published manifests/ folder (3.7 MB of
// manifests as JSON, test/fixtures/kube-prometheus) from a local Git repository (file://, the hub's
// allowLocal policy) fanned out by one GlobalService to N simulated member clusters
// (e2e/globalservice/simulated.ts) on a real hub. The operator runs in-process (runHub, its own
// Kube client) with its production leader-election timings (lease 15 s, renew deadline 10 s,
// retry about 2 s). Measured from creating the service until every cluster's Works are written
// (status.clusters.updated = N), plus SETTLE_S seconds of the reconciles those writes trigger:
// - the event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution): max, p99, mean;
// - the leader Lease's requests (the operator client's own request records): the worst request
//   latency, the worst gap between two successful renewals (what the renew deadline is judged
//   by), how many renewals, and whether leadership was lost (runHub resolving `lost`);
// - the hub process's CPU seconds and the time until all Works were written.
// No simulated agents answer: their watch of N multi-megabyte Works would run in this process and
// blur whose event loop is measured. LEASE_DISTINCT=1 gives every cluster its own render (an
// override annotates each Deployment with the cluster's name), the worst case for the encoder.
// Run: npx tsx bench/lease-under-load.ts   (LEASE_N=1000, LEASE_SETTLE_S=30, LEASE_DISTINCT=0 by
// default; starts its own hub plane in a fresh FLOTILLA_TESTENV_DIR)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { apiVersion, labels, type GlobalService } from '../src/api/index.js';
import { crdDirectory, installCrds, readCrds } from '../src/cli/install.js';
import { runHub } from '../src/hub/operator.js';
import { kubeFromFile, silentLogger, type ElectionEnd, type KubeObject } from '../src/runtime/index.js';
import { until } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-lease-'));
const { fixtures, plane, temporaryDirectory, testenv } = await import('../e2e/framework/index.js');
const { createSimulatedMembers } = await import('../e2e/globalservice/simulated.js');

const N = Number(process.env.LEASE_N ?? 1000);
const SETTLE_S = Number(process.env.LEASE_SETTLE_S ?? 30);
const DISTINCT = process.env.LEASE_DISTINCT === '1';
const fleet = 'bench';
const workspace = `fleet-${fleet}`;
const serviceName = 'kube-prometheus';
type Service = GlobalService & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;
const ms = (ns: number): number => +(ns / 1e6).toFixed(1);
const load = (): number[] => loadavg().map((l) => +l.toFixed(2));

process.stderr.write(`starting the hub in ${process.env.FLOTILLA_TESTENV_DIR}\n`);
await testenv('up', '--owner-pid', String(process.pid), 'hub');
const hubConfig = plane('hub').kubeconfigPath;
const admin = kubeFromFile(hubConfig, undefined, { userAgent: 'bench' });
const operatorKube = kubeFromFile(hubConfig, undefined, { userAgent: 'flotilla-hub' });
const stop = new AbortController();
const scratch = await temporaryDirectory('bench-lease');
try {
  // The fixture as a one-commit repository the hub clones over file://.
  const repository = join(scratch.path, 'kube-prometheus');
  cpSync(fixtures.kubePrometheus, repository, { recursive: true });
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: repository, encoding: 'utf8' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'kube-prometheus');

  await installCrds(admin, readCrds(crdDirectory()), { timeoutMs: 60_000 });
  const origins = {
    tools: { git: 'git', helm: 'helm', kustomize: 'kustomize' },
    policy: { allowLocal: true, allowInsecure: false },
    cacheDir: join(scratch.path, 'sources'),
  };
  let end: ElectionEnd | undefined;
  const operator = runHub({ kube: operatorKube, logger: silentLogger(), origins }, stop.signal).then((result) => (end = result));
  // kube-prometheus puts a Role and a RoleBinding into kube-system and grants `*` on metrics.k8s.io: both need the Fleet's consent.
  await admin.create({
    apiVersion,
    kind: 'Fleet',
    metadata: { name: fleet },
    spec: {
      restrictions: { globalServices: { deniedNamespaces: ['kube-public', 'kube-node-lease', 'flotilla-system'], rbac: 'Unrestricted' } },
    },
  });
  process.stderr.write(`creating ${N} member clusters\n`);
  await createSimulatedMembers(admin, 'sim', N, fleet, { bench: 'yes' });
  await until(
    async () => (await admin.list({ apiVersion: 'v1', kind: 'Namespace' }, { labelSelector: labels.cluster })).items.length >= N,
    600_000,
  );

  // The Lease's requests, as the operator's client records them.
  const leaseRequests: { at: number; method: string; code: number; durationMs: number }[] = [];
  const unsubscribe = operatorKube.onRequest((r) => {
    if (r.path.includes('/leases/'))
      leaseRequests.push({ at: performance.now(), method: r.method, code: r.code, durationMs: r.durationMs });
  });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const service: Service = {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name: serviceName, namespace: workspace },
    spec: {
      placement: { clusterSelector: { matchLabels: { bench: 'yes' } } },
      source: { git: { url: `file://${repository}`, ref: { branch: 'main' }, path: 'manifests', interval: '10m' } },
      rollout: { strategy: 'AllAtOnce', progressDeadlineSeconds: 3600 },
      ...(DISTINCT
        ? {
            overrides: [
              {
                name: 'per-cluster',
                clusterSelector: { matchLabels: { bench: 'yes' } },
                patches: [
                  {
                    target: { kind: 'Deployment' },
                    operations: [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/cluster': '${cluster.name}' } }],
                  },
                ],
              },
            ],
          }
        : {}),
    },
  };
  process.stderr.write(`delivering ${serviceName} to ${N} clusters\n`);
  const loadBefore = load();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  delay.enable();
  await admin.create(service);
  await until(
    async () => {
      if (end !== undefined) return true;
      const s = await admin.get<Service>(ServiceType, serviceName, workspace);
      return s.status?.clusters?.updated === N;
    },
    1_800_000,
    1000,
  );
  const writtenMs = performance.now() - started;
  process.stderr.write(`all Works written after ${Math.round(writtenMs / 1000)} s; settling ${SETTLE_S} s\n`);
  await until(() => end !== undefined || performance.now() - started - writtenMs >= SETTLE_S * 1000, SETTLE_S * 1000 + 60_000, 200);
  delay.disable();
  unsubscribe();
  const cpu = process.cpuUsage(cpuBefore);

  const renewals = leaseRequests.filter((r) => r.method === 'PUT' && r.code === 200).map((r) => r.at);
  const gaps = renewals.slice(1).map((at, i) => at - (renewals[i] ?? at));
  process.stdout.write(
    `${JSON.stringify(
      {
        clusters: N,
        distinctRenders: DISTINCT,
        operator: 'in-process (runHub), production leader-election timings: lease 15 s, renew deadline 10 s, retry 2.1 s',
        worksWrittenSeconds: +(writtenMs / 1000).toFixed(1),
        settleSeconds: SETTLE_S,
        hubCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
        eventLoopDelayMs: { max: ms(delay.max), p99: ms(delay.percentile(99)), mean: ms(delay.mean) },
        lease: {
          lost: end === 'lost',
          renewals: renewals.length,
          worstRequestMs: Math.max(0, ...leaseRequests.map((r) => r.durationMs)),
          worstGapBetweenRenewalsMs: Math.round(Math.max(0, ...gaps)),
          failedRequests: leaseRequests.filter((r) => r.code < 200 || r.code >= 300).length,
        },
        loadAverage: { before: loadBefore, after: load(), cores: 2 },
      },
      null,
      2,
    )}\n`,
  );
  stop.abort(new Error('done'));
  await operator;
} finally {
  stop.abort(new Error('done'));
  admin.close();
  operatorKube.close();
  await scratch.remove();
  await testenv('down');
}
