import { describe, expect, it } from '@jest/globals';
import type { AdoptionPolicy } from '../api/index.js';
import type { KubeObject } from '../runtime/kube.js';
import {
  decideAdoption,
  decidePrune,
  ownershipOf,
  stampOwnership,
  WORK_ANNOTATION,
  WORK_LABEL,
  workLabelValue,
  type WorkRef,
} from './ownership.js';
import { manifest } from '../work/testing.js';

const work: WorkRef = { namespace: 'flotilla-member-eu1', name: 'shop-web' };
const other: WorkRef = { namespace: 'flotilla-member-eu1', name: 'shop-api' };

const configMap = (data: Record<string, string>, metadata: Record<string, unknown> = {}): KubeObject =>
  manifest('v1', 'ConfigMap', 'cfg', 'shop', { metadata, data });

describe('workLabelValue', () => {
  it('is namespace.name when that fits in a label value', () => {
    expect(workLabelValue(work)).toBe('flotilla-member-eu1.shop-web');
  });

  it.each([
    ['a long name', { namespace: 'flotilla-member-production-eu-west-1', name: 'a-very-long-global-service-name' }],
    ['exactly 64 characters', { namespace: 'n'.repeat(30), name: 'm'.repeat(33) }],
  ])('shortens %s to a valid, unique label value', (_name, ref) => {
    const value = workLabelValue(ref);
    expect(value.length).toBeLessThanOrEqual(63);
    expect(value).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
    expect(value.startsWith(`${ref.namespace}.`.slice(0, 20))).toBe(true);
    expect(workLabelValue({ ...ref, name: `${ref.name}x` })).not.toBe(value);
    expect(workLabelValue(ref)).toBe(value);
  });

  it('keeps exactly 63 characters as they are', () => {
    const ref = { namespace: 'n'.repeat(30), name: 'm'.repeat(32) };
    expect(workLabelValue(ref)).toBe(`${ref.namespace}.${ref.name}`);
  });
});

describe('stampOwnership', () => {
  it('adds the label and annotation and keeps the rest, without touching the input', () => {
    const input = configMap({ a: '1' }, { labels: { app: 'web' }, annotations: { note: 'x' } });
    const stamped = stampOwnership(input, work);
    expect(stamped.metadata.labels).toEqual({ app: 'web', [WORK_LABEL]: 'flotilla-member-eu1.shop-web' });
    expect(stamped.metadata.annotations).toEqual({ note: 'x', [WORK_ANNOTATION]: 'flotilla-member-eu1/shop-web' });
    expect(stamped.data).toEqual({ a: '1' });
    expect(input.metadata.labels).toEqual({ app: 'web' });
  });

  it('overwrites marks a manifest tries to set itself', () => {
    const input = configMap({}, { labels: { [WORK_LABEL]: 'forged' } });
    expect(stampOwnership(input, work).metadata.labels?.[WORK_LABEL]).toBe('flotilla-member-eu1.shop-web');
  });
});

describe('ownershipOf', () => {
  const ours = stampOwnership(configMap({}), work).metadata;
  const theirs = stampOwnership(configMap({}), other).metadata;
  it.each([
    ['no marks', {}, { state: 'Unowned' }],
    ['our marks', ours, { state: 'Ours' }],
    ['only our annotation', { annotations: ours.annotations }, { state: 'Ours' }],
    ['only our label', { labels: ours.labels }, { state: 'Ours' }],
    ['another Work', theirs, { state: 'OtherWork', work: 'flotilla-member-eu1/shop-api' }],
    ['only another Work label', { labels: theirs.labels }, { state: 'OtherWork', work: 'flotilla-member-eu1.shop-api' }],
    [
      'our label but another annotation (the annotation decides)',
      { labels: ours.labels, annotations: theirs.annotations },
      { state: 'OtherWork', work: 'flotilla-member-eu1/shop-api' },
    ],
  ])('%s', (_name, metadata, expected) => {
    expect(ownershipOf(metadata, work)).toEqual(expected);
  });
});

