import { describe, expect, it } from '@jest/globals';
import { type LabelSelector, type SelectableCluster, selectClusters, selectorMatches } from './selection.js';

const labels = { env: 'prod', region: 'eu-west', tier: 'gold' };

describe('selectorMatches', () => {
  it.each<[string, LabelSelector, boolean]>([
    ['empty selector matches everything', {}, true],
    ['matchLabels all equal', { matchLabels: { env: 'prod', region: 'eu-west' } }, true],
    ['matchLabels one differs', { matchLabels: { env: 'prod', region: 'us-east' } }, false],
    ['matchLabels key absent', { matchLabels: { zone: 'a' } }, false],
    ['In with the value', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }, true],
    ['In without the value', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
    ['In on an absent key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn with the value', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    ['NotIn without the value', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn on an absent key holds', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists on an absent key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist on a present key', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, false],
    ['labels and expressions are ANDed', {
      matchLabels: { env: 'prod' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['silver'] }],
    }, false],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it('treats a label with an empty value as present', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'edge', operator: 'Exists' }] }, { edge: '' })).toBe(true);
    expect(selectorMatches({ matchLabels: { edge: '' } }, { edge: '' })).toBe(true);
    expect(selectorMatches({ matchLabels: { edge: '' } }, {})).toBe(false);
  });
});

describe('selectClusters', () => {
  const clusters: SelectableCluster[] = [
    { name: 'paris', labels: { env: 'prod', region: 'eu' } },
    { name: 'berlin', labels: { env: 'prod', region: 'eu' } },
    { name: 'ohio', labels: { env: 'prod', region: 'us' } },
    { name: 'lab', labels: { env: 'dev' } },
  ];

  it('selects by labels, sorted by name', () => {
    expect(selectClusters(clusters, { selector: { matchLabels: { region: 'eu' } } })).toEqual(['berlin', 'paris']);
  });

  it('adds named clusters whatever their labels', () => {
    expect(selectClusters(clusters, { selector: { matchLabels: { region: 'eu' } }, names: ['lab'] }))
      .toEqual(['berlin', 'lab', 'paris']);
  });

  it('never selects an excluded cluster, even when named', () => {
    expect(selectClusters(clusters, { selector: { matchLabels: { env: 'prod' } }, names: ['lab'], exclude: ['ohio', 'lab'] }))
      .toEqual(['berlin', 'paris']);
  });

  it('selects nothing without a selector or names, and everything with an empty selector', () => {
    expect(selectClusters(clusters, {})).toEqual([]);
    expect(selectClusters(clusters, { selector: null })).toEqual([]);
    expect(selectClusters(clusters, { selector: {} })).toEqual(['berlin', 'lab', 'ohio', 'paris']);
  });

  it('ignores names of clusters that do not exist', () => {
    expect(selectClusters(clusters, { names: ['tokyo', 'paris'] })).toEqual(['paris']);
  });
});
