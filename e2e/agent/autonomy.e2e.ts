import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkType, type Manifest } from '../../src/api/index.js';
import type { KubeObject } from '../../src/runtime/kube.js';
import { eventually, setAPIServer, uniqueName } from '../framework/index.js';
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

const deploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' };
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };
const namespaceType = { apiVersion: 'v1', kind: 'Namespace' };

interface Scaled extends KubeObject {
  spec: { replicas: number };
}

function app(ns: string, late: string): Manifest[] {
  return [
    ...webApp(ns),
    // Its namespace is not part of the Work and does not exist yet: this one fails until it does.
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: late }, data: { ready: 'yes' } },
  ];
}

describe('the Work agent without its hub', () => {
  let member: Member;
  let running: RunningAgent | undefined;
  const ns = uniqueName('auto');
  const late = uniqueName('late');

  beforeAll(async () => {
    member = await registerMember('spoke-1');
  });
  afterAll(async () => {
    await setAPIServer('hub', 'start');
    await running?.stop();
    for (const name of [ns, late]) await member.spokeAdmin.delete(namespaceType, name).catch(() => undefined);
    await unregisterMember(member);
  });

  it('keeps enforcing the last desired state across a restart while the hub is down, deletes nothing, and catches up', async () => {
    running = await runAgent(member);
    await writeWork(member, 'auto', app(ns, late));
    await eventually(
      async () => {
        const work = await readWork(member, 'auto');
        expect(work.status?.counts).toMatchObject({ total: 4, applied: 3, failed: 1 });
        expect(condition(work, 'Applied')).toBe('False');
      },
      { timeoutMs: 60_000 },
    );
    const uids = async (): Promise<(string | undefined)[]> => [
      (await member.spokeAdmin.get(namespaceType, ns)).metadata.uid,
      (await member.spokeAdmin.get(configMapType, 'settings', ns)).metadata.uid,
      (await member.spokeAdmin.get(deploymentType, 'web', ns)).metadata.uid,
    ];
    const before = await uids();

    await running.stop();
    await setAPIServer('hub', 'stop');
    await member.spokeAdmin.patch(deploymentType, 'web', ns, { spec: { replicas: 7 } }, { type: 'merge', fieldManager: 'kubectl-edit' });
    await member.spokeAdmin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: late } });

    running = await runAgent(member);
    await eventually(
      async () => {
        const deployment = await member.spokeAdmin.get<Scaled>(deploymentType, 'web', ns);
        expect(deployment.spec.replicas).toBe(2);
        expect((await member.spokeAdmin.getOrNull(configMapType, 'late', late))?.data).toEqual({ ready: 'yes' });
      },
      { timeoutMs: 15_000 },
    );
    expect(running.agent.stats().hubSynced).toBe(false);
    // A later edit is corrected too, from the watch, with the hub still down.
    await member.spokeAdmin.patch(deploymentType, 'web', ns, { spec: { replicas: 9 } }, { type: 'merge', fieldManager: 'kubectl-edit' });
    await eventually(
      async () => {
        expect((await member.spokeAdmin.get<Scaled>(deploymentType, 'web', ns)).spec.replicas).toBe(2);
      },
      { timeoutMs: 5_000 },
    );

    await setAPIServer('hub', 'start');
    await eventually(
      async () => {
        const work = await readWork(member, 'auto');
        expect(work.status?.counts).toMatchObject({ total: 4, applied: 4, failed: 0 });
        expect(condition(work, 'Applied')).toBe('True');
      },
      { timeoutMs: 90_000 },
    );
    expect(await uids()).toEqual(before);
  });

  it('prunes everything a deleted Work applied, once the hub says it is gone', async () => {
    running ??= await runAgent(member);
    await member.hubAdmin.delete(WorkType, 'auto', member.hubNamespace);
    await eventually(
      async () => {
        expect(await member.spokeAdmin.getOrNull(deploymentType, 'web', ns)).toBeNull();
        expect(await member.spokeAdmin.getOrNull(configMapType, 'late', late)).toBeNull();
        const ours = await member.spokeAdmin.getOrNull(namespaceType, ns);
        expect(ours === null || ours.metadata.deletionTimestamp !== undefined).toBe(true);
      },
      { timeoutMs: 30_000 },
    );
    // The namespace flotilla did not create stays; the local copy goes.
    expect(await member.spokeAdmin.getOrNull(namespaceType, late)).not.toBeNull();
    await eventually(async () => {
      const copies = await member.spokeAdmin.list({ apiVersion: 'v1', kind: 'Secret' }, { namespace: member.systemNamespace });
      expect(copies.items).toEqual([]);
    });
  });
});
