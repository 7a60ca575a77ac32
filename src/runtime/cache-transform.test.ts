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
