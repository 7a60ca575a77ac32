import { describe, expect, it } from '@jest/globals';
import { createCacheTransform, createInternTable, MAX_INTERNED_LENGTH, type UnreadStatus } from './cache-transform.js';
import { renameFieldManagerPatch } from './field-managers.js';
import type { KubeObject } from './kube.js';

const WorkType = { apiVersion: 'flotilla.dev/v1alpha1', kind: 'Work' };
const sourceKind = 'flotilla.dev/source-kind';

const entries = [
  { manager: 'flotilla-hub', operation: 'Apply', apiVersion: WorkType.apiVersion, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
  { manager: 'flotilla-agent', operation: 'Update', subresource: 'status', time: '2026-12-07T00:22:09Z', fieldsV1: { 'f:status': {} } },
];
const kept = [
  { manager: 'flotilla-hub', operation: 'Apply', apiVersion: WorkType.apiVersion, fieldsType: 'FieldsV1' },
  { manager: 'flotilla-agent', operation: 'Update', subresource: 'status', time: '2026-12-07T00:22:09Z' },
];
const status = {
  observedGeneration: 1,
  appliedRevision: 'e467ac9ee961dafc',
  conditions: [
    {
      type: 'Applied',
      status: 'True',
      reason: 'AllApplied',
      message: '1 of 1 manifests applied',
      observedGeneration: 1,
      lastTransitionTime: '2026-12-07T00:22:09Z',
    },
  ],
  counts: { total: 1, applied: 1, available: 1, drifted: 0, failed: 0 },
  manifests: [{ version: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app-3', applied: true, health: 'Healthy', drifted: false }],
};

/** An object as the informer parses it: a fresh one on every call, as every event brings. */
const object = (
  type: { apiVersion: string; kind: string },
  extra: { labels?: Record<string, string>; managedFields?: unknown[]; status?: unknown } = {},
): KubeObject =>
  JSON.parse(
    JSON.stringify({
      ...type,
      metadata: {
        name: 'gs-app',
        namespace: 'flotilla-member-a',
        uid: '75b8efa6-dac9-438f-ad7b-7e7405330822',
        resourceVersion: '915',
        ...(extra.labels ? { labels: extra.labels } : {}),
        ...(extra.managedFields ? { managedFields: extra.managedFields } : {}),
      },
      spec: {
        source: { kind: 'GlobalService', name: 'app' },
        manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-3' } }],
      },
      ...(extra.status !== undefined ? { status: extra.status } : {}),
    }),
  ) as KubeObject;

const statusWithout = (...members: string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(status).filter(([member]) => !members.includes(member)));
const statusWithoutCountsOrManifests = statusWithout('counts', 'manifests');
const statusWithoutCounts = statusWithout('counts');
const rules: UnreadStatus[] = [
  { type: WorkType, members: ['counts'] },
  { type: WorkType, labels: { [sourceKind]: 'GlobalService' }, members: ['manifests'] },
];

describe('createCacheTransform', () => {
  it.each([
    {
      case: "a service's Work: no field sets, no counts, no per-manifest list",
      given: object(WorkType, { labels: { [sourceKind]: 'GlobalService' }, managedFields: entries, status }),
      kept: object(WorkType, { labels: { [sourceKind]: 'GlobalService' }, managedFields: kept, status: statusWithoutCountsOrManifests }),
    },
    {
      case: "a bundle's Work keeps its per-manifest list (compliance reads it)",
      given: object(WorkType, { labels: { [sourceKind]: 'PolicyBundle' }, managedFields: entries, status }),
      kept: object(WorkType, { labels: { [sourceKind]: 'PolicyBundle' }, managedFields: kept, status: statusWithoutCounts }),
    },
    {
      case: 'a Work without the label keeps its per-manifest list',
      given: object(WorkType, { status }),
      kept: object(WorkType, { status: statusWithoutCounts }),
    },
    {
      case: 'another kind with the same status members keeps them all',
      given: object(
        { apiVersion: 'example.dev/v1', kind: 'Work' },
        { labels: { [sourceKind]: 'GlobalService' }, managedFields: entries, status },
      ),
      kept: object(
        { apiVersion: 'example.dev/v1', kind: 'Work' },
        { labels: { [sourceKind]: 'GlobalService' }, managedFields: kept, status },
      ),
    },
    {
      case: 'a Work with no status and no managedFields is kept whole',
      given: object(WorkType),
      kept: object(WorkType),
    },
    {
      case: 'strings too long to intern are kept as they are',
      given: object(WorkType, { status: { appliedRevision: 'x'.repeat(MAX_INTERNED_LENGTH + 1) } }),
      kept: object(WorkType, { status: { appliedRevision: 'x'.repeat(MAX_INTERNED_LENGTH + 1) } }),
    },
  ])('$case', ({ given, kept: expected }) => {
    expect(createCacheTransform({ unreadStatus: rules })(given)).toStrictEqual(expected);
  });

  it('without rules leaves out only the field sets', () => {
    expect(createCacheTransform()(object(WorkType, { managedFields: entries, status }))).toStrictEqual(
      object(WorkType, { managedFields: kept, status }),
    );
  });

  it('still lets a field manager be renamed: the entries keep their indexes', () => {
    const cached = createCacheTransform()(object(WorkType, { managedFields: entries }));
    expect(renameFieldManagerPatch(cached.metadata.managedFields, 'flotilla-hub', 'flotilla')).toEqual(
      renameFieldManagerPatch(entries, 'flotilla-hub', 'flotilla'),
    );
  });

  it('shares strings that repeat across objects, but never interns uids and resourceVersions', () => {
    const table = createInternTable(10_000);
    const transform = createCacheTransform({ table });
    const copy = (index: number): KubeObject => {
      const work = object(WorkType, { managedFields: entries, status });
      return { ...work, metadata: { ...work.metadata, uid: `uid-${index}`, resourceVersion: String(index) } };
    };
    transform(copy(0));
    const once = table.size;
    for (let index = 1; index < 100; index++)
      expect(transform(copy(index)).metadata).toMatchObject({ uid: `uid-${index}`, resourceVersion: String(index) });
    expect(table.size).toBe(once);
  });
});

describe('createCacheTransform, shared values', () => {
  const role = (cluster: string, resourceName: string): KubeObject =>
    JSON.parse(
      JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'flotilla-agent', namespace: `flotilla-member-${cluster}`, uid: `uid-${cluster}`, resourceVersion: '7' },
        rules: [
          { apiGroups: ['flotilla.dev'], resources: ['works', 'works/status'], verbs: ['get', 'list', 'watch', 'update'] },
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [resourceName], verbs: ['get', 'update'] },
        ],
      }),
    ) as KubeObject;
  const rulesOf = (o: KubeObject): { verbs: string[]; resourceNames?: string[] }[] =>
    (o as unknown as { rules: { verbs: string[] }[] }).rules;

  it('holds one frozen instance of equal values across objects, and a value of its own where they differ', () => {
    const transform = createCacheTransform();
    const [a, b] = [transform(role('a', 'flotilla-heartbeat')), transform(role('b', 'flotilla-heartbeat'))];
    const [c] = [transform(role('c', 'another-lease'))];
    expect(rulesOf(a)).toBe(rulesOf(b));
    expect(Object.isFrozen(rulesOf(a)) && Object.isFrozen(rulesOf(a)[0]) && Object.isFrozen(rulesOf(a)[0]?.verbs)).toBe(true);
    expect(rulesOf(c)[0]).toBe(rulesOf(a)[0]);
    expect(rulesOf(c)[1]).not.toBe(rulesOf(a)[1]);
    expect(rulesOf(c)[1]?.verbs).toBe(rulesOf(a)[1]?.verbs);
    expect(c).toStrictEqual(role('c', 'another-lease'));
  });

  it('never shares or freezes an object or its metadata, so a reader may still set what it owns there', () => {
    const transform = createCacheTransform();
    const [a, b] = [transform(role('a', 'x')), transform(role('a', 'x'))];
    expect(a).not.toBe(b);
    expect(a.metadata).not.toBe(b.metadata);
    expect(Object.isFrozen(a) || Object.isFrozen(a.metadata)).toBe(false);
  });

  it('makes a reader that changes a shared value throw, instead of changing it in every object', () => {
    const cached = createCacheTransform()(role('a', 'x'));
    expect(() => rulesOf(cached)[0]?.verbs.push('delete')).toThrow(TypeError);
  });

  it('keeps a value holding a long string as it is, and every value holding it', () => {
    const transform = createCacheTransform();
    const long = 'x'.repeat(2_000);
    const [a, b] = [transform(role('a', long)), transform(role('b', long))];
    expect(rulesOf(a)[1]?.resourceNames).not.toBe(rulesOf(b)[1]?.resourceNames);
    expect(rulesOf(a)).not.toBe(rulesOf(b));
    expect(Object.isFrozen(rulesOf(a)[1])).toBe(false);
    expect(rulesOf(a)[0]).toBe(rulesOf(b)[0]);
  });

  it.each<[string, unknown, unknown]>([
    ['a string and a number', { value: '1' }, { value: 1 }],
    ['null and a missing member', { a: null }, {}],
    ['an array and an object of the same members', ['x'], { 0: 'x' }],
  ])('tells apart %s', (_, left, right) => {
    const transform = createCacheTransform();
    const wrap = (value: unknown): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'n' },
      data: { held: structuredClone(value) },
    });
    const held = (o: KubeObject): unknown => (o as unknown as { data: { held: unknown } }).data.held;
    expect(held(transform(wrap(left)))).not.toBe(held(transform(wrap(right))));
  });
});

describe('createInternTable', () => {
  it('holds one string for equal ones', () => {
    const table = createInternTable(10);
    const first = table.intern(['App', 'lied'].join(''));
    expect([first, table.intern('Applied'), table.size]).toEqual(['Applied', 'Applied', 1]);
  });

  it('never holds more than two generations of strings met once', () => {
    const table = createInternTable(100);
    for (let index = 0; index < 10_000; index++) table.intern(`name-${index}`);
    expect(table.size).toBeLessThanOrEqual(200);
  });

  it('refuses a capacity below 1', () => {
    expect(() => createInternTable(0)).toThrow(RangeError);
  });
});
