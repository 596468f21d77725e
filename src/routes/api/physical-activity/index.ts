/** /api/physical-activity — the contract's routes for this resource (see ../health-resource.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import healthResource from '../health-resource.js'
import { physicalActivity } from '../../../services/health/specs.js'

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  await fastify.register(healthResource, { spec: physicalActivity, batchBodyLimit: fastify.appConfig.BATCH_BODY_LIMIT_BYTES })
}

export default routes
