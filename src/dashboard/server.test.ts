import { describe, expect, it } from '@jest/globals';
import { hostAllowed } from './server.js';

describe('hostAllowed (local mode answers only requests addressed to this machine)', () => {
  it.each<[string | undefined, string, boolean]>([
    ['127.0.0.1:8080', '127.0.0.1', true],
    ['localhost:8080', '127.0.0.1', true],
    ['[::1]:8080', '::1', true],
    ['localhost:9090', '127.0.0.1', false],
    ['evil.example:8080', '127.0.0.1', false],
    ['127.0.0.1.evil.example:8080', '127.0.0.1', false],
    [undefined, '127.0.0.1', false],
  ])('Host %s', (host, bound, allowed) => {
    expect(hostAllowed(host, bound, 8080)).toBe(allowed);
  });
});
