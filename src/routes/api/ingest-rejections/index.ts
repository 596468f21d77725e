/** /api/ingest-rejections — the rejected-input log, for admin and service tokens. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DateOnly, Nullable, Page, TimestampOut, Uuid, errorResponses } from '../../../schemas/common.js'
import { assertPrivileged } from '../../../plugins/auth.js'
import { listRejections } from '../../../repositories/rejections.js'

const RejectionSchema = Type.Object({
  id: Type.Integer(),
  user_uuid: Nullable(Uuid),
  resource: Type.String(),
  reason: Type.String(),
  errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
  source: Nullable(Type.String()),
  created_at: TimestampOut
})

const Query = Type.Object(
  {
    user_uuid: Type.Optional(Uuid),
    from: Type.Optional(DateOnly),
    to: Type.Optional(DateOnly),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 512 }))
  },
  { additionalProperties: false }
)

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/', {
    schema: { tags: ['data-quality'], summary: 'rejected health-data input, newest first (admin/service only)', querystring: Query, response: { 200: Page(RejectionSchema), ...errorResponses(403) } }
  }, async (request) => {
    assertPrivileged(request.principal)
    return listRejections(fastify.db.reader, request.query)
  })
}

export default routes
