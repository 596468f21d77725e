/** /api/users — thin: schema, then one call into the users service. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ListQuery, Page, UserUuidParams, errorResponses } from '../../../schemas/common.js'
import { User, UserCreate, UserPatch, UserQuery } from '../../../schemas/users.js'
import { assertOwnsOrPrivileged, assertPrivileged } from '../../../plugins/auth.js'
import { listUsers } from '../../../repositories/users.js'
import * as service from '../../../services/users.js'
import { exportUserData } from '../../../services/export.js'

const usersRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/', {
    schema: {
      tags: ['users'],
      summary: 'create a user (a `user` token only itself)',
      body: UserCreate,
      response: { 201: User, ...errorResponses(403, 409, 422) }
    }
  }, async (request, reply) => {
    const user = await service.createUser(fastify, request.principal!, request.body)
    return reply.code(201).header('location', `/api/users/${user.user_uuid}`).send(user)
  })

  fastify.get('/', {
    schema: {
      tags: ['users'],
      summary: 'list users, newest first (admin/service only)',
      querystring: ListQuery,
      response: { 200: Page(User), ...errorResponses(403) }
    }
  }, async (request) => {
    assertPrivileged(request.principal)
    return listUsers(fastify.db.reader, request.query)
  })

  fastify.get('/:user_uuid', {
    schema: { tags: ['users'], summary: 'get a user', params: UserUuidParams, querystring: UserQuery, response: { 200: User, ...errorResponses(404) } }
  }, async (request, reply) => {
    const userUuid = request.params.user_uuid.toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, 'user')
    return fastify.readThrough(request, reply, userUuid, () => service.getUser(fastify, request.principal, userUuid))
  })

  fastify.get('/:user_uuid/export', {
    config: { priority: 'low' },
    schema: {
      tags: ['users'],
      summary: 'export all of the user\'s data as JSON (GDPR Art. 20)',
      params: UserUuidParams,
      response: { 200: Type.Object({ format: Type.String(), exported_at: Type.String(), user: User }, { additionalProperties: true }), ...errorResponses(404) }
    }
  }, async (request, reply) => {
    const userUuid = request.params.user_uuid.toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, 'user')
    const data = await exportUserData(fastify, userUuid)
    reply.header('content-disposition', `attachment; filename="health-tracker-export-${userUuid}.json"`)
    // every stored column, as stored: serialized as plain JSON rather than through the schema
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(data) as never)
  })

  fastify.patch('/:user_uuid', {
    schema: {
      tags: ['users'],
      summary: 'update a user',
      params: UserUuidParams,
      body: UserPatch,
      response: { 200: User, ...errorResponses(404, 409, 422) }
    }
  }, async (request) => service.patchUser(fastify, request.principal, request.params.user_uuid, request.body))

  fastify.delete('/:user_uuid', {
    schema: {
      tags: ['users'],
      summary: 'erase a user and all of their data, scores, logs of their data and cache entries',
      params: UserUuidParams,
      response: { 204: Type.Null({ description: 'erased' }), ...errorResponses(404) }
    }
  }, async (request, reply) => {
    await service.deleteUser(fastify, request.principal, request.params.user_uuid)
    return reply.code(204).send(null)
  })
}

export default usersRoutes
