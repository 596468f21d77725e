/**
 * The application as a plugin: shared resources first, then routes, then the error and 404
 * handlers. server.ts, the worker, the Lambda handler and the tests all build it with the same options.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'
import { createMetrics, type Metrics } from './metrics.js'
import authPlugin from './plugins/auth.js'
import cachePlugin from './plugins/cache.js'
import { generationChannel } from './plugins/generation-feed.js'
import dbPlugin from './plugins/db.js'
import errorsPlugin from './plugins/errors.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import metricsPlugin from './plugins/metrics.js'
import swaggerPlugin from './plugins/swagger.js'
import idempotencyPlugin from './plugins/idempotency.js'
import rejectionsPlugin from './plugins/rejections.js'
import workerPlugin from './plugins/worker.js'
import httpCachePlugin from './plugins/http-cache.js'
import protectionPlugin from './plugins/protection.js'
import auditPlugin from './plugins/audit.js'
import writeBatchPlugin from './plugins/write-batch.js'
import apiRoutes from './routes/api/index.js'
import opsRoutes from './routes/ops.js'
import { validatorCompiler } from './validation.js'
import { ecsFormat } from '@elastic/ecs-pino-format'

export interface AppOptions {
  config: Config
  /** the resolved writer URL (DATABASE_URL, or the embedded server's) */
  databaseUrl: string
  jwtSecret?: string
  /** null: do not serve /metrics on its own port (tests scrape the registry directly) */
  metricsPort?: number | null
  metrics?: Metrics
  /** how long after start load shedding stays off (default 10 s; tests set 0) */
  pressureGraceMs?: number
}

function operationId(method: string, url: string): string {
  const words = url.split(/[/_-]/).filter((w) => w && w !== 'api').map((w) => (w.startsWith(':') ? `by ${w.slice(1)}` : w))
  const camel = [method.toLowerCase(), ...words].join(' ').replace(/\s+(\w)/g, (_m, c: string) => c.toUpperCase())
  return camel.replace(/[^A-Za-z0-9]/g, '')
}

declare module 'fastify' {
  interface FastifyInstance {
    appConfig: Config
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/

/** Fastify options the server and the tests share. */
export function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: loggerOptions(config),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID()
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    trustProxy: parseTrustProxy(config.TRUST_PROXY),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } }
  } as FastifyServerOptions
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/** pino: JSON (or Elastic Common Schema); tokens and health values never reach a log line. */
export function loggerOptions(config: Config): Record<string, unknown> {
  const base: Record<string, unknown> = {
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'body', 'req.body', 'res.body'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; routeOptions?: { url?: string }; ip?: string; headers: Record<string, unknown> }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        route: req.routeOptions?.url,
        remoteAddress: req.ip,
        userAgent: req.headers['user-agent']
      })
    }
  }
  // ECS for an ELK stack; it brings its own req/res field mapping
  return config.LOG_FORMAT === 'ecs' ? { ...base, serializers: undefined, ...ecsFormat({ convertReqRes: true, apmIntegration: false }) } : base
}

const app: FastifyPluginAsync<AppOptions> = async (fastify: FastifyInstance, opts) => {
  const { config } = opts
  fastify.decorate('appConfig', config)
  fastify.setValidatorCompiler(validatorCompiler)
  // hooks on every request are callbacks, not async functions: no promise and no microtask hop each
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    // draining: tell keep-alive clients (and the load balancer) to reconnect elsewhere
    if (fastify.lifecycle.draining) reply.header('connection', 'close')
    done()
  })
  fastify.addHook('onRoute', (route) => {
    // OpenAPI: a stable operationId, a description and the bearer requirement on every /api operation
    const schema = { ...(route.schema ?? {}) } as Record<string, unknown>
    if (schema.hide || route.method === 'HEAD') return
    schema.operationId ??= operationId(String(route.method), route.url)
    if (schema.summary && !schema.description) schema.description = schema.summary
    if (route.url.startsWith('/api')) schema.security = [{ bearerAuth: [] }]
    route.schema = schema as typeof route.schema
  })

  await fastify.register(lifecyclePlugin)
  await fastify.register(errorsPlugin)
  const metrics = opts.metrics ?? createMetrics()
  await fastify.register(dbPlugin, {
    config,
    writerUrl: opts.databaseUrl,
    readerUrl: config.DATABASE_READ_URL,
    observe: (pool, operation, seconds) => metrics.dbQueryDuration.observe({ pool, operation }, seconds)
  })
  await fastify.register(metricsPlugin, { metrics, port: opts.metricsPort === undefined ? config.METRICS_PORT : opts.metricsPort })
  // processes on one database share users, so they share one generation channel
  await fastify.register(cachePlugin, { config, channel: generationChannel(opts.databaseUrl) })
  await fastify.register(protectionPlugin, { startupGraceMs: opts.pressureGraceMs })
  await fastify.register(authPlugin, { config, jwtSecret: opts.jwtSecret })
  await fastify.register(httpCachePlugin)
  await fastify.register(swaggerPlugin)
  await fastify.register(idempotencyPlugin)
  await fastify.register(auditPlugin)
  await fastify.register(rejectionsPlugin)
  await fastify.register(workerPlugin, { enabled: config.WORKER_ENABLED })
  await fastify.register(writeBatchPlugin, { enabled: config.HTTP_WRITE_BATCH })

  await fastify.register(opsRoutes)
  await fastify.register(apiRoutes, { prefix: '/api' })
}

// not encapsulated: the decorators (db, cache, metrics, ...) are visible to the server, worker and tests
export default fp(app, { name: 'health-tracker', fastify: '5.x' })
