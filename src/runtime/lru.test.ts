import { describe, expect, it } from '@jest/globals';
import { createLruCache } from './lru.js';

describe('createLruCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = createLruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
  });

  it('forgets a deleted entry', () => {
    const cache = createLruCache<number>(2);
    cache.set('a', 1);
    cache.delete('a');
    expect([cache.get('a'), cache.size]).toEqual([undefined, 0]);
  });

  it('refuses a capacity below 1', () => {
    expect(() => createLruCache(0)).toThrow(RangeError);
  });
});
