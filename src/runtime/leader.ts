// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
//
// A held lease is judged by the *local* time at which we last saw its record change, never by
// comparing the holder's renewTime with our clock: clocks on two machines disagree, our own
// observation does not. Writes use optimistic concurrency (resourceVersion), so of two candidates
// racing for a free lease exactly one wins. Times are written as MicroTime (6 fraction digits).
//
// Kept under load: the Lease travels on a connection of its own (Kube.ownConnection), so no bulk
// request can hold the socket it needs, and the leader renews with one PUT of the Lease it last
// wrote (client-go's optimistic fast path), falling back to read-then-write only when that fails.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'winston';
import { sleep } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound, type Kube, type KubeObject } from './kube.js';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export const LeaseType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' } as const;

/** What we remember of the lease between tries. */
export interface Observation {
  /** The record as last read, compared whole to notice any change by another candidate. */
  record: LeaseSpec;
  /** Our clock when that record was first seen. */
  observedAt: number;
}

/** `2026-01-02T03:04:05.678000Z`: the apiserver parses MicroTime with exactly six fraction digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function sameRecord(a: LeaseSpec, b: LeaseSpec): boolean {
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    (a.leaseDurationSeconds ?? 0) === (b.leaseDurationSeconds ?? 0) &&
    (a.acquireTime ?? '') === (b.acquireTime ?? '') &&
    (a.renewTime ?? '') === (b.renewTime ?? '') &&
    (a.leaseTransitions ?? 0) === (b.leaseTransitions ?? 0)
  );
}

/** Updates the observation with a freshly read record: the clock only restarts when the record changed. */
export function observe(previous: Observation | undefined, record: LeaseSpec, now: number): Observation {
  if (previous && sameRecord(previous.record, record)) return previous;
  return { record, observedAt: now };
}

export type Judgement = 'free' | 'ours' | 'held';

/**
 * Who may hold the lease now: `held` while another identity's record has not changed for less
 * than its duration (by our observation), `ours` when we hold it, else `free`.
 */
export function judge(observation: Observation, identity: string, now: number): Judgement {
  const holder = observation.record.holderIdentity ?? '';
  if (holder === identity) return 'ours';
  if (holder === '') return 'free';
  const durationMs = (observation.record.leaseDurationSeconds ?? 0) * 1000;
  return observation.observedAt + durationMs > now ? 'held' : 'free';
}

/** The record to write when we take or keep the lease. */
export function nextRecord(current: LeaseSpec, identity: string, durationSeconds: number, now: number): LeaseSpec {
  const ours = (current.holderIdentity ?? '') === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: ours && current.acquireTime ? current.acquireTime : microTime(now),
    renewTime: microTime(now),
    leaseTransitions: ours ? (current.leaseTransitions ?? 0) : (current.leaseTransitions ?? 0) + (current.holderIdentity ? 1 : 0),
  };
}

export interface RenewalTiming {
  durationSeconds: number;
  renewDeadlineMs: number;
  retryMs: number;
}

/**
 * When a leader that last renewed at `lastRenewed` gives up. As client-go: a renewal round begins
 * one retry period after the last renewal and has the renew deadline to succeed. Counted from the
 * renewal itself rather than from when the round's timer fired, so a late timer (a busy event loop)
 * never stretches it; and never beyond the lease's duration, after which another may take it.
 */
export function renewalGivesUpAt(lastRenewed: number, timing: RenewalTiming): number {
  return lastRenewed + Math.min(timing.retryMs + timing.renewDeadlineMs, timing.durationSeconds * 1000);
}

/** One renewal round that did not renew, as the leader saw it. */
export interface FailedRound {
  /** From sending the renewal to giving up on it. */
  requestMs: number;
  /** The apiserver's or the connection's error; absent when the request was still unanswered at the deadline. */
  error?: string;
}

/**
 * Why a leader lost its lease, from the worst event-loop delay and the rounds that failed since its
 * last renewal: a busy event loop and an unanswered or failing renewal call for different remedies,
 * so the log must say which it was.
 */
export function describeLoss(sinceRenewalMs: number, worstEventLoopDelayMs: number, rounds: readonly FailedRound[]): string {
  const slowest = rounds.reduce((worst, r) => Math.max(worst, r.requestMs), 0);
  const errors = [...new Set(rounds.flatMap((r) => (r.error === undefined ? [] : [r.error])))];
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const causes = [
    ...(worstEventLoopDelayMs >= 1000 ? [`the event loop was blocked for up to ${seconds(worstEventLoopDelayMs)}`] : []),
    ...(rounds.some((r) => r.error === undefined) ? [`a renewal went unanswered for ${seconds(slowest)}`] : []),
    ...(errors.length > 0 ? [`renewals failed: ${errors.join('; ')}`] : []),
  ];
  const tried = `${rounds.length} renewal round${rounds.length === 1 ? '' : 's'} failed`;
  return `no renewal for ${seconds(sinceRenewalMs)}; ${tried}${causes.length > 0 ? `: ${causes.join('; ')}` : ''}`;
}

