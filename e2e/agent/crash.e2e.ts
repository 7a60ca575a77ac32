// The crash-point test: the Work agent, in a child process, is SIGKILLed at many points of a large
// apply, of updates and of prunes, and started again each time. Throughout, a watch on the spoke
// records every object's uid and every deletion. The invariant it proves: nothing still desired is
// ever deleted (no uid changes, no DELETED event for a desired object), and the end state is exact.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../src/api/index.js';
import { createInformer, type Informer } from '../../src/runtime/informer.js';
import type { KubeObject } from '../../src/runtime/kube.js';
import { eventually, plane, repoRoot, uniqueName } from '../framework/index.js';
import type { AgentProcessConfig } from './agent-process.js';
import { condition, readWork, registerMember, unregisterMember, writeWork, type Member } from './harness.js';

const COUNT = 300;
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };
const namespaceType = { apiVersion: 'v1', kind: 'Namespace' };

/** What the spoke's watch saw of the test namespace and its ConfigMaps. */
interface Witness {
  /** The first uid seen of every object, by name ('' for the Namespace). */
  uids: Map<string, string>;
  /** Objects seen again with another uid: deleted and re-created. */
  replaced: string[];
  /** Every DELETED event, by name. */
  deleted: string[];
  configMaps: Informer;
}

