/**
 * Operational routes, outside /api and never rate-limited: liveness, readiness, the OpenAPI document.
 * Readiness is 200 when the database answers and migrations are current; Redis down reports
 * "degraded" but stays ready; draining (SIGTERM) is 503.
 * @see ../../shared/CONTRACT.md "Operations"
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { pendingMigrations } from '../../db/migrate.js'

const Readiness = Type.Object({
  status: Type.String({ description: 'ok | degraded | draining | unavailable' }),
  checks: Type.Record(Type.String(), Type.String())
})

const opsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  let migrationsCurrent = false

  fastify.get('/healthz', {
    schema: { tags: ['operations'], summary: 'liveness: the process is serving', response: { 200: Type.Object({ status: Type.String() }) } },
    config: { operational: true }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' }
  })

  fastify.get('/readyz', {
    schema: { tags: ['operations'], summary: 'readiness: database answers and migrations are current', response: { 200: Readiness, 503: Readiness } },
    config: { operational: true }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    const checks: Record<string, string> = {}
    if (fastify.lifecycle.draining) {
      return reply.code(503).header('retry-after', '5').send({ status: 'draining', checks: { lifecycle: 'draining' } })
    }
    let ready = true
    try {
      await fastify.db.ping()
      checks.database = 'ok'
      if (!migrationsCurrent) migrationsCurrent = (await pendingMigrations(fastify.db.writer)).length === 0
      checks.migrations = migrationsCurrent ? 'ok' : 'pending'
      ready = migrationsCurrent
    } catch {
      checks.database = 'unreachable'
      ready = false
    }
    const pressure = fastify.lifecycle.underPressure()
    if (pressure) {
      checks.pressure = pressure
      ready = false
    }
    checks.cache = await fastify.cache.health()
    const degraded = checks.cache === 'down'
    if (!ready) return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', checks })
    return { status: degraded ? 'degraded' : 'ok', checks }
  })

  fastify.get('/openapi.json', {
    schema: { hide: true },
    config: { operational: true }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    return fastify.swagger()
  })
}

export default opsRoutes
