import { describe, expect, it } from '@jest/globals';
import type { MemberCluster } from '../api/index.js';
import { findCondition } from '../runtime/index.js';
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, heartbeatTimeoutMs, judgeMember, observeHeartbeat, parseDuration } from './heartbeat.js';

const member = (status?: MemberCluster['status']): MemberCluster => ({
  apiVersion: 'flotilla.dev/v1alpha1', kind: 'MemberCluster', metadata: { name: 'a', generation: 2 }, spec: { fleet: 'f' },
  ...(status ? { status } : {}),
});

const t0 = Date.parse('2026-03-01T10:00:00Z');
const renew = '2026-03-01T10:00:00.123456Z';

describe('parseDuration', () => {
  it.each([['10s', 10_000], ['5m', 300_000], ['1h30m', 5_400_000], ['1.5m', 90_000], ['250ms', 250], ['2h0m10s', 7_210_000]])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '10', 's', '10x', '1h 2m'])('%p is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it('falls back to the schema default', () => {
    expect(heartbeatTimeoutMs(undefined)).toBe(DEFAULT_HEARTBEAT_TIMEOUT_MS);
    expect(heartbeatTimeoutMs({ spec: { heartbeatTimeout: '15s' } })).toBe(15_000);
  });
});

describe('observeHeartbeat', () => {
  it('restarts the clock only when the renewTime changes', () => {
    const first = observeHeartbeat(undefined, renew, t0);
    expect(observeHeartbeat(first, renew, t0 + 9_000)).toBe(first);
    expect(observeHeartbeat(first, '2026-03-01T10:00:02.000000Z', t0 + 9_000)).toEqual({ renewTime: '2026-03-01T10:00:02.000000Z', observedAt: t0 + 9_000 });
  });
});

describe('judgeMember', () => {
  const conditions = (j: ReturnType<typeof judgeMember>): Record<string, string> =>
    Object.fromEntries(j.status.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

  it('waits for an agent that never reported', () => {
    const j = judgeMember({ member: member(), heartbeat: undefined, timeoutMs: 10_000, now: t0 });
    expect(conditions(j)).toEqual({ Joined: 'False/AwaitingAgent', Healthy: 'Unknown/AwaitingAgent', Ready: 'False/AwaitingAgent' });
    expect(j.recheckAfterMs).toBeUndefined();
    expect(j.status.observedGeneration).toBe(2);
  });

  it('is Ready while heartbeats arrive, and rechecks when the current one would go stale', () => {
    const j = judgeMember({ member: member(), heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 10_000, now: t0 + 4_000 });
    expect(conditions(j)).toEqual({ Joined: 'True/AgentReported', Healthy: 'True/HeartbeatReceived', Ready: 'True/Ready' });
    expect(j.recheckAfterMs).toBe(6_000);
    expect(j.status.lastHeartbeatTime).toBe('2026-03-01T10:00:00Z');
  });

  it('turns Unknown with HeartbeatMissed once the timeout passed by the hub clock', () => {
    const j = judgeMember({ member: member(), heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 10_000, now: t0 + 10_000 });
    expect(conditions(j)).toEqual({ Joined: 'True/AgentReported', Healthy: 'Unknown/HeartbeatMissed', Ready: 'Unknown/HeartbeatMissed' });
    expect(findCondition(j.status.conditions, 'Ready')?.message).toContain('no heartbeat for 10s (timeout 10s)');
    expect(j.recheckAfterMs).toBeUndefined();
  });

  it('keeps transition times and leaves the agent-owned facts and foreign conditions out', () => {
    const first = judgeMember({ member: member(), heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 10_000, now: t0 });
    const again = judgeMember({
      member: member({ ...first.status, agentVersion: '0.1.0', conditions: [...first.status.conditions, { type: 'Custom', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] }),
      heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 10_000, now: t0 + 5_000,
    });
    expect(again.status).toEqual(first.status);
  });

  it('copies a steady heartbeat into status only once a period', () => {
    const base = judgeMember({ member: member(), heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 300_000, now: t0 });
    const soon = judgeMember({ member: member(base.status), heartbeat: { renewTime: '2026-03-01T10:00:30.000000Z', observedAt: t0 + 30_000 }, timeoutMs: 300_000, now: t0 + 30_000 });
    expect(soon.status.lastHeartbeatTime).toBe('2026-03-01T10:00:00Z');
    const later = judgeMember({ member: member(base.status), heartbeat: { renewTime: '2026-03-01T10:01:00.000000Z', observedAt: t0 + 60_000 }, timeoutMs: 300_000, now: t0 + 60_000 });
    expect(later.status.lastHeartbeatTime).toBe('2026-03-01T10:01:00Z');
  });

  it('counts reported facts as joined even before the first Lease', () => {
    const j = judgeMember({ member: member({ agentVersion: '0.1.0' }), heartbeat: undefined, timeoutMs: 10_000, now: t0 });
    expect(conditions(j)).toMatchObject({ Joined: 'True/AgentReported', Ready: 'Unknown/NoHeartbeat' });
  });
});
