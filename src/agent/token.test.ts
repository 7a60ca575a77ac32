import { describe, expect, it } from '@jest/globals';
import { refreshAt, tokenLifetime } from './token.js';

const jwt = (claims: Record<string, unknown>): string =>
  ['{"alg":"RS256"}', JSON.stringify(claims), 'sig'].map((part, i) => (i < 2 ? Buffer.from(part).toString('base64url') : part)).join('.');

describe('token lifetime and refresh', () => {
  const token = jwt({ iat: 1000, exp: 4600, sub: 'system:serviceaccount:flotilla-member-a:flotilla-agent' });

  it('reads iat and exp', () => {
    expect(tokenLifetime(token)).toEqual({ issuedAt: 1_000_000, expiresAt: 4_600_000 });
  });

  it.each([
    ['not a jwt', 'opaque-token'],
    ['a payload that is not JSON', 'a.b.c'],
    ['no exp claim', jwt({ iat: 1 })],
  ])('answers undefined for %s', (_name, value) => {
    expect(tokenLifetime(value)).toBeUndefined();
  });

  it('renews after the fraction of the lifetime', () => {
    expect(refreshAt(token, { fraction: 0.8 })).toBe(1_000_000 + 3_600_000 * 0.8);
  });

  it('renews earlier when told to renew a fixed time after issue', () => {
    expect(refreshAt(token, { fraction: 0.8, afterMs: 5_000 })).toBe(1_005_000);
    expect(refreshAt(token, { fraction: 0.5, afterMs: 3_000_000 })).toBe(1_000_000 + 1_800_000);
  });

  it('renews an unreadable token at once', () => {
    expect(refreshAt('opaque', { fraction: 0.8 })).toBe(0);
  });
});
