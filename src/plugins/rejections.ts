/**
 * Records every rejected single health-data request (400/422) in the ingest-rejection log and the
 * ingest_rejections_total metric, before the answer is sent. Batch items are
 * logged by the batch service inside its transaction. Only field paths reach the log line.
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { insertRejections, loggedSource } from '../repositories/rejections.js'
import { addRouteHook } from './route-hooks.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the health resource a route writes; its 400/422 answers are logged as ingest rejections */
    resource?: string
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export default fp(
  async (fastify) => {
    // onSend, not onResponse: the rejection is durable before the client hears of it, so a
    // client that erases its data right after never races a late insert. Attached to the
    // health-data routes only (their config names the resource), as a callback hook: answers that
    // are not rejections pass synchronously, without a promise.
    const onSend = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => {
      const problem = request.problem
      if ((reply.statusCode !== 400 && reply.statusCode !== 422) || !problem) return done(null, payload)
      record(request, reply, problem).then(() => done(null, payload), (error: Error) => done(error))
    }
    fastify.addHook('onRoute', (route) => {
      if ((route.config as { resource?: string } | undefined)?.resource) addRouteHook(route, 'onSend', onSend)
    })
    async function record(request: FastifyRequest, reply: FastifyReply, problem: NonNullable<FastifyRequest['problem']>): Promise<void> {
      const resource = request.routeOptions.config?.resource
      if (!resource || reply.getHeader('idempotent-replayed')) return
      const reason = reply.statusCode === 400 ? 'validation' : 'implausible'
      const body = (request.body ?? {}) as Record<string, unknown>
      const params = (request.params ?? {}) as Record<string, unknown>
      const claimed = [body.user_uuid, params.user_uuid].find((u) => typeof u === 'string' && UUID_RE.test(u)) as string | undefined
      // a `user` can only ever write its own data: log against its own id, never a name it typed
      const userUuid = request.principal?.role === 'user' ? request.principal.sub : (claimed?.toLowerCase() ?? null)
      fastify.metrics.ingestRejections.inc({ resource, reason })
      request.log.warn({ resource, reason, fields: problem.errors?.map((e) => e.path) }, 'health data rejected')
      try {
        await insertRejections(fastify.db.writer, [
          { user_uuid: userUuid, resource, reason, errors: problem.errors ?? [{ path: '', message: problem.detail }], source: loggedSource(body.source) }
        ])
      } catch (error) {
        request.log.error({ err: { message: (error as Error).message } }, 'could not record an ingest rejection')
      }
    }
  },
  { name: 'rejections', dependencies: ['db', 'metrics', 'errors'] }
)
