/** /api/audit-log — who read or changed which user's data (admin and service tokens only). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DateOnly, Nullable, Page, TimestampOut, Uuid, errorResponses } from '../../../schemas/common.js'
import { assertPrivileged } from '../../../plugins/auth.js'
import { listAudit } from '../../../repositories/audit.js'

const Entry = Type.Object({
  id: Type.Integer(),
  at: TimestampOut,
  actor_sub: Uuid,
  actor_role: Type.String(),
  action: Type.String(),
  target_user_uuid: Nullable(Uuid),
  method: Type.String(),
  route: Type.String(),
  status: Type.Integer(),
  request_id: Nullable(Type.String({ description: 'the request of this row (for counted reads: the first one)' })),
  count: Type.Integer({ minimum: 1, description: 'requests this row stands for: reads by one actor of one target through one route with one status are counted per flush interval (about a second); changes are one row each' }),
  /** the last of the counted reads; null for a row of a single request */
  last_at: Nullable(TimestampOut)
})

const Query = Type.Object(
  { user_uuid: Type.Optional(Uuid), from: Type.Optional(DateOnly), to: Type.Optional(DateOnly), limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }), cursor: Type.Optional(Type.String({ maxLength: 512 })) },
  { additionalProperties: false }
)

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: { tags: ['audit'], summary: 'the audit log, newest first (admin/service only)', querystring: Query, response: { 200: Page(Entry), ...errorResponses(403) } }
  }, async (request) => {
    assertPrivileged(request.principal)
    await fastify.audit.flush()
    return listAudit(fastify.db.reader, request.query)
  })
}

export default routes
