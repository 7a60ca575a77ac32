import { describe, expect, it } from '@jest/globals';
import type { Condition as ApiCondition, MemberCluster, Work } from '../../api/index.js';
import { findCondition } from '../../runtime/index.js';
import {
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  heartbeatTimeoutMs,
  judgeMember,
  observeHeartbeat,
  renewalNeedsJudging,
  summarizeWorks,
} from './heartbeat.js';

const member = (status?: MemberCluster['status']): MemberCluster => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name: 'a', generation: 2 },
  spec: { fleet: 'f' },
  ...(status ? { status } : {}),
});

/** A Work at `generation` whose agent reported these conditions (type → status) for `observed`. */
const work = (name: string, reported: Record<string, ApiCondition['status']> = {}, generation = 3, observed = generation): Work => ({
  apiVersion: 'flotilla.dev/v1alpha1',
  kind: 'Work',
  metadata: { name, namespace: 'flotilla-member-a', generation },
  spec: { source: { kind: 'GlobalService', namespace: 'fleet-f', name, generation: 1, revision: 'r1' } },
  status: {
    observedGeneration: observed,
    conditions: Object.entries(reported).map(([type, status]) => ({
      type,
      status,
      reason: 'R',
      message: '',
      lastTransitionTime: '2026-03-01T09:00:00Z',
      observedGeneration: observed,
    })),
  },
});
const good = { Applied: 'True', Available: 'True', Degraded: 'False' } as const;
const bad = { Applied: 'True', Available: 'False', Degraded: 'True' } as const;
const noWorks = summarizeWorks([]);

const t0 = Date.parse('2026-03-01T10:00:00Z');
const renew = '2026-03-01T10:00:00.123456Z';

describe('heartbeatTimeoutMs', () => {
  it('falls back to the schema default', () => {
    expect(heartbeatTimeoutMs(undefined)).toBe(DEFAULT_HEARTBEAT_TIMEOUT_MS);
    expect(heartbeatTimeoutMs({ spec: { heartbeatTimeout: '15s' } })).toBe(15_000);
  });
});

describe('observeHeartbeat', () => {
  it('restarts the clock only when the renewTime changes', () => {
    const first = observeHeartbeat(undefined, renew, t0);
    expect(observeHeartbeat(first, renew, t0 + 9_000)).toBe(first);
    expect(observeHeartbeat(first, '2026-03-01T10:00:02.000000Z', t0 + 9_000)).toEqual({
      renewTime: '2026-03-01T10:00:02.000000Z',
      observedAt: t0 + 9_000,
    });
  });

  it('keeps a cluster lost across a restart of the hub until its Lease is renewed again', () => {
    const timeoutMs = 60_000;
    // The hub that saw the last renewal judged it missed and wrote that status.
    const lost = judgeMember({
      member: member(),
      heartbeat: observeHeartbeat(undefined, renew, t0),
      timeoutMs,
      now: t0 + timeoutMs + 1_000,
      works: noWorks,
    }).status;
    expect(findCondition(lost.conditions, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'HeartbeatMissed' });
    const judgedAfterRestart = (renewTime: string): MemberCluster['status'] => {
      const restartedAt = t0 + 10 * timeoutMs;
      const heartbeat = observeHeartbeat(undefined, renewTime, restartedAt, member(lost));
      return judgeMember({ member: member(lost), heartbeat, timeoutMs, now: restartedAt, works: noWorks }).status;
    };
    // A new hub process has no observation in memory: the same renewal is still missed, and nothing is written.
    expect(judgedAfterRestart(renew)).toEqual(lost);
    // A renewal it has not judged is a heartbeat, heard now.
    expect(findCondition(judgedAfterRestart('2026-03-01T10:09:00.000000Z')?.conditions, 'Ready')?.status).toBe('True');
    // A member that was healthy when the hub stopped: its clock starts at the first sight, as before.
    const healthy = member({ lastHeartbeatTime: '2026-03-01T10:00:00Z', conditions: [] });
    expect(observeHeartbeat(undefined, renew, t0 + 5, healthy)).toEqual({ renewTime: renew, observedAt: t0 + 5 });
  });
});

