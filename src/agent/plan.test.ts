import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../runtime/kube.js';
import { stampOwnership, type WorkRef } from './ownership.js';
import {
  definedKind,
  effectiveApplyOptions,
  inventoryEntry,
  isEstablished,
  LIST_LOOKUP_AT,
  mergeInventory,
  namespacesToList,
  planManifest,
  pruneCandidates,
  type EffectiveApplyOptions,
} from './plan.js';
import { manifest } from '../work/testing.js';

const work: WorkRef = { namespace: 'flotilla-member-eu1', name: 'web' };
const defaults = effectiveApplyOptions(undefined);
const deployment = (replicas: number, extra: Record<string, unknown> = {}): KubeObject =>
  stampOwnership(manifest('apps/v1', 'Deployment', 'web', 'shop', { spec: { replicas, ...extra } }), work);
const live = (object: KubeObject, spec: Record<string, unknown>): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, uid: 'u1' },
  spec,
});

describe('effectiveApplyOptions', () => {
  it('fills in the schema defaults', () => {
    expect(defaults).toEqual({ driftPolicy: 'Correct', deletionPolicy: 'Delete', adoption: 'Never', force: false });
    expect(effectiveApplyOptions({ driftPolicy: 'Report' }).driftPolicy).toBe('Report');
  });
});

describe('planManifest', () => {
  const plan = (
    m: KubeObject,
    lastApplied: KubeObject | undefined,
    current: KubeObject | undefined,
    options: EffectiveApplyOptions = defaults,
  ) => planManifest({ manifest: m, lastApplied, live: current, work, options });

  it('creates an absent object without force', () => {
    expect(plan(deployment(2), undefined, undefined)).toEqual({ action: 'Apply', reason: 'Create', force: false });
  });

  it('skips an object that matches what was last applied', () => {
    const m = deployment(2);
    expect(plan(m, m, live(m, { replicas: 2, paused: false, strategy: { type: 'RollingUpdate' } }))).toEqual({ action: 'Skip' });
  });

  it('applies a changed manifest as an update, forcing only when the Work says so', () => {
    expect(plan(deployment(3), deployment(2), live(deployment(2), { replicas: 2 }))).toEqual({
      action: 'Apply',
      reason: 'Update',
      force: false,
    });
    expect(plan(deployment(3), deployment(2), live(deployment(2), { replicas: 2 }), { ...defaults, force: true })).toMatchObject({
      force: true,
    });
  });

  it('applies a manifest the agent has no record of even when the object already matches (SSA takes ownership)', () => {
    const m = deployment(2);
    expect(plan(m, undefined, live(m, { replicas: 2 }))).toEqual({ action: 'Apply', reason: 'Update', force: false });
  });

  it('corrects drift with force under Correct, and reports it under Report', () => {
    const m = deployment(2);
    expect(plan(m, m, live(m, { replicas: 5 }))).toEqual({
      action: 'Apply',
      reason: 'Correct',
      force: true,
      drift: { drifted: true, missing: false, paths: ['spec.replicas'], count: 1 },
    });
    expect(plan(m, m, undefined)).toEqual({
      action: 'Apply',
      reason: 'Correct',
      force: true,
      drift: { drifted: true, missing: true, paths: [], count: 0 },
    });
    const report = { ...defaults, driftPolicy: 'Report' as const };
    expect(plan(m, m, live(m, { replicas: 5 }), report)).toEqual({
      action: 'Report',
      drift: { drifted: true, missing: false, paths: ['spec.replicas'], count: 1 },
    });
    expect(plan(m, m, undefined, report)).toMatchObject({ action: 'Report', drift: { missing: true } });
  });

  it('does not treat fields the manifest leaves out as drift', () => {
    const m = stampOwnership(manifest('apps/v1', 'Deployment', 'web', 'shop', { spec: { paused: true } }), work);
    expect(plan(m, m, live(m, { paused: true, replicas: 7 }))).toEqual({ action: 'Skip' });
  });

  it('reports a conflict for a foreign object unless adoption allows it, adopting with force under Always', () => {
    const foreign: KubeObject = { ...manifest('apps/v1', 'Deployment', 'web', 'shop'), spec: { replicas: 1 } };
    expect(plan(deployment(2), undefined, foreign)).toMatchObject({ action: 'Conflict', message: expect.stringContaining('Never') });
    expect(plan(deployment(2), undefined, foreign, { ...defaults, adoption: 'Always' })).toEqual({
      action: 'Apply',
      reason: 'Adopt',
      force: true,
    });
    expect(plan(deployment(2), undefined, foreign, { ...defaults, adoption: 'IfNoConflict' })).toMatchObject({ action: 'Conflict' });
  });

  it('reports a conflict for an object another Work owns, under every policy', () => {
    const other = stampOwnership(manifest('apps/v1', 'Deployment', 'web', 'shop'), { namespace: work.namespace, name: 'api' });
    expect(plan(deployment(2), undefined, other, { ...defaults, adoption: 'Always' })).toMatchObject({
      action: 'Conflict',
      message: expect.stringContaining('/api'),
    });
  });
});

