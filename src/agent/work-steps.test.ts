import { describe, expect, it } from '@jest/globals';
import type { Manifest, Work, WorkPolicy } from '../api/index.js';
import type { ApplyOutcome } from './applier.js';
import type { LocalCopy } from './local-copy.js';
import { effectiveApplyOptions, type InventoryEntry } from './plan.js';
import type { ManifestResult } from './status.js';
import { manifest } from '../work/testing.js';
import { soonest } from '../runtime/clock.js';
import type { HubDesired } from './work-set.js';
import {
  AUDIT_RESYNC_MS,
  AUDIT_STEPS,
  ENFORCE_STEPS,
  stepsFor,
  APPLY_RETRY_MS,
  HELD_RETRY_MS,
  applyDesired,
  applyRequeue,
  chooseDesired,
  CRD_WAIT_MS,
  initialState,
  labelNamespaces,
  labelPolicy,
  pruneDropped,
  recordApplied,
  recordIntent,
  reportStatus,
  runSteps,
  TRUST_RETRY_MS,
  type SetState,
  type WorkSteps,
} from './work-steps.js';

const options = effectiveApplyOptions(undefined);
const cfg = (name: string): Manifest => manifest('v1', 'ConfigMap', name, 'shop', { data: { a: '1' } });
const entry = (name: string): InventoryEntry => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name });
const policy: WorkPolicy = { mode: 'Enforce', namespaceSelector: { matchLabels: { team: 'a' } }, labels: { tier: 'gold' } } as WorkPolicy;
const work = { metadata: { name: 'web', namespace: 'flotilla-member-eu1' }, spec: {} } as unknown as Work;
const content = (manifests: Manifest[], extra: { policy?: WorkPolicy } = {}): HubDesired => ({
  state: 'Content',
  manifests,
  options,
  revision: 'r2',
  ...extra,
});
const stored: LocalCopy = {
  set: 'web',
  hubNamespace: 'flotilla-member-eu1',
  works: ['web'],
  revision: 'r1',
  options,
  complete: true,
  inventory: [entry('a'), entry('old')],
  unapplied: [],
  manifests: [cfg('a'), cfg('old')],
};
const result = (name: string, extra: Partial<ManifestResult> = {}): ManifestResult => ({
  identity: { group: '', kind: 'ConfigMap', version: 'v1', namespace: 'shop', name },
  applied: true,
  health: { status: 'Healthy', reason: 'Ready', message: '' },
  ...extra,
});
const outcome = (results: ManifestResult[], extra: Partial<ApplyOutcome> = {}): ApplyOutcome => ({
  results,
  unapplied: [],
  waiting: false,
  writes: 0,
  notes: [],
  heldByAnotherWork: false,
  ...extra,
});

/** A world that records what the steps ask of it, and answers as told. */
function world(answers: { outcome?: ApplyOutcome; pruned?: { remaining: InventoryEntry[]; errors: string[] }; labelled?: boolean } = {}) {
  const calls: string[] = [];
  const saved: LocalCopy[] = [];
  const pruneCalls: { candidates: string[]; basis: string }[] = [];
  const statuses: { revision: string; results: number; problem?: string; pruneFailures: readonly string[] }[] = [];
  const steps: WorkSteps = {
    hubNamespace: 'flotilla-member-eu1',
    resolveScope: () => undefined,
    expand: (_, own) => {
      calls.push('expand');
      return Promise.resolve({ manifests: own });
    },
    saveCopy: (copy) => {
      calls.push('save');
      saved.push(copy);
      return Promise.resolve();
    },
    intentSaved: () => {
      calls.push('intent-saved');
    },
    apply: () => {
      calls.push('apply');
      return Promise.resolve(answers.outcome ?? outcome([]));
    },
    audit: (manifests) => {
      calls.push('audit');
      return Promise.resolve(manifests.map((m) => result(m.metadata.name, { applied: false })));
    },
    prune: (_, __, candidates, basis) => {
      calls.push('prune');
      pruneCalls.push({ candidates: candidates.map((c) => c.name), basis });
      return Promise.resolve(answers.pruned ?? { remaining: [], errors: [] });
    },
    labelled: () => answers.labelled ?? false,
    labelNamespaces: (_, p) => {
      calls.push(`labels:${p === undefined ? 'remove' : 'apply'}`);
      return Promise.resolve([]);
    },
    reportStatus: (_, revision, results, problem, pruneFailures) => {
      calls.push('status');
      statuses.push({ revision, results: results.length, ...(problem ? { problem: problem.reason } : {}), pruneFailures });
      return Promise.resolve();
    },
  };
  return { steps, calls, saved, pruneCalls, statuses };
}

