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
import { activeAlgorithm, getHealthScore, scoreHistory } from '../../../services/scores.js'

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/get_health_score', {
    schema: { tags: ['health-score'], summary: 'the health score of a user and date (default: the token\'s user, their today)', querystring: ScoreQuery, response: { 200: HealthScore, ...errorResponses(404) } }
  }, async (request) => {
    const userUuid = (request.query.user_uuid ?? request.principal!.sub).toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, 'user')
    return getHealthScore(fastify, userUuid, request.query.date, { allowInline: !fastify.lifecycle.underPressure() })
  })

  fastify.get('/health-scores/:user_uuid', {
    schema: { tags: ['health-score'], summary: 'daily score history (default: the last 30 days)', params: Type.Object({ user_uuid: Uuid }), querystring: HistoryQuery, response: { 200: ScoreHistory, ...errorResponses(404) } }
  }, async (request) => {
    assertOwnsOrPrivileged(request.principal, request.params.user_uuid, 'user')
    return scoreHistory(fastify, request.params.user_uuid.toLowerCase(), request.query.from, request.query.to)
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
