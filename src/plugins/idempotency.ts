/**
 * Idempotency-Key on every POST, stored in PostgreSQL (shared by all instances, survives restarts,
 * kept 24 h). Same key + same body from the same principal: the first response is replayed with
 * `Idempotent-Replayed: true`; same key + different body: 422; same key while the first is still
 * running: 409. Writes that own a transaction record their response inside it (`complete`), so a
 * crash can never separate "written" from "remembered"; other responses are recorded on send.
 * A 5xx releases the key so the client's retry runs again. A key held by a request that died
 * (process killed) is taken over after ABANDONED_AFTER_SECONDS.
 * @see ../../shared/CONTRACT.md "Conventions"; https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
 */
import { createHash } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import type { DB } from '../repositories/database.js'
import { addRouteHook, routeMethods } from './route-hooks.js'
import { BadRequest, Conflict, Implausible } from '../domain/errors.js'

export const IDEMPOTENCY_TTL_HOURS = 24
/** longer than REQUEST_TIMEOUT_MS: a key still in progress after this belonged to a dead request */
export const ABANDONED_AFTER_SECONDS = 30

export interface IdempotencyClaim {
  principal: string
  key: string
  completed: boolean
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyClaim | null
  }
  interface FastifyInstance {
    idempotency: {
      /** record the response inside the caller's transaction */
      complete(tx: DB, request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void>
    }
  }
}

interface StoredResponse {
  request_hash: string
  state: 'in_progress' | 'completed'
  status_code: number | null
  response_body: string | null
  response_headers: Record<string, string> | null
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function requestHash(request: FastifyRequest): string {
  let text: string
  try {
    text = `${request.method} ${request.routeOptions.url}\n${canonical(request.params)}\n${canonical(request.body)}`
  } catch (error) {
    if (error instanceof RangeError) throw new BadRequest('the request body is nested too deeply')
    throw error
  }
  return createHash('sha256').update(text).digest('hex')
}

const KEEP_HEADERS = ['content-type', 'location']

export default fp(
  async (fastify) => {
    fastify.decorateRequest('idempotency', null)
    const db = () => fastify.db.writer

    async function claim(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
      const header = request.headers['idempotency-key']
      if (header === undefined || request.method !== 'POST') return
      const key = Array.isArray(header) ? header[0] : header
      if (!key || key.length > 255) {
        throw new BadRequest('Idempotency-Key must be 1–255 characters', [{ path: '/headers/idempotency-key', message: 'must be 1–255 characters' }])
      }
      const principal = `${request.principal!.role}:${request.principal!.sub}`
      const hash = requestHash(request)
      const userUuid = request.principal!.role === 'user' ? request.principal!.sub : null
      const inserted = await sql<{ key: string }>`
        INSERT INTO idempotency_keys (principal, key, user_uuid, request_hash, state, expires_at)
        VALUES (${principal}, ${key}, ${userUuid}, ${hash}, 'in_progress', now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}))
        ON CONFLICT (principal, key) DO UPDATE
          SET request_hash = excluded.request_hash, state = 'in_progress', status_code = NULL, response_body = NULL,
              response_headers = NULL, locked_at = now(), created_at = now(), expires_at = excluded.expires_at
          WHERE idempotency_keys.expires_at < now()
             OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.locked_at < now() - make_interval(secs => ${ABANDONED_AFTER_SECONDS})
                 AND idempotency_keys.request_hash = excluded.request_hash)
        RETURNING key`.execute(db())
      if (inserted.rows.length > 0) {
        request.idempotency = { principal, key, completed: false }
        return
      }
      const existing = await sql<StoredResponse>`
        SELECT request_hash, state, status_code, response_body, response_headers
        FROM idempotency_keys WHERE principal = ${principal} AND key = ${key}`.execute(db())
      const row = existing.rows[0]
      if (!row) return claim(request, reply) // expired and deleted between the two statements
      if (row.state === 'in_progress') throw new Conflict('a request with this Idempotency-Key is still in progress; retry later')
      if (row.request_hash !== hash) {
        throw new Implausible('this Idempotency-Key was used with a different request body', [{ path: '/headers/idempotency-key', message: 'reused with a different body' }])
      }
      for (const [name, value] of Object.entries(row.response_headers ?? {})) reply.header(name, value)
      reply.header('idempotent-replayed', 'true')
      return reply.code(row.status_code!).send(row.response_body ?? '')
    }

    // after authentication and schema validation (preHandler), before the handler writes anything
    // on POST routes only (onRoute below): other methods never carry an Idempotency-Key
    const preHandler = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
      if (request.method !== 'POST' || !request.principal) return done()
      claim(request, reply).then(() => done(), done)
    }

    async function store(target: DB, request: FastifyRequest, status: number, body: string, headers: Record<string, string>) {
      const claimed = request.idempotency!
      await sql`UPDATE idempotency_keys SET state = 'completed', status_code = ${status}, response_body = ${body},
                response_headers = ${JSON.stringify(headers)}::jsonb
                WHERE principal = ${claimed.principal} AND key = ${claimed.key}`.execute(target)
      claimed.completed = true
    }

    function keptHeaders(reply: FastifyReply): Record<string, string> {
      const out: Record<string, string> = {}
      for (const name of KEEP_HEADERS) {
        const value = reply.getHeader(name)
        if (value !== undefined) out[name] = String(value)
      }
      return out
    }

    fastify.decorate('idempotency', {
      async complete(tx: DB, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
        if (!request.idempotency) return
        if (!reply.getHeader('content-type')) reply.type('application/json; charset=utf-8')
        await store(tx, request, reply.statusCode, String(reply.serialize(payload)), keptHeaders(reply))
      }
    })

    // a callback hook: requests without a pending key pass synchronously, without a promise
    const onSend = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) => {
      const claimed = request.idempotency
      if (!claimed || claimed.completed) return done(null, payload)
      settle(request, reply, claimed, payload).then(() => done(null, payload), (error: Error) => done(error))
    }
    fastify.addHook('onRoute', (route) => {
      if (!routeMethods(route).includes('POST')) return
      addRouteHook(route, 'preHandler', preHandler)
      addRouteHook(route, 'onSend', onSend)
    })
    async function settle(request: FastifyRequest, reply: FastifyReply, claimed: NonNullable<FastifyRequest['idempotency']>, payload: unknown): Promise<void> {
      try {
        if (reply.statusCode >= 500) {
          await sql`DELETE FROM idempotency_keys WHERE principal = ${claimed.principal} AND key = ${claimed.key}`.execute(db())
        } else {
          await store(db(), request, reply.statusCode, typeof payload === 'string' ? payload : String(payload ?? ''), keptHeaders(reply))
        }
      } catch (error) {
        request.log.warn({ err: { message: (error as Error).message } }, 'could not record the idempotent response')
      }
    }
  },
  { name: 'idempotency', dependencies: ['db'] }
)