describe('renewalNeedsJudging', () => {
  const timeoutMs = 60_000;
  it.each([
    ['the first renewal this hub process hears', undefined, t0, true],
    ['a renewal while the previous is fresh (the scheduled recheck will see it)', { renewTime: renew, observedAt: t0 }, t0 + 59_999, false],
    ['a renewal just as the previous goes stale', { renewTime: renew, observedAt: t0 }, t0 + timeoutMs, true],
    ['a renewal long after the cluster was judged missed', { renewTime: renew, observedAt: t0 }, t0 + 10 * timeoutMs, true],
    ['a renewal of a cluster a restarted hub found already lost', { renewTime: renew, observedAt: Number.NEGATIVE_INFINITY }, t0, true],
  ])('%s: %s', (_, previous, now, expected) => {
    expect(renewalNeedsJudging(previous, now, timeoutMs)).toBe(expected);
  });

  it('agrees with judgeMember: a renewal it lets pass changes no judgement', () => {
    const previous = observeHeartbeat(undefined, renew, t0);
    const before = judgeMember({ member: member(), heartbeat: previous, timeoutMs, now: t0 + 30_000, works: noWorks }).status;
    const now = t0 + 30_000;
    expect(renewalNeedsJudging(previous, now, timeoutMs)).toBe(false);
    const renewed = observeHeartbeat(previous, '2026-03-01T10:00:30.000000Z', now);
    const after = judgeMember({ member: member(before), heartbeat: renewed, timeoutMs, now, works: noWorks });
    expect(after.status).toEqual(before);
    // ...and the recheck scheduled before the renewal finds it alive, and schedules the next.
    const recheck = judgeMember({ member: member(before), heartbeat: renewed, timeoutMs, now: t0 + timeoutMs + 250, works: noWorks });
    expect(findCondition(recheck.status.conditions, 'Ready')?.status).toBe('True');
    expect(recheck.recheckAfterMs).toBe(30_000 - 250);
  });
});

describe('summarizeWorks', () => {
  it.each<[string, Work[], ReturnType<typeof summarizeWorks>]>([
    ['no Works', [], { counts: { total: 0, applied: 0, available: 0, degraded: 0 }, degraded: [] }],
    ['healthy Works', [work('a', good), work('b', good)], { counts: { total: 2, applied: 2, available: 2, degraded: 0 }, degraded: [] }],
    ['a Work not reported yet', [work('a')], { counts: { total: 1, applied: 0, available: 0, degraded: 0 }, degraded: [] }],
    [
      'applied, still progressing',
      [work('a', { Applied: 'True', Available: 'False', Degraded: 'False' })],
      { counts: { total: 1, applied: 1, available: 0, degraded: 0 }, degraded: [] },
    ],
    [
      'Degraded Works, named in order',
      [work('z', bad), work('a', good), work('m', bad)],
      { counts: { total: 3, applied: 3, available: 1, degraded: 2 }, degraded: ['m', 'z'] },
    ],
    [
      'a report for an older generation counts as the agent made it: a new spec changes nothing on the cluster until applied',
      [work('a', bad, 4, 3), work('b', good, 4, 3)],
      { counts: { total: 2, applied: 2, available: 1, degraded: 1 }, degraded: ['a'] },
    ],
    [
      'Unknown is not True',
      [work('a', { Applied: 'Unknown', Available: 'Unknown', Degraded: 'Unknown' })],
      { counts: { total: 1, applied: 0, available: 0, degraded: 0 }, degraded: [] },
    ],
  ])('%s', (_what, works, expected) => {
    expect(summarizeWorks(works)).toEqual(expected);
  });
});