describe('decideAdoption', () => {
  const desired = stampOwnership(configMap({ a: '1' }, { labels: { app: 'web' } }), work);
  const foreignSame = configMap({ a: '1', extra: 'kept' }, { labels: { app: 'web', team: 'x' } });
  const foreignDifferent = configMap({ a: '2' }, { labels: { app: 'web' } });
  const ours = stampOwnership(configMap({ a: 'changed' }), work);
  const theirs = stampOwnership(configMap({ a: '1' }, { labels: { app: 'web' } }), other);
  const policies: AdoptionPolicy[] = ['Never', 'IfNoConflict', 'Always'];

  it.each(policies)('creates what is absent and applies what is ours under %s', (policy) => {
    expect(decideAdoption(desired, undefined, work, policy)).toEqual({ action: 'Create' });
    expect(decideAdoption(desired, ours, work, policy)).toEqual({ action: 'Apply' });
  });

  it.each(policies)('reports an object of another Work as a conflict naming it under %s', (policy) => {
    expect(decideAdoption(desired, theirs, work, policy)).toEqual({
      action: 'Conflict',
      reason: 'OwnedByOtherWork',
      owner: 'flotilla-member-eu1/shop-api',
      message: 'already managed by Work flotilla-member-eu1/shop-api',
    });
  });

  it.each([
    ['Never', foreignSame, 'Conflict', 'AdoptionDisallowed'],
    ['Never', foreignDifferent, 'Conflict', 'AdoptionDisallowed'],
    ['IfNoConflict', foreignSame, 'Adopt', undefined],
    ['IfNoConflict', foreignDifferent, 'Conflict', 'FieldsDiffer'],
    ['Always', foreignSame, 'Adopt', undefined],
    ['Always', foreignDifferent, 'Adopt', undefined],
  ] as const)('under %s, a foreign object is decided by its fields', (policy, live, action, reason) => {
    const decision = decideAdoption(desired, live, work, policy);
    expect(decision.action).toBe(action);
    if (decision.action === 'Conflict') expect(decision.reason).toBe(reason);
  });

  it('names the fields that block adoption', () => {
    const decision = decideAdoption(desired, configMap({ a: '2' }, { labels: {} }), work, 'IfNoConflict');
    expect(decision).toEqual({
      action: 'Conflict',
      reason: 'FieldsDiffer',
      paths: ['data.a', 'metadata.labels.app'],
      message: 'exists, is not managed by flotilla, and differs from the manifest in 2 field(s): data.a, metadata.labels.app',
    });
  });
});

describe('decidePrune', () => {
  const kept = (annotations: Record<string, string>): KubeObject => stampOwnership(configMap({}, { annotations }), work);
  it.each([
    ['ours', stampOwnership(configMap({}), work), 'Delete', { allowed: true, action: 'Delete' }],
    ['ours, under the Orphan policy', stampOwnership(configMap({}), work), 'Orphan', { allowed: true, action: 'Orphan' }],
    [
      'adopted (carries our mark)',
      stampOwnership(configMap({}, { labels: { app: 'x' } }), work),
      'Delete',
      { allowed: true, action: 'Delete' },
    ],
    [
      "marked with Helm's keep",
      kept({ 'helm.sh/resource-policy': 'keep' }),
      'Delete',
      { allowed: true, action: 'Orphan', because: 'helm.sh/resource-policy: keep' },
    ],
    [
      "marked with Helm's keep, as Helm reads it (trimmed, any case)",
      kept({ 'helm.sh/resource-policy': ' Keep ' }),
      'Delete',
      { allowed: true, action: 'Orphan', because: 'helm.sh/resource-policy: keep' },
    ],
    [
      'with a Helm resource policy other than keep',
      kept({ 'helm.sh/resource-policy': 'delete' }),
      'Delete',
      { allowed: true, action: 'Delete' },
    ],
    [
      'marked flotilla.dev/prune: disabled',
      kept({ 'flotilla.dev/prune': 'disabled' }),
      'Delete',
      { allowed: true, action: 'Orphan', because: 'flotilla.dev/prune: disabled' },
    ],
    ['marked flotilla.dev/prune: enabled', kept({ 'flotilla.dev/prune': 'enabled' }), 'Delete', { allowed: true, action: 'Delete' }],
    ['unmarked', configMap({}), 'Delete', { allowed: false, reason: 'NotOwned', message: 'carries no flotilla ownership mark' }],
    [
      'unmarked, even when it asks to be kept',
      configMap({}, { annotations: { 'helm.sh/resource-policy': 'keep' } }),
      'Delete',
      { allowed: false, reason: 'NotOwned', message: 'carries no flotilla ownership mark' },
    ],
    [
      'another Work',
      stampOwnership(configMap({}), other),
      'Delete',
      { allowed: false, reason: 'OwnedByOtherWork', message: 'managed by Work flotilla-member-eu1/shop-api, not ours' },
    ],
  ] as const)('%s', (_name, live, policy, expected) => {
    expect(decidePrune(live, work, policy)).toEqual(expected);
  });
});
