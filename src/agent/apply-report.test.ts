import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/kube.js';
import { applyTally, objectEvent, reportedDrift, type ObjectNote } from './apply-report.js';
import type { ManifestResult } from './status.js';

const object: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'u1' } };
const result = (name: string, extra: Partial<ManifestResult> = {}): ManifestResult => ({
  identity: { group: 'apps', kind: 'Deployment', version: 'v1', namespace: 'shop', name },
  applied: true,
  health: { status: 'Healthy', reason: 'Ready', message: '' },
  ...extra,
});
const drift = (paths: string[], missing = false) => ({ drifted: true, missing, paths, count: paths.length });

describe('what an apply tells the spoke and the fleet', () => {
  it.each<[string, ObjectNote, { type: string; reason: string; message: string }]>([
    [
      'a corrected edit names the fields put back',
      { what: 'DriftCorrected', object, drift: drift(['spec.replicas']) },
      { type: 'Normal', reason: 'DriftCorrected', message: 'Put back as Work flotilla-member-eu1/web applies it; changed: spec.replicas' },
    ],
    [
      'a corrected edit of many fields names a few and counts the rest',
      { what: 'DriftCorrected', object, drift: { ...drift(['a', 'b', 'c', 'd', 'e', 'f']), count: 9 } },
      {
        type: 'Normal',
        reason: 'DriftCorrected',
        message: 'Put back as Work flotilla-member-eu1/web applies it; changed: a, b, c, d, e and 4 more',
      },
    ],
    [
      'a recreated object says it was deleted',
      { what: 'DriftCorrected', object, drift: drift([], true) },
      { type: 'Normal', reason: 'DriftCorrected', message: 'Put back as Work flotilla-member-eu1/web applies it; it was deleted' },
    ],
    [
      'a refused adoption is a warning with the reason',
      { what: 'AdoptionRefused', object, message: 'exists and is not managed by flotilla; adoption is Never' },
      {
        type: 'Warning',
        reason: 'AdoptionRefused',
        message: 'Not applying Work flotilla-member-eu1/web: exists and is not managed by flotilla; adoption is Never',
      },
    ],
    [
      "a failed apply is a warning with the apiserver's words",
      { what: 'ApplyFailed', object, message: 'admission webhook denied the request' },
      {
        type: 'Warning',
        reason: 'ApplyFailed',
        message: 'Applying Work flotilla-member-eu1/web failed: admission webhook denied the request',
      },
    ],
  ])('%s', (_, note, expected) => {
    expect(objectEvent(note, 'flotilla-member-eu1/web')).toEqual({ regarding: object, ...expected });
  });

  it.each<[string, ManifestResult[], ObjectNote[], ReturnType<typeof applyTally>]>([
    [
      'a clean apply is complete',
      [result('a'), result('b')],
      [],
      { complete: true, errors: { failed: 0, conflict: 0, refused: 0 }, corrected: 0 },
    ],
    [
      'corrections count, and still complete',
      [result('a')],
      [{ what: 'DriftCorrected', object, drift: drift(['x']) }],
      { complete: true, errors: { failed: 0, conflict: 0, refused: 0 }, corrected: 1 },
    ],
    [
      'errors count by reason and the set is not complete',
      [
        result('a', { applied: false, error: 'x' }),
        result('b', { applied: false, conflict: 'y' }),
        result('c', { applied: false, refused: 'z' }),
        result('d', { applied: false, conflict: 'w' }),
      ],
      [],
      { complete: false, errors: { failed: 1, conflict: 2, refused: 1 }, corrected: 0 },
    ],
    [
      'a manifest waiting for its CRD is not complete, nor an error',
      [result('a', { applied: false })],
      [],
      { complete: false, errors: { failed: 0, conflict: 0, refused: 0 }, corrected: 0 },
    ],
  ])('tallies %s', (_, results, notes, expected) => {
    expect(applyTally(results, notes)).toEqual(expected);
  });

  it('counts reported drift once when it appears, not on every reconcile, and again after it was gone', () => {
    const drifted = result('a', { drift: drift(['spec.replicas']) });
    const first = reportedDrift(new Set(), [drifted, result('b')]);
    expect(first.appeared).toBe(1);
    const again = reportedDrift(first.drifted, [drifted, result('b')]);
    expect(again.appeared).toBe(0);
    const gone = reportedDrift(again.drifted, [result('a'), result('b')]);
    expect([gone.appeared, gone.drifted.size]).toEqual([0, 0]);
    expect(reportedDrift(gone.drifted, [drifted]).appeared).toBe(1);
  });
});
