// Benchmark of a PolicyBundle on real planes: 200 matching namespaces on each of two spokes; how long
// from writing the bundle on the hub until it is compliant on both (every template stamped into
// every namespace, every namespace labelled), and the requests the agents made to their spokes and
// the hub (Kube adapter counters). Then a no-op: a namespace event re-expands without writes.
// Run: npx tsx bench/policy-200ns.ts   (starts its own planes in a fresh FLOTILLA_TESTENV_DIR;
// FLOTILLA_E2E_REUSE=1 with FLOTILLA_TESTENV_DIR uses running ones)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RequestCounts, delta, until, writes } from './measure.js';

process.env.FLOTILLA_TESTENV_DIR ??= mkdtempSync(join(tmpdir(), 'flotilla-bench-policy-'));
const { testenv, uniqueName } = await import('../e2e/framework/index.js');
const { bundleObject, readBundle, startPolicyEnv } = await import('../e2e/policy/setup.js');

const NAMESPACES = 200;

const sum = (counts: readonly RequestCounts[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
};

if (process.env.FLOTILLA_E2E_REUSE !== '1') await testenv('up', '--owner-pid', String(process.pid), 'hub', 'spoke-1', 'spoke-2');
const env = await startPolicyEnv(['spoke-1', 'spoke-2']);
try {
  const label = uniqueName('bench');
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `${label}-${i}`);
  for (const member of env.members) {
    for (const name of namespaces) {
      await member.spokeAdmin.create({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'bench.flotilla.dev/tenant': label } },
      });
    }
  }
  const spokeBefore = sum(env.agents.map((a) => a.spoke.requestCounts()));
  const hubBefore = sum(env.members.map((m) => m.hubAsAgent.requestCounts()));
  const name = uniqueName('baseline');
  const started = Date.now();
  await env.hub.apply(
    bundleObject(name, {
      placement: { clusterNames: env.members.map((m) => m.cluster) },
      namespaceSelector: { matchLabels: { 'bench.flotilla.dev/tenant': label } },
      networkPolicies: [{ name: 'default-deny', spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }],
      resourceQuotas: [{ name: 'compute', hard: { pods: '20' } }],
      rbac: { roles: [{ name: 'reader', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }] },
      podSecurity: { enforce: 'baseline' },
    }),
    { fieldManager: 'bench', force: true },
  );
  await until(async () => (await readBundle(env.hub, name)).status?.clusters?.compliant === env.members.length, 600_000);
  const convergeMs = Date.now() - started;
  await until(() => env.agents.every((a) => a.agent.stats().pending === 0), 60_000);
  const spokeRequests = delta(sum(env.agents.map((a) => a.spoke.requestCounts())), spokeBefore);
  const hubRequests = delta(sum(env.members.map((m) => m.hubAsAgent.requestCounts())), hubBefore);

  // One unrelated label change on a selected namespace: a re-expansion that must write nothing.
  const idleBefore = sum(env.agents.map((a) => a.spoke.requestCounts()));
  const reconcilesBefore = env.agents.map((a) => a.agent.stats().reconciles);
  for (const member of env.members) {
    await member.spokeAdmin.patch(
      { apiVersion: 'v1', kind: 'Namespace' },
      namespaces[0] ?? '',
      undefined,
      { metadata: { labels: { unrelated: 'x' } } },
      { type: 'merge' },
    );
  }
  await until(
    () => env.agents.every((a, i) => a.agent.stats().reconciles > (reconcilesBefore[i] ?? 0) && a.agent.stats().pending === 0),
    60_000,
  );
  const reexpand = delta(sum(env.agents.map((a) => a.spoke.requestCounts())), idleBefore);

  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'policy-200ns',
        spokes: env.members.length,
        namespacesPerSpoke: NAMESPACES,
        objectsPerSpoke: NAMESPACES * 3,
        labelledNamespacesPerSpoke: NAMESPACES,
        convergeMs,
        spokeRequests,
        spokeWrites: writes(spokeRequests),
        hubRequestsByAgents: hubRequests,
        reexpandAfterLabelChange: { spokeRequests: reexpand, spokeWrites: writes(reexpand) },
      },
      null,
      2,
    )}\n`,
  );
  await env.hub.delete(
    { apiVersion: 'flotilla.dev/v1alpha1', kind: 'PolicyBundle' },
    name,
    bundleObject(name, { placement: {} }).metadata.namespace,
  );
  await until(
    async () =>
      (await env.hub.getOrNull(
        { apiVersion: 'flotilla.dev/v1alpha1', kind: 'PolicyBundle' },
        name,
        bundleObject(name, { placement: {} }).metadata.namespace,
      )) === null,
    120_000,
  );
  for (const member of env.members)
    for (const ns of namespaces) await member.spokeAdmin.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
} finally {
  await env.stop();
}
