/**
 * Records who read or changed which user's data. Entries are buffered and written in multi-row
 * INSERTs (and on shutdown), so auditing adds no query to each request. Every change (create,
 * update, delete, export) is a row of its own, written within a second; reads are counted: one row
 * per actor, target, route and status per AUDIT_READ_FLUSH_MS, with `count` and the time of the
 * first and last read (at thousands of cached reads a second, a row per read was most of the
 * database's writes; with 10 000 users each reading every second or two, a row per user and second
 * still was: 7 000 rows a second).
 * The trade: a process killed with SIGKILL loses at most the last second of changes and the last
 * AUDIT_READ_FLUSH_MS of read counts.
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { appendAudit, type AuditEntry } from '../repositories/audit.js'
import type { Principal } from './auth.js'

const FLUSH_EVERY_MS = 1000
/** changes buffered before a flush is due (each is a row of its own) */
const MAX_BUFFER = 500
/**
 * distinct read keys (actor, target, route, status) counted before a flush is due. Well above the
 * users one process serves in a second: a flush every 500 keys made every read a row of its own
 * once more than 500 users read in a second (the row count then grew with the number of users).
 */
const MAX_READ_KEYS = 20_000
/**
 * rows per INSERT of a flush: the rows' JSON is built on the event loop, and with thousands of
 * readers a second one statement for all of them stalled every request for 12–27 ms once a second
 * (7 000 rows, 2 MB of JSON, on a 2.1 GHz VM); statements of 500 rows stall it ~1–2 ms each
 */
export const ROWS_PER_STATEMENT = 500
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * What waits for the next flush: changes one row each, reads one row per key with a count and the
 * time of the key's last read.
 */
/** One read row waiting for the next flush: its entry, the time of its last read, and the window it belongs to. */
export interface ReadSlot {
  readonly entry: AuditEntry
  lastMs: number
  readonly window: number
}

export class AuditBuffer {
  private changes: AuditEntry[] = []
  private reads = new Map<string, ReadSlot>()
  /** counts the drains of the read rows: a slot of an earlier window is written already */
  private window = 0

  constructor(private readonly limits = { changes: MAX_BUFFER, readKeys: MAX_READ_KEYS }) {}

  /** Buffer a change; true when a flush is due. */
  change(entry: AuditEntry): boolean {
    this.changes.push(entry)
    return this.due()
  }

  /** Count one more read under `key`; false when the key has no row yet (then `firstRead`). */
  countRead(key: string, nowMs: number): boolean {
    const seen = this.reads.get(key)
    if (!seen) return false
    seen.entry.count++
    seen.lastMs = nowMs
    return true
  }

  /** The first read under `key` since the last flush; true when a flush is due. */
  firstRead(key: string, entry: AuditEntry, nowMs: number): boolean {
    this.reads.set(key, { entry, lastMs: nowMs, window: this.window })
    return this.due()
  }

  /** The row `key` counts into until the next flush (undefined: none yet). */
  slot(key: string): ReadSlot | undefined {
    return this.reads.get(key)
  }

  /**
   * Count one more read into `slot`, found earlier by `slot(key)`, without building and hashing
   * its key again; false when the slot's rows were drained since (then count under the key).
   */
  countSlot(slot: ReadSlot, nowMs: number): boolean {
    if (slot.window !== this.window) return false
    slot.entry.count++
    slot.lastMs = nowMs
    return true
  }

  /** The rows to write now (the changes, and the read rows unless `reads` is false); those leave the buffer. */
  drain(reads = true): AuditEntry[] {
    const rows = this.changes
    this.changes = []
    if (!reads) return rows
    for (const { entry, lastMs } of this.reads.values()) {
      if (entry.count > 1) entry.last_at = new Date(lastMs)
      rows.push(entry)
    }
    this.reads = new Map()
    this.window++
    return rows
  }

  /** True when the read keys reached their limit: their rows must be written now. */
  get readsFull(): boolean {
    return this.reads.size >= this.limits.readKeys
  }

  /** Rows a failed flush could not write: kept for the next one, bounded so an outage can't exhaust memory. */
  restore(rows: AuditEntry[]): void {
    this.changes = [...rows, ...this.changes].slice(-10 * this.limits.changes)
  }

  get size(): number {
    return this.changes.length + this.reads.size
  }

  private due(): boolean {
    return this.changes.length >= this.limits.changes || this.readsFull
  }
}

/**
 * Write `rows` in statements of ROWS_PER_STATEMENT, one after the other (requests run between
 * them). On a failed statement: that statement's rows and all after it, with the error.
 */
export async function writeInStatements(rows: AuditEntry[], append: (rows: AuditEntry[]) => Promise<void>): Promise<{ rest: AuditEntry[]; error: unknown } | null> {
  for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
    try {
      await append(rows.slice(from, from + ROWS_PER_STATEMENT))
    } catch (error) {
      return { rest: rows.slice(from), error }
    }
  }
  return null
}

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
    const buffer = new AuditBuffer()
    const readFlushMs = fastify.appConfig.AUDIT_READ_FLUSH_MS
    let readsFlushedAt = Date.now()
    /** Write what is buffered: the changes; the read rows too when `reads` or when they are due. */
    async function flush(reads = true) {
      if (buffer.size === 0) return
      const now = Date.now()
      const withReads = reads || buffer.readsFull || now - readsFlushedAt >= readFlushMs
      if (withReads) readsFlushedAt = now
      const batch = buffer.drain(withReads)
      if (batch.length === 0) return
      const failed = await writeInStatements(batch, (rows) => appendAudit(fastify.db.writer, rows))
      if (failed) {
        buffer.restore(failed.rest)
        fastify.log.warn({ err: { message: (failed.error as Error).message }, pending: buffer.size }, 'audit flush failed; will retry')
      }
    }
    const timer = setInterval(() => void flush(false), FLUSH_EVERY_MS)
    timer.unref()
    fastify.decorate('audit', { flush })

    // each principal's last read row (principals are kept per token by the auth plugin): a client
    // reading the same page again and again counts into it without a key built and hashed per read
    // (the slot's entry says which row it is: no object of its own per principal and window)
    const lastRead = new WeakMap<Principal, ReadSlot>()
    fastify.addHook('onResponse', (request, reply, done) => {
      if (note(request, reply)) flush(false).then(() => done(), done)
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
      const method = request.method
      const now = Date.now()
      let key: string | undefined
      if (action === 'read') {
        const last = lastRead.get(principal)
        if (last !== undefined && last.entry.target_user_uuid === target && last.entry.status === status && last.entry.route === route && last.entry.method === method && buffer.countSlot(last, now)) return false
        key = `${principal.sub} ${principal.role} ${target} ${method} ${status} ${route}`
        if (buffer.countRead(key, now)) {
          lastRead.set(principal, buffer.slot(key)!)
          return false
        }
      }
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
      if (key === undefined) return buffer.change(entry)
      const due = buffer.firstRead(key, entry, now)
      lastRead.set(principal, buffer.slot(key)!)
      return due
    }
    fastify.addHook('onClose', async () => {
      clearInterval(timer)
      await flush()
    })
  },
  { name: 'audit', dependencies: ['db'] }
)
