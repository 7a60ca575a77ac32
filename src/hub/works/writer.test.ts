import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { labels, type Work } from '../../api/index.js';
import { KubeApiError, type Kube } from '../../runtime/index.js';
import type { WorkObject } from './claims.js';
import { summarizeStatus } from '../globalservice/rollout/status.js';
import { revisionSinceAnnotation, workObjects } from '../../work/objects.js';
import {
  describeWorkWriteFailures,
  diffWorkSet,
  DRAIN_REVISION,
  noChanges,
  planDrain,
  writeWorkChanges,
  type WorkChanges,
} from './writer.js';

const source = { kind: 'GlobalService' as const, namespace: 'fleet-a', name: 'web', generation: 2, revision: 'r2' };

function set(
  cluster: string,
  extra: { revision?: string; applied?: string; parts?: number; metadata?: Record<string, unknown> } = {},
): WorkObject[] {
  const manifests = Array.from({ length: extra.parts ?? 1 }, (_, index) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `c${String(index)}`, namespace: 'shop', ...extra.metadata },
  }));
  const result = workObjects({
    cluster,
    name: 'gs-web',
    source: { ...source, revision: extra.revision ?? 'r2' },
    manifests,
    labels: { [labels.fleet]: 'a' },
  });
  if (!result.ok) throw new Error(result.message);
  return result.works.map((work) => ({
    ...work,
    metadata: { ...work.metadata, generation: 1 },
    ...(extra.applied !== undefined ? { status: { observedGeneration: 1, appliedRevision: extra.applied } } : {}),
  }));
}

const names = (works: readonly Work[]): string[] =>
  works.map((work) => `${work.metadata.namespace ?? ''}/${work.metadata.name ?? ''}`).sort();

describe('diffWorkSet', () => {
  it.each<[string, () => [Work[], WorkObject[]], string[], string[]]>([
    ['writes nothing when the live set holds the desired one', () => [set('paris'), set('paris')], [], []],
    ['applies a Work that is missing', () => [set('paris'), []], ['flotilla-member-paris/gs-web'], []],
    ['applies a Work whose spec differs', () => [set('paris', { revision: 'r3' }), set('paris')], ['flotilla-member-paris/gs-web'], []],
    ['ignores what the apiserver or agent added (status, generation)', () => [set('paris'), set('paris', { applied: 'r2' })], [], []],
    [
      "writes nothing for the empty metadata fields the apiserver leaves out of a stored manifest (a chart's annotations: {})",
      () => [set('paris', { metadata: { annotations: {}, labels: {}, creationTimestamp: null, finalizers: [] } }), set('paris')],
      [],
      [],
    ],
    [
      'applies a Work whose manifest gained an annotation',
      () => [set('paris', { metadata: { annotations: { team: 'shop' } } }), set('paris')],
      ['flotilla-member-paris/gs-web'],
      [],
    ],
    [
      'applies a Work that lost a desired label',
      () => {
        const live = set('paris');
        return [set('paris'), live.map((work) => ({ ...work, metadata: { ...work.metadata, labels: {} } }))];
      },
      ['flotilla-member-paris/gs-web'],
      [],
    ],
    [
      'deletes parts no longer wanted',
      () => {
        const live = set('paris');
        return [
          set('paris'),
          [...live, { ...(live[0] as WorkObject), metadata: { ...(live[0] as WorkObject).metadata, name: 'gs-web-part-1' } }],
        ];
      },
      [],
      ['flotilla-member-paris/gs-web-part-1'],
    ],
  ])('%s', (_name, input, apply, remove) => {
    const [desired, live] = input();
    const changes = noChanges();
    diffWorkSet(desired, live, changes);
    expect([names(changes.apply), names(changes.remove)]).toEqual([apply, remove]);
  });
});

describe('planDrain', () => {
  const since = '2025-06-01T12:00:00Z';
  it.each<
    [
      string,
      Map<string, WorkObject[]>,
      { gone?: string[]; expired?: boolean },
      { drain: string[]; remove: string[]; pending: string[]; abandoned: string[] },
    ]
  >([
    [
      'drains every set that has not been drained',
      new Map([
        ['paris', set('paris')],
        ['ohio', set('ohio')],
      ]),
      {},
      { drain: ['flotilla-member-ohio/gs-web', 'flotilla-member-paris/gs-web'], remove: [], pending: ['ohio', 'paris'], abandoned: [] },
    ],
    [
      'waits on a drain the agent has not confirmed, writing nothing again',
      new Map([['paris', set('paris', { revision: DRAIN_REVISION })]]),
      {},
      { drain: [], remove: [], pending: ['paris'], abandoned: [] },
    ],
    [
      'deletes a set the agent confirmed drained',
      new Map([['paris', set('paris', { revision: DRAIN_REVISION, applied: DRAIN_REVISION })]]),
      {},
      { drain: [], remove: ['flotilla-member-paris/gs-web'], pending: [], abandoned: [] },
    ],
    [
      'deletes the set of a member that is gone, unconfirmed and not abandoned',
      new Map([['paris', set('paris')]]),
      { gone: ['paris'] },
      { drain: [], remove: ['flotilla-member-paris/gs-web'], pending: [], abandoned: [] },
    ],
    [
      'deletes what did not confirm once the timeout passed, and says so',
      new Map([['paris', set('paris', { revision: DRAIN_REVISION })]]),
      { expired: true },
      { drain: [], remove: ['flotilla-member-paris/gs-web'], pending: [], abandoned: ['paris'] },
    ],
  ])('%s', (_name, sets, options, expected) => {
    const plan = planDrain({
      sets,
      memberGone: (cluster) => options.gone?.includes(cluster) === true,
      expired: options.expired === true,
      since,
    });
    expect({
      drain: names(plan.changes.apply),
      remove: names(plan.changes.remove),
      pending: plan.pending,
      abandoned: plan.abandoned,
    }).toEqual(expected);
  });

  it('drains to no manifests at DRAIN_REVISION, keeping the source, options and fleet label', () => {
    const [drain] = planDrain({ sets: new Map([['paris', set('paris')]]), memberGone: () => false, expired: false, since }).changes.apply;
    expect(drain?.spec.source).toEqual({ ...source, revision: DRAIN_REVISION });
    const payload = drain?.spec.payload;
    const carried: unknown = payload ? JSON.parse(gunzipSync(Buffer.from(payload.data, 'base64')).toString('utf8')) : drain?.spec.manifests;
    expect(carried).toEqual([]);
    expect(drain?.metadata.labels?.[labels.fleet]).toBe('a');
    expect(drain?.metadata.annotations?.[revisionSinceAnnotation]).toBe(since);
  });
});

