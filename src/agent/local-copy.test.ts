import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/kube.js';
import {
  appliedCopy,
  deletedCopy,
  intendedCopy,
  lastAppliedManifests,
  LOCAL_COPY_LABEL,
  LOCAL_COPY_PART_CHARS,
  localCopyName,
  localCopySecrets,
  ownManifests,
  readLocalCopy,
  type DesiredCopy,
  type LocalCopy,
} from './local-copy.js';
import { effectiveApplyOptions } from './plan.js';
import { manifest } from '../work/testing.js';

const copy: LocalCopy = {
  set: 'web',
  hubNamespace: 'flotilla-member-eu1',
  works: ['web'],
  revision: 'r1',
  options: effectiveApplyOptions({ deletionPolicy: 'Orphan' }),
  inventory: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'cfg' }],
  complete: true,
  unapplied: [],
  manifests: [manifest('v1', 'ConfigMap', 'cfg', 'shop', { data: { a: '1' } })],
};

/** Random hex: compresses to about half, so it takes real space. */
const noise = (chars: number): string => randomBytes(chars / 2).toString('hex');

describe('local copy', () => {
  it('round-trips through one labelled Secret', () => {
    const secrets = localCopySecrets(copy, 'flotilla-system');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.metadata).toMatchObject({
      name: 'flotilla-work.web',
      namespace: 'flotilla-system',
      labels: { [LOCAL_COPY_LABEL]: 'web' },
    });
    expect(readLocalCopy(secrets)).toEqual(copy);
  });

  it('splits large content across Secrets that each stay under 1 MiB, and joins them in any order', () => {
    const big: LocalCopy = {
      ...copy,
      manifests: Array.from({ length: 8 }, (_, i) => manifest('v1', 'ConfigMap', `c${i}`, 'shop', { data: { x: noise(300_000) } })),
    };
    const secrets = localCopySecrets(big, 'flotilla-system');
    expect(secrets.length).toBeGreaterThan(1);
    expect(secrets.map((s) => s.metadata.name)).toContain(localCopyName('web', 1));
    for (const secret of secrets) expect(JSON.stringify(secret.data).length).toBeLessThan(LOCAL_COPY_PART_CHARS * 2);
    expect(readLocalCopy([...secrets].reverse())).toEqual(big);
  });

  it('keeps the state (and the inventory) when the content is unreadable, and ignores stale parts', () => {
    const big: LocalCopy = { ...copy, manifests: [manifest('v1', 'ConfigMap', 'c', 'shop', { data: { x: noise(1_200_000) } })] };
    const secrets = localCopySecrets(big, 'flotilla-system');
    const read = readLocalCopy(secrets.slice(0, 1));
    expect(read).toEqual({ ...big, manifests: undefined });
    expect(read && 'manifests' in read).toBe(false);
    const stale: KubeObject[] = localCopySecrets(big, 'flotilla-system').slice(1);
    expect(readLocalCopy([...localCopySecrets(copy, 'flotilla-system'), ...stale])).toEqual(copy);
  });

  it('answers undefined without a readable state', () => {
    expect(readLocalCopy([])).toBeUndefined();
    expect(readLocalCopy([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { state: 'bm90IGpzb24=' } }])).toBeUndefined();
  });

  it('round-trips the policy section with its mode, and rejects a malformed one', () => {
    const withPolicy: LocalCopy = {
      ...copy,
      policy: { spec: { mode: 'Audit', namespaceSelector: { matchLabels: { tier: 'app' } }, namespaceLabels: { a: 'b' } }, stamped: 1 },
    };
    expect(readLocalCopy(localCopySecrets(withPolicy, 'flotilla-system'))).toEqual(withPolicy);
    const [secret] = localCopySecrets(withPolicy, 'flotilla-system');
    const state = Buffer.from(JSON.stringify({ ...withPolicy, manifests: undefined, policy: { spec: 'x', stamped: 1 } }), 'utf8').toString(
      'base64',
    );
    expect(secret && readLocalCopy([{ ...secret, data: { ...(secret.data as object), state } }])).toBeUndefined();
  });
});

describe('ownManifests', () => {
  const own = manifest('rbac.authorization.k8s.io/v1', 'ClusterRole', 'view');
  const stamped = [manifest('v1', 'ResourceQuota', 'q', 'a'), manifest('v1', 'ResourceQuota', 'q', 'b')];
  const policy = { spec: { mode: 'Enforce' as const, namespaceSelector: {} }, stamped: 2 };

  it.each([
    ['all of them without a policy', { ...copy, manifests: [own, ...stamped] }, [own, ...stamped]],
    ['those before the stamped templates', { ...copy, manifests: [own, ...stamped], policy }, [own]],
    ['none when every manifest is stamped', { ...copy, manifests: stamped, policy }, []],
    ['none when the count exceeds the manifests', { ...copy, manifests: stamped, policy: { ...policy, stamped: 5 } }, []],
  ])('are %s', (_case, local: LocalCopy, expected) => {
    expect(ownManifests(local)).toEqual(expected);
  });

  it('are undefined for unreadable content, an incomplete copy or an Audit policy, which enforce nothing', () => {
    expect(ownManifests({ ...copy, manifests: undefined })).toBeUndefined();
    expect(ownManifests({ ...copy, complete: false })).toBeUndefined();
    expect(
      ownManifests({ ...copy, manifests: [own, ...stamped], policy: { ...policy, spec: { ...policy.spec, mode: 'Audit' } } }),
    ).toBeUndefined();
  });
});

