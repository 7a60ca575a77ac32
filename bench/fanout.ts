// Benchmark of GlobalService fan-out on a real hub: one service to N simulated member clusters (one
// in-process simulated agent answers every Work with Applied/Available), from create to all
// Available, and the same for an update; beside it the floor — N plain creates, then updates, of
// equal Work objects through the same client with the same concurrency against the same hub. Also
// the process's resident memory with the operator at N clusters, and the operator's writes during
// 60 s of idle (the runtime's request counters). The operator runs in-process (its own Kube client).
// Run: npx tsx bench/fanout.ts   (FANOUT_N=1000 by default; FANOUT_IDLE_S=60; own planes in its own FLOTILLA_TESTENV_DIR)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersion, labels, memberNamespace, type GlobalService, type Manifest, type Work } from '../src/api/index.js';
import { crdDirectory, installCrds, readCrds } from '../src/cli/install.js';
import { runHub } from '../src/hub/operator.js';
import { workObjects } from '../src/work/objects.js';
import { kubeFromFile, silentLogger, WRITE_METHODS, type KubeObject } from '../src/runtime/index.js';
import { until, writes } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-fanout-'));
const { plane, testenv } = await import('../e2e/framework/index.js');
const { createSimulatedMembers, startSimulatedAgents } = await import('../e2e/globalservice/simulated.js');

const N = Number(process.env.FANOUT_N ?? 1000);
const IDLE_S = Number(process.env.FANOUT_IDLE_S ?? 60);
const CONCURRENCY = 16; // the operator's Work writes in flight per reconcile
const fleet = 'bench';
const workspace = `fleet-${fleet}`;
const prefix = 'sim';

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return Math.round(performance.now() - started);
}
async function pool<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

process.stderr.write(`starting the hub in ${process.env.FLOTILLA_TESTENV_DIR}\n`);
await testenv('up', '--owner-pid', String(process.pid), 'hub');
const hubConfig = plane('hub').kubeconfigPath;
const admin = kubeFromFile(hubConfig, undefined, { userAgent: 'bench' });
const operatorKube = kubeFromFile(hubConfig, undefined, { userAgent: 'flotilla-hub' });
const stop = new AbortController();
try {
  await installCrds(admin, readCrds(crdDirectory()), { timeoutMs: 60_000 });
  const operator = runHub({ kube: operatorKube, logger: silentLogger() }, stop.signal);
  await admin.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet } });
  process.stderr.write(`creating ${N} member clusters\n`);
  const names = await createSimulatedMembers(admin, prefix, N, fleet, { bench: 'yes' });
  await until(
    async () => (await admin.list({ apiVersion: 'v1', kind: 'Namespace' }, { labelSelector: labels.cluster })).items.length >= N,
    600_000,
  );
  const agents = startSimulatedAgents(admin, prefix, () => ({ delayMs: 0 }));

  const manifest = (value: string): Record<string, unknown> => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'app', namespace: 'default' },
    data: { value },
  });
  const service = (value: string): GlobalService & KubeObject => ({
    apiVersion,
    kind: 'GlobalService',
    metadata: { name: 'app', namespace: workspace },
    spec: {
      placement: { clusterSelector: { matchLabels: { bench: 'yes' } } },
      source: { manifests: [manifest(value)] as GlobalService['spec']['source']['manifests'] },
      rollout: { strategy: 'AllAtOnce' },
    },
  });
  const allAvailable = async (): Promise<boolean> => {
    const s = await admin.get<GlobalService & KubeObject>({ apiVersion, kind: 'GlobalService' }, 'app', workspace);
    const clusters = s.status?.clusters;
    return s.status?.observedGeneration === s.metadata.generation && clusters?.available === N && clusters.updated === N;
  };
  process.stderr.write('fan-out: create\n');
  const createMs = await timed(async () => {
    await admin.create(service('v1'));
    await until(allAvailable, 900_000);
  });
  process.stderr.write('fan-out: update\n');
  const updateMs = await timed(async () => {
    const live = await admin.get<GlobalService & KubeObject>({ apiVersion, kind: 'GlobalService' }, 'app', workspace);
    await admin.update({ ...live, spec: service('v2').spec });
    await until(allAvailable, 900_000);
  });
  const rssMiB = Math.round(process.memoryUsage().rss / 1048576);

  // The floor: equal Works, written plainly (no source label: neither the operator nor the agents look at them).
  const floorWork = (cluster: string, value: string): Work => {
    const result = workObjects({
      cluster,
      name: 'floor',
      source: { kind: 'GlobalService', namespace: workspace, name: 'floor', generation: 1, revision: value },
      manifests: [manifest(value)] as Manifest[],
    });
    if (!result.ok) throw new Error(result.message);
    const work = result.works[0] as Work;
    return { ...work, metadata: { name: 'floor', namespace: memberNamespace(cluster) } };
  };
  process.stderr.write('floor: creates and updates\n');
  const floorCreateMs = await timed(() => pool(names, (cluster) => admin.create(floorWork(cluster, 'v1') as Work & KubeObject)));
  const floorUpdateMs = await timed(() =>
    pool(names, (cluster) => admin.apply(floorWork(cluster, 'v2') as Work & KubeObject, { fieldManager: 'bench', force: true })),
  );

  process.stderr.write(`idle for ${IDLE_S} s\n`);
  const before = operatorKube.requestCounts();
  const idlePaths: string[] = [];
  const unsubscribe = operatorKube.onRequest((record) => {
    if (WRITE_METHODS.includes(record.method)) idlePaths.push(record.path);
  });
  await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
  unsubscribe();
  const idleWrites = writes(operatorKube.requestCounts()) - writes(before);
  // Leader election renews its Lease every few seconds by design; every other write would be a bug.
  const leaseRenewals = idlePaths.filter((path) => path.includes('/leases/')).length;
  const otherPaths = idlePaths.filter((path) => !path.includes('/leases/')).slice(0, 10);

  await agents.stop();
  stop.abort(new Error('done'));
  await operator;
  process.stdout.write(
    `${JSON.stringify(
      {
        clusters: N,
        fanout: { createMs, updateMs },
        floor: { createMs: floorCreateMs, updateMs: floorUpdateMs, concurrency: CONCURRENCY },
        ratio: { create: +(createMs / floorCreateMs).toFixed(2), update: +(updateMs / floorUpdateMs).toFixed(2) },
        rssMiB,
        rssNote: 'whole bench process: operator, its caches and the simulated agents',
        idle: {
          seconds: IDLE_S,
          operatorWrites: idleWrites,
          leaderLeaseRenewals: leaseRenewals,
          otherWrites: idleWrites - leaseRenewals,
          otherPaths,
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
  await testenv('down');
}
