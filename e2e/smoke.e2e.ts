import { describe, expect, it } from '@jest/globals';
import {
  AppsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  Watch,
} from '@kubernetes/client-node';
import { createWidgetCRD, eventually, plane, uniqueName } from './framework/index.js';

const notFound = (error: unknown): boolean => (error as { code?: number }).code === 404;

describe('the local control planes', () => {
  it('establishes a CRD on the hub and delivers a custom object through a watch', async () => {
    const hub = plane('hub').kubeConfig();
    const { group, cleanup } = await createWidgetCRD('hub');
    const objects = hub.makeApiClient(CustomObjectsApi);
    const collection = { group, version: 'v1', namespace: 'default', plural: 'widgets' };
    // Established comes a moment before every apiserver handler serves the new resource.
    await eventually(() => objects.listNamespacedCustomObject(collection));

    const seen: string[] = [];
    let watchEnded: unknown = null;
    const watch = await new Watch(hub).watch(
      `/apis/${group}/v1/namespaces/default/widgets`,
      {},
      (phase, obj: { metadata: { name: string } }) => seen.push(`${phase} ${obj.metadata.name}`),
      (error: unknown) => {
        watchEnded = error ?? 'closed';
      },
    );
    try {
      await objects.createNamespacedCustomObject({
        ...collection,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'first' }, spec: { size: 3 } },
      });
      await eventually(() => {
        expect({ seen, watchEnded }).toEqual({ seen: ['ADDED first'], watchEnded: null });
      });
    } finally {
      watch.abort();
      await cleanup();
    }
  });

  it('garbage-collects a dependent when its owner is deleted on a spoke', async () => {
    const core = plane('spoke-1').kubeConfig().makeApiClient(CoreV1Api);
    const ns = uniqueName('gc');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await eventually(async () => {
      const gone = await core.readNamespacedConfigMap({ name: 'dependent', namespace: ns }).then(() => false, notFound);
      expect(gone).toBe(true);
    });

    await core.deleteNamespace({ name: ns });
    await eventually(
      async () => {
        const gone = await core.readNamespace({ name: ns }).then(() => false, notFound);
        expect(gone).toBe(true);
      },
      { timeoutMs: 60_000 },
    );
  });

  it('makes a Deployment on a spoke Available', async () => {
    const kc = plane('spoke-2').kubeConfig();
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = uniqueName('deploy');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      },
    });
    await eventually(
      async () => {
        const deployment = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
        const available = deployment.status?.conditions?.find((c) => c.type === 'Available');
        expect(available?.status).toBe('True');
        expect(deployment.status?.availableReplicas).toBe(2);
      },
      { timeoutMs: 60_000 },
    );
    await core.deleteNamespace({ name: ns });
  });

  it('enforces RBAC: a ServiceAccount token is refused outside its Role', async () => {
    const admin = plane('spoke-1');
    const kc = admin.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const ns = uniqueName('rbac');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'read-configmaps' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'reader',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token ?? '';
    const review = await kc.makeApiClient(AuthenticationV1Api).createTokenReview({ body: { spec: { token } } });
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${ns}:reader`);

    const asReader = new KubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('admin kubeconfig has no cluster');
    asReader.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'reader', token }],
      contexts: [{ name: 'reader', cluster: cluster.name, user: 'reader' }],
      currentContext: 'reader',
    });
    const readerCore = asReader.makeApiClient(CoreV1Api);
    const allowed = await readerCore.listNamespacedConfigMap({ namespace: ns });
    expect(Array.isArray(allowed.items)).toBe(true);
    await expect(readerCore.listNamespacedSecret({ namespace: ns })).rejects.toMatchObject({ code: 403 });
    await expect(readerCore.listNamespacedConfigMap({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
    await expect(readerCore.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'nope' } } })).rejects.toMatchObject({
      code: 403,
    });
    await core.deleteNamespace({ name: ns });
  });
});
