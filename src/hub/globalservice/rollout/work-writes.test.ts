import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../../api/index.js';
import type { WorkObject } from '../../works/claims.js';
import type { RenderResult } from '../render/render.js';
import { revisionSinceAnnotation, workObjects } from '../../../work/objects.js';
import type { ClusterSummaryState } from './status.js';
import { planWorkWrites, type WorkWritesInput } from './work-writes.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const EARLIER = '2025-06-01T11:00:00Z';
const manifest = (value: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web', namespace: 'shop' },
  data: { value },
});
const ok = (value: string): RenderResult => ({ ok: true, manifests: [manifest(value)] });

/** A cluster's live set at `revision` (hub generation `generation`), written at EARLIER. */
function liveSet(cluster: string, revision: string, generation = 1, value = revision): WorkObject[] {
  const result = workObjects({
    cluster,
    name: 'gs-web',
    source: { kind: 'GlobalService', namespace: 'fleet-a', name: 'web', generation, revision },
    manifests: [manifest(value)],
    applyOptions: { driftPolicy: 'Correct', deletionPolicy: 'Delete', adoption: 'Never', force: false },
    labels: { 'flotilla.dev/fleet': 'a' },
    annotations: { [revisionSinceAnnotation]: EARLIER },
  });
  if (!result.ok) throw new Error(result.message);
  return result.works as WorkObject[];
}

const state = (name: string, revision: string | undefined, extra: Partial<ClusterSummaryState> = {}): ClusterSummaryState => ({
  name,
  labels: {},
  paused: false,
  available: revision !== undefined,
  degraded: false,
  drifted: false,
  ...(revision !== undefined ? { revision } : {}),
  ...extra,
});

function input(extra: Partial<WorkWritesInput>): WorkWritesInput {
  const states = extra.states ?? [];
  return {
    service: { namespace: 'fleet-a', name: 'web', generation: 5 },
    revision: 'r2',
    states,
    plan: { update: [], join: [] },
    rendered: new Map(states.map((s) => [s.name, ok('r2')])),
    live: new Map(),
    targets: new Set(states.map((s) => s.name)),
    applyOptions: { driftPolicy: 'Correct', deletionPolicy: 'Delete', adoption: 'Never', force: false },
    labels: { 'flotilla.dev/fleet': 'a' },
    blocked: false,
    now: NOW,
    ...extra,
  };
}

/** cluster=revision@generation for every Work applied; -cluster for every set deleted. */
function writes(result: Awaited<ReturnType<typeof planWorkWrites>>): string[] {
  return [
    ...result.changes.apply.map(
      (w) => `${w.metadata.labels?.['flotilla.dev/cluster'] ?? ''}=${w.spec.source.revision}@${String(w.spec.source.generation)}`,
    ),
    ...result.changes.remove.map((w) => `-${w.metadata.labels?.['flotilla.dev/cluster'] ?? ''}`),
  ].sort();
}

describe('planWorkWrites', () => {
  const stable = { revision: 'r1', rendered: new Map([['new', ok('r1')]]) };
  it.each<[string, Partial<WorkWritesInput>, string[]]>([
    [
      'gives the revision to the clusters the plan updates, and only those',
      {
        states: [state('a', 'r1'), state('b', 'r1')],
        plan: { update: ['a'], join: [] },
        live: new Map([
          ['a', liveSet('a', 'r1')],
          ['b', liveSet('b', 'r1')],
        ]),
      },
      ['a=r2@5'],
    ],
    [
      'writes nothing to a cluster whose Work already holds the revision',
      {
        states: [state('a', 'r2')],
        live: new Map([['a', liveSet('a', 'r2', 5)]]),
      },
      [],
    ],
    [
      'keeps a cluster at the revision current, with the generation it was given',
      {
        states: [state('a', 'r2')],
        live: new Map([['a', liveSet('a', 'r2', 3, 'old-render')]]),
      },
      ['a=r2@3'],
    ],
    [
      'gives a joining cluster the stable revision, rendered for it',
      {
        states: [state('a', 'r2'), state('new', undefined)],
        plan: { update: [], join: ['new'] },
        stable,
        live: new Map([['a', liveSet('a', 'r2', 5)]]),
      },
      ['new=r1@5'],
    ],
    [
      'gives a joining cluster nothing yet when the stable revision is unknown',
      {
        states: [state('new', undefined)],
        plan: { update: [], join: ['new'] },
      },
      [],
    ],
    [
      'skips clusters that cannot render, are in conflict or are paused',
      {
        states: [state('a', 'r1', { conflict: 'held' }), state('b', 'r1', { paused: true }), state('c', 'r1')],
        plan: { update: ['a', 'b', 'c'], join: [] },
        rendered: new Map([
          ['a', ok('r2')],
          ['b', ok('r2')],
          ['c', { ok: false, error: { reason: 'UnresolvedVariable', message: 'x' } }],
        ]),
      },
      [],
    ],
    [
      'deletes the sets of clusters no longer targeted',
      {
        states: [state('a', 'r2')],
        live: new Map([
          ['a', liveSet('a', 'r2', 5)],
          ['gone', liveSet('gone', 'r2', 5)],
        ]),
      },
      ['-gone'],
    ],
    [
      'writes and deletes nothing while blocked',
      {
        states: [state('a', 'r1')],
        plan: { update: ['a'], join: [] },
        blocked: true,
        live: new Map([['gone', liveSet('gone', 'r1')]]),
      },
      [],
    ],
  ])('%s', async (_name, extra, expected) => {
    expect(writes(await planWorkWrites(input(extra)))).toEqual(expected);
  });

  it('reports a cluster given a revision as at it and not yet Available since now, without its old problem', async () => {
    const result = await planWorkWrites(
      input({
        states: [state('a', 'r1', { degraded: true, problem: 'broken' }), state('new', undefined)],
        plan: { update: ['a'], join: ['new'] },
        stable,
      }),
    );
    expect(result.states).toEqual([
      state('a', 'r2', { available: false, revisionSince: NOW.getTime() }),
      state('new', 'r1', { available: false, revisionSince: NOW.getTime() }),
    ]);
    expect(result.changes.apply.map((w) => w.metadata.annotations?.[revisionSinceAnnotation])).toEqual([
      '2025-06-01T12:00:00Z',
      '2025-06-01T12:00:00Z',
    ]);
  });

  it('keeps the revision-since of a cluster kept current at the revision', async () => {
    const result = await planWorkWrites(input({ states: [state('a', 'r2')], live: new Map([['a', liveSet('a', 'r2', 3, 'old-render')]]) }));
    expect(result.changes.apply[0]?.metadata.annotations?.[revisionSinceAnnotation]).toBe(EARLIER);
    expect(result.states).toEqual([state('a', 'r2')]);
  });
});