describe('a copy written by an agent before copies said whether they are complete', () => {
  it('reads as an inventory only: not complete, nothing to enforce', () => {
    const [secret] = localCopySecrets(copy, 'flotilla-system');
    const legacyState: Partial<LocalCopy> = { ...copy };
    delete legacyState.manifests;
    delete legacyState.complete;
    const state = Buffer.from(JSON.stringify(legacyState), 'utf8').toString('base64');
    const read = secret && readLocalCopy([{ ...secret, data: { ...(secret.data as object), state } }]);
    expect(read).toMatchObject({ complete: false, inventory: copy.inventory });
    expect(read && ownManifests(read)).toBeUndefined();
  });
});

describe('the records of one apply', () => {
  const cm = (name: string, value: string): ReturnType<typeof manifest> =>
    manifest('v1', 'ConfigMap', name, 'shop', { data: { v: value } });
  const entry = (name: string): LocalCopy['inventory'][number] => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name });
  const key = (name: string): string => `ConfigMap/shop/${name}`;
  const desired = (manifests: ReturnType<typeof manifest>[], revision = 'r2'): DesiredCopy => ({
    works: ['web'],
    revision,
    options: copy.options,
    manifests,
  });
  const previous: LocalCopy = {
    ...copy,
    inventory: [entry('a'), entry('b')],
    unapplied: [key('b')],
    manifests: [cm('a', '1'), cm('b', '1')],
  };

  it('before applying: the new desired state in full, everything it may create in the inventory', () => {
    const intended = intendedCopy('web', copy.hubNamespace, previous, desired([cm('a', '1'), cm('c', '1')]));
    expect(intended).toMatchObject({ complete: true, revision: 'r2', manifests: [cm('a', '1'), cm('c', '1')] });
    expect(intended.inventory.map((e) => e.name)).toEqual(['a', 'b', 'c']);
  });

  it('before applying: marks unapplied every manifest not last applied exactly as now desired', () => {
    expect(lastAppliedManifests(previous).has(key('b'))).toBe(false);
    const intended = intendedCopy('web', copy.hubNamespace, previous, desired([cm('a', '1'), cm('b', '1'), cm('c', '1')]));
    expect(intended.unapplied).toEqual([key('b'), key('c')]);
    const changed = intendedCopy('web', copy.hubNamespace, previous, desired([cm('a', '2')]));
    expect(changed.unapplied).toEqual([key('a')]);
    expect([...lastAppliedManifests(changed).keys()]).toEqual([]);
  });

  it('before applying, from no copy at all: complete, nothing taken for applied', () => {
    const intended = intendedCopy('web', copy.hubNamespace, undefined, desired([cm('a', '1')]));
    expect(intended).toMatchObject({ complete: true, unapplied: [key('a')], inventory: [entry('a')] });
  });

  it('is written again unchanged when the desired state did not change, so a steady state writes nothing', () => {
    const settled = appliedCopy(intendedCopy('web', copy.hubNamespace, previous, desired([cm('a', '1')])), [], []);
    expect(intendedCopy('web', copy.hubNamespace, settled, desired([cm('a', '1')]))).toEqual(settled);
  });

  it('after applying: the inventory keeps what is desired and what could not be pruned', () => {
    const intended = intendedCopy('web', copy.hubNamespace, previous, desired([cm('c', '1')]));
    const applied = appliedCopy(intended, [key('c')], [entry('b')]);
    expect(applied.inventory.map((e) => e.name)).toEqual(['b', 'c']);
    expect(applied).toMatchObject({ complete: true, unapplied: [key('c')], manifests: [cm('c', '1')] });
  });

  it('after the hub deleted the set: a complete desired state of nothing, the unpruned left to prune', () => {
    const withPolicy: LocalCopy = { ...previous, policy: { spec: { mode: 'Enforce', namespaceSelector: {} }, stamped: 0 } };
    const deleted = deletedCopy(withPolicy, [entry('b')]);
    expect(deleted).toMatchObject({ complete: true, manifests: [], unapplied: [], inventory: [entry('b')] });
    expect(deleted.policy).toBeUndefined();
    expect(ownManifests(deleted)).toEqual([]);
  });
});
