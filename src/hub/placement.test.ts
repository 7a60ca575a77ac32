import { describe, expect, it } from '@jest/globals';
import type { MemberCluster, Placement } from '../api/index.js';
import { fleetClusters, groupsByCluster, resolvePlacement, type PlacementCluster } from './placement.js';

const member = (
  name: string,
  fleet: string,
  labels: Record<string, string>,
  extra: { paused?: boolean; deleting?: boolean } = {},
): MemberCluster => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name, labels, ...(extra.deleting === true ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
  spec: { fleet, ...(extra.paused !== undefined ? { paused: extra.paused } : {}) },
});

const members = [
  member('paris', 'prod', { region: 'eu' }),
  member('berlin', 'prod', { region: 'eu' }, { paused: true }),
  member('ohio', 'prod', { region: 'us' }),
  member('lab', 'dev', { region: 'eu' }),
  member('gone', 'prod', { region: 'eu' }, { deleting: true }),
];
const clusters: PlacementCluster[] = fleetClusters(members, 'prod');
const groups = new Map<string, string[]>([
  ['europe', ['paris', 'berlin', 'lab', 'gone']],
  ['empty', []],
]);

describe('resolvePlacement', () => {
  it.each<[string, Placement, string[], string[]]>([
    ['a selector', { clusterSelector: { matchLabels: { region: 'eu' } } }, ['berlin', 'paris'], ['paris']],
    ['the empty selector: the whole fleet', { clusterSelector: {} }, ['berlin', 'ohio', 'paris'], ['ohio', 'paris']],
    ['names only', { clusterNames: ['ohio'] }, ['ohio'], ['ohio']],
    ['a group, within the fleet and without leaving clusters', { clusterGroups: ['europe'] }, ['berlin', 'paris'], ['paris']],
    [
      'the union of all three',
      { clusterGroups: ['empty'], clusterSelector: { matchLabels: { region: 'us' } }, clusterNames: ['paris'] },
      ['ohio', 'paris'],
      ['ohio', 'paris'],
    ],
    ['a name from another fleet', { clusterNames: ['lab'] }, [], []],
    [
      'a selector with an undefined matchLabels value',
      { clusterSelector: { matchLabels: { region: undefined } } },
      ['berlin', 'ohio', 'paris'],
      ['ohio', 'paris'],
    ],
  ])('targets %s', (_name, placement, targets, updatable) => {
    const result = resolvePlacement(placement, clusters, groups);
    expect([result.targets, result.updatable]).toEqual([targets, updatable]);
  });

  it('reports groups that do not exist and targets nothing for them', () => {
    expect(resolvePlacement({ clusterGroups: ['asia', 'europe'] }, clusters, groups)).toMatchObject({
      targets: ['berlin', 'paris'],
      missingGroups: ['asia'],
    });
  });

  it('targets nothing in a fleet without clusters', () => {
    expect(resolvePlacement({ clusterSelector: {} }, [], groups)).toEqual({ targets: [], updatable: [], missingGroups: [] });
  });
});

describe('groupsByCluster', () => {
  it('indexes each cluster to its groups', () => {
    const index = groupsByCluster(
      new Map([
        ['a', ['x', 'y']],
        ['b', ['y']],
      ]),
    );
    expect([...(index.get('y') ?? [])].sort()).toEqual(['a', 'b']);
    expect(index.get('z')).toBeUndefined();
  });
});
