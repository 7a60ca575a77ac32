import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createWidgetCRD, eventually, type Widget } from '../framework/index.js';
import { setCondition, type Condition } from '../../src/runtime/conditions.js';
import { isNotFound, WRITE_METHODS, type Kube, type KubeObject } from '../../src/runtime/kube.js';
import { alreadyReported } from '../../src/runtime/controller.js';
import { createManager, type Manager } from '../../src/runtime/manager.js';
import { writeStatus } from '../../src/runtime/status.js';
import { createNamespace, deleteNamespace, kubeFor } from './helpers.js';

const ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap' };
type CM = KubeObject & { data?: Record<string, string> };

describe('controllers on a real apiserver', () => {
  let kube: Kube;
  let ns: string;
  beforeAll(async () => {
    kube = kubeFor('hub');
    ns = await createNamespace(kube, 'ctrl');
  });
  afterAll(async () => {
    await deleteNamespace(kube, ns);
    kube.close();
  });

  it('refuses to start when its health address is taken, having started no list and no watch', async () => {
    const occupier = createServer().listen(0, '127.0.0.1');
    await once(occupier, 'listening');
    const { port } = occupier.address() as AddressInfo;
    const managerKube = kubeFor('hub', 'taken-port-manager');
    const manager = createManager({ kube: managerKube, component: 'taken-port-test', health: { host: '127.0.0.1', port } });
    const informer = manager.informer({ type: ConfigMap, namespace: ns });
    try {
      await expect(manager.start(new AbortController().signal)).rejects.toThrow(`address already in use 127.0.0.1:${port}`);
      // Nothing runs on after the refusal: a moment later its client has still sent no request.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(managerKube.requestCounts()).toEqual({});
      expect(informer.hasSynced()).toBe(false);
    } finally {
      occupier.close();
      managerKube.close();
    }
  });

  it('reconciles only once every cache is listed, not only its own kind: the first reconcile sees all of a large secondary cache', async () => {
    // A restart over many Works: the services were listed long before their Works, and the first
    // reconciles, reading an empty Works cache, rewrote every Work. Here 400 ConfigMaps of 4 KB.
    const bulk = await createNamespace(kube, 'ctrl-bulk');
    try {
      const filler = 'x'.repeat(4096);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < 400) {
            const index = next++;
            await kube.create({
              ...ConfigMap,
              metadata: { name: `item-${index}`, namespace: bulk, labels: { suite: 'bulk' } },
              data: { filler },
            });
          }
        }),
      );
      await kube.create({ ...ConfigMap, metadata: { name: 'primary', namespace: ns, labels: { suite: 'synced' } } });
      const manager = createManager({ kube: kubeFor('hub', 'synced-manager'), component: 'synced-test' });
      const secondary = manager.informer<CM>({ type: ConfigMap, namespace: bulk, labelSelector: 'suite=bulk' });
      const seenSizes: number[] = [];
      manager.controller<CM>({
        name: 'synced',
        for: { type: ConfigMap, namespace: ns, labelSelector: 'suite=synced' },
        reconcile() {
          seenSizes.push(secondary.store.size());
          return Promise.resolve({});
        },
      });
      const stop = new AbortController();
      const done = manager.start(stop.signal);
      try {
        await eventually(() => {
          expect(seenSizes.length).toBeGreaterThan(0);
        });
        expect(seenSizes[0]).toBe(400);
      } finally {
        stop.abort();
        await done;
        manager.kube.close();
      }
    } finally {
      await deleteNamespace(kube, bulk);
    }
  });

  it('collapses a burst of 1000 updates to one object into far fewer reconciles, never two at once, ending on the last version', async () => {
    await kube.create({ ...ConfigMap, metadata: { name: 'hot', namespace: ns, labels: { suite: 'burst' } }, data: { v: '0' } });
    const manager = createManager({ kube: kubeFor('hub', 'burst-manager'), component: 'burst-test' });
    let active = 0;
    let maxActive = 0;
    const seen: string[] = [];
    manager.controller<CM>({
      name: 'burst',
      for: { type: ConfigMap, namespace: ns, labelSelector: 'suite=burst' },
      workers: 4,
      async reconcile(request, ctx) {
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          seen.push(ctx.store.get(request.key)?.data?.v ?? 'gone');
          // A reconcile that takes a while (here: a real round trip) lets events pile up meanwhile.
          await ctx.kube.get(ConfigMap, request.name, request.namespace, { signal: ctx.signal });
          return {};
        } finally {
          active--;
        }
      },
    });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      await eventually(() => {
        expect(seen.length).toBeGreaterThan(0);
      });
      // 1000 updates from 10 concurrent writers.
      let next = 1;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next <= 1000) {
            const v = next++;
            await kube.patch(ConfigMap, 'hot', ns, { data: { [`k${v % 10}`]: String(v), v: String(v) } }, { type: 'merge' });
          }
        }),
      );
      const final = (await kube.get<CM>(ConfigMap, 'hot', ns)).data?.v;
      await eventually(
        () => {
          expect(seen[seen.length - 1]).toBe(final);
        },
        { timeoutMs: 60_000 },
      );
      process.stdout.write(`burst: 1000 updates → ${seen.length} reconciles, max concurrent for the key ${maxActive}\n`);
      expect(maxActive).toBe(1);
      expect(seen.length).toBeLessThan(500);
    } finally {
      stop.abort();
      await done;
      manager.kube.close();
    }
  });

  it('retries a failing reconcile with growing backoff and honours requeueAfter without sleeping', async () => {
    await kube.create({ ...ConfigMap, metadata: { name: 'flaky', namespace: ns, labels: { suite: 'retry' } } });
    await kube.create({ ...ConfigMap, metadata: { name: 'periodic', namespace: ns, labels: { suite: 'retry' } } });
    const manager = createManager({ kube: kubeFor('hub', 'retry-manager'), component: 'retry-test' });
    const attempts: Record<string, number[]> = { flaky: [], periodic: [] };
    manager.controller<CM>({
      name: 'retry',
      for: { type: ConfigMap, namespace: ns, labelSelector: 'suite=retry' },
      backoff: { baseMs: 50, maxMs: 2_000 },
      reconcile(request) {
        attempts[request.name]?.push(Date.now());
        if (request.name === 'flaky' && (attempts.flaky?.length ?? 0) < 5) return Promise.reject(new Error('not yet'));
        return Promise.resolve(request.name === 'periodic' ? { requeueAfter: 300 } : {});
      },
    });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      await eventually(
        () => {
          expect(attempts.flaky?.length).toBe(5);
          expect(attempts.periodic?.length).toBeGreaterThanOrEqual(4);
        },
        { timeoutMs: 30_000 },
      );
      const flaky = attempts.flaky ?? [];
      const gaps = flaky.slice(1).map((t, i) => t - (flaky[i] ?? 0));
      // 50, 100, 200, 400 ms: each gap at least the backoff, and growing.
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 5);
      });
      expect(gaps[3] ?? 0).toBeGreaterThan(gaps[0] ?? 0);
      const metrics = await manager.metrics.registry.getSingleMetricAsString('flotilla_workqueue_retries_total');
      expect(metrics).toContain('flotilla_workqueue_retries_total{name="retry"} 4');
    } finally {
      stop.abort();
      await done;
      manager.kube.close();
    }
  });

  it("writes a failure the reconcile did not report into the object's Ready condition, and leaves one it reported alone", async () => {
    const crd = await createWidgetCRD('hub');
    const type = { apiVersion: crd.apiVersion, kind: 'Widget' };
    await eventually(() => kube.list(type, { namespace: ns }));
    await kube.create<Widget>({ ...type, metadata: { name: 'unreported', namespace: ns }, spec: { size: 1 } });
    await kube.create<Widget>({ ...type, metadata: { name: 'reported', namespace: ns }, spec: { size: 1 } });
    const manager = createManager({ kube: kubeFor('hub', 'failure-manager'), component: 'failure-test' });
    manager.controller<Widget>({
      name: 'widget-failure',
      for: { type, namespace: ns },
      failureReason: 'ReconcileFailed',
      backoff: { baseMs: 200, maxMs: 2_000 },
      async reconcile(request, ctx) {
        if (request.name === 'reported') throw alreadyReported(new Error('said in the status already'));
        // A real refusal from the apiserver: a ConfigMap in a namespace that does not exist.
        await ctx.kube.create({ ...ConfigMap, metadata: { name: 'x', namespace: 'no-such-namespace-here' } }, { signal: ctx.signal });
        return {};
      },
    });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      await eventually(async () => {
        const widget = await kube.get<Widget>(type, 'unreported', ns);
        const ready = (widget.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
        expect(ready).toMatchObject({ status: 'False', reason: 'ReconcileFailed', observedGeneration: 1 });
        expect(ready?.message).toContain('404 NotFound: namespaces "no-such-namespace-here" not found');
        expect(ready?.message).toContain('POST /api/v1/namespaces/no-such-namespace-here/configmaps');
      });
      // Several retries later, the reported failure's object still has no status written by the controller.
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await kube.get<Widget>(type, 'reported', ns)).status).toBeUndefined();
    } finally {
      stop.abort();
      await done;
      manager.kube.close();
    }
  });

  it('makes no write at all while idle for 60 s: status compared before writing, events only on transitions', async () => {
    const crd = await createWidgetCRD('hub');
    const type = { apiVersion: crd.apiVersion, kind: 'Widget' };
    await eventually(() => kube.list(type, { namespace: ns }));
    for (const name of ['w1', 'w2', 'w3']) await kube.create<Widget>({ ...type, metadata: { name, namespace: ns }, spec: { size: 1 } });

    const runtimeKube = kubeFor('hub', 'idle-manager');
    const writes: string[] = [];
    runtimeKube.onRequest((r) => {
      if (WRITE_METHODS.includes(r.method) && !r.watch) writes.push(`${r.method} ${r.path}`);
    });
    const manager: Manager = createManager({
      kube: runtimeKube,
      component: 'idle-test',
      leaderElection: { namespace: ns, name: 'idle-test', leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      health: { port: 0, host: '127.0.0.1' },
    });
    let reconciles = 0;
    manager.controller<Widget>({
      name: 'widget-status',
      for: { type, namespace: ns },
      async reconcile(request, ctx) {
        reconciles++;
        const widget = ctx.store.get(request.key);
        if (!widget) return {};
        const result = await writeStatus(
          ctx.kube,
          widget,
          (w) => ({
            ...w.status,
            observedGeneration: w.metadata.generation ?? 0,
            conditions: setCondition(
              w.status?.conditions as Condition[] | undefined,
              {
                type: 'Ready',
                status: 'True',
                reason: 'Reconciled',
                message: `size ${w.spec?.size ?? 0} is in place`,
              },
              { observedGeneration: w.metadata.generation ?? 0 },
            ),
          }),
          { signal: ctx.signal },
        );
        if (result.written) ctx.events.event(widget, 'Normal', 'Reconciled', `size ${widget.spec?.size ?? 0} is in place`);
        return {};
      },
    });
    const stop = new AbortController();
    const done = manager.start(stop.signal);
    try {
      await eventually(
        async () => {
          const listed = await kube.list<Widget>(type, { namespace: ns });
          expect(listed.items.map((w) => w.status?.observedGeneration)).toEqual([1, 1, 1]);
          expect(
            (await kube.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: ns, fieldSelector: 'reason=Reconciled' })).items,
          ).toHaveLength(3);
        },
        { timeoutMs: 30_000 },
      );
      // Let the echo of our own status writes come back and be reconciled to a no-op.
      await eventually(() => {
        expect(manager.events).toBeDefined();
      });
      const port = manager.healthPort();
      await eventually(async () => {
        const ready = await fetch(`http://127.0.0.1:${port ?? 0}/readyz`);
        expect(ready.status).toBe(200);
      });
      // Let the echo of our own status writes come back and be reconciled to a no-op.
      const settledReconciles = await eventually(
        async () => {
          const before = reconciles;
          await new Promise((r) => setTimeout(r, 1_000));
          expect(reconciles).toBe(before);
          return before;
        },
        { timeoutMs: 20_000 },
      );
      const writesBefore = writes.length;

      // The observation window: 60 s in which nothing changes.
      await new Promise((r) => setTimeout(r, 60_000));

      const idleWrites = writes.slice(writesBefore);
      const nonLease = idleWrites.filter((w) => !w.includes('/leases/'));
      process.stdout.write(
        `idle 60 s: ${nonLease.length} writes besides ${idleWrites.length - nonLease.length} lease renewals; reconciles ${reconciles - settledReconciles}\n`,
      );
      expect(nonLease).toEqual([]);
      expect(reconciles).toBe(settledReconciles);
      // Lease renewals are the one write leader election needs (every retry period, as client-go).
      expect(idleWrites.length - nonLease.length).toBeLessThanOrEqual(35);

      const metrics = await (await fetch(`http://127.0.0.1:${port ?? 0}/metrics`)).text();
      expect(metrics).toContain('flotilla_reconcile_total{controller="widget-status",result="success"}');
      expect(metrics).toContain(`flotilla_leader_is_leader{lease="${ns}/idle-test"} 1`);
      expect((await fetch(`http://127.0.0.1:${port ?? 0}/healthz`)).status).toBe(200);
    } finally {
      stop.abort();
      expect(await done).toBe('stopped');
      runtimeKube.close();
      await crd.cleanup();
    }
    // Released on graceful stop: nobody holds it now.
    const lease = await kube
      .getOrNull<KubeObject & { spec?: { holderIdentity?: string } }>(
        { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
        'idle-test',
        ns,
      )
      .catch((e: unknown) => {
        if (isNotFound(e)) return null;
        throw e;
      });
    expect(lease?.spec?.holderIdentity ?? '').toBe('');
  }, 180_000);
});