describe("the Work agent's reconcile chain", () => {
  describe('decisions', () => {
    it.each([
      [undefined, undefined, undefined],
      [5, undefined, 5],
      [undefined, 7, 7],
      [10, 3, 3],
    ])('soonest(%p, %p) is %p', (a, b, expected) => {
      expect(soonest(a, b)).toBe(expected);
    });

    it.each([
      ['a CRD on its way', { waiting: true, results: [result('a', { error: 'x' })], heldByAnotherWork: false }, CRD_WAIT_MS],
      [
        'an object the apiserver refused',
        { waiting: false, results: [result('a', { error: 'x' })], heldByAnotherWork: false },
        APPLY_RETRY_MS,
      ],
      [
        "a conflict with someone else's object (needs a change, not time)",
        { waiting: false, results: [result('a', { conflict: 'x' })], heldByAnotherWork: false },
        undefined,
      ],
      [
        'an object another Work holds (it may let go)',
        { waiting: false, results: [result('a', { conflict: 'x' })], heldByAnotherWork: true },
        HELD_RETRY_MS,
      ],
      ['everything applied', { waiting: false, results: [result('a')], heldByAnotherWork: false }, undefined],
    ])('an apply with %s asks for a visit after %p ms', (_, applied, expected) => {
      expect(applyRequeue(applied)).toBe(expected);
    });

    it.each<[string, HubDesired, LocalCopy['policy'], boolean, ReturnType<typeof labelPolicy>]>([
      ["the hub's policy", content([], { policy }), undefined, false, { policy }],
      ['the hub dropped the policy of a labelled set: remove', content([]), undefined, true, { policy: undefined }],
      ['the hub never had a policy: nothing', content([]), undefined, false, undefined],
      ['the hub unheard: the stored policy', { state: 'Unknown' }, { spec: policy, stamped: 0 }, true, { policy }],
      ['the hub unheard and no stored policy: never remove', { state: 'Unknown' }, undefined, true, undefined],
    ])('labels namespaces with %s', (_, desired, storedPolicy, labelled, expected) => {
      const enforced = { works: [], revision: '', options, manifests: [], ...(storedPolicy ? { policy: storedPolicy } : {}) };
      expect(labelPolicy(desired, enforced, labelled)).toEqual(expected);
    });
  });

  describe('chooseDesired', () => {
    it("enforces the hub's content, with the hub's Works as the copy's", async () => {
      const { steps } = world();
      const next = await chooseDesired(initialState('web', [work], content([cfg('a')]), stored), steps);
      expect(next.enforced).toEqual({ manifests: [cfg('a')], options, revision: 'r2', works: ['web'] });
    });
    it('enforces a complete local copy while the hub is not heard', async () => {
      const next = await chooseDesired(initialState('web', [], { state: 'Unknown' }, stored), world().steps);
      expect(next.enforced).toMatchObject({ manifests: stored.manifests, revision: 'r1', works: ['web'] });
    });
    it.each([
      ['no local copy', undefined],
      ['an unreadable local copy', { ...stored, manifests: undefined }],
      ['an inventory-only local copy', { ...stored, complete: false }],
    ])('enforces nothing with %s and the hub unheard', async (_, copy) => {
      expect((await chooseDesired(initialState('web', [], { state: 'Unknown' }, copy), world().steps)).enforced).toBeUndefined();
    });
  });

  describe('recordIntent', () => {
    it('saves the desired state and all it may create before anything is applied, then passes the crash point', async () => {
      const { steps, calls, saved } = world();
      const chosen = await chooseDesired(initialState('web', [work], content([cfg('a'), cfg('new')]), stored), steps);
      const next = await recordIntent(chosen, steps);
      expect(calls).toEqual(['expand', 'save', 'intent-saved']);
      expect(saved[0]?.inventory.map((e) => e.name)).toEqual(['a', 'new', 'old']);
      expect(saved[0]).toMatchObject({ revision: 'r2', manifests: [cfg('a'), cfg('new')] });
      expect(next.intended).toBe(saved[0]);
    });
    it('saves nothing when nothing is enforced', async () => {
      const { steps, calls } = world();
      await recordIntent(initialState('web', [], { state: 'Unknown' }, undefined), steps);
      expect(calls).toEqual([]);
    });
  });

  describe('applyDesired', () => {
    it('keeps the results and asks for the visit the outcome needs', async () => {
      const applied = outcome([result('a', { error: 'denied' })]);
      const { steps } = world({ outcome: applied });
      const state: SetState = {
        ...initialState('web', [work], content([cfg('a')]), stored),
        enforced: { manifests: [cfg('a')], options, revision: 'r2', works: ['web'] },
        requeueAfter: 60_000,
      };
      const next = await applyDesired(state, steps);
      expect({ results: next.results, requeueAfter: next.requeueAfter, outcome: next.outcome }).toEqual({
        results: applied.results,
        requeueAfter: APPLY_RETRY_MS,
        outcome: applied,
      });
    });
  });

  describe('pruneDropped', () => {
    const intendedState = async (desired: HubDesired, pruned?: { remaining: InventoryEntry[]; errors: string[] }) => {
      const w = world(pruned ? { pruned } : {});
      const chosen = await chooseDesired(initialState('web', [work], desired, stored), w.steps);
      return { w, state: await recordIntent(chosen, w.steps) };
    };
    it.each<[string, HubDesired, string]>([
      ["the hub's word", content([cfg('a')]), 'hub'],
      ["a local copy's word", { state: 'Unknown' }, 'local copy'],
    ])('prunes what the intent remembers and the desired state drops, on %s', async (_, desired, basis) => {
      const { w, state } = await intendedState(desired.state === 'Content' ? desired : desired);
      const next = await pruneDropped(state, w.steps);
      expect(w.pruneCalls).toEqual([{ candidates: desired.state === 'Content' ? ['old'] : [], basis }]);
      expect(next.unpruned).toEqual([]);
    });
    it('keeps what a prune was not let do, and tries again after TRUST_RETRY_MS', async () => {
      const { w, state } = await intendedState(content([cfg('a')]), { remaining: [entry('old')], errors: [] });
      const next = await pruneDropped(state, w.steps);
      expect({ unpruned: next.unpruned, requeueAfter: next.requeueAfter, failures: next.pruneFailures }).toEqual({
        unpruned: [entry('old')],
        requeueAfter: TRUST_RETRY_MS,
        failures: [],
      });
    });
    it('carries failed deletes as failures (retried with backoff), not as a timed visit', async () => {
      const { w, state } = await intendedState(content([cfg('a')]), { remaining: [entry('old')], errors: ['ConfigMap shop/old: denied'] });
      const next = await pruneDropped(state, w.steps);
      expect({ requeueAfter: next.requeueAfter, failures: next.pruneFailures }).toEqual({
        requeueAfter: undefined,
        failures: ['ConfigMap shop/old: denied'],
      });
    });
  });

  describe('recordApplied', () => {
    it('saves the intent less what was not applied, plus what was not pruned', async () => {
      const w = world({
        outcome: outcome([result('a'), result('new', { applied: false, error: 'x' })], { unapplied: ['ConfigMap/shop/new'] }),
      });
      const state = await runSteps(initialState('web', [work], content([cfg('a'), cfg('new')]), stored), w.steps, [
        chooseDesired,
        recordIntent,
        applyDesired,
      ]);
      await recordApplied({ ...state, unpruned: [entry('old')] }, w.steps);
      expect(w.saved[1]).toMatchObject({ unapplied: ['ConfigMap/shop/new'], inventory: [entry('a'), entry('new'), entry('old')] });
    });
  });

  describe('labelNamespaces', () => {
    it("adds the labels' results to the set's", async () => {
      const w = world();
      const next = await labelNamespaces(
        { ...initialState('web', [work], content([], { policy }), undefined), results: [result('a')] },
        w.steps,
      );
      expect({ calls: w.calls, results: next.results.length }).toEqual({ calls: ['labels:apply'], results: 1 });
    });
  });

  describe('reportStatus', () => {
    it("writes the status once, naming an unreadable set's problem", async () => {
      const w = world();
      const problem = { reason: 'MissingParts', message: 'part 1 of 2 missing', stalled: false };
      await reportStatus(initialState('web', [work], { state: 'Unreadable', problem }, undefined), w.steps);
      expect(w.statuses).toEqual([{ revision: '', results: 0, problem: 'MissingParts', pruneFailures: [] }]);
    });
    it('writes the status, then fails the reconcile over a failed prune', async () => {
      const w = world();
      await expect(
        reportStatus({ ...initialState('web', [work], content([]), undefined), pruneFailures: ['ConfigMap shop/old: denied'] }, w.steps),
      ).rejects.toThrow('prune failed for 1 object(s): ConfigMap shop/old: denied');
      expect(w.statuses).toHaveLength(1);
    });
  });

  it('runs desired → intent → apply → prune → applied → labels → status, in that order', async () => {
    const w = world();
    await runSteps(initialState('web', [work], content([cfg('a')], { policy }), stored), w.steps);
    expect(w.calls).toEqual(['expand', 'save', 'intent-saved', 'apply', 'prune', 'save', 'labels:apply', 'status']);
  });

  describe('Audit', () => {
    const audit = { ...policy, mode: 'Audit' } as WorkPolicy;

    it('takes the Audit chain only for hub content whose policy says Audit', () => {
      expect(stepsFor(content([cfg('a')], { policy: audit }))).toBe(AUDIT_STEPS);
      expect(stepsFor(content([cfg('a')], { policy }))).toBe(ENFORCE_STEPS);
      expect(stepsFor(content([cfg('a')]))).toBe(ENFORCE_STEPS);
      expect(stepsFor({ state: 'Unknown' })).toBe(ENFORCE_STEPS);
    });

    it('records the mode in the local copy, compares, and reports: it applies and prunes nothing', async () => {
      const w = world();
      const done = await runSteps(initialState('web', [work], content([cfg('a'), cfg('b')], { policy: audit }), stored), w.steps);
      expect(w.calls).toEqual(['save', 'expand', 'audit', 'labels:apply', 'status']);
      // The copy keeps what it enforced before (manifests, inventory), now marked Audit.
      expect(w.saved[0]).toEqual({ ...stored, policy: { spec: audit, stamped: 0 } });
      expect(w.statuses).toEqual([{ revision: 'r2', results: 2, pruneFailures: [] }]);
      expect(done.requeueAfter).toBe(AUDIT_RESYNC_MS);
    });

    it('saves no copy when there is none to mark', async () => {
      const w = world();
      await runSteps(initialState('web', [work], content([cfg('a')], { policy: audit }), undefined), w.steps);
      expect(w.saved).toEqual([]);
      expect(w.calls).toEqual(['expand', 'audit', 'labels:apply', 'status']);
    });
  });
});
