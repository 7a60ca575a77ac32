import { describe, expect, it } from '@jest/globals';
import type { PolicyBundle } from '../../api/index.js';
import { manifestIdentity, identityKey } from '../../work/identity.js';
import type { WorkObject } from '../works/claims.js';
import type { HeldObject } from './compliance.js';
import { renderPolicyBundle } from './render.js';
import { planBundleWorkWrites, type BundleWorkWritesInput } from './work-writes.js';

const spec: PolicyBundle['spec'] = {
  placement: { clusterNames: ['c1', 'c2'] },
  namespaceSelector: {},
  rbac: {
    clusterRoles: [
      { name: 'reader', rules: [] },
      { name: 'auditor', rules: [] },
    ],
  },
  podSecurity: { enforce: 'baseline' },
};
const rendered = renderPolicyBundle({ spec });

const input = (extra: Partial<BundleWorkWritesInput> = {}): BundleWorkWritesInput => ({
  bundle: { namespace: 'fleet-a', name: 'base', generation: 2 },
  fleet: 'a',
  rendered,
  updatable: ['c1', 'c2'],
  targets: new Set(['c1', 'c2']),
  held: new Map(),
  live: new Map(),
  ...extra,
});

const planned = (extra: Partial<BundleWorkWritesInput> = {}) => {
  const result = planBundleWorkWrites(input(extra));
  if (!result.ok) throw new Error(result.message);
  return result.changes;
};
const shipped = (work: { spec: { manifests?: { metadata: { name: string } }[] } }): string[] =>
  (work.spec.manifests ?? []).map((m) => m.metadata.name);

describe('planBundleWorkWrites', () => {
  it('writes one Work per updatable cluster, in its member namespace, carrying the policy section', () => {
    const changes = planned();
    expect(changes.apply.map((w) => `${w.metadata.namespace}/${w.metadata.name}`)).toEqual([
      'flotilla-member-c1/pb-base',
      'flotilla-member-c2/pb-base',
    ]);
    expect(changes.apply.map(shipped)).toEqual([
      ['reader', 'auditor'],
      ['reader', 'auditor'],
    ]);
    expect(changes.apply[0]?.spec.policy).toEqual(rendered.policy);
    expect(changes.apply[0]?.spec.source).toEqual({
      kind: 'PolicyBundle',
      namespace: 'fleet-a',
      name: 'base',
      generation: 2,
      revision: rendered.revision,
    });
    expect(changes.remove).toEqual([]);
  });

  it('writes nothing to a targeted cluster the placement may not update yet', () => {
    expect(planned({ updatable: ['c2'] }).apply.map((w) => w.metadata.namespace)).toEqual(['flotilla-member-c2']);
  });

  it("leaves an object another source holds out of that cluster's Work only", () => {
    const reader = rendered.manifests.find((m) => m.metadata.name === 'reader');
    if (!reader) throw new Error('no reader');
    const held: HeldObject = {
      identity: manifestIdentity(reader),
      conflict: { object: identityKey(manifestIdentity(reader)), heldBy: { kind: 'GlobalService', namespace: 'fleet-a', name: 'rbac' } },
    };
    const changes = planned({ held: new Map([['c1', [held]]]) });
    expect(changes.apply.map(shipped)).toEqual([['auditor'], ['reader', 'auditor']]);
  });

  it('makes no write when the live Works are already as planned', () => {
    const live = new Map(planned().apply.map((w) => [w.metadata.labels?.['flotilla.dev/cluster'] ?? '', [w as WorkObject]]));
    expect(planned({ live })).toEqual({ apply: [], remove: [] });
  });

  it('deletes the sets of clusters no longer targeted, and only those', () => {
    const live = new Map(planned().apply.map((w) => [w.metadata.labels?.['flotilla.dev/cluster'] ?? '', [w as WorkObject]]));
    const changes = planned({ live, updatable: ['c1'], targets: new Set(['c1']) });
    expect(changes.apply).toEqual([]);
    expect(changes.remove.map((w) => w.metadata.namespace)).toEqual(['flotilla-member-c2']);
  });
});
