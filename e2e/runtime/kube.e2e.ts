import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { createWidgetCRD, eventually, plane, uniqueName, type Widget } from '../framework/index.js';
import {
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  KubeApiError,
  kubeFromFile,
  kubeFromToken,
  type Kube,
  type KubeObject,
  type WatchEvent,
} from '../../src/runtime/kube.js';
import { createNamespace, deleteNamespace, kubeFor } from './helpers.js';

const ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap' };

describe('the kube adapter on a real apiserver', () => {
  let kube: Kube;
  let ns: string;
  beforeAll(async () => {
    kube = kubeFor('hub');
    ns = await createNamespace(kube, 'kube');
  });
  afterAll(async () => {
    await deleteNamespace(kube, ns);
    kube.close();
  });

  it('creates, gets, lists by selector, updates, patches and deletes core objects as raw JSON', async () => {
    const created = await kube.create({ ...ConfigMap, metadata: { name: 'a', namespace: ns, labels: { app: 'x' } }, data: { k: '1' } });
    expect(typeof created.metadata.creationTimestamp).toBe('string');
    await kube.create({ ...ConfigMap, metadata: { name: 'b', namespace: ns, labels: { app: 'y' } } });

    const got = await kube.get(ConfigMap, 'a', ns);
    expect(got).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { k: '1' } });

    const listed = await kube.list(ConfigMap, { namespace: ns, labelSelector: 'app=x' });
    expect(listed.items.map((o) => o.metadata.name)).toEqual(['a']);
    expect(listed.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
    const byField = await kube.list(ConfigMap, { namespace: ns, fieldSelector: 'metadata.name=b' });
    expect(byField.items.map((o) => o.metadata.name)).toEqual(['b']);
    const paged = await kube.list(ConfigMap, { namespace: ns, limit: 1 });
    expect(paged.items.map((o) => o.metadata.name)).toEqual(expect.arrayContaining(['a', 'b']));

    const updated = await kube.update({ ...got, data: { k: '2' } });
    expect(updated.data).toEqual({ k: '2' });
    // The old resourceVersion is stale now: optimistic concurrency says Conflict.
    const stale = await kube.update({ ...got, data: { k: '3' } }).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    expect(isAlreadyExists(stale)).toBe(false);

    const merged = await kube.patch(ConfigMap, 'a', ns, { data: { m: 'x' } }, { type: 'merge' });
    expect(merged.data).toEqual({ k: '2', m: 'x' });
    const jsonPatched = await kube.patch(ConfigMap, 'a', ns, [{ op: 'remove', path: '/data/m' }], { type: 'json' });
    expect(jsonPatched.data).toEqual({ k: '2' });

    const wrongUid = await kube.delete(ConfigMap, 'a', ns, { preconditions: { uid: 'not-the-uid' } }).catch((e: unknown) => e);
    expect(isConflict(wrongUid)).toBe(true);
    await kube.delete(ConfigMap, 'a', ns, { preconditions: { uid: created.metadata.uid ?? '' }, propagationPolicy: 'Background' });
    expect(await kube.getOrNull(ConfigMap, 'a', ns)).toBeNull();
  });

  it('reports apiserver errors typed, with code, reason and the field that is wrong', async () => {
    const missing = await kube.get(ConfigMap, 'nope', ns).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect((missing as KubeApiError).reason).toBe('NotFound');

    await kube.create({ ...ConfigMap, metadata: { name: 'dup', namespace: ns } });
    const dup = await kube.create({ ...ConfigMap, metadata: { name: 'dup', namespace: ns } }).catch((e: unknown) => e);
    expect(isAlreadyExists(dup)).toBe(true);
    expect(isConflict(dup)).toBe(false);

    const invalid = await kube.create({ ...ConfigMap, metadata: { name: 'Bad_Name', namespace: ns } }).catch((e: unknown) => e);
    expect(isInvalid(invalid)).toBe(true);
    const error = invalid as KubeApiError;
    expect(error.code).toBe(422);
    expect(error.causes.some((c) => c.field === 'metadata.name')).toBe(true);
    expect(error.message).toContain('metadata.name');

    // A token the apiserver does not know: 401, not forbidden; an SA with no RBAC: 403.
    const anonymous = kubeFromToken({ server: kube.server, token: 'not-a-token', insecureSkipTLSVerify: true });
    const unauthorized = await anonymous.get(ConfigMap, 'dup', ns).catch((e: unknown) => e);
    expect((unauthorized as KubeApiError).code).toBe(401);
    anonymous.close();

    await kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: ns } });
    const tokenRequest = await kube.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/serviceaccounts/nobody/token`,
      {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
      },
    );
    const nobody = kubeFromToken({ server: kube.server, token: tokenRequest.status.token, insecureSkipTLSVerify: true });
    const forbidden = await nobody.list(ConfigMap, { namespace: ns }).catch((e: unknown) => e);
    expect(isForbidden(forbidden)).toBe(true);
    expect((forbidden as KubeApiError).apiMessage).toContain(`system:serviceaccount:${ns}:nobody`);
    nobody.close();
  });

  it('resolves a CRD created after first use, server-side applies spec and status, and writes the status subresource', async () => {
    const group = `${uniqueName('late')}.flotilla.test`;
    const before = await kube.resource({ apiVersion: `${group}/v1`, kind: 'Widget' }).catch((e: unknown) => e);
    expect(isNotFound(before)).toBe(true);
    const crd = await createWidgetCRD('hub', group);
    try {
      const type = { apiVersion: crd.apiVersion, kind: 'Widget' };
      const resource = await eventually(() => kube.resource(type));
      expect(resource).toMatchObject({ plural: 'widgets', namespaced: true, group: crd.group, version: 'v1' });
      expect(resource.subresources).toContain('status');
      await eventually(() => kube.list(type, { namespace: ns }));
      // The new resource's watch cache starts now: a resourceVersion from before it is 410 Gone.
      const gone = await kube
        .watch(type, { namespace: ns, resourceVersion: '1' })
        .next()
        .catch((e: unknown) => e);
      expect(isGone(gone)).toBe(true);
      expect((gone as KubeApiError).reason).toBe('Expired');

      const applied = await kube.apply<Widget>(
        { ...type, metadata: { name: 'w', namespace: ns }, spec: { size: 3 } },
        { fieldManager: 'flotilla-e2e' },
      );
      expect(applied.spec).toEqual({ size: 3 });
      expect(applied.metadata.managedFields?.length).toBeGreaterThan(0);
      // Another manager takes the field: conflict unless forced.
      const conflict = await kube
        .apply<Widget>({ ...type, metadata: { name: 'w', namespace: ns }, spec: { size: 4 } }, { fieldManager: 'other' })
        .catch((e: unknown) => e);
      expect(isConflict(conflict)).toBe(true);
      const forced = await kube.apply<Widget>(
        { ...type, metadata: { name: 'w', namespace: ns }, spec: { size: 4 } },
        { fieldManager: 'other', force: true },
      );
      expect(forced.spec?.size).toBe(4);

      const schemaViolation = await kube
        .apply<Widget>({ ...type, metadata: { name: 'w', namespace: ns }, spec: { size: 1000 } }, { fieldManager: 'other', force: true })
        .catch((e: unknown) => e);
      expect(isInvalid(schemaViolation)).toBe(true);
      expect((schemaViolation as KubeApiError).causes.map((c) => c.field)).toContain('spec.size');

      // Status: a plain update ignores it (status subresource); updateStatus and apply(status) write it.
      const ignored = await kube.update<Widget>({ ...forced, status: { phase: 'Ignored' } });
      expect(ignored.status).toBeUndefined();
      const withStatus = await kube.updateStatus<Widget>({
        ...ignored,
        status: { phase: 'Running', observedGeneration: ignored.metadata.generation ?? 0 },
      });
      expect(withStatus.status?.phase).toBe('Running');
      const appliedStatus = await kube.apply<Widget>(
        { ...type, metadata: { name: 'w', namespace: ns }, status: { phase: 'Done' } },
        { fieldManager: 'flotilla-e2e', subresource: 'status', force: true },
      );
      expect(appliedStatus.status?.phase).toBe('Done');
      expect(appliedStatus.spec?.size).toBe(4);
      const patchedStatus = await kube.patch<Widget>(
        type,
        'w',
        ns,
        { status: { phase: 'Patched' } },
        { type: 'merge', subresource: 'status' },
      );
      expect(patchedStatus.status?.phase).toBe('Patched');
    } finally {
      await crd.cleanup();
    }
  });

  it('watches from a resourceVersion with bookmarks and a server-side timeout, and stops on abort', async () => {
    const start = await kube.list(ConfigMap, { namespace: ns });
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const event of kube.watch(ConfigMap, {
        namespace: ns,
        resourceVersion: start.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: 60,
        labelSelector: 'watched=yes',
        signal: controller.signal,
      })) {
        const e: WatchEvent = event;
        if (e.type !== 'BOOKMARK')
          seen.push(
            `${e.type} ${e.object.metadata.name ?? ''} ${String((e.object as KubeObject & { data?: Record<string, string> }).data?.v)}`,
          );
      }
    })().catch((e: unknown) => e);
    await kube.create({ ...ConfigMap, metadata: { name: 'w1', namespace: ns, labels: { watched: 'yes' } }, data: { v: '1' } });
    await kube.create({ ...ConfigMap, metadata: { name: 'unwatched', namespace: ns } });
    await kube.patch(ConfigMap, 'w1', ns, { data: { v: '2' } }, { type: 'merge' });
    await kube.delete(ConfigMap, 'w1', ns);
    await eventually(() => {
      expect(seen).toEqual(['ADDED w1 1', 'MODIFIED w1 2', 'DELETED w1 2']);
    });
    controller.abort();
    const ended = await done;
    expect(ended).toBeInstanceOf(Error);

    // A short server-side timeout ends the stream cleanly (the generator returns).
    const started = Date.now();
    let events = 0;
    for await (const event of kube.watch(ConfigMap, { namespace: ns, resourceVersion: start.resourceVersion, timeoutSeconds: 1 })) {
      if (event.type !== 'BOOKMARK') events++;
    }
    expect(events).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('answers plain text for non-resource paths and JSON for the rest', async () => {
    expect(await kube.request('GET', '/readyz')).toBe('ok');
    expect(await kube.request<{ major: string }>('GET', '/version')).toMatchObject({ major: '1' });
  });

  it('lists what the apiserver serves from aggregated discovery, asks again conditionally, and sees a CRD come and go', async () => {
    const served = await kube.servedAPIs();
    const core = served.groupVersions.find((entry) => entry.groupVersion === 'v1');
    expect(core?.kinds).toEqual(expect.arrayContaining(['ConfigMap', 'Namespace', 'Pod']));
    expect(core?.kinds).not.toContain('Eviction'); // a subresource's kind
    expect(served.groupVersions.find((entry) => entry.groupVersion === 'apps/v1')?.kinds).toContain('Deployment');
    expect(served.groupVersions.map((entry) => entry.groupVersion)).toEqual(served.groupVersions.map((entry) => entry.groupVersion).sort());
    expect(Object.keys(served.etags).sort()).toEqual(['/api', '/apis']);
    // Nothing changed: both documents answer 304, and the answer is the previous one itself.
    expect(await kube.servedAPIs({ previous: served })).toBe(served);

    const crd = await createWidgetCRD('hub');
    try {
      const withWidgets = await eventually(async () => {
        const next = await kube.servedAPIs({ previous: served });
        expect(next.groupVersions.find((entry) => entry.groupVersion === crd.apiVersion)?.kinds).toEqual(['Widget']);
        return next;
      });
      // Only /apis changed: the core group is carried over from the previous answer.
      expect(withWidgets.etags['/api']).toBe(served.etags['/api']);
      expect(withWidgets.etags['/apis']).not.toBe(served.etags['/apis']);
      expect(withWidgets.groupVersions.find((entry) => entry.groupVersion === 'v1')).toEqual(core);
    } finally {
      await crd.cleanup();
    }
    await eventually(async () => {
      const next = await kube.servedAPIs({ previous: served });
      expect(next.groupVersions.map((entry) => entry.groupVersion)).not.toContain(crd.apiVersion);
    });
  });

  it("applies an exec plugin's credentials once for a burst of requests, and afresh once the apiserver refuses them", async () => {
    // A kubeconfig whose user is an exec plugin without an expiry: client-node runs it on every
    // application of the credentials. It prints the token file's token and counts its runs.
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-exec-'));
    const tokenFile = join(dir, 'token');
    const runs = join(dir, 'runs');
    writeFileSync(runs, '');
    const token = async (account: string): Promise<string> => {
      await kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: ns } });
      const review = await kube.request<{ status: { token: string } }>(
        'POST',
        `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`,
        {
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
        },
      );
      return review.status.token;
    };
    const config = yaml.load(readFileSync(plane('hub').kubeconfigPath, 'utf8')) as {
      users: { name: string; user: unknown }[];
      contexts: { context: { user: string } }[];
    };
    const script = `echo run >> ${runs}; printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${tokenFile})"`;
    config.users = [
      {
        name: 'exec',
        user: {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', script], interactiveMode: 'Never' },
        },
      },
    ];
    for (const context of config.contexts) context.context.user = 'exec';
    writeFileSync(join(dir, 'kubeconfig'), yaml.dump(config));
    writeFileSync(tokenFile, await token('first'));
    const client = kubeFromFile(join(dir, 'kubeconfig'));
    const whoAmI = async (): Promise<string | undefined> => {
      const review = (await client.create({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} })) as {
        status?: { userInfo?: { username?: string } };
      };
      return review.status?.userInfo?.username;
    };
    const pluginRuns = (): number => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
    try {
      expect(await whoAmI()).toBe(`system:serviceaccount:${ns}:first`);
      // Twenty requests at once (discovery done): at most one more run of the plugin, not twenty.
      const before = pluginRuns();
      const names = await Promise.all(Array.from({ length: 20 }, whoAmI));
      expect(new Set(names)).toEqual(new Set([`system:serviceaccount:${ns}:first`]));
      expect(pluginRuns() - before).toBeLessThanOrEqual(1);
      // The token rotates and the old one is revoked (its ServiceAccount deleted): at most one
      // request is refused with the credentials in hand, and the next one runs the plugin again.
      writeFileSync(tokenFile, await token('second'));
      await kube.delete({ apiVersion: 'v1', kind: 'ServiceAccount' }, 'first', ns);
      await eventually(async () => {
        const refused = await whoAmI().catch((error: unknown) => (error instanceof KubeApiError ? error.code : error));
        expect(refused === 401 || refused === `system:serviceaccount:${ns}:second`).toBe(true);
        expect(await whoAmI()).toBe(`system:serviceaccount:${ns}:second`);
      });
      expect(pluginRuns()).toBeGreaterThan(before);
    } finally {
      client.close();
    }
  });

  it('counts its requests by verb', async () => {
    const before = kube.requestCounts();
    await kube.get({ apiVersion: 'v1', kind: 'Namespace' }, ns);
    await kube.patch(
      { apiVersion: 'v1', kind: 'Namespace' },
      ns,
      undefined,
      { metadata: { labels: { counted: 'yes' } } },
      { type: 'merge' },
    );
    const after = kube.requestCounts();
    expect((after.GET ?? 0) - (before.GET ?? 0)).toBe(1);
    expect((after.PATCH ?? 0) - (before.PATCH ?? 0)).toBe(1);
  });
});
