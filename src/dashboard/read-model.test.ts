import { describe, expect, it } from '@jest/globals';
import type { Work } from '../api/index.js';
import type { KubeObject } from '../runtime/index.js';
import { missingWatchAccess, watchAccessReviews, workSummary } from './read-model.js';
import { workView } from './views.js';

const secretWork: Work & KubeObject = {
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'Work',
  metadata: {
    name: 'gs-web',
    namespace: 'flotilla-member-a',
    resourceVersion: '7',
    labels: { 'flotilla.dev/cluster': 'a', 'flotilla.dev/source-name': 'web' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"password":"hunter2"}}' },
    managedFields: [{ manager: 'flotilla-hub', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
  },
  spec: {
    source: { kind: 'GlobalService', name: 'web', namespace: 'fleet-f', revision: 'r1', generation: 1 },
    manifests: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, stringData: { password: 'hunter2' } }],
    payload: { encoding: 'gzip+base64', data: 'aHVudGVyMg==', digest: 'sha256:0' },
    policy: {
      mode: 'Enforce',
      namespaceTemplates: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 't' }, stringData: { password: 'hunter2' } }],
    },
  },
  status: {
    appliedRevision: 'r1',
    manifests: [{ version: 'v1', kind: 'Secret', namespace: 'default', name: 's', applied: true, health: 'Healthy' }],
  },
} as unknown as Work & KubeObject;

describe('workSummary (what the dashboard caches of a Work)', () => {
  it('keeps nothing of its manifests, payload or policy templates', () => {
    expect(JSON.stringify(workSummary(secretWork))).not.toContain('hunter2');
    expect(JSON.stringify(workSummary(secretWork))).not.toContain('aHVudGVyMg');
    expect(workSummary(secretWork).spec).toEqual({ source: secretWork.spec.source });
  });
  it('keeps all a page shows of it: the cluster page is the same from the summary', () => {
    expect(workView(workSummary(secretWork))).toEqual(workView(secretWork));
    expect(workSummary(secretWork).metadata.labels).toEqual(secretWork.metadata.labels);
    expect(workSummary(secretWork).metadata.resourceVersion).toBe('7');
  });
});

describe('watchAccessReviews', () => {
  it('asks for list and watch of each watched kind in all namespaces', () => {
    expect(watchAccessReviews().map(({ review }) => review.spec)).toEqual(
      ['fleets', 'memberclusters', 'globalservices', 'policybundles', 'works'].flatMap((resource) =>
        ['list', 'watch'].map((verb) => ({ resourceAttributes: { verb, group: 'flotilla.dev', resource } })),
      ),
    );
  });
});

describe('missingWatchAccess', () => {
  it('says nothing when every review is allowed', () => {
    expect(missingWatchAccess([])).toBeUndefined();
  });
  it.each<[string, Parameters<typeof missingWatchAccess>[0], RegExp]>([
    [
      'a namespace-limited identity: names each kind and the permission',
      [
        { kind: 'MemberCluster', verb: 'list' },
        { kind: 'MemberCluster', verb: 'watch' },
        { kind: 'Work', verb: 'list' },
        { kind: 'Work', verb: 'watch' },
      ],
      /may not list and watch memberclusters\.flotilla\.dev \(MemberCluster\); list and watch works\.flotilla\.dev \(Work\) in all namespaces\. .*cluster-wide/,
    ],
    ['watch only missing', [{ kind: 'Fleet', verb: 'watch' }], /may not watch fleets\.flotilla\.dev \(Fleet\) in all namespaces/],
  ])('%s', (_name, denied, message) => {
    expect(missingWatchAccess(denied)).toMatch(message);
  });
});
