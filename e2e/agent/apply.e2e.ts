import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../src/api/index.js';
import { WORK_LABEL } from '../../src/agent/ownership.js';
import { eventually, uniqueName } from '../framework/index.js';
import { condition, readWork, registerMember, runAgent, unregisterMember, writeWork, type Member, type RunningAgent } from './harness.js';

const deploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' };
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };
const serviceType = { apiVersion: 'v1', kind: 'Service' };

function webManifests(ns: string, group: string): Manifest[] {
  // Deliberately in the wrong order: the instance before its CRD, everything before its Namespace.
  return [
    { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1', namespace: ns }, spec: { size: 3 } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
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
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { mode: 'fast' } },
    {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `gadgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } },
            },
          },
        ],
      },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
  ];
}

describe('the Work agent applies Works to its spoke', () => {
  let member: Member;
  let running: RunningAgent;
  const ns = uniqueName('web');
  const group = `${uniqueName('g')}.flotilla.test`;
  const manifests = webManifests(ns, group);

  beforeAll(async () => {
    member = await registerMember('spoke-1');
    running = await runAgent(member);
  });
  afterAll(async () => {
    await running.stop();
    await member.spokeAdmin.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
    await member.spokeAdmin
      .delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }, `gadgets.${group}`)
      .catch(() => undefined);
    await unregisterMember(member);
  });

  it('applies a Namespace, a CRD and its instance, a Deployment, a Service and a ConfigMap in any order, and reports Applied and Available', async () => {
    await writeWork(member, 'web', manifests);
    const work = await eventually(
      async () => {
        const current = await readWork(member, 'web');
        expect({ applied: condition(current, 'Applied'), available: condition(current, 'Available') }).toEqual({
          applied: 'True',
          available: 'True',
        });
        return current;
      },
      { timeoutMs: 90_000 },
    );
    expect(work.status?.counts).toEqual({ total: 6, applied: 6, available: 6, drifted: 0, failed: 0 });
    expect(work.status?.appliedRevision).toBe('1');
    expect(work.status?.observedGeneration).toBe(work.metadata.generation);
    const gadget = await member.spokeAdmin.get({ apiVersion: `${group}/v1`, kind: 'Gadget' }, 'g1', ns);
    expect(gadget.metadata.labels?.[WORK_LABEL]).toBe(`${member.hubNamespace}.web`);
    const deployment = await member.spokeAdmin.get(deploymentType, 'web', ns);
    expect(deployment.metadata.managedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'flotilla-agent', operation: 'Apply' })]),
    );
  });

  it('makes no write when nothing changed: the Work status and the spoke are left alone', async () => {
    const before = await readWork(member, 'web');
    const spokeWrites = writes(running.spoke.requestCounts());
    // Touch the Work's labels (a new generation is not needed for a resync): the agent reconciles it.
    await member.hubAdmin.patch(
      { apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' },
      'web',
      member.hubNamespace,
      { metadata: { labels: { touched: 'yes' } } },
      { type: 'merge' },
    );
    await eventually(() => {
      expect(running.agent.stats().pending).toBe(0);
    });
    const reconcilesBefore = running.agent.stats().reconciles;
    await member.hubAdmin.patch(
      { apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' },
      'web',
      member.hubNamespace,
      { metadata: { labels: { touched: 'twice' } } },
      { type: 'merge' },
    );
    await eventually(() => {
      expect(running.agent.stats().reconciles).toBeGreaterThan(reconcilesBefore);
      expect(running.agent.stats().pending).toBe(0);
    });
    const after = await readWork(member, 'web');
    expect(after.status).toEqual(before.status);
    expect(writes(running.spoke.requestCounts())).toBe(spokeWrites);
  });

  it('prunes a manifest removed from the Work, and keeps (releases) one removed under the Orphan policy', async () => {
    await writeWork(
      member,
      'web',
      manifests.filter((m) => m.kind !== 'ConfigMap'),
      undefined,
      '2',
    );
    await eventually(async () => {
      expect(await member.spokeAdmin.getOrNull(configMapType, 'settings', ns)).toBeNull();
    });
    await writeWork(
      member,
      'web',
      manifests.filter((m) => m.kind !== 'ConfigMap' && m.kind !== 'Service'),
      { deletionPolicy: 'Orphan' },
      '3',
    );
    const released = await eventually(async () => {
      const work = await readWork(member, 'web');
      expect(work.status?.counts?.total).toBe(4);
      const service = await member.spokeAdmin.get(serviceType, 'web', ns);
      expect(service.metadata.labels?.[WORK_LABEL]).toBeUndefined();
      return service;
    });
    expect(released.metadata.deletionTimestamp).toBeUndefined();
    expect(await member.spokeAdmin.get(deploymentType, 'web', ns)).toBeDefined();
  });

  it('reports a conflict for an unowned object under adoption Never and adopts it under Always', async () => {
    await member.spokeAdmin.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'legacy', namespace: ns },
      data: { owner: 'someone' },
    });
    const legacy: Manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'legacy', namespace: ns },
      data: { owner: 'flotilla' },
    };
    await writeWork(member, 'legacy', [legacy]);
    await eventually(async () => {
      const work = await readWork(member, 'legacy');
      expect(condition(work, 'Applied')).toBe('False');
      expect(work.status?.manifests?.[0]).toMatchObject({
        name: 'legacy',
        applied: false,
        message: expect.stringContaining('adoption policy is Never'),
      });
    });
    expect((await member.spokeAdmin.get(configMapType, 'legacy', ns)).data).toEqual({ owner: 'someone' });

    await writeWork(member, 'legacy', [legacy], { adoption: 'Always' });
    await eventually(async () => {
      const work = await readWork(member, 'legacy');
      expect(condition(work, 'Applied')).toBe('True');
      const live = await member.spokeAdmin.get(configMapType, 'legacy', ns);
      expect({ data: live.data, mark: live.metadata.labels?.[WORK_LABEL] }).toEqual({
        data: { owner: 'flotilla' },
        mark: `${member.hubNamespace}.legacy`,
      });
    });
  });

  it('takes over what an older agent applied as field manager flotilla, so a key dropped from the manifest is removed', async () => {
    const settings = (data: Record<string, string>): Manifest => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns },
      data,
    });
    await writeWork(member, 'settings', [settings({ kept: '1', dropped: '2' })]);
    const applied = await eventually(async () => {
      const live = await member.spokeAdmin.get(configMapType, 'settings', ns);
      expect(live.data).toEqual({ kept: '1', dropped: '2' });
      return live;
    });
    // As an agent before flotilla-agent existed left it: its Apply entry under the manager `flotilla`.
    const index = (applied.metadata.managedFields ?? []).findIndex((f) => (f as { manager?: string }).manager === 'flotilla-agent');
    expect(index).toBeGreaterThanOrEqual(0);
    await member.spokeAdmin.patch(
      configMapType,
      'settings',
      ns,
      [{ op: 'replace', path: `/metadata/managedFields/${index}/manager`, value: 'flotilla' }],
      { type: 'json' },
    );

    await writeWork(member, 'settings', [settings({ kept: '1' })]);
    await eventually(async () => {
      const live = await member.spokeAdmin.get(configMapType, 'settings', ns);
      expect(live.data).toEqual({ kept: '1' });
      expect((live.metadata.managedFields ?? []).map((f) => (f as { manager?: string }).manager)).not.toContain('flotilla');
    });
  });

  it('reports an object the apiserver refuses with its message, and applies the rest', async () => {
    await writeWork(member, 'mixed', [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fine', namespace: ns }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: ns }, data: { a: '1' } },
      { apiVersion: 'nowhere.flotilla.test/v1', kind: 'Ghost', metadata: { name: 'boo', namespace: ns } },
    ]);
    const work = await eventually(async () => {
      const current = await readWork(member, 'mixed');
      expect(current.status?.counts).toMatchObject({ total: 3, applied: 1, failed: 2 });
      return current;
    });
    const byName = new Map((work.status?.manifests ?? []).map((m) => [m.name, m]));
    expect(byName.get('Not_Valid')?.message).toMatch(/apply failed: .*a lowercase RFC 1123 subdomain/);
    expect(byName.get('boo')?.message).toMatch(/no resource for kind Ghost/);
    expect(await member.spokeAdmin.get(configMapType, 'fine', ns)).toBeDefined();
  });
});

function writes(counts: Readonly<Record<string, number>>): number {
  return ['POST', 'PUT', 'PATCH', 'DELETE'].reduce((sum, method) => sum + (counts[method] ?? 0), 0);
}
