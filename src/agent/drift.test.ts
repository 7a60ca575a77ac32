import { describe, expect, it } from '@jest/globals';
import { detectDrift } from './drift.js';
import type { KubeObject } from '../runtime/kube.js';
import { manifest } from '../work/testing.js';

const deployment = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject =>
  manifest('apps/v1', 'Deployment', 'web', 'shop', { metadata, spec });

const podSpec = (spec: Record<string, unknown>): Record<string, unknown> => ({ template: { spec } });

const appliedWeb = deployment(
  podSpec({
    containers: [
      {
        name: 'web',
        image: 'web:1',
        ports: [{ containerPort: 8080 }],
        env: [{ name: 'MODE', value: 'prod' }],
        resources: { limits: { cpu: 0.5, memory: '1Gi' }, requests: { cpu: '250m' } },
      },
    ],
  }),
  { labels: { app: 'web' } },
);

// What the apiserver gives back for appliedWeb: defaults filled in, quantities canonical, status set.
const liveWeb = (containerChanges: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): KubeObject =>
  manifest('apps/v1', 'Deployment', 'web', 'shop', {
    metadata: {
      labels: { app: 'web', 'pod-template-hash': 'abc' },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
      generation: 4,
    },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { creationTimestamp: null },
        spec: {
          restartPolicy: 'Always',
          containers: [
            {
              name: 'web',
              image: 'web:1',
              imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'MODE', value: 'prod' }],
              resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '250m' } },
              ...containerChanges,
            },
          ],
        },
      },
    },
    status: { replicas: 1 },
    ...extra,
  });

