/**
 * Bearer JWT authentication: HS256 with AUTH_JWT_SECRET, or RS256/ES256 keys from AUTH_JWKS_URL.
 * `exp` is always checked, `iss`/`aud` where configured. The principal is { sub, role }.
 * Object-level checks live in `assertOwnsOrPrivileged`: another user's resource is a 404.
 * @see ../../shared/CONTRACT.md "Auth"
 */
import fp from 'fastify-plugin'
import { FifoCache } from './fifo-cache.js'
import { createSigner, createVerifier } from 'fast-jwt'
import buildGetJwks from 'get-jwks'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { Forbidden, NotFound, Unauthorized } from '../domain/errors.js'

export const ROLES = ['user', 'admin', 'service'] as const
export type Role = (typeof ROLES)[number]

export interface Principal {
  sub: string
  role: Role
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
    authError: Error | null
  }
  interface FastifyInstance {
    /** onRequest hook for /api routes: verifies the bearer token and sets request.principal */
    authenticate(request: FastifyRequest): Promise<void>
    /**
     * onRequest hook: like authenticate, but keeps the failure for `requireAuth` (so the rate limit
     * can key by IP first). A token verified before is recognized synchronously.
     */
    identify(request: FastifyRequest, reply: unknown, done: (error?: Error) => void): void
    requireAuth(request: FastifyRequest, reply: unknown, done: (error?: Error) => void): void
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface AuthOptions {
  config: Config
  jwtSecret?: string
}

type Verify = (token: string) => Promise<Record<string, unknown>>

function buildVerifier(opts: AuthOptions): Verify {
  const common = {
    allowedIss: opts.config.AUTH_JWT_ISSUER,
    allowedAud: opts.config.AUTH_JWT_AUDIENCE,
    requiredClaims: ['exp', 'sub']
  }
  if (opts.jwtSecret) {
    const verify = createVerifier({ ...common, key: opts.jwtSecret, algorithms: ['HS256'] })
    return async (token) => verify(token) as Record<string, unknown>
  }
  if (opts.config.AUTH_JWKS_URL) {
    const jwksUrl = new URL(opts.config.AUTH_JWKS_URL)
    const getJwks = buildGetJwks({ providerDiscovery: false, jwksPath: jwksUrl.pathname, max: 100, ttl: 600_000 })
    const verify = createVerifier({
      ...common,
      algorithms: ['RS256', 'ES256'],
      key: async (decoded: { header: { kid?: string; alg?: string } }) =>
        getJwks.getPublicKey({ kid: decoded.header.kid, alg: decoded.header.alg, domain: jwksUrl.origin })
    })
    return async (token) => (await verify(token)) as Record<string, unknown>
  }
  throw new Error('no token verification configured: set AUTH_JWT_SECRET or AUTH_JWKS_URL')
}

function challenge(error: string, description: string): Unauthorized {
  return new Unauthorized(description, undefined, {
    'www-authenticate': `Bearer realm="health-tracker", error="${error}", error_description="${description}"`
  })
}

export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const sub = claims.sub
  const role = claims.role ?? 'user'
  if (typeof sub !== 'string' || !UUID_RE.test(sub)) throw challenge('invalid_token', 'sub must be a user UUID')
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw challenge('invalid_token', 'unknown role')
  return { sub: sub.toLowerCase(), role: role as Role }
}

/**
 * Verified tokens, keyed by the token text itself, kept until their `exp` (and not before `nbf`):
 * a client sends the same token for many requests, and a Map lookup is cheaper than fast-jwt's own
 * cache, which hashes every token with SHA-256 first (and than an LRU's bookkeeping: first in,
 * first out is enough for tokens). Failures are never cached.
 */
export function cachedVerifier(verify: Verify, max = 10_000, now: () => number = Date.now): Verify & { peek(token: string): Record<string, unknown> | undefined } {
  const cache = new FifoCache<string, { claims: Record<string, unknown>; from: number; until: number }>({ maxEntries: max })
  const peek = (token: string) => {
    const hit = cache.get(token)
    if (!hit) return undefined
    const at = now()
    return at >= hit.from && at < hit.until ? hit.claims : undefined
  }
  const cached = async (token: string) => {
    const hit = peek(token)
    if (hit) return hit
    const claims = await verify(token)
    const { from, until } = validity(claims)
    if (until > now()) cache.set(token, { claims, from, until })
    return claims
  }
  return Object.assign(cached, { peek })
}