export interface LeaderElectionOptions {
  kube: Kube;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease stays valid without renewal (client-go default 15 s). */
  leaseDurationSeconds?: number;
  /** A renewal round's time to succeed before the leader gives up (default 10 s; see renewalGivesUpAt); < lease duration. */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  /** Hand the lease over at once on graceful shutdown instead of letting it expire (default true). */
  releaseOnCancel?: boolean;
  logger?: Logger;
  onLeading?(leading: boolean): void;
  /** Called after each successful renewal with the time since the previous one (exported as a metric). */
  onRenewed?(sincePreviousMs: number): void;
  /**
   * Asked before each renewal while leading: a reason not to renew now (the round then fails with
   * it, and the lease runs out as after any failed renewals), or undefined to renew. The leader
   * thread's way to let a wedged main thread's leadership lapse (leader-thread.ts).
   */
  withholdRenewal?(): string | undefined;
}

export type ElectionEnd = 'stopped' | 'lost';

export interface LeaderElector {
  isLeader(): boolean;
  /**
   * Campaigns until leading, then calls `lead` with a signal that aborts when leadership is lost or
   * `signal` aborts; renews meanwhile. Resolves `lost` when a renewal deadline passed (the caller
   * should exit, as client-go programs do), `stopped` after a graceful stop (lease released).
   */
  run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<ElectionEnd>;
}

