// HS256 JWTs minted inside k6, so a run needs only the shared secret, never a token service.
// Tokens are cached per VU (each VU is its own JS runtime, so this module state is per VU) and
// re-minted before expiry, which matters for the 1 h+ soak where a 1 h token would lapse mid-run.
import { hmac } from 'k6/crypto';
import { b64encode } from 'k6/encoding';
import { AUTH_JWT_AUDIENCE, AUTH_JWT_ISSUER, requireSecret } from './config.ts';

export type Role = 'user' | 'admin' | 'service';

const TTL_SECONDS = 3600;
// Re-mint when less than this is left, so no request ever carries a token about to expire.
const REFRESH_MARGIN_SECONDS = 300;
// iat slightly in the past: the load generator's clock may run ahead of the API's.
const CLOCK_SKEW_SECONDS = 30;

// Fixed admin identity for setup/teardown; `sub` must be a UUID for the API to accept it.
export const ADMIN_SUB = '00000000-0000-4000-8000-00000000ad01';

const HEADER = b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');

export function mintToken(sub: string, role: Role, ttlSeconds: number = TTL_SECONDS): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: { [k: string]: string | number } = {
    sub,
    role,
    iat: now - CLOCK_SKEW_SECONDS,
    exp: now + ttlSeconds,
  };
  if (AUTH_JWT_ISSUER !== '') claims.iss = AUTH_JWT_ISSUER;
  if (AUTH_JWT_AUDIENCE !== '') claims.aud = AUTH_JWT_AUDIENCE;
  const signingInput = `${HEADER}.${b64encode(JSON.stringify(claims), 'rawurl')}`;
  // Raw HMAC bytes, then base64url without padding, as RFC 7515 requires.
  const signature = hmac('sha256', requireSecret(), signingInput, 'binary');
  return `${signingInput}.${b64encode(signature, 'rawurl')}`;
}

interface Cached {
  token: string;
  exp: number;
}
const cache: { [key: string]: Cached } = {};

/** A valid token for `sub`, minted on first use by this VU and refreshed near expiry. */
export function tokenFor(sub: string, role: Role = 'user'): string {
  const key = `${role}:${sub}`;
  const now = Math.floor(Date.now() / 1000);
  const hit = cache[key];
  if (hit !== undefined && hit.exp - now > REFRESH_MARGIN_SECONDS) return hit.token;
  const token = mintToken(sub, role);
  cache[key] = { token, exp: now + TTL_SECONDS };
  return token;
}

export function adminToken(): string {
  return tokenFor(ADMIN_SUB, 'admin');
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