/** When verified claims may be used (ms since the epoch): from `nbf` (or always) until `exp` (or never, without one). */
export function validity(claims: Record<string, unknown>): { from: number; until: number } {
  return {
    from: typeof claims.nbf === 'number' ? claims.nbf * 1000 : 0,
    until: typeof claims.exp === 'number' ? claims.exp * 1000 : 0
  }
}

const BEARER_RE = /^Bearer\s+([A-Za-z0-9_\-.]+)$/

export default fp<AuthOptions>(
  async (fastify, opts) => {
    const verify = cachedVerifier(buildVerifier(opts))
    fastify.decorateRequest('principal', null)
    fastify.decorateRequest('authError', null)
    fastify.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization
      if (!header) {
        throw new Unauthorized('a bearer token is required', undefined, { 'www-authenticate': 'Bearer realm="health-tracker"' })
      }
      const match = BEARER_RE.exec(header)
      if (!match) throw challenge('invalid_request', 'Authorization must be "Bearer <JWT>"')
      let claims: Record<string, unknown>
      try {
        claims = await verify(match[1]!)
      } catch (error) {
        const code = (error as { code?: string }).code
        throw challenge('invalid_token', code === 'FAST_JWT_EXPIRED' ? 'the token has expired' : 'the token is invalid')
      }
      request.principal = principalFromClaims(claims)
    })
    // the principals of Authorization headers whose token verified, until the token's exp: the
    // common case (a client sending the same header again) is one lookup of the header as it
    // came, with no parsing and no promise; any other header is verified
    const byHeader = new FifoCache<string, { principal: Principal; from: number; until: number }>({ maxEntries: 10_000 })
    fastify.decorate('identify', (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) => {
      const header = request.headers.authorization
      const known = header ? byHeader.get(header) : undefined
      if (known) {
        const at = Date.now()
        if (at >= known.from && at < known.until) {
          request.principal = known.principal
          return done()
        }
      }
      fastify.authenticate(request).then(
        () => {
          const token = header ? BEARER_RE.exec(header)?.[1] : undefined
          const claims = token ? verify.peek(token) : undefined
          if (claims && request.principal) byHeader.set(header!, { principal: request.principal, ...validity(claims) })
          done()
        },
        (error: Error) => {
          request.authError = error
          done()
        }
      )
    })
    fastify.decorate('requireAuth', (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) => {
      if (request.authError) return done(request.authError)
      if (!request.principal) return done(new Unauthorized('a bearer token is required', undefined, { 'www-authenticate': 'Bearer realm="health-tracker"' }))
      done()
    })
  },
  { name: 'auth' }
)

export function isPrivileged(principal: Principal): boolean {
  return principal.role === 'admin' || principal.role === 'service'
}

/** A `user` reaches only its own resources; any other user's resource is a 404 (existence is not revealed). */
export function assertOwnsOrPrivileged(principal: Principal | null, userUuid: string, what = 'resource'): asserts principal is Principal {
  if (!principal) throw new Unauthorized('a bearer token is required')
  if (isPrivileged(principal)) return
  if (principal.sub !== userUuid.toLowerCase()) throw new NotFound(`${what} not found`)
}

export function assertPrivileged(principal: Principal | null): asserts principal is Principal {
  if (!principal) throw new Unauthorized('a bearer token is required')
  if (!isPrivileged(principal)) throw new Forbidden('only admin or service tokens may do this')
}

/** Mint a token (the dev CLI, the embedded start banner and tests). */
export function signToken(secret: string, claims: { sub: string; role?: Role; expiresInSeconds?: number; iss?: string; aud?: string }): string {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: (claims.expiresInSeconds ?? 3600) * 1000 })
  const payload: Record<string, unknown> = { sub: claims.sub, role: claims.role ?? 'user' }
  if (claims.iss) payload.iss = claims.iss
  if (claims.aud) payload.aud = claims.aud
  return sign(payload)
}
