/**
 * Requests per principal per window (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW), shared by all
 * instances through Redis when REDIS_URL is set: keyed by the token's `sub`, or by IP for calls
 * without a valid token. 429 problem+json with Retry-After and the rate-limit headers. If Redis
 * fails, requests pass (skipOnError) and rate_limit_store_errors_total counts them.
 * Registered inside /api only: operational routes are never limited.
 */
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { createRequire } from 'node:module'
import type { FastifyRequest } from 'fastify'
import { durationMs } from '../config.js'
import { createRedis, waitReady } from './cache.js'

const require = createRequire(import.meta.url)
// the plugin's own Redis store (atomic INCR + PEXPIRE in Lua), wrapped to count store failures
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (...args: unknown[]) => {
  incr(key: string, cb: (err: Error | null, res: unknown) => void, timeWindow: number, max: number): void
  child(options: unknown): unknown
}

export default fp(
  async (fastify) => {
    const config = fastify.appConfig
    let store: unknown
    if (config.REDIS_URL) {
      const redis = createRedis(config.REDIS_URL, config, { name: 'health-tracker-ratelimit' })
      redis.on('error', () => {})
      if (!(await waitReady(redis))) fastify.log.warn('Redis is not reachable: rate limits pass until it is')
      fastify.addHook('onClose', async () => redis.disconnect())
      const metrics = fastify.metrics
      store = class CountingRedisStore extends RedisStore {
        constructor(params: { continueExceeding: boolean; exponentialBackoff: boolean }) {
          super(params.continueExceeding, params.exponentialBackoff, redis, 'ht-rl:')
        }
        override incr(key: string, cb: (err: Error | null, res: unknown) => void, timeWindow: number, max: number) {
          super.incr(key, (err, res) => {
            if (err) metrics.rateLimitStoreErrors.inc()
            cb(err, res)
          }, timeWindow, max)
        }
      }
    }
    await fastify.register(rateLimit, {
      global: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: durationMs(config.RATE_LIMIT_WINDOW),
      hook: 'onRequest',
      skipOnError: true,
      ...(store ? { store: store as never } : {}),
      keyGenerator: (request: FastifyRequest) => (request.principal ? `sub:${request.principal.sub}` : `ip:${request.ip}`),
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