describe('inventory', () => {
  const ns = manifest('v1', 'Namespace', 'shop');
  const cm = manifest('v1', 'ConfigMap', 'cfg', 'shop');
  const deploy = manifest('apps/v1', 'Deployment', 'web', 'shop');
  const crd = manifest('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'gadgets.example.com');

  it('records cluster-scoped objects without a namespace', () => {
    expect(inventoryEntry(manifest('v1', 'Namespace', 'shop', 'ignored'))).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: 'shop' });
    expect(inventoryEntry(cm)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'cfg' });
  });

  it('merges by identity, ignoring the version, into a sorted list', () => {
    const merged = mergeInventory([inventoryEntry(deploy)], [inventoryEntry({ ...deploy, apiVersion: 'apps/v2' }), inventoryEntry(cm)]);
    expect(merged).toEqual([inventoryEntry(cm), inventoryEntry(deploy)]);
    expect(mergeInventory(merged, [])).toEqual(merged);
  });

  it('prunes what the desired manifests no longer name, dependents first', () => {
    const inventory = [ns, crd, cm, deploy].map((m) => inventoryEntry(m));
    expect(pruneCandidates(inventory, [cm])).toEqual([deploy, crd, ns].map((m) => inventoryEntry(m)));
    expect(pruneCandidates(inventory, [ns, crd, cm, deploy])).toEqual([]);
  });
});

describe('CRDs', () => {
  const crd = manifest('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'gadgets.example.com', undefined, {
    spec: { group: 'example.com', names: { kind: 'Gadget', plural: 'gadgets' } },
  });

  it('names the kind a CRD defines', () => {
    expect(definedKind(crd)).toBe('Gadget.example.com');
    expect(definedKind(manifest('v1', 'ConfigMap', 'x', 'y'))).toBeUndefined();
  });

  it('is Established only with the condition True', () => {
    expect(isEstablished(crd)).toBe(false);
    expect(isEstablished({ ...crd, status: { conditions: [{ type: 'Established', status: 'False' }] } })).toBe(false);
    expect(isEstablished({ ...crd, status: { conditions: [{ type: 'Established', status: 'True' }] } })).toBe(true);
  });
});

describe('namespacesToList', () => {
  const misses = (namespace: string, count: number): { namespace: string }[] => Array.from({ length: count }, () => ({ namespace }));
  it.each([
    ['no misses', [], []],
    ['a few in one namespace: a GET each', misses('shop', LIST_LOOKUP_AT - 1), []],
    ['many in one namespace: one list', misses('shop', LIST_LOOKUP_AT), ['shop']],
    ['many cluster-scoped: one cluster-wide list', misses('', 500), ['']],
    ['only the namespaces with many, sorted', [...misses('web', 20), ...misses('db', 2), ...misses('api', LIST_LOOKUP_AT)], ['api', 'web']],
    ['a few in each of many namespaces: GETs, not lists', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].flatMap((ns) => misses(ns, 2)), []],
  ])('%s', (_name, input, expected) => {
    expect(namespacesToList(input)).toEqual(expected);
  });
});
