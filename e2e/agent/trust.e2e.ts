// The hub looking empty by mistake: an agent whose membership ended (its MemberCluster deleted) or
// whose hub is not the one it joined (another MemberCluster uid) keeps everything it applied, takes
// no new content, prunes nothing, and says so with a Warning Event on the spoke.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { apiVersion, MemberClusterType, WorkType } from '../../src/api/index.js';
import { memberAccessObjects } from '../../src/hub/membercluster/access.js';
import { createAgentMetrics } from '../../src/agent/metrics.js';
import type { KubeObject } from '../../src/runtime/kube.js';
import { eventually, uniqueName } from '../framework/index.js';
import {
  condition,
  readWork,
  registerMember,
  runAgent,
  unregisterMember,
  webApp,
  writeWork,
  type Member,
  type RunningAgent,
} from './harness.js';

const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };
const namespaceType = { apiVersion: 'v1', kind: 'Namespace' };
const deploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' };

/** The uids of the web app's objects, which must never change. */
async function uids(member: Member, ns: string): Promise<(string | undefined)[]> {
  return [
    (await member.spokeAdmin.get(namespaceType, ns)).metadata.uid,
    (await member.spokeAdmin.get(configMapType, 'settings', ns)).metadata.uid,
    (await member.spokeAdmin.get(deploymentType, 'web', ns)).metadata.uid,
  ];
}

/** The agent's Warning Events on the spoke, about its bootstrap Secret in its system namespace. */
async function agentWarnings(member: Member): Promise<KubeObject[]> {
  const events = await member.spokeAdmin.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: member.systemNamespace });
  return events.items.filter(
    (e) => e.type === 'Warning' && (e.involvedObject as { name?: string } | undefined)?.name === 'flotilla-agent-bootstrap',
  );
}

/** Holds for `ms`: samples `check` every 500 ms and fails at the first sample that throws. */
async function holdsFor(ms: number, check: () => Promise<void>): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until;) {
    await check();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function applied(member: Member, work: string): Promise<void> {
  await eventually(
    async () => {
      expect(condition(await readWork(member, work), 'Applied')).toBe('True');
    },
    { timeoutMs: 60_000 },
  );
}

describe('an agent that cannot trust its hub', () => {
  let member: Member;
  let running: RunningAgent | undefined;
  let memberUID = '';
  const ns = uniqueName('trust');

  beforeAll(async () => {
    member = await registerMember('spoke-1');
  });
  afterAll(async () => {
    await running?.stop();
    await member.spokeAdmin.delete(namespaceType, ns).catch(() => undefined);
    // Orphaned by the first test: nothing else removes the member's hub namespace.
    await member.hubAdmin.delete(namespaceType, member.hubNamespace).catch(() => undefined);
    for (const object of memberUID === '' ? [] : memberAccessObjects({ cluster: member.cluster, fleet: 'agent-e2e', uid: memberUID })) {
      if (object.metadata.namespace === undefined) await member.hubAdmin.delete(object, object.metadata.name).catch(() => undefined);
    }
    await unregisterMember(member);
  });

  it('prunes nothing when its MemberCluster is gone and its Works with it, and says so', async () => {
    const registry = new Registry();
    running = await runAgent(member, { metrics: createAgentMetrics(registry) });
    await writeWork(member, 'trust', webApp(ns));
    await applied(member, 'trust');
    const before = await uids(member, ns);

    // The MemberCluster goes (its access objects released first, so the garbage collector keeps them and
    // the agent's token still works), then its Work: to an agent that believed the hub, an empty hub.
    memberUID = (await member.hubAdmin.get(MemberClusterType, member.cluster)).metadata.uid ?? '';
    const uid = memberUID;
    for (const object of memberAccessObjects({ cluster: member.cluster, fleet: 'agent-e2e', uid })) {
      await member.hubAdmin.patch(
        object,
        object.metadata.name,
        object.metadata.namespace,
        { metadata: { ownerReferences: null } },
        { type: 'merge' },
      );
    }
    await member.hubAdmin.delete(MemberClusterType, member.cluster);
    await member.hubAdmin.delete(WorkType, 'trust', member.hubNamespace);
    await eventually(
      async () => {
        expect(running?.agent.stats().hubTrust).toBe('Revoked');
        const warnings = await agentWarnings(member);
        expect(warnings.map((e) => e.reason)).toContain('HubAccessRevoked');
        // Gone, or still held by the garbage collector's orphan finalizer: either way, leaving its fleet.
        expect(warnings.find((e) => e.reason === 'HubAccessRevoked')?.message).toMatch(
          new RegExp(`MemberCluster ${member.cluster} (no longer exists|is being deleted)`),
        );
        const text = await registry.metrics();
        expect(text).toContain('flotilla_agent_hub_trust{state="Revoked"} 1');
        expect(text).toContain('flotilla_agent_hub_trust{state="Trusted"} 0');
      },
      { timeoutMs: 30_000 },
    );
    await holdsFor(12_000, async () => {
      expect(await uids(member, ns)).toEqual(before);
    });
  });

  it('with another MemberCluster uid than it joined with: takes no new content, prunes nothing, keeps correcting drift', async () => {
    // The same name on the hub, another object: what a rebuilt hub, or a re-join elsewhere, looks like.
    const current = await member.hubAdmin.getOrNull({ apiVersion, kind: 'MemberCluster' }, member.cluster);
    if (!current)
      await member.hubAdmin.create({ apiVersion, kind: 'MemberCluster', metadata: { name: member.cluster }, spec: { fleet: 'agent-e2e' } });
    await running?.stop();
    running = await runAgent(member, { memberUID: 'the-uid-recorded-at-join', trustRecheckMs: 1_000 });
    const before = await uids(member, ns);
    const fresh = uniqueName('fresh');
    await writeWork(member, 'fresh', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: fresh } }]);

    await eventually(
      async () => {
        expect(running?.agent.stats().hubTrust).toBe('IdentityChanged');
        const warning = (await agentWarnings(member)).find((e) => e.reason === 'HubIdentityChanged');
        expect(warning?.message).toContain('not the-uid-recorded-at-join');
      },
      { timeoutMs: 30_000 },
    );
    // Drift on what it applied is still corrected, from its local copy.
    await member.spokeAdmin.patch(
      configMapType,
      'settings',
      ns,
      { data: { mode: 'slow' } },
      { type: 'merge', fieldManager: 'kubectl-edit' },
    );
    await eventually(
      async () => {
        expect((await member.spokeAdmin.get(configMapType, 'settings', ns)).data).toEqual({ mode: 'fast' });
      },
      { timeoutMs: 10_000 },
    );
    await holdsFor(8_000, async () => {
      expect(await uids(member, ns)).toEqual(before);
      expect(await member.spokeAdmin.getOrNull(namespaceType, fresh)).toBeNull();
      // Untouched by the agent: only the CRD's default (not yet observed) is there.
      expect((await readWork(member, 'fresh')).status).toEqual({ observedGeneration: 0 });
    });
  });
});