describe('judgeMember', () => {
  const conditions = (j: ReturnType<typeof judgeMember>): Record<string, string> =>
    Object.fromEntries(j.status.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

  it('waits for an agent that never reported', () => {
    const j = judgeMember({ member: member(), heartbeat: undefined, timeoutMs: 10_000, now: t0, works: noWorks });
    expect(conditions(j)).toEqual({
      Joined: 'False/AwaitingAgent',
      Healthy: 'Unknown/AwaitingAgent',
      Ready: 'False/AwaitingAgent',
      // kstatus: InProgress while the cluster joins.
      Reconciling: 'True/AwaitingAgent',
    });
    expect(j.recheckAfterMs).toBeUndefined();
    expect(j.status.observedGeneration).toBe(2);
  });

  it('is Ready while heartbeats arrive, and rechecks when the current one would go stale', () => {
    const j = judgeMember({
      member: member(),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0 + 4_000,
      works: noWorks,
    });
    expect(conditions(j)).toEqual({ Joined: 'True/AgentReported', Healthy: 'True/HeartbeatReceived', Ready: 'True/Ready' });
    expect(j.recheckAfterMs).toBe(6_000);
    expect(j.status.lastHeartbeatTime).toBe('2026-03-01T10:00:00Z');
  });

  it('turns Unknown with HeartbeatMissed once the timeout passed by the hub clock', () => {
    const j = judgeMember({
      member: member(),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0 + 10_000,
      works: noWorks,
    });
    expect(conditions(j)).toEqual({
      Joined: 'True/AgentReported',
      Healthy: 'Unknown/HeartbeatMissed',
      Ready: 'Unknown/HeartbeatMissed',
      // kstatus: Failed, not InProgress forever — the cluster comes back only when someone mends it.
      Stalled: 'True/HeartbeatMissed',
    });
    expect(findCondition(j.status.conditions, 'Ready')?.message).toBe(`no heartbeat within the timeout of 10s; last renewed at ${renew}`);
    expect(j.recheckAfterMs).toBeUndefined();
    // Judged again later while still silent: the same status, so no write.
    const later = judgeMember({
      member: member(j.status),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0 + 60_000,
      works: noWorks,
    });
    expect(later.status).toEqual(j.status);
  });

  it('keeps transition times and leaves the agent-owned facts and foreign conditions out', () => {
    const first = judgeMember({
      member: member(),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0,
      works: noWorks,
    });
    const again = judgeMember({
      member: member({
        ...first.status,
        agentVersion: '0.1.0',
        conditions: [
          ...first.status.conditions,
          { type: 'Custom', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
        ],
      }),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0 + 5_000,
      works: noWorks,
    });
    expect(again.status).toEqual(first.status);
  });

  it('never copies a steady heartbeat into status: a heartbeat that changes no judgement makes no write', () => {
    const base = judgeMember({
      member: member(),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 300_000,
      now: t0,
      works: noWorks,
    });
    const soon = judgeMember({
      member: member(base.status),
      heartbeat: { renewTime: '2026-03-01T10:00:30.000000Z', observedAt: t0 + 30_000 },
      timeoutMs: 300_000,
      now: t0 + 30_000,
      works: noWorks,
    });
    expect(soon.status.lastHeartbeatTime).toBe('2026-03-01T10:00:00Z');
    const later = judgeMember({
      member: member(base.status),
      heartbeat: { renewTime: '2026-03-01T10:01:00.000000Z', observedAt: t0 + 60_000 },
      timeoutMs: 300_000,
      now: t0 + 60_000,
      works: noWorks,
    });
    expect(later.status).toEqual(base.status);
  });

  it('counts reported facts as joined even before the first Lease', () => {
    const j = judgeMember({ member: member({ agentVersion: '0.1.0' }), heartbeat: undefined, timeoutMs: 10_000, now: t0, works: noWorks });
    expect(conditions(j)).toMatchObject({ Joined: 'True/AgentReported', Ready: 'Unknown/NoHeartbeat', Reconciling: 'True/NoHeartbeat' });
  });

  const alive = { heartbeat: { renewTime: renew, observedAt: t0 }, timeoutMs: 10_000, now: t0 + 4_000 };
  it.each<[string, Work[], string, string | RegExp]>([
    ['healthy Works keep it Ready', [work('a', good)], 'True/HeartbeatReceived', /heartbeats arrive/],
    [
      'one Degraded Work makes it unhealthy, by name',
      [work('a', good), work('web', bad)],
      'False/WorksDegraded',
      '1 of 2 Works are Degraded: web',
    ],
    [
      'names at most three, then how many more',
      ['e', 'a', 'd', 'b', 'c'].map((n) => work(n, bad)),
      'False/WorksDegraded',
      '5 of 5 Works are Degraded: a, b, c and 2 more',
    ],
    ['exactly three are all named', ['c', 'a', 'b'].map((n) => work(n, bad)), 'False/WorksDegraded', '3 of 3 Works are Degraded: a, b, c'],
    [
      'a Degraded report on an older generation holds until the agent reports the new one',
      [work('a', bad, 5, 4)],
      'False/WorksDegraded',
      '1 of 1 Works are Degraded: a',
    ],
  ])('%s', (_what, works, healthy, message) => {
    const j = judgeMember({ member: member(), ...alive, works: summarizeWorks(works) });
    expect(`${findCondition(j.status.conditions, 'Healthy')?.status}/${findCondition(j.status.conditions, 'Healthy')?.reason}`).toBe(
      healthy,
    );
    expect(findCondition(j.status.conditions, 'Healthy')?.message).toMatch(message);
    // Ready follows Healthy, with the same reason and words.
    expect(findCondition(j.status.conditions, 'Ready')).toMatchObject(
      healthy.startsWith('True')
        ? { status: 'True', reason: 'Ready' }
        : { status: 'False', reason: 'WorksDegraded', message: findCondition(j.status.conditions, 'Healthy')?.message },
    );
    // kstatus: Failed while a Work is Degraded, Current otherwise; never Reconciling once it heartbeats.
    expect(findCondition(j.status.conditions, 'Stalled')?.reason).toBe(healthy.startsWith('True') ? undefined : 'WorksDegraded');
    expect(findCondition(j.status.conditions, 'Reconciling')).toBeUndefined();
    expect(j.status.works).toEqual(summarizeWorks(works).counts);
    expect(j.recheckAfterMs).toBe(6_000);
  });

  it('lets a missed heartbeat win over Degraded Works, whose reports are stale by then', () => {
    const j = judgeMember({
      member: member(),
      heartbeat: { renewTime: renew, observedAt: t0 },
      timeoutMs: 10_000,
      now: t0 + 10_000,
      works: summarizeWorks([work('a', bad)]),
    });
    expect(conditions(j)).toMatchObject({ Healthy: 'Unknown/HeartbeatMissed', Ready: 'Unknown/HeartbeatMissed' });
    expect(j.status.works).toMatchObject({ total: 1, degraded: 1 });
  });

  it('recovers, flipping the transition time, and is stable when judged again', () => {
    const sick = judgeMember({ member: member(), ...alive, works: summarizeWorks([work('a', bad)]) });
    const well = judgeMember({ member: member(sick.status), ...alive, now: t0 + 5_000, works: summarizeWorks([work('a', good)]) });
    expect(conditions(well)).toMatchObject({ Healthy: 'True/HeartbeatReceived', Ready: 'True/Ready' });
    expect(findCondition(well.status.conditions, 'Healthy')?.lastTransitionTime).toBe('2026-03-01T10:00:05Z');
    const same = judgeMember({ member: member(sick.status), ...alive, now: t0 + 5_000, works: summarizeWorks([work('a', bad)]) });
    expect(same.status).toEqual(sick.status);
  });
});
