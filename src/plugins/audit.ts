/**
 * Records who read or changed which user's data. Entries are buffered and written in one
 * multi-row INSERT every second (and on shutdown), so auditing adds no query to each request.
 * Every change (create, update, delete, export) is a row of its own; reads are counted: one row
 * per actor, target, route and status per flush, with `count` and the time of the first and last
 * read (at thousands of cached reads a second, a row per read was most of the database's writes).
 * The trade: a process killed with SIGKILL loses at most the last second of entries.
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { appendAudit, type AuditEntry } from '../repositories/audit.js'

const FLUSH_EVERY_MS = 1000
const MAX_BUFFER = 500
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

declare module 'fastify' {
  interface FastifyInstance {
    audit: { flush(): Promise<void> }
  }
}

function uuidIn(source: unknown): string | undefined {
  const u = (source as { user_uuid?: unknown } | null | undefined)?.user_uuid
  return typeof u === 'string' && UUID_RE.test(u) ? u : undefined
}

function actionOf(method: string, route: string): AuditEntry['action'] {
  if (route.endsWith('/export')) return 'export'
  if (method === 'GET') return 'read'
  if (method === 'DELETE') return 'delete'
  if (method === 'PATCH') return 'update'
  return 'create'
}

export default fp(
  async (fastify) => {
    let buffer: AuditEntry[] = []
    // reads since the last flush, by actor/target/route/status; the last one's time in ms
    let reads = new Map<string, { entry: AuditEntry; lastMs: number }>()
    async function flush() {
      if (reads.size > 0) {
        for (const { entry, lastMs } of reads.values()) if (entry.count > 1) entry.last_at = new Date(lastMs)
        buffer.push(...[...reads.values()].map((r) => r.entry))
        reads = new Map()
      }
      if (buffer.length === 0) return
      const batch = buffer
      buffer = []
      try {
        await appendAudit(fastify.db.writer, batch)
      } catch (error) {
        // keep them for the next flush, bounded so an outage can't exhaust memory
        buffer = [...batch, ...buffer].slice(-10 * MAX_BUFFER)
        fastify.log.warn({ err: { message: (error as Error).message }, pending: buffer.length }, 'audit flush failed; will retry')
      }
    }
    const timer = setInterval(() => void flush(), FLUSH_EVERY_MS)
    timer.unref()
    fastify.decorate('audit', { flush })

    fastify.addHook('onResponse', (request, reply, done) => {
      if (note(request, reply)) flush().then(() => done(), done)
      else done()
    })
    /** Buffer the request's entry; true when the buffer is full. */
    function note(request: FastifyRequest, reply: FastifyReply): boolean {
      const principal = request.principal
      const route = request.routeOptions.url
      if (!principal || !route?.startsWith('/api') || reply.statusCode >= 500) return false
      // the first user UUID in params, query or body (no array or closure per request)
      const candidate =
        uuidIn(request.params) ?? uuidIn(request.query) ?? (request.body && typeof request.body === 'object' ? uuidIn(request.body) : undefined)
      const target = candidate?.toLowerCase() ?? (route.startsWith('/api/get_health_score') ? principal.sub : null)
      if (!target && !route.includes('/batch')) return false // not about one user's data (e.g. algorithms)
      const action = actionOf(request.method, route)
      const status = reply.statusCode
      let key: string | undefined
      if (action === 'read') {
        key = `${principal.sub} ${principal.role} ${target} ${request.method} ${status} ${route}`
        const seen = reads.get(key)
        if (seen) {
          seen.entry.count++
          seen.lastMs = Date.now()
          return false
        }
      }
      const now = Date.now()
      const entry: AuditEntry = {
        at: new Date(now),
        actor_sub: principal.sub,
        actor_role: principal.role,
        action,
        target_user_uuid: target,
        method: request.method,
        route,
        status,
        request_id: String(request.id).slice(0, 128),
        count: 1,
        last_at: null
      }
      if (key === undefined) buffer.push(entry)
      else reads.set(key, { entry, lastMs: now })
      return buffer.length + reads.size >= MAX_BUFFER
    }
    fastify.addHook('onClose', async () => {
      clearInterval(timer)
      await flush()
    })
  },
  { name: 'audit', dependencies: ['db'] }
)
