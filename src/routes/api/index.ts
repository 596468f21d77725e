/**
 * Everything under /api: bearer authentication first, then the resource routes.
 * The TypeBox type provider is re-applied in each encapsulated plugin (Fastify Type-Providers guide).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import usersRoutes from './users/index.js'

const api: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.addHook('onRequest', fastify.authenticate)
  await fastify.register(usersRoutes, { prefix: '/users' })
}

export default api
