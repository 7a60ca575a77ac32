import { describe, expect, it } from '@jest/globals';
import { type LabelSelector, parseSelector, selectorMatches } from './selector.js';

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

describe('parseSelector', () => {
  it.each<[string, string, LabelSelector['matchExpressions']]>([
    ['empty selects everything', '', []],
    ['equality', 'env=prod', [{ key: 'env', operator: 'In', values: ['prod'] }]],
    ['double equals', 'env==prod', [{ key: 'env', operator: 'In', values: ['prod'] }]],
    ['inequality', 'env!=prod', [{ key: 'env', operator: 'NotIn', values: ['prod'] }]],
    ['set in, spaces kept out', 'tier in (gold, silver)', [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }]],
    ['set notin', 'tier notin (gold)', [{ key: 'tier', operator: 'NotIn', values: ['gold'] }]],
    ['exists', 'flotilla.dev/canary', [{ key: 'flotilla.dev/canary', operator: 'Exists' }]],
    ['does not exist', '!zone', [{ key: 'zone', operator: 'DoesNotExist' }]],
    [
      'terms are ANDed, commas inside ( ) belong to the set',
      'env=prod, tier in (a,b),!zone',
      [
        { key: 'env', operator: 'In', values: ['prod'] },
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'zone', operator: 'DoesNotExist' },
      ],
    ],
  ])('%s', (_name, text, expected) => {
    expect(parseSelector(text).matchExpressions).toEqual(expected);
  });

  it.each(['env=a=b', 'tier in gold', '=prod', 'a b'])('refuses %s, naming the term', (text) => {
    expect(() => parseSelector(text)).toThrow(/is not a label selector term/);
  });

  it('matches as kubectl -l does', () => {
    expect(selectorMatches(parseSelector('env=prod,tier in (gold),!zone'), labels)).toBe(true);
    expect(selectorMatches(parseSelector('env!=prod'), labels)).toBe(false);
  });
});
