import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../api/index.js';
import { contentName, describeSkippedHook, selectHooks, type SkippedHook } from './hooks.js';

const object = (kind: string, name: string, hook?: string, apiVersion = kind === 'Job' ? 'batch/v1' : 'v1'): Manifest => ({
  apiVersion,
  kind,
  metadata: {
    name,
    namespace: 'apps',
    ...(hook === undefined ? {} : { annotations: { 'helm.sh/hook': hook } }),
  },
});

describe('selectHooks', () => {
  it.each<[string, Manifest, boolean, string[], Partial<SkippedHook>[]]>([
    ['an ordinary manifest', object('ConfigMap', 'a'), false, ['ConfigMap/a'], []],
    ['an empty hook annotation, as an ordinary manifest', object('ConfigMap', 'a', ' '), false, ['ConfigMap/a'], []],
    ['a pre-install ConfigMap, as it is', object('ConfigMap', 'a', 'pre-install'), false, ['ConfigMap/a'], []],
    ['a Helm 2 crd-install hook', object('ConfigMap', 'a', 'crd-install'), false, ['ConfigMap/a'], []],
    ['a post-upgrade Job, renamed after its content', object('Job', 'migrate', 'post-upgrade'), false, ['Job/migrate-HASH'], []],
    [
      'a hook for install and delete: shipped, the delete part listed',
      object('ConfigMap', 'a', 'pre-install, pre-delete'),
      false,
      ['ConfigMap/a'],
      [{ manifest: 'ConfigMap apps/a', events: ['pre-delete'], shipped: true }],
    ],
    [
      'a test Pod without tests',
      object('Pod', 'probe', 'test'),
      false,
      [],
      [
        {
          manifest: 'Pod apps/probe',
          events: ['test'],
          shipped: false,
          reason: 'Helm test hooks are shipped only when tests are included',
        },
      ],
    ],
    ['a test Pod with tests, renamed', object('Pod', 'probe', 'test-success'), true, ['Pod/probe-HASH'], []],
    [
      'a pre-rollback hook',
      object('Job', 'undo', 'pre-rollback'),
      true,
      [],
      [{ events: ['pre-rollback'], shipped: false, reason: 'flotilla has no rollback step: a revert is a new rollout' }],
    ],
    [
      'an event Helm does not know',
      object('ConfigMap', 'a', 'pre-instal'),
      false,
      [],
      [{ events: ['pre-instal'], shipped: false, reason: 'not a Helm hook event flotilla runs' }],
    ],
  ])('handles %s', (_name, manifest, includeTests, shipped, skipped) => {
    const selection = selectHooks([manifest], includeTests);
    expect(selection.manifests.map((m) => `${m.kind}/${m.metadata.name.replace(/-[0-9a-f]{8}$/, '-HASH')}`)).toEqual(shipped);
    expect(selection.skippedHooks).toEqual(skipped.map((entry) => expect.objectContaining(entry)));
  });

  it('leaves ttlSecondsAfterFinished out of a hook Job, so the cluster never deletes one the agent would put back', () => {
    const job = (hook?: string): Manifest => ({
      ...object('Job', 'certgen', hook),
      spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never' } } },
    });
    const [hookJob] = selectHooks([job('pre-install,pre-upgrade')], false).manifests;
    expect(hookJob?.spec).toEqual({ template: { spec: { restartPolicy: 'Never' } } });
    expect(hookJob?.metadata.name).toBe(contentName({ ...job('pre-install,pre-upgrade'), spec: hookJob?.spec }));
    // A Job that is no hook ships as the chart wrote it.
    expect(selectHooks([job()], false).manifests[0]?.spec).toEqual(job().spec);
  });

  it('keeps the render order of what it ships', () => {
    const selection = selectHooks([object('Job', 'b', 'pre-install'), object('ConfigMap', 'a'), object('Pod', 't', 'test')], false);
    expect(selection.manifests.map((m) => m.kind)).toEqual(['Job', 'ConfigMap']);
  });
});

describe('contentName', () => {
  it('changes with the content and stays the same for the same content', () => {
    const a = object('Job', 'migrate', 'pre-upgrade');
    const b = { ...a, spec: { image: 'v2' } };
    expect(contentName(a)).toBe(contentName({ ...a }));
    expect(contentName(a)).not.toBe(contentName(b));
  });

  it('fits 63 characters and never ends the base in a dash', () => {
    const name = contentName(object('Job', `${'x'.repeat(53)}-yyyy`, 'pre-install'));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^x{53}-[0-9a-f]{8}$/);
  });
});

describe('describeSkippedHook', () => {
  it.each<[SkippedHook, string]>([
    [{ manifest: 'Job apps/x', events: ['pre-delete'], shipped: false, reason: 'why' }, 'Job apps/x (pre-delete): why'],
    [
      { manifest: 'ConfigMap apps/a', events: ['post-delete', 'pre-rollback'], shipped: true, reason: 'why' },
      'ConfigMap apps/a (post-delete, pre-rollback) shipped for its other events, but: why',
    ],
  ])('%j → %s', (hook, line) => {
    expect(describeSkippedHook(hook)).toBe(line);
  });
});
