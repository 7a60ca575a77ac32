import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ApplyOptions, Manifest } from '../../src/api/index.js';
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

const deploymentType = { apiVersion: 'apps/v1', kind: 'Deployment' };
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };

describe('the Work agent watches what it applied for drift', () => {
  let member: Member;
  let running: RunningAgent;
  const namespaces: string[] = [];

  beforeAll(async () => {
    member = await registerMember('spoke-2');
    running = await runAgent(member);
  });
  afterAll(async () => {
    await running.stop();
    for (const ns of namespaces) await member.spokeAdmin.delete({ apiVersion: 'v1', kind: 'Namespace' }, ns).catch(() => undefined);
    await unregisterMember(member);
  });

  async function applied(name: string, options: ApplyOptions): Promise<string> {
    const ns = uniqueName(name);
    namespaces.push(ns);
    await writeWork(member, name, webApp(ns), options);
    await eventually(
      async () => {
        const work = await readWork(member, name);
        expect(condition(work, 'Applied')).toBe('True');
        expect(condition(work, 'Available')).toBe('True');
      },
      { timeoutMs: 60_000 },
    );
    return ns;
  }

  it('corrects an edited replica count and a deleted ConfigMap within 5 s under Correct', async () => {
    const ns = await applied('correct', { driftPolicy: 'Correct' });
    const started = Date.now();
    await member.spokeAdmin.patch(deploymentType, 'web', ns, { spec: { replicas: 5 } }, { type: 'merge', fieldManager: 'kubectl-edit' });
    await member.spokeAdmin.delete(configMapType, 'settings', ns);
    await eventually(
      async () => {
        const deployment = await member.spokeAdmin.get<{ apiVersion: string; kind: string; metadata: object; spec: { replicas: number } }>(
          deploymentType,
          'web',
          ns,
        );
        const settings = await member.spokeAdmin.getOrNull(configMapType, 'settings', ns);
        expect({ replicas: deployment.spec.replicas, settings: settings?.data }).toEqual({ replicas: 2, settings: { mode: 'fast' } });
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    const elapsed = Date.now() - started;
    console.log(`drift corrected in ${elapsed} ms (edit of spec.replicas and deletion of a ConfigMap)`);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('reports drift with the field paths under Report and leaves the objects as they are', async () => {
    const ns = await applied('report', { driftPolicy: 'Report' });
    await member.spokeAdmin.patch(deploymentType, 'web', ns, { spec: { replicas: 5 } }, { type: 'merge', fieldManager: 'kubectl-edit' });
    await member.spokeAdmin.delete(configMapType, 'settings', ns);
    const work = await eventually(
      async () => {
        const current = await readWork(member, 'report');
        expect(condition(current, 'Drifted')).toBe('True');
        const byName = new Map((current.status?.manifests ?? []).map((m) => [`${m.kind}/${m.name}`, m]));
        expect(byName.get('Deployment/web')).toMatchObject({ drifted: true, driftedFields: ['.spec.replicas'] });
        expect(byName.get('ConfigMap/settings')).toMatchObject({ drifted: true, message: 'deleted since it was applied' });
        return current;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(work.status?.counts?.drifted).toBe(2);
    // Once the agent has reported, it has done all it will: nothing was put back.
    await eventually(() => {
      expect(running.agent.stats().pending).toBe(0);
    });
    const deployment = await member.spokeAdmin.get<{ apiVersion: string; kind: string; metadata: object; spec: { replicas: number } }>(
      deploymentType,
      'web',
      ns,
    );
    expect(deployment.spec.replicas).toBe(5);
    expect(await member.spokeAdmin.getOrNull(configMapType, 'settings', ns)).toBeNull();
  });

  it("does not count fields the manifest leaves to others (an HPA's replicas) as drift", async () => {
    const ns = uniqueName('hpa');
    namespaces.push(ns);
    const manifests = webApp(ns).map((m) =>
      m.kind === 'Deployment' ? { ...m, spec: { ...(m.spec as Record<string, unknown>), replicas: undefined } } : m,
    );
    await writeWork(member, 'hpa', JSON.parse(JSON.stringify(manifests)) as Manifest[], { driftPolicy: 'Report' });
    await eventually(async () => {
      expect(condition(await readWork(member, 'hpa'), 'Applied')).toBe('True');
    });
    await member.spokeAdmin.patch(
      deploymentType,
      'web',
      ns,
      { spec: { replicas: 3 } },
      { type: 'merge', fieldManager: 'horizontal-pod-autoscaler' },
    );
    await eventually(
      async () => {
        const work = await readWork(member, 'hpa');
        expect(condition(work, 'Available')).toBe('True');
        expect(work.status?.counts?.available).toBe(3);
      },
      { timeoutMs: 60_000 },
    );
    expect(condition(await readWork(member, 'hpa'), 'Drifted')).toBe('False');
  });
});
