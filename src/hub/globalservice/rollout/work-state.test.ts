import { describe, expect, it } from '@jest/globals';
import type { Work } from '../../../api/index.js';
import { revisionSinceAnnotation } from '../../../work/objects.js';
import { PROBLEM_LIMIT, workRolloutState } from './work-state.js';

const condition = (type: string, status: 'True' | 'False', message = 'm') => ({
  type,
  status,
  reason: 'R',
  message,
  lastTransitionTime: '2025-01-01T00:00:00Z',
});

function work(status: Work['status'], generation = 2, annotations: Record<string, string> = {}): Work {
  return {
    apiVersion: 'flotilla.dev/v1alpha1',
    kind: 'Work',
    metadata: { name: 'gs-web', namespace: 'flotilla-member-a', generation, annotations },
    spec: { source: { kind: 'GlobalService', namespace: 'fleet-a', name: 'web', generation: 1, revision: 'r2' }, manifests: [] },
    ...(status ? { status } : {}),
  };
}

describe('workRolloutState', () => {
  it('knows no revision without a Work', () => {
    expect(workRolloutState(undefined)).toEqual({ available: false, degraded: false, drifted: false });
  });
  it('counts Available only when the applied revision is the Work revision', () => {
    const available = [condition('Available', 'True')];
    expect(workRolloutState(work({ observedGeneration: 2, appliedRevision: 'r2', conditions: available })).available).toBe(true);
    expect(workRolloutState(work({ observedGeneration: 2, appliedRevision: 'r1', conditions: available })).available).toBe(false);
    expect(
      workRolloutState(work({ observedGeneration: 2, appliedRevision: 'r2', conditions: [condition('Available', 'False')] })).available,
    ).toBe(false);
  });
  it('ignores a Degraded condition written for an older generation', () => {
    const degraded = [condition('Degraded', 'True')];
    expect(workRolloutState(work({ observedGeneration: 2, conditions: degraded })).degraded).toBe(true);
    expect(workRolloutState(work({ observedGeneration: 1, conditions: degraded })).degraded).toBe(false);
  });
  const failed = '1 of 2 manifests failed: ConfigMap/gone/x: apply failed: namespaces "gone" not found';
  const unhealthy = '1 of 2 manifests not healthy: Deployment.apps/web/api: not applied yet';
  it.each<[string, Work['status'], string | undefined]>([
    [
      'the Degraded message of a Degraded Work',
      { observedGeneration: 2, conditions: [condition('Available', 'False', unhealthy), condition('Degraded', 'True', failed)] },
      failed,
    ],
    [
      'the Available message of a Work not yet Available',
      { observedGeneration: 2, conditions: [condition('Available', 'False', unhealthy), condition('Degraded', 'False')] },
      unhealthy,
    ],
    [
      'nothing from an Available Work',
      {
        observedGeneration: 2,
        appliedRevision: 'r2',
        conditions: [condition('Available', 'True', 'all healthy'), condition('Degraded', 'False')],
      },
      undefined,
    ],
    [
      'nothing from a status of an older generation',
      { observedGeneration: 1, conditions: [condition('Degraded', 'True', failed)] },
      undefined,
    ],
    ['nothing from a Work the agent has not reported on', undefined, undefined],
    ['nothing from an empty message', { observedGeneration: 2, conditions: [condition('Degraded', 'True', '')] }, undefined],
  ])('reads as the problem %s', (_name, status, problem) => {
    expect(workRolloutState(work(status)).problem).toBe(problem);
  });
  it('bounds the problem whatever the agent wrote', () => {
    const problem =
      workRolloutState(work({ observedGeneration: 2, conditions: [condition('Degraded', 'True', 'x'.repeat(40_000))] })).problem ?? '';
    expect(problem).toHaveLength(PROBLEM_LIMIT);
    expect(problem.endsWith('…')).toBe(true);
  });
  it('reads drift and when the hub set the revision', () => {
    const state = workRolloutState(
      work({ conditions: [condition('Drifted', 'True')] }, 2, { [revisionSinceAnnotation]: '2025-01-02T03:04:05Z' }),
    );
    expect(state).toMatchObject({ revision: 'r2', drifted: true, revisionSince: Date.parse('2025-01-02T03:04:05Z') });
  });
});
