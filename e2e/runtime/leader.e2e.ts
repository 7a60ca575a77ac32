import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { eventually } from '../framework/index.js';
import type { Kube, KubeObject } from '../../src/runtime/kube.js';
import type { LeaseSpec } from '../../src/runtime/leader.js';
import { createLogger } from '../../src/runtime/log.js';
import { createManager, type Manager } from '../../src/runtime/manager.js';
import { createNamespace, deleteNamespace, kubeFor } from './helpers.js';

const ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap' };
const Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };

describe('leader election between two runtime instances', () => {
  let kube: Kube;
  let ns: string;
  beforeAll(async () => {
    kube = kubeFor('hub');
    ns = await createNamespace(kube, 'leader');
    await kube.create({ ...ConfigMap, metadata: { name: 'target', namespace: ns, labels: { suite: 'leader' } } });
  });
  afterAll(async () => {
    await deleteNamespace(kube, ns);
    kube.close();
  });

  /** Two replicas; `reconcilers` records which one reconciled, and overlapping reconciles across both. */
  function replicas(lease: string, releaseOnCancel: boolean, logs?: PassThrough, mainThreadStallLimitMs?: number) {
    const state = { active: 0, maxActive: 0, by: [] as string[] };
    const make = (identity: string): { manager: Manager; stop: AbortController; done: Promise<string> } => {
      const manager = createManager({
        kube: kubeFor('hub', identity),
        component: 'leader-test',
        ...(logs ? { logger: createLogger({ component: 'leader-test', stream: logs }) } : {}),
        leaderElection: {
          namespace: ns,
          name: lease,
          identity,
          leaseDurationSeconds: 4,
          renewDeadlineMs: 3_000,
          retryPeriodMs: 500,
          releaseOnCancel,
          ...(mainThreadStallLimitMs !== undefined ? { mainThreadStallLimitMs } : {}),
        },
      });
      manager.controller({
        name: 'leader-test',
        for: { type: ConfigMap, namespace: ns, labelSelector: 'suite=leader' },
        async reconcile() {
          state.active++;
          state.maxActive = Math.max(state.maxActive, state.active);
          state.by.push(identity);
          await Promise.resolve();
          state.active--;
          return { requeueAfter: 200 }; // keep reconciling, so a second leader would show up at once
        },
      });
      const stop = new AbortController();
      return { manager, stop, done: manager.start(stop.signal) };
    };
    return { state, a: make(`${lease}-a`), b: make(`${lease}-b`) };
  }

  /** Waits until exactly one of two replicas leads. */
  async function oneLeader<R extends { manager: Manager }>(a: R, b: R): Promise<{ leader: R; follower: R }> {
    const leader = await eventually(
      () => {
        const leaders = [a, b].filter((r) => r.manager.isLeader());
        expect(leaders).toHaveLength(1);
        return leaders[0] as R;
      },
      { timeoutMs: 20_000 },
    );
    return { leader, follower: leader === a ? b : a };
  }

  async function holder(lease: string): Promise<LeaseSpec | undefined> {
    return (await kube.get<KubeObject & { spec?: LeaseSpec }>(Lease, lease, ns)).spec;
  }

  for (const [mode, release] of [
    ['killed without releasing the lease', false],
    ['stopped gracefully (lease released)', true],
  ] as const) {
    it(`exactly one leads; when it is ${mode} the other takes over within the lease duration`, async () => {
      const lease = release ? 'graceful' : 'crash';
      const { state, a, b } = replicas(lease, release);
      try {
        const { leader, follower } = await oneLeader(a, b);
        await eventually(() => {
          expect(state.by.length).toBeGreaterThan(3);
        });
        expect(new Set(state.by)).toEqual(new Set([leader.manager.identity]));
        expect((await holder(lease))?.holderIdentity).toBe(leader.manager.identity);
        // A few seconds of renewals: still exactly one leader, never both.
        for (let i = 0; i < 10; i++) {
          expect([a, b].filter((r) => r.manager.isLeader())).toHaveLength(1);
          await new Promise((r) => setTimeout(r, 200));
        }

        const stoppedAt = Date.now();
        leader.stop.abort();
        expect(await leader.done).toBe('stopped');
        const before = state.by.length;
        await eventually(
          () => {
            expect(follower.manager.isLeader()).toBe(true);
          },
          { timeoutMs: 15_000, intervalMs: 50 },
        );
        const takeover = Date.now() - stoppedAt;
        await eventually(() => {
          expect(state.by.slice(before)).toContain(follower.manager.identity);
        });
        process.stdout.write(`leader ${mode}: takeover after ${takeover} ms (lease 4 s, retry 0.5 s)\n`);
        expect(takeover).toBeLessThan(release ? 3_000 : 4_000 + 2_000);
        expect((await holder(lease))?.holderIdentity).toBe(follower.manager.identity);
        expect(state.maxActive).toBe(1);
        expect(state.by.slice(before).every((id) => id === follower.manager.identity)).toBe(true);
      } finally {
        a.stop.abort();
        b.stop.abort();
        await Promise.all([a.done, b.done]);
        a.manager.kube.close();
        b.manager.kube.close();
      }
    });
  }

  /** Two replicas of which `b` stops at once: `a` leads alone. */
  async function soleLeader(lease: string, logs?: PassThrough): Promise<ReturnType<typeof replicas>> {
    const pair = replicas(lease, false, logs);
    pair.b.stop.abort();
    await pair.b.done;
    await eventually(
      () => {
        expect(pair.a.manager.isLeader()).toBe(true);
      },
      { timeoutMs: 20_000 },
    );
    return pair;
  }

  it('a leader whose lease is taken away stops its controllers and reports the loss', async () => {
    const { state, a, b } = await soleLeader('stolen');
    try {
      // Another party overwrites the lease (as a replica with a skewed view would): a must step down.
      const current = await kube.get<KubeObject & { spec?: LeaseSpec }>(Lease, 'stolen', ns);
      await kube.update({
        ...current,
        spec: { ...current.spec, holderIdentity: 'intruder', renewTime: new Date().toISOString().replace('Z', '000Z') },
      });
      expect(await a.done).toBe('lost');
      expect(a.manager.isLeader()).toBe(false);
      const count = state.by.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(state.by.length).toBe(count);
    } finally {
      a.stop.abort();
      await a.done;
      a.manager.kube.close();
      b.manager.kube.close();
    }
  });

  /** Synchronous work on the main thread for `ms`, as a huge render or parse (or a starved process) would hold it. */
  function holdEventLoop(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until);
  }

  it('a leader whose event loop is held past the lease duration keeps its lease: its own thread renews it', async () => {
    const { state, a, b } = await soleLeader('held');
    try {
      const before = await holder('held');
      const heldAt = Date.now();
      holdEventLoop(6_000); // the lease lasts 4 s, the renew deadline is 3 s
      const after = await holder('held');
      expect(after?.holderIdentity).toBe(a.manager.identity);
      expect(after?.leaseTransitions).toBe(before?.leaseTransitions);
      // Renewed while the loop was held, not only once it was free again.
      expect(Date.parse(after?.renewTime ?? '')).toBeGreaterThan(heldAt + 3_000);
      const count = state.by.length;
      await eventually(() => {
        expect(state.by.length).toBeGreaterThan(count);
      });
      expect(a.manager.isLeader()).toBe(true);
    } finally {
      a.stop.abort();
      expect(await a.done).toBe('stopped');
      a.manager.kube.close();
      b.manager.kube.close();
    }
  });

  it('a leader whose main thread is held past the stall limit lets the lease run out, hands over and says why', async () => {
    const logs = new PassThrough();
    let logged = '';
    logs.on('data', (chunk: Buffer) => {
      logged += chunk.toString();
    });
    const { a, b } = replicas('wedged', false, logs, 2_000);
    try {
      const { leader, follower } = await oneLeader(a, b);
      // Both replicas share this thread, so the follower is held too; its own thread renews
      // nothing, and it campaigns once the loop is free again.
      holdEventLoop(9_000);
      expect(await leader.done).toBe('lost');
      await eventually(
        () => {
          expect(follower.manager.isLeader()).toBe(true);
        },
        { timeoutMs: 15_000 },
      );
      expect((await holder('wedged'))?.holderIdentity).toBe(follower.manager.identity);
      const loss = logged
        .split('\n')
        .filter((line) => line.includes('lost the leader lease'))
        .map((line) => JSON.parse(line) as { cause?: string; identity?: string });
      expect(loss).toHaveLength(1);
      expect(loss[0]?.identity).toBe(leader.manager.identity);
      expect(loss[0]?.cause).toMatch(/renewals failed: the main thread has not answered for \d+\.\d s \(limit 2 s\)/);
    } finally {
      a.stop.abort();
      b.stop.abort();
      await Promise.all([a.done, b.done]);
      a.manager.kube.close();
      b.manager.kube.close();
    }
  });
});
