// Benchmark of a Helm chart fanned out to a fleet on a real hub: one GlobalService with the real
// prometheus-redis-exporter chart (test/fixtures/charts) from the loopback HTTPS chart repository
// (basic auth, its CA in the workspace Secret) to N simulated member clusters
// (e2e/globalservice/simulated.ts) in three sets, each with its own chart values (through
// ${cluster.labels.set}) and its own reported capabilities (Kubernetes version and served APIs,
// one set serving monitoring.coreos.com/v1 so the chart's ServiceMonitor renders there only).
// The operator runs in-process (runHub with `origins`, the pinned helm and a tool runner of our
// own, which counts helm's runs). Reported:
// - fanout: helm invocations (3 distinct inputs: 3 runs, however many clusters), the hub process's
//   CPU seconds (process.cpuUsage: the operator, its caches and this script's Work watch; helm's
//   own CPU is in helmCpuSeconds, from /proc/self/stat's reaped children) and the time from
//   creating the service to every cluster's Work written, then to every cluster Available once
//   the simulated agents answer (they start only after the Works are written, so the CPU figure
//   is the hub's);
// - idle: after everything settled (QUIET_S seconds without an operator write), IDLE_POLLS polls of the unchanged origin (spec.source.helm
//   interval POLL_INTERVAL): the operator's writes in that window (Lease renewals apart: they are
//   leader election's, by design), the repository requests (index.yaml GETs, chart downloads),
//   helm runs, and the CPU the window cost.
// Run: npx tsx bench/chart-fanout.ts   (CHART_FANOUT_N=1000, CHART_FANOUT_POLLS=10,
// CHART_FANOUT_INTERVAL=2s, CHART_FANOUT_QUIET_S=15 by default; starts its own hub plane in a fresh
// FLOTILLA_TESTENV_DIR)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersionsFact } from '../src/agent/facts.js';
import { apiVersion, conditionTypes, labels, WorkType, type GlobalService } from '../src/api/index.js';
import { crdDirectory, installCrds, readCrds } from '../src/cli/install.js';
import { runHub } from '../src/hub/operator.js';
import { createToolRunner } from '../src/hub/origin/tool.js';
import { createInformer, findCondition, kubeFromFile, silentLogger, WRITE_METHODS, type KubeObject } from '../src/runtime/index.js';
import { until, writes } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-chart-fanout-'));
const { fixtures, plane, startHelmRepository, temporaryDirectory, testenv, toolPath } = await import('../e2e/framework/index.js');
const { createSimulatedMembers, reportSimulatedFacts, startSimulatedAgents } = await import('../e2e/globalservice/simulated.js');

const N = Number(process.env.CHART_FANOUT_N ?? 1000);
const IDLE_POLLS = Number(process.env.CHART_FANOUT_POLLS ?? 10);
const POLL_INTERVAL = process.env.CHART_FANOUT_INTERVAL ?? '2s';
const QUIET_S = Number(process.env.CHART_FANOUT_QUIET_S ?? 15);
const fleet = 'bench';
const workspace = `fleet-${fleet}`;
const serviceName = 'exporter';
const sets = ['a', 'b', 'c'] as const;
type Service = GlobalService & KubeObject;
const ServiceType = { apiVersion, kind: 'GlobalService' } as const;

/** CPU seconds of this process's reaped children (helm), from /proc/self/stat's cutime and cstime. */
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / clockTicks;
}
const cpuSeconds = (since?: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return +((used.user + used.system) / 1e6).toFixed(2);
};
const seconds = (ms: number): number => +(ms / 1000).toFixed(1);

