import { describe, expect, it } from '@jest/globals';
import { selectClusters, type SelectableCluster } from './selection.js';

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
    expect(selectClusters(clusters, { selector: { matchLabels: { region: 'eu' } }, names: ['lab'] })).toEqual(['berlin', 'lab', 'paris']);
  });

  it('never selects an excluded cluster, even when named', () => {
    expect(selectClusters(clusters, { selector: { matchLabels: { env: 'prod' } }, names: ['lab'], exclude: ['ohio', 'lab'] })).toEqual([
      'berlin',
      'paris',
    ]);
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
