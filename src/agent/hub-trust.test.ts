import { describe, expect, it } from '@jest/globals';
import { KubeApiError, type KubeObject } from '../runtime/kube.js';
import { judgeMembership, type MembershipRead } from './hub-trust.js';

const member = (uid: string, deleting = false): KubeObject => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name: 'eu1', uid, ...(deleting ? { deletionTimestamp: '2026-12-01T00:00:00Z' } : {}) },
});
const refused = (code: number): MembershipRead => ({
  error: new KubeApiError({ code, reason: code === 401 ? 'Unauthorized' : 'Forbidden', message: 'no', method: 'GET', path: '/apis' }),
});

describe('judgeMembership', () => {
  it.each<[string, MembershipRead, string | undefined, string, string | undefined]>([
    ['its own MemberCluster as recorded', { member: member('u1') }, 'u1', 'Trusted', 'u1'],
    ['a first MemberCluster when none was recorded (trusted on first use)', { member: member('u1') }, undefined, 'Trusted', 'u1'],
    ['a MemberCluster of that name with another uid', { member: member('u2') }, 'u1', 'IdentityChanged', 'u1'],
    ['no MemberCluster', { member: null }, 'u1', 'Revoked', 'u1'],
    ['its MemberCluster being deleted', { member: member('u1', true) }, 'u1', 'Revoked', 'u1'],
    ['401 from the hub', refused(401), 'u1', 'Revoked', 'u1'],
    ['403 from the hub', refused(403), 'u1', 'Revoked', 'u1'],
    ['a hub that does not answer', { error: new Error('connect ECONNREFUSED') }, 'u1', 'Unverified', 'u1'],
    ['a hub that answers 500', refused(500), undefined, 'Unverified', undefined],
  ])('%s', (_case, read, recorded, state, memberUID) => {
    const trust = judgeMembership('eu1', read, recorded);
    expect(trust.state).toBe(state);
    expect(trust.memberUID).toBe(memberUID);
    expect(trust.message).toContain('eu1');
  });

  it('says which uid it found and which it expected when the identity changed', () => {
    expect(judgeMembership('eu1', { member: member('u2') }, 'u1').message).toMatch(/uid u2, not u1/);
  });
});