process.stderr.write(`starting the hub in ${process.env.FLOTILLA_TESTENV_DIR}\n`);
await testenv('up', '--owner-pid', String(process.pid), 'hub');
const hubConfig = plane('hub').kubeconfigPath;
const admin = kubeFromFile(hubConfig, undefined, { userAgent: 'bench' });
const operatorKube = kubeFromFile(hubConfig, undefined, { userAgent: 'flotilla-hub' });
const stop = new AbortController();
const scratch = await temporaryDirectory('bench-chart-fanout');
const repository = await startHelmRepository({ basicAuth: true });
try {
  await installCrds(admin, readCrds(crdDirectory()), { timeoutMs: 60_000 });
  const chart = await repository.addChart(fixtures.redisExporterChart);
  const tools = { git: 'git', helm: await toolPath('helm'), kustomize: await toolPath('kustomize') };
  const runner = createToolRunner(tools);
  const origins = { tools, policy: { allowLocal: false, allowInsecure: false }, cacheDir: join(scratch.path, 'sources'), runner };
  const operator = runHub({ kube: operatorKube, logger: silentLogger(), origins }, stop.signal);
  await admin.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet } });

  // Three capability sets, from what this hub's own apiserver serves, in the agent's vocabulary.
  const served = apiVersionsFact((await admin.servedAPIs()).groupVersions).apiVersions ?? [];
  const kubeVersion = (await admin.request<{ gitVersion: string }>('GET', '/version')).gitVersion;
  const monitoring = ['monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor'];
  const facts = {
    a: { kubernetesVersion: kubeVersion, apiVersions: served },
    b: { kubernetesVersion: kubeVersion, apiVersions: [...served, ...monitoring].sort() },
    c: { kubernetesVersion: 'v1.35.2', apiVersions: served },
  };
  process.stderr.write(`creating ${N} member clusters in ${sets.length} sets\n`);
  const members = new Map<string, string[]>();
  for (const [index, set] of sets.entries()) {
    const count = Math.floor(N / sets.length) + (index < N % sets.length ? 1 : 0);
    members.set(set, await createSimulatedMembers(admin, `sim-${set}`, count, fleet, { bench: 'yes', set }));
  }
  await until(
    async () => (await admin.list({ apiVersion: 'v1', kind: 'Namespace' }, { labelSelector: labels.cluster })).items.length >= N,
    600_000,
  );
  for (const set of sets) await reportSimulatedFacts(admin, members.get(set) ?? [], facts[set]);
  const { username, password } = repository.credentials ?? { username: '', password: '' };
  await admin.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'charts', namespace: workspace },
    stringData: { username, password, 'ca.crt': repository.tls.caPEM },
  });

  // The Works as they are written, from a watch (cheaper than listing N Works over and over).
  const works = createInformer({ kube: admin, type: WorkType, labelSelector: `${labels.sourceName}=${serviceName}` });
  const watching = works.run(stop.signal);
  const service: Service = {
    apiVersion,
    kind: 'GlobalService',
    metadata: { name: serviceName, namespace: workspace },
    spec: {
      placement: { clusterSelector: { matchLabels: { bench: 'yes' } } },
      source: {
        helm: {
          repoURL: repository.url,
          chart: chart.name,
          version: chart.version,
          secretRef: { name: 'charts' },
          interval: POLL_INTERVAL,
        },
        chart: {
          namespace: 'monitoring',
          values: { serviceMonitor: { enabled: true }, labels: { 'example.com/set': '${cluster.labels.set}' } },
        },
      },
      rollout: { strategy: 'AllAtOnce' },
    },
  };
  const live = async (): Promise<Service> => admin.get<Service>(ServiceType, serviceName, workspace);

  process.stderr.write('fan-out: create\n');
  const cpuBefore = process.cpuUsage();
  const helmCpuBefore = childCpuSeconds();
  const started = performance.now();
  await admin.create(service);
  await until(() => works.store.list().length >= N, 900_000);
  const worksWrittenMs = performance.now() - started;
  const fanoutCpu = cpuSeconds(cpuBefore);
  const helmCpu = childCpuSeconds() - helmCpuBefore;
  const helmInvocations = runner.invocations('helm');

  const agents = startSimulatedAgents(admin, 'sim', () => ({ delayMs: 0 }));
  await until(async () => {
    const s = await live();
    return findCondition(s.status?.conditions, conditionTypes.Ready)?.status === 'True' && s.status?.clusters?.available === N;
  }, 900_000);
  const availableMs = performance.now() - started;
  const serviceMonitorSets = sets.filter((set) => {
    const work = works.store.list().find((w) => w.metadata.labels?.[labels.cluster]?.startsWith(`sim-${set}-`));
    return JSON.stringify(work?.spec ?? {}).includes('"kind":"ServiceMonitor"');
  });

  // Settled: the operator has written nothing but its Lease for QUIET_S (new members' own status included).
  process.stderr.write(`settling: waiting for ${QUIET_S} s without operator writes\n`);
  let lastWrite = performance.now();
  const stopListening = operatorKube.onRequest((record) => {
    if (WRITE_METHODS.includes(record.method) && !record.path.includes('/leases/')) lastWrite = performance.now();
  });
  await until(() => performance.now() - lastWrite >= QUIET_S * 1000, 900_000, 500);
  stopListening();

  process.stderr.write(`idle: ${IDLE_POLLS} polls every ${POLL_INTERVAL}\n`);
  const isIndex = (path: string): boolean => path.endsWith('/index.yaml');
  const indexGets = (): number => repository.requests.filter((r) => isIndex(r.path)).length;
  const firstRequest = repository.requests.length;
  const idleWritePaths: string[] = [];
  const unsubscribe = operatorKube.onRequest((record) => {
    if (WRITE_METHODS.includes(record.method)) idleWritePaths.push(record.path);
  });
  const settled = await live();
  const writesBefore = writes(operatorKube.requestCounts());
  const helmBefore = runner.invocations('helm');
  const idleCpuBefore = process.cpuUsage();
  const idleStarted = performance.now();
  const indexBefore = indexGets();
  await until(() => indexGets() - indexBefore >= IDLE_POLLS, 600_000);
  const idleMs = performance.now() - idleStarted;
  const idleCpu = cpuSeconds(idleCpuBefore);
  unsubscribe();
  const idleWrites = writes(operatorKube.requestCounts()) - writesBefore;
  const leaseRenewals = idleWritePaths.filter((path) => path.includes('/leases/')).length;
  const windowRequests = repository.requests.slice(firstRequest);
  const after = await live();

  await agents.stop();
  stop.abort(new Error('done'));
  await Promise.all([operator, watching.catch(() => undefined)]);
  process.stdout.write(
    `${JSON.stringify(
      {
        clusters: N,
        chart: `${chart.name}@${chart.version}`,
        distinctInputs: sets.length,
        fanout: {
          helmInvocations,
          hubCpuSeconds: fanoutCpu,
          helmCpuSeconds: +helmCpu.toFixed(2),
          worksWrittenSeconds: seconds(worksWrittenMs),
          allAvailableSeconds: seconds(availableMs),
          serviceMonitorOnSets: serviceMonitorSets,
        },
        idle: {
          polls: indexGets() - indexBefore,
          interval: POLL_INTERVAL,
          seconds: seconds(idleMs),
          hubWrites: idleWrites - leaseRenewals,
          leaderLeaseRenewals: leaseRenewals,
          otherWritePaths: idleWritePaths.filter((path) => !path.includes('/leases/')).slice(0, 10),
          indexFetches: windowRequests.filter((r) => isIndex(r.path)).length,
          chartDownloads: windowRequests.filter((r) => r.path.endsWith('.tgz')).length,
          helmInvocations: runner.invocations('helm') - helmBefore,
          hubCpuSeconds: idleCpu,
          hubCpuSecondsPerPoll: +(idleCpu / Math.max(1, IDLE_POLLS)).toFixed(3),
          serviceResourceVersionUnchanged: after.metadata.resourceVersion === settled.metadata.resourceVersion,
        },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  stop.abort(new Error('done'));
  admin.close();
  operatorKube.close();
  await repository.close();
  await scratch.remove();
  await testenv('down');
}
