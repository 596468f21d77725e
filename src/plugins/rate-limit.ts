/**
 * Requests per principal per window (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW), shared by all
 * instances through Redis when REDIS_URL is set (rate-limit-store.ts: counted locally and flushed
 * every 100 ms, exact near the limit): keyed by the token's `sub`, or by IP for calls
 * without a valid token. 429 problem+json with Retry-After and the rate-limit headers. If Redis
 * fails, requests pass (skipOnError) and rate_limit_store_errors_total counts them.
 * Registered inside /api only: operational routes are never limited.
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import { durationMs } from '../config.js'
import { createRedis, waitReady } from './cache.js'
import { LocalFirstRedisStore } from './rate-limit-store.js'
import type { Principal } from './auth.js'

export default fp(
  async (fastify) => {
    const config = fastify.appConfig
    let store: unknown
    if (config.REDIS_URL) {
      const redis = createRedis(config.REDIS_URL, config, { name: 'health-tracker-ratelimit' })
      redis.on('error', () => {})
      if (!(await waitReady(redis))) fastify.log.warn('Redis is not reachable: rate limits pass until it is')
      const metrics = fastify.metrics
      const stores: LocalFirstRedisStore[] = []
      // counted locally and sent to Redis by a flush every 100 ms (a key far from its limit at most
      // 5 s after its first count); near the limit every request asks Redis
      store = class SharedStore extends LocalFirstRedisStore {
        constructor() {
          super(redis, 'ht-rl:', { flushMs: 100, onError: () => metrics.rateLimitStoreErrors.inc() })
          stores.push(this)
        }
      }
      fastify.addHook('onClose', async () => {
        // what this process counted still counts for the other processes (errors are reported by the store)
        for (const s of stores) s.close()
        if (redis.status === 'ready') await Promise.all(stores.map((s) => s.flush()))
        redis.disconnect()
      })
    }
    // a principal (one per token, kept with the verified token) keeps its key: the same string on
    // every request, whose hash V8 computes once, instead of a new string to hash each time
    const principalKeys = new WeakMap<Principal, string>()
    const principalKey = (principal: Principal): string => {
      let key = principalKeys.get(principal)
      if (key === undefined) principalKeys.set(principal, (key = `sub:${principal.sub}`))
      return key
    }
    await fastify.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: durationMs(config.RATE_LIMIT_WINDOW),
      hook: 'onRequest',
      skipOnError: true,
      // the rate-limit headers go with a 429 (the contract), not with every answer: three headers
      // less on each of the many small reads a mobile client makes
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      ...(store ? { store: store as never } : {}),
      keyGenerator: (request: FastifyRequest) => (request.principal ? principalKey(request.principal) : `ip:${request.ip}`),
      onExceeded: () => fastify.metrics.rateLimited.inc(),
      errorResponseBuilder: (_request, context) => {
        const error = new Error(`rate limit exceeded: ${context.max} requests per ${config.RATE_LIMIT_WINDOW}; retry in ${context.after}`) as Error & { statusCode: number }
        error.statusCode = context.statusCode
        return error
      }
    })
  },
  { name: 'rate-limit', dependencies: ['metrics'] }
)
