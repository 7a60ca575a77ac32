import { describe, expect, it } from '@jest/globals';
import { type LabelSelector, selectorMatches } from './selector.js';

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
    [
      'labels and expressions are ANDed',
      {
        matchLabels: { env: 'prod' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['silver'] }],
      },
      false,
    ],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it('treats a label with an empty value as present', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'edge', operator: 'Exists' }] }, { edge: '' })).toBe(true);
    expect(selectorMatches({ matchLabels: { edge: '' } }, { edge: '' })).toBe(true);
    expect(selectorMatches({ matchLabels: { edge: '' } }, {})).toBe(false);
  });
});