describe('detectDrift', () => {
  it('finds nothing when the live object only adds defaults, status and canonical forms', () => {
    expect(detectDrift(appliedWeb, liveWeb())).toEqual({ drifted: false, missing: false, paths: [], count: 0 });
  });

  it.each([
    ['a changed image', { image: 'web:2' }, ['spec.template.spec.containers[name=web].image']],
    ['a changed env value', { env: [{ name: 'MODE', value: 'dev' }] }, ['spec.template.spec.containers[name=web].env[name=MODE].value']],
    ['a removed env entry', { env: [] }, ['spec.template.spec.containers[name=web].env[name=MODE]']],
    [
      'an extra env entry someone else added',
      {
        env: [
          { name: 'MODE', value: 'prod' },
          { name: 'DEBUG', value: '1' },
        ],
      },
      [],
    ],
    [
      'reordered keyed entries',
      {
        env: [
          { name: 'X', value: '1' },
          { name: 'MODE', value: 'prod' },
        ],
      },
      [],
    ],
    [
      'a changed cpu limit',
      { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m' } } },
      ['spec.template.spec.containers[name=web].resources.limits.cpu'],
    ],
    ['memory written in bytes', { resources: { limits: { cpu: '0.5', memory: '1073741824' }, requests: { cpu: '0.25' } } }, []],
    [
      'a changed port protocol',
      { ports: [{ containerPort: 8080, protocol: 'UDP' }] },
      ['spec.template.spec.containers[name=web].ports[containerPort=8080,protocol=TCP]'],
    ],
  ])('reports %s', (_name, containerChanges, paths) => {
    expect(detectDrift(appliedWeb, liveWeb(containerChanges)).paths).toEqual(paths);
  });

  it('reports a container that was removed, and ignores an injected sidecar', () => {
    const live = liveWeb();
    const spec = (live.spec as { template: { spec: { containers: unknown[] } } }).template.spec;
    spec.containers = [{ name: 'istio-proxy', image: 'proxy' }];
    expect(detectDrift(appliedWeb, live).paths).toEqual(['spec.template.spec.containers[name=web]']);
  });

  it.each([
    [
      'replicas another manager owns when the manifest omits them',
      deployment({ selector: {} }),
      deployment({ selector: {}, replicas: 7 }),
      [],
    ],
    ['replicas the manifest sets', deployment({ replicas: 2 }), deployment({ replicas: 7 }), ['spec.replicas']],
    [
      'a label the manifest sets, changed',
      deployment({}, { labels: { app: 'web' } }),
      deployment({}, { labels: { app: 'api' } }),
      ['metadata.labels.app'],
    ],
    [
      'a label the manifest sets, removed',
      deployment({}, { labels: { tier: '' } }),
      deployment({}, { labels: {} }),
      ['metadata.labels.tier'],
    ],
    [
      'a label with a dotted key',
      deployment({}, { labels: { 'app.kubernetes.io/name': 'web' } }),
      deployment({}, {}),
      ['metadata.labels["app.kubernetes.io/name"]'],
    ],
    ['labels someone else added', deployment({}, { labels: { app: 'web' } }), deployment({}, { labels: { app: 'web', team: 'x' } }), []],
    [
      'an annotation the manifest sets',
      deployment({}, { annotations: { a: '1' } }),
      deployment({}, { annotations: { a: '2' } }),
      ['metadata.annotations.a'],
    ],
    ['other metadata (generation, finalizers, owners)', deployment({}, { finalizers: ['x'] }), deployment({}, { generation: 9 }), []],
    ['status the manifest carries', { ...deployment({}), status: { replicas: 1 } }, { ...deployment({}), status: { replicas: 0 } }, []],
    ['a field set to null (SSA: not set)', deployment({ replicas: null }), deployment({ replicas: 3 }), []],
    [
      'zero values the apiserver omits',
      deployment(podSpec({ hostNetwork: false, nodeName: '', tolerations: [], securityContext: {} })),
      deployment(podSpec({})),
      [],
    ],
    [
      'a zero value that was changed',
      deployment(podSpec({ hostNetwork: false })),
      deployment(podSpec({ hostNetwork: true })),
      ['spec.template.spec.hostNetwork'],
    ],
    [
      'a missing subtree, named by its leaves',
      deployment(podSpec({ securityContext: { runAsNonRoot: true, runAsUser: 1000 } })),
      deployment({}),
      ['spec.template.spec.securityContext.runAsNonRoot', 'spec.template.spec.securityContext.runAsUser'],
    ],
    ['a type change', deployment({ strategy: { type: 'Recreate' } }), deployment({ strategy: 'Recreate' }), ['spec.strategy']],
    [
      'an atomic list with a changed item',
      deployment(podSpec({ containers: [{ name: 'a', args: ['--x', '--y'] }] })),
      deployment(podSpec({ containers: [{ name: 'a', args: ['--x', '--z'] }] })),
      ['spec.template.spec.containers[name=a].args'],
    ],
    [
      'an atomic list with an extra item',
      deployment(podSpec({ containers: [{ name: 'a', args: ['--x'] }] })),
      deployment(podSpec({ containers: [{ name: 'a', args: ['--x', '--y'] }] })),
      ['spec.template.spec.containers[name=a].args'],
    ],
    [
      'an atomic list of objects with defaulted item fields',
      deployment(podSpec({ tolerations: [{ key: 'k', operator: 'Exists' }] })),
      deployment(podSpec({ tolerations: [{ key: 'k', operator: 'Exists', effect: '' }] })),
      [],
    ],
    [
      'a keyed list whose items repeat a key, compared atomically',
      deployment(podSpec({ volumes: [{ name: 'v' }, { name: 'v' }] })),
      deployment(podSpec({ volumes: [{ name: 'v' }] })),
      ['spec.template.spec.volumes'],
    ],
    [
      'a keyed list whose items lack the key, compared atomically',
      deployment(podSpec({ containers: [{ image: 'x' }] })),
      deployment(podSpec({ containers: [{ image: 'y' }] })),
      ['spec.template.spec.containers'],
    ],
    [
      'a changed volume source',
      deployment(podSpec({ volumes: [{ name: 'cfg', configMap: { name: 'a' } }] })),
      deployment(podSpec({ volumes: [{ name: 'cfg', configMap: { name: 'b', defaultMode: 420 } }] })),
      ['spec.template.spec.volumes[name=cfg].configMap.name'],
    ],
    [
      'a volume mount by mount path',
      deployment(podSpec({ containers: [{ name: 'a', volumeMounts: [{ name: 'v', mountPath: '/etc' }] }] })),
      deployment(podSpec({ containers: [{ name: 'a', volumeMounts: [{ name: 'w', mountPath: '/etc' }] }] })),
      ['spec.template.spec.containers[name=a].volumeMounts[mountPath=/etc].name'],
    ],
    [
      'maxSurge as a number and as a string',
      deployment({ strategy: { rollingUpdate: { maxSurge: 1 } } }),
      deployment({ strategy: { rollingUpdate: { maxSurge: '1' } } }),
      [],
    ],
    [
      'maxSurge changed',
      deployment({ strategy: { rollingUpdate: { maxSurge: 1 } } }),
      deployment({ strategy: { rollingUpdate: { maxSurge: '25%' } } }),
      ['spec.strategy.rollingUpdate.maxSurge'],
    ],
    ['a boolean against its string form', deployment({ paused: true }), deployment({ paused: 'true' }), ['spec.paused']],
    [
      'an emptyDir size limit in another unit',
      deployment(podSpec({ volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }] })),
      deployment(podSpec({ volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1024Mi' } }] })),
      [],
    ],
  ])('on %s', (_name, applied, live, paths) => {
    expect(detectDrift(applied, live).paths).toEqual(paths);
  });

  it.each([
    [
      'service ports keyed by port and defaulted protocol, targetPort int vs string',
      manifest('v1', 'Service', 's', 'shop', { spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } } }),
      manifest('v1', 'Service', 's', 'shop', {
        spec: {
          ports: [{ port: 80, protocol: 'TCP', targetPort: '8080' }],
          selector: { app: 'web' },
          clusterIP: '10.0.0.1',
          type: 'ClusterIP',
        },
      }),
      [],
    ],
    [
      'service port changed',
      manifest('v1', 'Service', 's', 'shop', { spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }),
      manifest('v1', 'Service', 's', 'shop', { spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] } }),
      ['spec.ports[port=80,protocol=TCP].targetPort'],
    ],
    [
      'ConfigMap data: changed, removed, and an empty value that is gone',
      manifest('v1', 'ConfigMap', 'c', 'shop', { data: { a: '1', b: '2', 'app.properties': 'x=1', empty: '' } }),
      manifest('v1', 'ConfigMap', 'c', 'shop', { data: { a: '9', 'app.properties': 'x=1', extra: 'y' } }),
      ['data.a', 'data.b', 'data.empty'],
    ],
    [
      'Secret stringData compared with the data the apiserver stores',
      manifest('v1', 'Secret', 's', 'shop', { stringData: { password: 'hunter2', user: 'me' }, data: { token: 'dG9r' } }),
      manifest('v1', 'Secret', 's', 'shop', {
        data: { password: Buffer.from('hunter2').toString('base64'), user: Buffer.from('you').toString('base64'), token: 'dG9r' },
      }),
      ['data.user'],
    ],
    [
      'ResourceQuota hard limits in canonical form',
      manifest('v1', 'ResourceQuota', 'q', 'shop', { spec: { hard: { 'requests.cpu': '2', 'requests.memory': '2048Mi', pods: 10 } } }),
      manifest('v1', 'ResourceQuota', 'q', 'shop', { spec: { hard: { 'requests.cpu': '2', 'requests.memory': '2Gi', pods: '10' } } }),
      [],
    ],
    [
      'a custom resource field',
      manifest('example.com/v1', 'Widget', 'w', 'shop', { spec: { size: 3, nested: { list: [1, 2] } } }),
      manifest('example.com/v1', 'Widget', 'w', 'shop', { spec: { size: 4, nested: { list: [2, 1] } } }),
      ['spec.nested.list', 'spec.size'],
    ],
  ])('%s', (_name, applied, live, paths) => {
    expect(detectDrift(applied, live).paths).toEqual(paths);
  });

  it.each([
    ['deleted', undefined],
    ['being deleted', deployment({}, { deletionTimestamp: '2024-01-01T00:00:00Z' })],
  ])('reports an object that is %s as drift of the whole object', (_name, live) => {
    expect(detectDrift(deployment({ replicas: 1 }), live)).toEqual({ drifted: true, missing: true, paths: [], count: 0 });
  });

  it('sorts, de-duplicates and caps the paths but counts them all', () => {
    const keys = Array.from({ length: 80 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const applied = manifest('v1', 'ConfigMap', 'c', 'shop', { data: Object.fromEntries(keys.reverse().map((k) => [k, 'new'])) });
    const live = manifest('v1', 'ConfigMap', 'c', 'shop', { data: {} });
    const report = detectDrift(applied, live, { maxPaths: 3 });
    expect(report).toEqual({ drifted: true, missing: false, paths: ['data.k00', 'data.k01', 'data.k02'], count: 80 });
    expect(detectDrift(applied, live).paths).toHaveLength(50);
  });

  it('reports a keyed list path once even when several of its fields drift', () => {
    const applied = deployment(podSpec({ containers: [{ name: 'a', image: 'x', args: ['1'] }] }));
    const live = deployment(podSpec({ containers: [{ name: 'b' }] }));
    expect(detectDrift(applied, live).paths).toEqual(['spec.template.spec.containers[name=a]']);
  });
});
