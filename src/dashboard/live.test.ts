import { describe, expect, it } from '@jest/globals';
import { delayBeforeSend } from './live.js';

describe('delayBeforeSend', () => {
  it.each<[string, number | undefined, number, number]>([
    ['the first change goes out at once', undefined, 1000, 0],
    ['after a quiet spell, at once', 0, 1000, 0],
    ['within the interval, at its end', 900, 1000, 150],
    ['just sent, a whole interval', 1000, 1000, 250],
  ])('%s', (_name, last, now, delay) => {
    expect(delayBeforeSend(last, now, 250)).toBe(delay);
  });
});
