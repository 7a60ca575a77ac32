/// <reference lib="dom" />
// Benchmark of the dashboard at fleet scale: N simulated MemberClusters (each with a Kubernetes
// version and capacity facts) on a real hub, `flotilla dashboard` as a process of the built CLI,
// and Debian's chromium through puppeteer-core. Per N: the time to first meaningful paint of the
// overview (its cluster count on screen) and of the clusters table (its first page on screen),
// measured in the page from navigation start; the server's time for /api/overview and
// /api/clusters (median of 10, over loopback); the dashboard process's resident memory.
// Run: make build && npx tsx bench/dashboard.ts   (DASHBOARD_N=1000,10000 by default; own planes in
// their own FLOTILLA_TESTENV_DIR, or DASHBOARD_KUBECONFIG=HUB to use a running hub)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { apiVersion, fieldManagers, MemberClusterType, type MemberCluster } from '../src/api/index.js';
import { crdDirectory, installCrds, readCrds } from '../src/cli/install.js';
import { kubeFromFile, writeStatus, type KubeObject } from '../src/runtime/index.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-dashboard-'));
const { plane, programCommand, testenv } = await import('../e2e/framework/index.js');
const { createSimulatedMembers } = await import('../e2e/globalservice/simulated.js');

const sizes = (process.env.DASHBOARD_N ?? '1000,10000').split(',').map(Number);
const ownPlanes = process.env.DASHBOARD_KUBECONFIG === undefined;
if (ownPlanes) await testenv('up', 'hub');
const hubConfig = process.env.DASHBOARD_KUBECONFIG ?? plane('hub').kubeconfigPath;
const hub = kubeFromFile(hubConfig, undefined, { userAgent: 'bench-dashboard', timeoutMs: 120_000 });
await installCrds(hub, readCrds(crdDirectory()), { timeoutMs: 60_000 });
const fleet = `bench-dash-${Date.now().toString(36)}`;
await hub.create({ apiVersion, kind: 'Fleet', metadata: { name: fleet } });

/** What an agent reports of its cluster: version and capacity, so every column has a value. */
async function reportFacts(names: readonly string[]): Promise<void> {
  for (let start = 0; start < names.length; start += 32) {
    await Promise.all(
      names.slice(start, start + 32).map(async (name, i) => {
        const member = await hub.get<MemberCluster & KubeObject>(MemberClusterType, name);
        await writeStatus(
          hub,
          member,
          (current) => ({
            ...current.status,
            kubernetesVersion: `v1.3${(start + i) % 4}.2`,
            nodeCount: 3,
            resources: { allocatable: { cpu: '12', memory: '48Gi' }, requested: { cpu: `${(start + i) % 16}`, memory: '20Gi' } },
          }),
          { fieldManager: fieldManagers.agent, maxAttempts: 10 },
        );
      }),
    );
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function serverMs(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.text();
    times.push(performance.now() - started);
  }
  return Math.round(median(times));
}

const browser = await puppeteer.launch({
  executablePath: process.env.FLOTILLA_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
const results = [];
let created = 0;
for (const n of sizes) {
  const names = await createSimulatedMembers(hub, `${fleet}-${created}`, n - created, fleet, { bench: fleet });
  await reportFacts(names);
  created = n;
  const dashboard = spawn(...programCommand(['dashboard', '--kubeconfig', hubConfig, '--port', '0']), {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve) => {
    let output = '';
    dashboard.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const paint = async (hash: string, selector: string, text: string): Promise<number> => {
    await page.goto('about:blank');
    await page.goto(`${url}${hash}`);
    const handle = await page.waitForFunction(
      (s, t) => (document.querySelector(s)?.textContent.startsWith(t) === true ? performance.now() : false),
      { polling: 'mutation', timeout: 120_000 },
      selector,
      text,
    );
    return Math.round(Number(await handle.jsonValue()));
  };
  const overviewPaint = await paint('#/', '[data-testid=clusters-total] .n', String(n));
  const clustersPaint = await paint('#/clusters', '[data-testid=cluster-total]', `${n} clusters`);
  results.push({
    clusters: n,
    overview: { firstMeaningfulPaintMs: overviewPaint, serverMs: await serverMs(`${url}api/overview`) },
    clustersTable: {
      firstMeaningfulPaintMs: clustersPaint,
      serverMs: await serverMs(`${url}api/clusters?sort=cpu&order=desc&limit=50`),
      filteredServerMs: await serverMs(`${url}api/clusters?selector=bench%3D${fleet}&search=-1&state=Joining&sort=name&limit=50`),
    },
    dashboardRssMiB: Math.round(rssMiB(dashboard.pid ?? 0)),
    loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  });
  await page.close();
  dashboard.kill('SIGTERM');
}
await browser.close();
process.stdout.write(`${JSON.stringify({ benchmark: 'dashboard', cpus: (await import('node:os')).cpus().length, results }, null, 2)}\n`);
await hub.delete({ apiVersion, kind: 'Fleet' }, fleet).catch(() => undefined);
hub.close();
if (ownPlanes) await testenv('down');
