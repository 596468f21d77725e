/** /api/bio-metrics — the contract's routes for this resource (see ../health-resource.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import healthResource from '../health-resource.js'
import { bioMetrics } from '../../../services/health/specs.js'

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(healthResource, { spec: bioMetrics, batchBodyLimit: fastify.appConfig.BATCH_BODY_LIMIT_BYTES })
}

export default routes