/** A Kube that records the Works written and refuses the ones `refuse` names, as the hub apiserver would. */
function recordingKube(refuse: (name: string) => KubeApiError | undefined): { kube: Kube; applied: string[]; deleted: string[] } {
  const applied: string[] = [];
  const deleted: string[] = [];
  const kube = {
    apply: (object: Work) => {
      const error = refuse(object.metadata.name ?? '');
      if (error) return Promise.reject(error);
      applied.push(object.metadata.name ?? '');
      return Promise.resolve(object);
    },
    delete: (_type: unknown, name: string) => {
      if (name === 'gone')
        return Promise.reject(new KubeApiError({ code: 404, reason: 'NotFound', message: 'not found', method: 'DELETE', path: '/x' }));
      deleted.push(name);
      return Promise.resolve();
    },
  } as unknown as Kube;
  return { kube, applied, deleted };
}

const forbidden = new KubeApiError({
  code: 403,
  reason: 'Forbidden',
  method: 'PATCH',
  path: '/apis/flotilla.dev/v1alpha1/namespaces/flotilla-member-paris/works/gs-web',
  message: 'works.flotilla.dev "gs-web" is forbidden: ValidatingAdmissionPolicy \'no-web\' denied request: web may not ship',
});

describe('writeWorkChanges', () => {
  const work = (name: string, cluster = 'paris'): WorkObject => ({
    ...(set(cluster)[0] as WorkObject),
    metadata: { ...(set(cluster)[0] as WorkObject).metadata, name },
  });

  it("attempts every write, counts a Work already gone as deleted, and returns each refusal with the apiserver's message", async () => {
    const { kube, applied, deleted } = recordingKube((name) => (name === 'gs-web' ? forbidden : undefined));
    const changes: WorkChanges = { apply: [work('gs-web'), work('gs-api')], remove: [work('gs-old'), work('gone')] };
    const outcome = await writeWorkChanges(kube, changes, { fieldManager: 'flotilla', signal: new AbortController().signal });
    expect([applied, deleted]).toEqual([['gs-api'], ['gs-old']]);
    expect({ applied: outcome.applied, deleted: outcome.deleted }).toEqual({ applied: 1, deleted: 2 });
    expect(outcome.failures.map((failure) => [failure.work, failure.verb, failure.message])).toEqual([
      ['flotilla-member-paris/gs-web', 'apply', `Forbidden: ${forbidden.apiMessage}`],
    ]);
  });

  it("puts a Work write the hub apiserver refused in the service's Ready condition, with the apiserver's message", async () => {
    const { kube } = recordingKube(() => forbidden);
    const outcome = await writeWorkChanges(
      kube,
      { apply: [work('gs-web')], remove: [] },
      { fieldManager: 'flotilla', signal: new AbortController().signal },
    );
    const writeFailure = describeWorkWriteFailures(outcome.failures);
    const status = summarizeStatus({
      generation: 1,
      revision: 'r2',
      clusters: [],
      now: new Date('2025-06-01T12:00:00Z'),
      plan: { update: [], join: [], phase: 'Progressing', halting: [], message: 'rolling' },
      ...(writeFailure !== undefined ? { writeFailure } : {}),
    });
    const ready = status.conditions?.find((condition) => condition.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'WorkWriteFailed' });
    expect(ready?.message).toContain('could not apply Work flotilla-member-paris/gs-web');
    expect(ready?.message).toContain("ValidatingAdmissionPolicy 'no-web' denied request: web may not ship");
  });
});

describe('describeWorkWriteFailures', () => {
  const failure = (work: string) => ({ work, verb: 'apply' as const, message: 'Invalid: no', error: undefined });
  it.each<[string, string[], string | undefined]>([
    ['nothing failed', [], undefined],
    ['one failure', ['ns/a'], 'could not apply Work ns/a: Invalid: no'],
    [
      'names three, sorted, and counts the rest',
      ['ns/d', 'ns/c', 'ns/b', 'ns/a'],
      'could not apply Work ns/a: Invalid: no; could not apply Work ns/b: Invalid: no; could not apply Work ns/c: Invalid: no; and 1 more',
    ],
  ])('%s', (_name, works, expected) => {
    expect(describeWorkWriteFailures(works.map(failure))).toBe(expected);
  });
});