// eslint-disable-next-line max-lines-per-function -- the election's observed record and timers are private state of this closure.
export function createLeaderElector(options: LeaderElectionOptions): LeaderElector {
  const { namespace, name, identity, logger } = options;
  const kube = options.kube.ownConnection();
  const durationSeconds = options.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryMs = options.retryPeriodMs ?? 2_000;
  if (renewDeadlineMs >= durationSeconds * 1000) throw new Error('renewDeadline must be shorter than the lease duration');
  const timing: RenewalTiming = { durationSeconds, renewDeadlineMs, retryMs };
  let observation: Observation | undefined;
  /** The Lease as we last wrote it, while we lead: the base of the next renewal. */
  let written: Lease | undefined;
  let leading = false;
  /** The last renewal request's error, for the round's record (see describeLoss). */
  let lastError: string | undefined;
  // Read through a call: TypeScript would narrow the variable across the awaits that set it.
  const takeLastError = (): string | undefined => lastError;

  const setLeading = (value: boolean): void => {
    if (leading === value) return;
    leading = value;
    options.onLeading?.(value);
  };

  const wrote = (lease: Lease, spec: LeaseSpec): true => {
    written = lease;
    observation = { record: lease.spec ?? spec, observedAt: Date.now() };
    return true;
  };

  /**
   * The leader's renewal as client-go makes it: one PUT of the Lease as we last wrote it, while our
   * own observation says it is still ours. False (then read and judge afresh) when anyone else
   * wrote it since (Conflict) or the write failed otherwise.
   */
  async function tryRenewOptimistically(signal: AbortSignal, now: number): Promise<boolean> {
    if (!leading || !written || !observation || observation.observedAt + durationSeconds * 1000 <= now) return false;
    const spec = nextRecord(written.spec ?? {}, identity, durationSeconds, now);
    try {
      return wrote(await kube.update<Lease>({ ...written, spec }, { signal }), spec);
    } catch (error) {
      if (!isConflict(error) && !signal.aborted) {
        lastError = String(error);
        logger?.warn('lease renewal failed; reading the lease again', { lease: `${namespace}/${name}`, error: lastError });
      }
      return false;
    }
  }

  /** One attempt; true when we hold the lease afterwards. Never throws for apiserver trouble. */
  async function tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    if (await tryRenewOptimistically(signal, now)) return true;
    if (signal.aborted) return false;
    written = undefined;
    let lease: Lease | null;
    try {
      lease = await kube.getOrNull<Lease>(LeaseType, name, namespace, { signal });
      if (!lease) {
        const spec = nextRecord({}, identity, durationSeconds, now);
        return wrote(await kube.create<Lease>({ ...LeaseType, metadata: { name, namespace }, spec }, { signal }), spec);
      }
      observation = observe(observation, lease.spec ?? {}, now);
      if (judge(observation, identity, now) === 'held') return false;
      const spec = nextRecord(lease.spec ?? {}, identity, durationSeconds, now);
      return wrote(await kube.update<Lease>({ ...lease, spec }, { signal }), spec);
    } catch (error) {
      // Lost a race (Conflict/AlreadyExists): someone else wrote first; judge again next round.
      if (!isConflict(error) && !isAlreadyExists(error) && !isAborted(signal)) {
        lastError = String(error);
        logger?.warn('lease acquire/renew failed', { lease: `${namespace}/${name}`, error: lastError });
      }
      return false;
    }
  }

  async function release(): Promise<void> {
    try {
      const lease = await kube.getOrNull<Lease>(LeaseType, name, namespace);
      if (!lease || (lease.spec?.holderIdentity ?? '') !== identity) return;
      const now = Date.now();
      // As client-go: an empty holder and a 1 s duration, so a successor needs not wait it out.
      await kube.update<Lease>({
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
      });
      logger?.info('released the leader lease', { lease: `${namespace}/${name}`, identity });
    } catch (error) {
      if (!isNotFound(error)) logger?.warn('could not release the leader lease', { lease: `${namespace}/${name}`, error: String(error) });
    }
  }

  /**
   * Renews every retry period until `signal` aborts (undefined) or renewals failed up to the
   * deadline or another holder took the lease (then why, for the log).
   */
  async function renewWhileLeading(signal: AbortSignal): Promise<string | undefined> {
    // The lease is valid from the time written into it, taken before the request is sent: a reply
    // processed late (a busy event loop) must not stretch it.
    let renewedAt = Date.now();
    let givesUpAt = renewalGivesUpAt(renewedAt, timing);
    let failed: FailedRound[] = [];
    // Stalls of the event loop, whenever they happen, for the loss's cause: those of the round that
    // last renewed are kept (a stall while its reply waited counts against the next deadline too).
    const stalls = monitorEventLoopDelay({ resolution: 20 });
    stalls.enable();
    let renewingRoundStallMs = 0;
    try {
      while (!isAborted(signal)) {
        await sleep(retryMs, signal).catch(() => undefined);
        if (isAborted(signal)) return undefined;
        const sent = Date.now();
        const attempt = new AbortController();
        const deadline = setTimeout(
          () => {
            attempt.abort(new Error('renew deadline'));
          },
          Math.max(1, givesUpAt - sent),
        );
        lastError = options.withholdRenewal?.();
        const renewed = lastError === undefined && (await tryAcquireOrRenew(AbortSignal.any([attempt.signal, signal])));
        clearTimeout(deadline);
        const now = Date.now();
        if (renewed) {
          options.onRenewed?.(sent - renewedAt);
          renewedAt = sent;
          givesUpAt = renewalGivesUpAt(sent, timing);
          failed = [];
          renewingRoundStallMs = stalls.max / 1e6;
          stalls.reset();
          continue;
        }
        const error = takeLastError();
        failed.push({ requestMs: now - sent, ...(error === undefined ? {} : { error }) });
        if (observation && judge(observation, identity, now) === 'held') return `${observation.record.holderIdentity ?? ''} holds it now`;
        if (now >= givesUpAt) return describeLoss(now - renewedAt, Math.max(renewingRoundStallMs, stalls.max / 1e6), failed);
      }
      return undefined;
    } finally {
      stalls.disable();
    }
  }

  /** Campaigns, leads and renews until stopped or lost (see LeaderElector.run). */
  async function runElection(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<ElectionEnd> {
    // Campaign.
    while (!signal.aborted) {
      if (await tryAcquireOrRenew(signal)) break;
      await sleep(retryMs * (1 + 0.2 * Math.random()), signal).catch(() => undefined);
    }
    if (signal.aborted) return 'stopped';
    logger?.info('became leader', { lease: `${namespace}/${name}`, identity });
    setLeading(true);
    const leadership = new AbortController();
    const onStop = (): void => {
      leadership.abort(new Error('stopping'));
    };
    signal.addEventListener('abort', onStop, { once: true });
    const work = lead(leadership.signal).catch((error: unknown) => {
      logger?.error('leader work failed', { error: String(error) });
    });
    const lossCause = await renewWhileLeading(signal);
    const end: ElectionEnd = lossCause === undefined ? 'stopped' : 'lost';
    signal.removeEventListener('abort', onStop);
    if (end === 'lost') logger?.error('lost the leader lease', { lease: `${namespace}/${name}`, identity, cause: lossCause });
    setLeading(false);
    leadership.abort(new Error(end === 'lost' ? 'leadership lost' : 'stopping'));
    await work;
    if (end === 'stopped' && (options.releaseOnCancel ?? true)) await release();
    return end;
  }

  return {
    isLeader: () => leading,
    async run(signal, lead) {
      try {
        return await runElection(signal, lead);
      } finally {
        kube.close();
      }
    },
  };
}

/** Read through a call: TypeScript narrows `signal.aborted` as if it could not change across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
