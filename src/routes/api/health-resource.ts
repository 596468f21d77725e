/**
 * The routes of one health resource, at exactly the contract's paths: POST, batch, list, get,
 * PATCH (`.../update`) and DELETE (`.../delete?key=` or `?all=true`). Thin: schema, then one call
 * into the health services. Each resource folder registers this with its spec.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DateOnly, ListQuery, Page, Timestamp, Uuid, errorResponses } from '../../schemas/common.js'
import { BatchBody, BatchResult } from '../../schemas/health.js'
import { ingestBatch } from '../../services/health/batch.js'
import * as records from '../../services/health/records.js'
import type { ResourceSpec } from '../../services/health/specs.js'
import { assertOwnsOrPrivileged } from '../../plugins/auth.js'

export interface HealthResourceOptions {
  spec: ResourceSpec
  batchBodyLimit: number
}

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'replays the first response for 24 h (same principal, same body)' }))
})

const healthResource: FastifyPluginAsyncTypebox<HealthResourceOptions> = async (fastify, { spec, batchBodyLimit }) => {
  const KeySchema = spec.keyKind === 'timestamp' ? Timestamp : DateOnly
  const KeyParams = Type.Object({ user_uuid: Uuid, [spec.key]: KeySchema }, { additionalProperties: false })
  const UserParams = Type.Object({ user_uuid: Uuid }, { additionalProperties: false })
  const DeleteQuery = Type.Object({ [spec.key]: Type.Optional(KeySchema), all: Type.Optional(Type.Boolean()) }, { additionalProperties: false })
  const tags = [spec.tag]
  const FieldsQuery = Type.Object({ fields: Type.Optional(Type.String({ maxLength: 512, pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'comma-separated fields to return' })) }, { additionalProperties: false })
  const config = { resource: spec.name }
  const keyParam = (params: Record<string, unknown>) => String(params[spec.key])

  fastify.post('/', {
    schema: { tags, summary: `create a ${spec.name} record`, headers: IdempotencyHeaders, body: spec.create, response: { 201: spec.record, ...errorResponses(404, 409, 422) } },
    config
  }, async (request, reply) => {
    const row = await records.createRecord(fastify, spec, request.body as Record<string, unknown>, { request, reply })
    return reply.code(201).send(row)
  })

  fastify.post('/batch', {
    schema: { tags, summary: `upsert up to 1000 ${spec.name} records by natural key`, headers: IdempotencyHeaders, body: BatchBody, response: { 200: BatchResult, ...errorResponses(413) } },
    bodyLimit: batchBodyLimit,
    config
  }, async (request, reply) => ingestBatch(fastify, spec, request.body.items as Array<Record<string, unknown>>, request, reply))

  fastify.get('/:user_uuid', {
    schema: { tags, summary: `list a user's ${spec.name} records, newest first`, params: UserParams, querystring: ListQuery, response: { 200: Page(spec.record), ...errorResponses(404) } }
    // not async: a read served from the process's copy completes without a promise
  }, (request, reply) => {
    const userUuid = request.params.user_uuid.toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
    return fastify.readThrough(request, reply, userUuid, () => records.listRecords(fastify, spec, request, userUuid, request.query))
  })

  fastify.get(`/:user_uuid/:${spec.key}`, {
    schema: { tags, summary: `get one ${spec.name} record`, params: KeyParams, querystring: FieldsQuery, response: { 200: spec.record, ...errorResponses(404) } }
  }, (request, reply) => {
    const params = request.params as Record<string, unknown>
    const userUuid = String(params.user_uuid).toLowerCase()
    assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
    // a record is mostly opened once, from a list: stored from its second read
    return fastify.readThrough(request, reply, userUuid, () => records.getRecord(fastify, spec, request, userUuid, keyParam(params)), '', { storeOnSecondRead: true })
  })

  if (spec.patchKeyIn === 'url') {
    fastify.patch(`/:user_uuid/:${spec.key}/update`, {
      schema: { tags, summary: `update a ${spec.name} record (JSON merge; quality "ok" confirms a suspect reading)`, params: KeyParams, body: spec.patch, response: { 200: spec.record, ...errorResponses(404, 422) } },
      config
    }, async (request) => {
      const params = request.params as Record<string, unknown>
      return records.patchRecord(fastify, spec, request, String(params.user_uuid), keyParam(params), request.body as Record<string, unknown>)
    })
  } else {
    fastify.patch('/:user_uuid/update', {
      schema: { tags, summary: `update the ${spec.name} record of the body's ${spec.key} (JSON merge; quality "ok" confirms a suspect reading)`, params: UserParams, body: spec.patch, response: { 200: spec.record, ...errorResponses(404, 422) } },
      config
    }, async (request) => {
      const body = request.body as Record<string, unknown>
      return records.patchRecord(fastify, spec, request, request.params.user_uuid, String(body[spec.key]), body)
    })
  }

  fastify.delete('/:user_uuid/delete', {
    schema: { tags, summary: `delete one ${spec.name} record (?${spec.key}=) or all of them (?all=true)`, params: UserParams, querystring: DeleteQuery, response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses(404) } }
  }, async (request, reply) => {
    const query = request.query as Record<string, unknown>
    await records.deleteRecords(fastify, spec, request, request.params.user_uuid, query[spec.key] as string | undefined, query.all as boolean | undefined)
    return reply.code(204).send(null)
  })
}

export default healthResource
