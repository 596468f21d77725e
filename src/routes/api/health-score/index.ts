/**
 * The health score: GET /api/get_health_score, GET /api/health-scores/{user_uuid} (daily history)
 * and GET /api/health-score/algorithms (versions and changelog; nothing personal, publicly cacheable).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ALGORITHMS } from '../../../domain/score/index.js'
import { assertOwnsOrPrivileged } from '../../../plugins/auth.js'
import { Uuid, errorResponses } from '../../../schemas/common.js'
import { Algorithms, HealthScore, HistoryQuery, ScoreHistory, ScoreQuery } from '../../../schemas/scores.js'
import { activeAlgorithm, getHealthScore, scoreHistory, scoreVariant } from '../../../services/scores.js'

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/get_health_score', {
    schema: { tags: ['health-score'], summary: 'the health score of a user and date (default: the token\'s user, their today)', querystring: ScoreQuery, response: { 200: HealthScore, ...errorResponses(404) } }
    // not async: a read served from the process's copy completes without a promise
  }, (request, reply) => {
    const userUuid = (request.query.user_uuid ?? request.principal!.sub).toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, 'user')
    if (fastify.lifecycle.shedding()) {
      // degraded: the last stored score, marked stale, instead of an inline recomputation
      fastify.metrics.shedRequests.inc({ reason: 'priority' })
      return getHealthScore(fastify, userUuid, request.query.date, { allowInline: false })
    }
    // the variant keeps apart versions (a rollback in progress) and days (the default date is "today")
    const variant = scoreVariant(fastify)
    return fastify.readThrough(request, reply, userUuid, () => getHealthScore(fastify, userUuid, request.query.date, { allowInline: true }), variant)
  })

  fastify.get('/health-scores/:user_uuid', {
    config: { priority: 'low' },
    schema: { tags: ['health-score'], summary: 'daily score history (default: the last 30 days)', params: Type.Object({ user_uuid: Uuid }), querystring: HistoryQuery, response: { 200: ScoreHistory, ...errorResponses(404) } }
  }, async (request, reply) => {
    const userUuid = request.params.user_uuid.toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, 'user')
    const variant = scoreVariant(fastify)
    return fastify.readThrough(request, reply, userUuid, () => scoreHistory(fastify, userUuid, request.query.from, request.query.to), variant)
  })

  fastify.get('/health-score/algorithms', {
    schema: { tags: ['health-score'], summary: 'every score algorithm version with its changelog, and which is active', response: { 200: Algorithms, ...errorResponses() } }
  }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300')
    const active = activeAlgorithm(fastify).version
    return { active, items: ALGORITHMS.map((a) => ({ version: a.version, released: a.released, changelog: a.changelog, active: a.version === active })) }
  })
}

export default routes
