/**
 * Stays up under load: security headers, CORS allowlist, a shared rate limit, and load shedding.
 *  - @fastify/under-pressure: past the event-loop delay / utilization / heap thresholds every
 *    non-operational request is answered 503 + Retry-After at once (problem+json), instead of
 *    queueing work until the process dies; /readyz turns 503 too. /healthz is never shed.
 *  - At most PRESSURE_MAX_IN_FLIGHT requests per process at once; the excess gets 503 at once.
 *  - Priority shedding, earlier (PRESSURE_SHED_EVENT_LOOP_DELAY_MS): non-critical routes (score
 *    history, export, large lists) get 503 first and the score answers its last stored value with
 *    `stale: true`; health-data writes and cached reads keep flowing.
 * @see https://github.com/fastify/under-pressure
 */
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'
import cors from '@fastify/cors'
import underPressure from '@fastify/under-pressure'
import { corsOrigins } from '../config.js'
import { ServiceUnavailable } from '../domain/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** operational routes (probes, docs) are never limited or shed */
    operational?: boolean
    /** low: shed first under pressure */
    priority?: 'low'
  }
}

const LARGE_LIST = 100

/** The headers helmet sets for `options` (helmet's middleware run once against a recording response). */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
    getHeader: (name: string) => headers[name.toLowerCase()]
  }
  let failure: unknown
  helmet(options)({} as never, response as never, (error?: unknown) => void (failure = error))
  if (failure) throw failure
  return Object.freeze(headers) as Record<string, string>
}
/** a cold start (module loading, JIT, pools) keeps the event loop busy: judge pressure after it */
export const STARTUP_GRACE_MS = 5_000

export default fp<{ startupGraceMs?: number }>(
  async (fastify, opts) => {
    const config = fastify.appConfig
    const graceMs = opts.startupGraceMs ?? STARTUP_GRACE_MS
    // The headers do not depend on the request: helmet runs once, each reply gets its result.
    // Pages (Swagger UI at /docs) get helmet's full set without CSP (its inline bootstrap would
    // break under a strict one). JSON answers under /api get what the OWASP REST Security Cheat
    // Sheet lists for APIs (HSTS, nosniff, frame denial, referrer policy, CORP); the headers that
    // only matter when a response is rendered as a document (COOP, Origin-Agent-Cluster, DNS
    // prefetch, IE download options, Flash cross-domain policies, X-XSS-Protection) are left off.
    // @see https://cheatsheetseries.owasp.org/cheatsheets/REST_Security_Cheat_Sheet.html#security-headers
    const documentHeaders = helmetHeaders({ contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'same-site' } })
    const apiHeaders = helmetHeaders({
      contentSecurityPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-site' },
      xFrameOptions: { action: 'deny' },
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false
    })
    fastify.addHook('onRequest', (request, reply, done) => {
      reply.headers(request.url.startsWith('/api/') ? apiHeaders : documentHeaders)
      done()
    })
    const origins = corsOrigins(config)
    if (origins.length > 0) {
      await fastify.register(cors, {
        origin: origins,
        methods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match', 'X-Request-Id'],
        exposedHeaders: ['ETag', 'Location', 'Retry-After', 'Idempotent-Replayed', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
        maxAge: 600
      })
    }

    let readyAt = Number.POSITIVE_INFINITY
    fastify.addHook('onReady', async () => {
      readyAt = Date.now()
    })
    const inGrace = () => Date.now() - readyAt < graceMs
    await fastify.register(underPressure, {
      maxEventLoopDelay: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxEventLoopUtilization: config.PRESSURE_MAX_EVENT_LOOP_UTILIZATION,
      maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_BYTES,
      sampleInterval: 250,
      retryAfter: 5,
      pressureHandler: (request) => {
        if (request.routeOptions.config?.operational || inGrace()) return undefined
        fastify.metrics.shedRequests.inc({ reason: 'pressure' })
        return Promise.reject(new ServiceUnavailable('the service is overloaded; retry later', undefined, { 'retry-after': '5' }))
      }
    })

    const shedDelay = config.PRESSURE_SHED_EVENT_LOOP_DELAY_MS
    fastify.lifecycle.underPressure = () => (!inGrace() && fastify.isUnderPressure() ? 'overloaded' : null)
    fastify.lifecycle.shedding = () => !inGrace() && (fastify.isUnderPressure() || (shedDelay > 0 && fastify.memoryUsage().eventLoopDelay > shedDelay))

    // A backlog forms in the sockets long before the event loop lags: cap the requests one process
    // works on at once, and answer the excess 503 immediately instead of queueing it for seconds.
    let inFlight = 0
    const maxInFlight = config.PRESSURE_MAX_IN_FLIGHT
    // one callback hook for both checks (every request passes here: no promise per request)
    const release = () => inFlight--
    fastify.addHook('onRequest', (request, reply, done) => {
      inFlight++
      // emitted once per response: a plain listener (no once-wrapper per request), dropped with the response
      reply.raw.on('close', release)
      const config = request.routeOptions.config
      if (maxInFlight > 0 && inFlight > maxInFlight && !config?.operational && !inGrace()) {
        fastify.metrics.shedRequests.inc({ reason: 'pressure' })
        return done(new ServiceUnavailable('the service is at capacity; retry later', undefined, { 'retry-after': '1' }))
      }
      if (config?.operational || !fastify.lifecycle.shedding()) return done()
      const limit = Number((request.query as { limit?: unknown } | undefined)?.limit ?? 0)
      const low = config?.priority === 'low' || (request.method === 'GET' && limit > LARGE_LIST)
      if (!low) return done()
      fastify.metrics.shedRequests.inc({ reason: 'priority' })
      done(new ServiceUnavailable('busy: this non-critical request was shed; retry later', undefined, { 'retry-after': '5' }))
    })
  },
  { name: 'protection', dependencies: ['lifecycle', 'metrics'] }
)
