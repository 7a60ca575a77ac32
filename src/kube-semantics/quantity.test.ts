import { describe, expect, it } from '@jest/globals';
import { formatQuantity, parseQuantity, quantitiesEqual, sumQuantities } from './quantity.js';

describe('quantitiesEqual', () => {
  it.each([
    ['0.5', '500m'],
    [0.5, '500m'],
    ['1Gi', '1073741824'],
    ['1Gi', 1073741824],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1e3', '1k'],
    ['1E3', '1000'],
    ['1M', '1000k'],
    ['100n', '0.1u'],
    ['.5', '500m'],
    ['1.', '1'],
    ['+1', '1'],
    ['0', '0m'],
    ['2Ei', '2305843009213693952'],
    ['1E', '1000P'],
    [0.1, '100m'],
  ])('%p equals %p', (a, b) => {
    expect(quantitiesEqual(a, b)).toBe(true);
    expect(quantitiesEqual(b, a)).toBe(true);
  });

  it.each([
    ['1', '2'],
    ['1Gi', '1G'],
    ['1m', '1M'],
    ['100m', '0.2'],
    ['-1', '1'],
    ['1Gi', 'banana'],
    ['1Xi', '1Xi'],
    ['', '0'],
    ['1e999', '1e999'],
    [true, '1'],
  ])('%p differs from %p', (a, b) => {
    expect(quantitiesEqual(a, b)).toBe(false);
  });

  it('refuses what is not a quantity', () => {
    for (const text of ['', ' 1', '1 Gi', '1..2', 'e3', '1Gib', 'NaN', 'Infinity']) expect(parseQuantity(text)).toBeUndefined();
    expect(parseQuantity(Number.NaN)).toBeUndefined();
    expect(parseQuantity(null)).toBeUndefined();
  });
});

describe('sumQuantities and formatQuantity', () => {
  it.each([
    [['7800m', '7800m'], 'DecimalSI', '15600m'],
    [['8', '8'], 'DecimalSI', '16'],
    [['31Gi', '31Gi'], 'BinarySI', '62Gi'],
    [['32Gi', '32Gi'], 'BinarySI', '64Gi'],
    [['128Mi', '0.5Gi'], 'BinarySI', '640Mi'],
    [['1G', '1Gi'], 'BinarySI', '2073741824'],
    [['100m', 0.25, 'not-a-quantity'], 'DecimalSI', '350m'],
    [[], 'DecimalSI', '0'],
    [[], 'BinarySI', '0'],
    [['1n', '1u'], 'DecimalSI', '1001n'],
    [['0.5Ki'], 'BinarySI', '512'],
  ] as const)('%p sums to %p as %p', (values, format, expected) => {
    expect(formatQuantity(sumQuantities(values), format)).toBe(expected);
  });

  it('rounds values finer than a nano unit up', () => {
    expect(formatQuantity({ numerator: 1n, denominator: 3n }, 'DecimalSI')).toBe('333333334n');
  });

  it('formats what it parses back to the same value', () => {
    for (const q of ['15600m', '62Gi', '3', '250u', '7n']) {
      expect(quantitiesEqual(formatQuantity(parseQuantity(q) ?? { numerator: -1n, denominator: 1n }, 'BinarySI'), q)).toBe(true);
    }
  });
});
