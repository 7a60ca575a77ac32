// Benchmark of the Work agent on real planes: how long a cold apply of 500 manifests takes (Work
// written on the hub → the Work's status says Applied), and what a no-op resync costs — a restarted
// agent that finds everything in place — counted by the Kube adapter's request counters.
// Run: npx tsx bench/agent-apply.ts   (starts its own hub and spoke in its own FLOTILLA_TESTENV_DIR)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../src/api/index.js';
import { delta, until, writes } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-agent-'));
const { testenv } = await import('../e2e/framework/index.js');
const { condition, readWork, registerMember, runAgent, writeWork } = await import('../e2e/agent/harness.js');

const MANIFESTS = 500;

process.stderr.write(`starting hub and spoke-1 in ${process.env.FLOTILLA_TESTENV_DIR}\n`);
await testenv('up', '--owner-pid', String(process.pid), 'hub', 'spoke-1');
try {
  const member = await registerMember('spoke-1');
  const ns = 'bench-apply';
  const manifests: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    ...Array.from({ length: 399 }, (_, i): Manifest => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: ns },
      data: { index: String(i), text: 'x'.repeat(512) },
    })),
    ...Array.from({ length: MANIFESTS - 400 }, (_, i): Manifest => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: ns },
      spec: { selector: { app: `a${i}` }, ports: [{ port: 80 }] },
    })),
  ];

  // Cold apply.
  let running = await runAgent(member);
  const started = Date.now();
  const works = await writeWork(member, 'bench', manifests);
  await until(async () => condition(await readWork(member, 'bench'), 'Applied') === 'True', 300_000, 50);
  const coldApplyMs = Date.now() - started;
  const coldSpoke = running.spoke.requestCounts();
  await until(() => running.agent.stats().pending === 0, 60_000, 50);
  await running.stop();

  // No-op resync: a fresh agent, the same Work, everything already in place.
  const hubBefore = member.hubAsAgent.requestCounts();
  running = await runAgent(member);
  const resyncStarted = Date.now();
  let last = '';
  let stableFor = 0;
  await until(() => {
    const stats = running.agent.stats();
    const now = JSON.stringify([stats, running.spoke.requestCounts()]);
    stableFor = now === last ? stableFor + 1 : 0;
    last = now;
    return stats.hubSynced && stats.pending === 0 && stats.reconciles >= 1 && stableFor >= 20;
  }, 120_000);
  const resyncSpoke = running.spoke.requestCounts();
  const resyncHub = delta(member.hubAsAgent.requestCounts(), hubBefore);
  const stats = running.agent.stats();
  await running.stop();

  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'agent-apply',
        manifests: manifests.length,
        works: works.length,
        coldApply: { ms: coldApplyMs, spokeRequests: coldSpoke, spokeWrites: writes(coldSpoke) },
        noopResync: {
          settledMs: Date.now() - resyncStarted,
          reconciles: stats.reconciles,
          spokeRequests: resyncSpoke,
          spokeWrites: writes(resyncSpoke),
          hubRequests: resyncHub,
          hubWrites: writes(resyncHub),
          target: { spokeWrites: 0, hubWrites: 0 },
        },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await testenv('down');
}
