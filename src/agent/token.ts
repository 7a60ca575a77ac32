// When the agent renews its hub token. ServiceAccount tokens are JWTs whose `iat` and `exp` claims
// say when they were issued and expire; the agent reads them (it does not verify them — the hub
// does) to plan its renewal, well before expiry.

export interface TokenLifetime {
  issuedAt: number; // ms since the epoch
  expiresAt: number; // ms since the epoch
}

/** Reads `iat` and `exp` from a JWT; undefined when the token is not a JWT with both. */
export function tokenLifetime(token: string): TokenLifetime | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return undefined;
    return { issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 };
  } catch {
    return undefined;
  }
}

export interface RefreshPolicy {
  /** Renew after this fraction of the token's lifetime (0 < f < 1); kubelet uses 0.8. */
  fraction: number;
  /** Renew this long after issue instead, when set and earlier (tests use it to force a rotation). */
  afterMs?: number;
}

/** When to renew a token (ms since the epoch); an unreadable token is renewed at once. */
export function refreshAt(token: string, policy: RefreshPolicy): number {
  const lifetime = tokenLifetime(token);
  if (!lifetime) return 0;
  const byFraction = lifetime.issuedAt + (lifetime.expiresAt - lifetime.issuedAt) * policy.fraction;
  return policy.afterMs === undefined ? byFraction : Math.min(byFraction, lifetime.issuedAt + policy.afterMs);
}
