import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, testenv } from '../framework/index.js';
import { createInformer, type Informer } from '../../src/runtime/informer.js';
import type { Kube, KubeObject } from '../../src/runtime/kube.js';
import { createNamespace, deleteNamespace, etcdCompact, etcdDelete, kubeFor } from './helpers.js';

const ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap' };
type CM = KubeObject & { data?: Record<string, string> };

/** Everything an informer told its handlers, in order. */
function record(informer: Informer<CM>): string[] {
  const log: string[] = [];
  informer.addHandler({
    onAdd: (o) => log.push(`add ${o.metadata.name ?? ''} ${o.data?.v ?? ''}`),
    onUpdate: (_, o) => log.push(`update ${o.metadata.name ?? ''} ${o.data?.v ?? ''}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name ?? ''}`),
  });
  return log;
}

/** Stops the hub apiserver and waits until its port refuses connections (the process is gone). */
async function stopAPIServer(kube: Kube): Promise<void> {
  await testenv('apiserver', 'hub', 'stop');
  await eventually(
    async () => {
      const refused = await kube.request('GET', '/readyz', { timeoutMs: 2_000 }).then(
        () => false,
        (e: unknown) => String(e).includes('ECONNREFUSED'),
      );
      expect(refused).toBe(true);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

async function apiserverUp(kube: Kube): Promise<void> {
  await eventually(() => kube.request('GET', '/readyz'), { timeoutMs: 60_000, intervalMs: 500 });
}

describe('the informer on a real apiserver', () => {
  let kube: Kube;
  let ns: string;
  const stops: AbortController[] = [];
  beforeAll(async () => {
    kube = kubeFor('hub');
    ns = await createNamespace(kube, 'informer');
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop.abort();
    // Whatever a test did, leave the apiserver running for the next one.
    if (
      !(await kube.request('GET', '/readyz').then(
        () => true,
        () => false,
      ))
    ) {
      await testenv('apiserver', 'hub', 'start');
      await apiserverUp(kube);
    }
  });
  afterAll(async () => {
    await deleteNamespace(kube, ns);
    kube.close();
  });

  function start(
    labelSelector: string,
    extra: { silenceTimeoutMs?: number } = {},
  ): { informer: Informer<CM>; events: string[]; done: Promise<void> } {
    const informer = createInformer<CM>({
      kube,
      type: ConfigMap,
      namespace: ns,
      labelSelector,
      backoff: { baseMs: 200, maxMs: 2_000 },
      ...extra,
    });
    const events = record(informer);
    const stop = new AbortController();
    stops.push(stop);
    return { informer, events, done: informer.run(stop.signal) };
  }

  it('lists, then follows changes from the list resourceVersion, and serves reads from its cache', async () => {
    await kube.create({ ...ConfigMap, metadata: { name: 'pre', namespace: ns, labels: { suite: 'basic' } }, data: { v: '0' } });
    const { informer, events } = start('suite=basic');
    await informer.waitForSync();
    expect(events).toEqual(['add pre 0']);
    await kube.patch(ConfigMap, 'pre', ns, { data: { v: '1' } }, { type: 'merge' });
    await kube.create({ ...ConfigMap, metadata: { name: 'post', namespace: ns, labels: { suite: 'basic' } }, data: { v: '0' } });
    await kube.delete(ConfigMap, 'pre', ns);
    await eventually(() => {
      expect(events).toEqual(['add pre 0', 'update pre 1', 'add post 0', 'delete pre']);
    });
    expect(informer.store.keys()).toEqual([`${ns}/post`]);
    expect(informer.stats()).toMatchObject({ lists: 1, gone: 0 });
  });

  it('survives the apiserver stopping and starting, and sees what changed meanwhile', async () => {
    await kube.create({ ...ConfigMap, metadata: { name: 'stays', namespace: ns, labels: { suite: 'outage' } }, data: { v: '0' } });
    await kube.create({
      ...ConfigMap,
      metadata: { name: 'deleted-meanwhile', namespace: ns, labels: { suite: 'outage' } },
      data: { v: '0' },
    });
    const { informer, events } = start('suite=outage');
    await informer.waitForSync();

    await stopAPIServer(kube);
    // While the apiserver is down, another writer (here: straight into etcd) deletes an object.
    expect(await etcdDelete('hub', `/registry/configmaps/${ns}/deleted-meanwhile`)).toBe(1);
    await testenv('apiserver', 'hub', 'start');
    await apiserverUp(kube);
    // And right after it is back, before our watch necessarily is, more changes.
    await kube.create({ ...ConfigMap, metadata: { name: 'created-after', namespace: ns, labels: { suite: 'outage' } }, data: { v: '0' } });
    await kube.patch(ConfigMap, 'stays', ns, { data: { v: '1' } }, { type: 'merge' });

    await eventually(
      () => {
        expect(informer.store.keys().sort()).toEqual([`${ns}/created-after`, `${ns}/stays`]);
        expect(informer.store.get(`${ns}/stays`)?.data?.v).toBe('1');
      },
      { timeoutMs: 60_000 },
    );
    expect(events).toEqual(expect.arrayContaining(['delete deleted-meanwhile', 'add created-after 0', 'update stays 1']));
    // Nothing reported twice.
    expect(events.filter((e) => e === 'delete deleted-meanwhile')).toHaveLength(1);
    expect(events.filter((e) => e === 'add created-after 0')).toHaveLength(1);
    expect(informer.stats().errors + informer.stats().gone).toBeGreaterThan(0);
  });

  it('relists on 410 Gone (etcd compacted past our resourceVersion) without losing or repeating an update', async () => {
    for (const name of ['a', 'b', 'c']) {
      await kube.create({ ...ConfigMap, metadata: { name, namespace: ns, labels: { suite: 'gone' } }, data: { v: '0' } });
    }
    const { informer, events } = start('suite=gone');
    await informer.waitForSync();
    const listsBefore = informer.stats().lists;

    await stopAPIServer(kube);
    expect(await etcdDelete('hub', `/registry/configmaps/${ns}/b`)).toBe(1);
    // History before now is gone: a watch from our resourceVersion can only be answered with 410.
    await etcdCompact('hub');
    await testenv('apiserver', 'hub', 'start');
    await apiserverUp(kube);
    await kube.patch(ConfigMap, 'c', ns, { data: { v: '1' } }, { type: 'merge' });

    await eventually(
      () => {
        expect(informer.stats().gone).toBeGreaterThanOrEqual(1);
        expect(informer.store.keys().sort()).toEqual([`${ns}/a`, `${ns}/c`]);
        expect(informer.store.get(`${ns}/c`)?.data?.v).toBe('1');
      },
      { timeoutMs: 60_000 },
    );
    expect(informer.stats().lists).toBeGreaterThan(listsBefore);
    // The relist diff reports the deletion once and nothing for the unchanged object `a`.
    expect(events.filter((e) => e === 'delete b')).toHaveLength(1);
    expect(events.filter((e) => e.startsWith('update a') || e === 'add a 0')).toEqual(['add a 0']);
    expect(events.filter((e) => e === 'update c 1').length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e === 'update c 1').length).toBeLessThanOrEqual(1);
  });

  it('restarts a watch that went silent (no event, no bookmark) and keeps following changes', async () => {
    const { informer, events } = start('suite=silent', { silenceTimeoutMs: 1_500 });
    await informer.waitForSync();
    // Nothing matches the selector, and bookmarks come about once a minute: the watch is silent.
    await eventually(
      () => {
        expect(informer.stats().silent).toBeGreaterThanOrEqual(2);
      },
      { timeoutMs: 20_000 },
    );
    await kube.create({ ...ConfigMap, metadata: { name: 'after-silence', namespace: ns, labels: { suite: 'silent' } }, data: { v: '0' } });
    await eventually(() => {
      expect(events).toEqual(['add after-silence 0']);
    });
    expect(informer.stats()).toMatchObject({ lists: 1, gone: 0, errors: 0 });
  });
});
