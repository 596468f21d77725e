/**
 * Everything under /api: bearer authentication first, then the resource routes.
 * The TypeBox type provider is re-applied in each encapsulated plugin (Fastify Type-Providers guide).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import usersRoutes from './users/index.js'
import rateLimitPlugin from '../../plugins/rate-limit.js'
import bloodTests from './blood-tests/index.js'
import bioMetrics from './bio-metrics/index.js'
import physicalActivity from './physical-activity/index.js'
import sleepActivity from './sleep-activity/index.js'
import ingestRejections from './ingest-rejections/index.js'
import healthScore from './health-score/index.js'
import auditLog from './audit-log/index.js'

const api: FastifyPluginAsyncTypebox = async (fastify) => {
  // identify (onRequest) → rate limit by sub or IP (route-level onRequest) → 401 (preValidation)
  fastify.addHook('onRequest', fastify.identify)
  fastify.addHook('preValidation', fastify.requireAuth)
  await fastify.register(rateLimitPlugin)
  await fastify.register(usersRoutes, { prefix: '/users' })
  await fastify.register(bloodTests, { prefix: '/blood-tests' })
  await fastify.register(bioMetrics, { prefix: '/bio-metrics' })
  await fastify.register(physicalActivity, { prefix: '/physical-activity' })
  await fastify.register(sleepActivity, { prefix: '/sleep-activity' })
  await fastify.register(ingestRejections, { prefix: '/ingest-rejections' })
  await fastify.register(healthScore)
  await fastify.register(auditLog, { prefix: '/audit-log' })
}

export default api