describe('the Work agent killed at any point', () => {
  let member: Member;
  let agent: ChildProcess | undefined;
  let witness: Witness;
  const stopWatching = new AbortController();
  const ns = uniqueName('crash');
  const kills: string[] = [];

  function startAgent(crashAt?: string): ChildProcess {
    const config: AgentProcessConfig = {
      hub: member.hubCredentials,
      spokeKubeconfig: plane(member.spokeName).kubeconfigPath,
      cluster: member.cluster,
      systemNamespace: member.systemNamespace,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'e2e', 'agent', 'agent-process.ts')], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FLOTILLA_E2E_AGENT: JSON.stringify(config), ...(crashAt ? { FLOTILLA_AGENT_CRASH_AT: crashAt } : {}) },
    });
    agent = child;
    return child;
  }

  const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
      else
        child.once('exit', (_code, signal) => {
          resolve(signal);
        });
    });

  /** SIGKILLs the agent as soon as `ready` holds (polled every 10 ms), then waits for it to be gone. */
  async function killWhen(label: string, ready: () => boolean, timeoutMs = 120_000): Promise<void> {
    const child = agent;
    if (!child) throw new Error('no agent running');
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`kill point ${label} never reached`);
      if (child.exitCode !== null) throw new Error(`the agent exited on its own (${String(child.exitCode)}) before kill point ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    expect(await exited(child)).toBe('SIGKILL');
    kills.push(label);
  }

  const killAfter = (label: string, ms: number): Promise<void> => {
    const until = Date.now() + ms;
    return killWhen(label, () => Date.now() >= until);
  };

  const names = (from: number, to: number): string[] =>
    Array.from({ length: to - from }, (_, i) => `cm-${String(from + i).padStart(3, '0')}`);
  const work = (round: number, cms: readonly string[]): Manifest[] => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    ...cms.map((name): Manifest => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns },
      data: { round: String(round) },
    })),
  ];
  /** The Work's ConfigMaps on the spoke (not the kube-root-ca.crt every namespace gets). */
  const live = (): KubeObject[] => witness.configMaps.store.list().filter((cm) => cm.metadata.name?.startsWith('cm-'));
  const inRound = (round: number): number =>
    live().filter((cm) => (cm.data as Record<string, string> | undefined)?.round === String(round)).length;

  async function converged(round: number, cms: readonly string[]): Promise<void> {
    await eventually(
      async () => {
        expect(
          live()
            .map((cm) => cm.metadata.name)
            .sort(),
        ).toEqual([...cms].sort());
        expect(inRound(round)).toBe(cms.length);
        const status = await readWork(member, 'crash');
        expect(status.status?.appliedRevision).toBe(String(round));
        expect(condition(status, 'Applied')).toBe('True');
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  beforeAll(async () => {
    member = await registerMember('spoke-2');
    const record = (object: KubeObject): void => {
      if (object.kind === 'ConfigMap' && !object.metadata.name?.startsWith('cm-')) return;
      const name = object.kind === 'Namespace' ? '' : (object.metadata.name ?? '');
      const uid = object.metadata.uid ?? '';
      const first = witness.uids.get(name);
      if (first === undefined) witness.uids.set(name, uid);
      else if (first !== uid) witness.replaced.push(name);
    };
    const configMaps = createInformer({ kube: member.spokeAdmin, type: configMapType, namespace: ns });
    witness = { uids: new Map(), replaced: [], deleted: [], configMaps };
    const namespaces = createInformer({ kube: member.spokeAdmin, type: namespaceType, fieldSelector: `metadata.name=${ns}` });
    for (const informer of [configMaps, namespaces]) {
      informer.addHandler({
        onAdd: record,
        onUpdate: (_old, current) => {
          record(current);
        },
        onDelete: (object) => {
          if (object.kind === 'ConfigMap' && !object.metadata.name?.startsWith('cm-')) return;
          witness.deleted.push(object.kind === 'Namespace' ? '' : (object.metadata.name ?? ''));
        },
      });
      void informer.run(stopWatching.signal);
      await informer.waitForSync(stopWatching.signal);
    }
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGKILL');
      await exited(agent);
    }
    stopWatching.abort();
    await member.hubAdmin
      .delete({ apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' }, 'crash', member.hubNamespace)
      .catch(() => undefined);
    await member.spokeAdmin.delete(namespaceType, ns).catch(() => undefined);
    await unregisterMember(member);
  });

  it('deletes nothing still desired and ends exact, killed mid-create, mid-update and mid-prune', async () => {
    // Create: 1 Namespace + 300 ConfigMaps; killed right after its local copy is written, then
    // whenever another part of the ConfigMaps exists.
    let desired = names(0, COUNT);
    await writeWork(member, 'crash', work(1, desired), undefined, '1');
    startAgent('after-intent');
    expect(await exited(agent as ChildProcess)).toBe('SIGKILL');
    kills.push('create: after the local copy, before any apply');
    expect(live()).toHaveLength(0);
    for (const share of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      startAgent();
      await killWhen(`create: ${String(share * 100)}% applied`, () => live().length >= share * COUNT);
    }
    startAgent();
    await converged(1, desired);

    // Updates of every ConfigMap, killed at a share applied or after a delay, sometimes before the
    // previous round was finished.
    const updates: ({ share: number } | { ms: number })[] = [
      { share: 0.05 },
      { ms: 400 },
      { share: 0.4 },
      { ms: 1200 },
      { share: 0.8 },
      { ms: 2500 },
      { share: 0.95 },
    ];
    let round = 1;
    for (const [index, point] of updates.entries()) {
      round++;
      await writeWork(member, 'crash', work(round, desired), undefined, String(round));
      if ('share' in point)
        await killWhen(`update ${String(round)}: ${String(point.share * 100)}% applied`, () => inRound(round) >= point.share * COUNT);
      else await killAfter(`update ${String(round)}: ${String(point.ms)} ms after the new Work`, point.ms);
      startAgent(index === 2 ? 'after-intent' : undefined);
      if (index === 2) {
        expect(await exited(agent as ChildProcess)).toBe('SIGKILL');
        kills.push(`update ${String(round)}: after the local copy, before any apply`);
        startAgent();
      }
      if (index % 2 === 1) await converged(round, desired);
    }
    await converged(round, desired);

    // Prunes: 100 ConfigMaps leave the Work, then 100 more while 20 new ones join; killed at a
    // share pruned, after a delay, and right after the local copy of the smaller set is written.
    round++;
    desired = names(0, 200);
    await writeWork(member, 'crash', work(round, desired), undefined, String(round));
    for (const gone of [10, 40, 70]) {
      await killWhen(`prune ${String(round)}: ${String(gone)} of 100 pruned`, () => live().length <= COUNT - gone);
      startAgent();
    }
    await killAfter(`prune ${String(round)}: 300 ms after a restart`, 300);
    startAgent();
    await converged(round, desired);

    round++;
    desired = [...names(0, 100), ...names(300, 320)];
    await writeWork(member, 'crash', work(round, desired), undefined, String(round));
    await killAfter(`prune ${String(round)}: 150 ms after the new Work`, 150);
    startAgent('after-intent');
    expect(await exited(agent as ChildProcess)).toBe('SIGKILL');
    kills.push(`prune ${String(round)}: after the local copy, before any apply`);
    startAgent();
    await killWhen(`prune ${String(round)}: half pruned`, () => live().length <= 170);
    startAgent();
    await converged(round, desired);

    const removed = new Set(names(100, 300));
    const everCreated = new Set([...names(0, COUNT), ...names(300, 320)]);
    expect(kills.length).toBeGreaterThanOrEqual(20);
    expect(witness.replaced).toEqual([]);
    expect(witness.deleted.filter((name) => !removed.has(name))).toEqual([]);
    expect(witness.deleted.sort()).toEqual([...removed].sort());
    expect([...witness.uids.keys()].filter((name) => name !== '' && !everCreated.has(name))).toEqual([]);
    expect(witness.uids.get('')).toBe((await member.spokeAdmin.get(namespaceType, ns)).metadata.uid);
    for (const cm of live()) expect(cm.metadata.uid).toBe(witness.uids.get(cm.metadata.name ?? ''));
    console.log(JSON.stringify({ crashPoints: kills.length, uidsCompared: witness.uids.size, kills }));
  }, 900_000);
});
