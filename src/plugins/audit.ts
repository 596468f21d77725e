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
import { appendAuditJson, auditKeyJson, auditRowJson, type AuditEntry } from '../repositories/audit.js'
import type { Principal } from './auth.js'

const FLUSH_EVERY_MS = 1000
/** changes buffered before a flush is due (each is a row of its own) */
const MAX_BUFFER = 500
/**
 * distinct read keys (actor, target, route, status) counted before a flush is due. Well above the
 * users one process serves in a second: a flush every 500 keys made every read a row of its own
 * once more than 500 users read in a second (the row count then grew with the number of users).
 * 20 000 was reached by 10 000 users reading two things each (bench:scale) within ~8 s, so the
 * window never mattered there: each read of theirs cost a quarter of an audit row, JSON built on the
 * event loop and an INSERT into three indexes on the same two cores. 50 000 keys are ~20 MB at most.
 */
const MAX_READ_KEYS = 50_000
/**
 * rows per INSERT of a flush: the rows' JSON is built on the event loop, and with thousands of
 * readers a second one statement for all of them stalled every request for 12–27 ms once a second
 * (7 000 rows, 2 MB of JSON, on a 2.1 GHz VM). Statements of 500 rows (172 KB) took 1.2 ms warm,
 * but under bench:scale's 10 000 users (20 000 read rows per window) a CPU profile showed stretches
 * of 4–10 ms each; 100 rows keep a stretch well under a millisecond, for 20 statements a second
 */
export const ROWS_PER_STATEMENT = 100
/**
 * read slots remembered per principal: an app alternating between its score and a list or two
 * found only the last one and built and hashed a ~130-character key for every other read
 */
const RECENT_READ_SLOTS = 4
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * One key's read row: who read whose data by which route with which status (`entry`), and this
 * window's count, first and last read and the first read's request id. Slots outlive their window:
 * a key read again in the next window counts into the same slot (no new key, entry and slot per
 * window: with 10 000 users those were ~400 bytes per user and route every AUDIT_READ_FLUSH_MS, 40 %
 * of what the API promoted to the old generation under bench:scale). A slot not read for a whole
 * window is dropped at the next drain.
 */
export interface ReadSlot {
  readonly entry: AuditEntry
  /** reads in the current window (0: none yet) */
  count: number
  firstMs: number
  lastMs: number
  requestId: string
  /** dropped from the buffer: counts go under the key again */
  dropped: boolean
  /** `auditKeyJson(entry)`, made at the slot's first drain */
  keyJson: string | undefined
}

/** What waits for the next flush: changes one row each, reads one row per key and window. */
export class AuditBuffer {
  private changes: AuditEntry[] = []
  private readonly reads = new Map<string, ReadSlot>()
  /** slots with reads in the current window */
  private activeReads = 0

  constructor(private readonly limits = { changes: MAX_BUFFER, readKeys: MAX_READ_KEYS }) {}

  /** Buffer a change; true when a flush is due. */
  change(entry: AuditEntry): boolean {
    this.changes.push(entry)
    return this.due
  }

  /**
   * Count one more read under `key`: its slot, or undefined when the key has none (then
   * `firstRead`). A slot's first read of a window gives the window's row its time and `requestId`
   * (default: the entry's).
   */
  countRead(key: string, nowMs: number, requestId?: string): ReadSlot | undefined {
    const slot = this.reads.get(key)
    if (slot) this.count(slot, nowMs, requestId)
    return slot
  }

  /** The first read under `key` (it has no slot): its new slot (`due` then says whether a flush is due). */
  firstRead(key: string, entry: AuditEntry, nowMs: number): ReadSlot {
    const slot: ReadSlot = { entry, count: 1, firstMs: nowMs, lastMs: nowMs, requestId: entry.request_id, dropped: false, keyJson: undefined }
    this.reads.set(key, slot)
    this.activeReads++
    return slot
  }

  /** The slot `key` counts into (undefined: none). */
  slot(key: string): ReadSlot | undefined {
    return this.reads.get(key)
  }

  /**
   * Count one more read into `slot`, found earlier by `slot(key)`, without building and hashing
   * its key again; false when the slot was dropped since (then count under the key).
   */
  countSlot(slot: ReadSlot, nowMs: number, requestId?: string): boolean {
    if (slot.dropped) return false
    this.count(slot, nowMs, requestId)
    return true
  }

  private count(slot: ReadSlot, nowMs: number, requestId: string | undefined): void {
    if (slot.count === 0) {
      slot.firstMs = nowMs
      slot.requestId = requestId ?? slot.entry.request_id
      this.activeReads++
    }
    slot.count++
    slot.lastMs = nowMs
  }

  /**
   * The rows to write now (the changes, and the read rows unless `reads` is false); those leave
   * the buffer. Read slots stay for the next window; those without a read in this one are dropped.
   */
  drain(reads = true): AuditEntry[] {
    const rows = this.drainRows(reads)
    return rows.slice(0, rows.length)
  }

  /**
   * `drain`, with the read rows made only when asked for (`slice`): a statement's rows at a time, so
   * 20 000 read rows do not all live until the last of their INSERTs is done.
   */
  drainRows(reads = true): RowSource {
    const changes = new ArrayRows(this.changes)
    this.changes = []
    if (!reads) return changes
    const window = new ReadRows()
    for (const [key, slot] of this.reads) {
      if (slot.count === 0) {
        slot.dropped = true
        this.reads.delete(key)
        continue
      }
      window.add(slot)
      slot.count = 0
    }
    this.activeReads = 0
    return changes.length === 0 ? window : new Concat(changes, window)
  }

  /** True when the read keys of this window reached their limit: their rows must be written now. */
  get readsFull(): boolean {
    return this.activeReads >= this.limits.readKeys
  }

  /** Rows a failed flush could not write: kept for the next one, bounded so an outage can't exhaust memory. */
  restore(rows: AuditEntry[]): void {
    this.changes = [...rows, ...this.changes].slice(-10 * this.limits.changes)
  }

  get size(): number {
    return this.changes.length + this.activeReads
  }

  /** whether a flush is due: the changes or the read keys reached their limit */
  get due(): boolean {
    return this.changes.length >= this.limits.changes || this.readsFull
  }
}

/** Rows that are made when sliced, as entries or as their JSON: changes, a window's read rows (`ReadRows`), both. */
export interface RowSource {
  readonly length: number
  slice(from: number, to?: number): AuditEntry[]
  /** rows `from` to `to` as a JSON array (what appendAuditJson takes) */
  json(from: number, to: number): string
}

/** rows that are already entries */
export class ArrayRows implements RowSource {
  constructor(private readonly rows: AuditEntry[]) {}
  get length(): number {
    return this.rows.length
  }
  slice(from: number, to?: number): AuditEntry[] {
    return this.rows.slice(from, to)
  }
  json(from: number, to: number): string {
    return JSON.stringify(this.rows.slice(from, to))
  }
}

/** One window's read rows as the slots' figures at the drain; a row object exists only once sliced. */
class ReadRows implements RowSource {
  private readonly entries: AuditEntry[] = []
  private readonly keyJsons: string[] = []
  private readonly counts: number[] = []
  private readonly firsts: number[] = []
  private readonly lasts: number[] = []
  private readonly requestIds: string[] = []

  add(slot: ReadSlot): void {
    this.entries.push(slot.entry)
    this.keyJsons.push((slot.keyJson ??= auditKeyJson(slot.entry)))
    this.counts.push(slot.count)
    this.firsts.push(slot.firstMs)
    this.lasts.push(slot.lastMs)
    this.requestIds.push(slot.requestId)
  }

  get length(): number {
    return this.entries.length
  }

  slice(from: number, to = this.entries.length): AuditEntry[] {
    const rows: AuditEntry[] = []
    for (let i = Math.max(0, from); i < Math.min(to, this.entries.length); i++) {
      const count = this.counts[i]!
      rows.push({ ...this.entries[i]!, at: new Date(this.firsts[i]!), request_id: this.requestIds[i]!, count, last_at: count > 1 ? new Date(this.lasts[i]!) : null })
    }
    return rows
  }

  json(from: number, to: number): string {
    let json = '['
    for (let i = Math.max(0, from); i < Math.min(to, this.entries.length); i++) {
      const count = this.counts[i]!
      json += `${json.length > 1 ? ',' : ''}${auditRowJson(this.keyJsons[i]!, this.firsts[i]!, this.requestIds[i]!, count, count > 1 ? this.lasts[i]! : null)}`
    }
    return `${json}]`
  }
}

/** `a` then `b`. */
class Concat implements RowSource {
  constructor(private readonly a: RowSource, private readonly b: RowSource) {}
  get length(): number {
    return this.a.length + this.b.length
  }
  slice(from: number, to = this.length): AuditEntry[] {
    const n = this.a.length
    if (to <= n) return this.a.slice(from, to)
    if (from >= n) return this.b.slice(from - n, to - n)
    return [...this.a.slice(from, n), ...this.b.slice(0, to - n)]
  }
  json(from: number, to: number): string {
    const n = this.a.length
    if (to <= n) return this.a.json(from, to)
    if (from >= n) return this.b.json(from - n, to - n)
    // both parts hold rows: "[a…]" and "[b…]" make "[a…,b…]"
    return `${this.a.json(from, n).slice(0, -1)},${this.b.json(0, to - n).slice(1)}`
  }
}

/** One statement's rows, made as entries or as JSON when asked for. */
export interface Statement {
  readonly length: number
  rows(): AuditEntry[]
  json(): string
}

/**
 * Write `source`'s rows in statements of ROWS_PER_STATEMENT, one after the other (requests run between
 * them). On a failed statement: that statement's rows and all after it, with the error.
 */
export async function writeInStatements(source: RowSource, append: (statement: Statement) => Promise<void>): Promise<{ rest: AuditEntry[]; error: unknown } | null> {
  for (let from = 0; from < source.length; from += ROWS_PER_STATEMENT) {
    const to = Math.min(from + ROWS_PER_STATEMENT, source.length)
    try {
      await append({ length: to - from, rows: () => source.slice(from, to), json: () => source.json(from, to) })
    } catch (error) {
      return { rest: source.slice(from), error }
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

const requestIdOf = (request: FastifyRequest): string => String(request.id).slice(0, 128)

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
      const batch = buffer.drainRows(withReads)
      if (batch.length === 0) return
      const failed = await writeInStatements(batch, (statement) => appendAuditJson(fastify.db.writer, statement.json()))
      if (failed) {
        buffer.restore(failed.rest)
        fastify.log.warn({ err: { message: (failed.error as Error).message }, pending: buffer.size }, 'audit flush failed; will retry')
      }
    }
    const timer = setInterval(() => void flush(false), FLUSH_EVERY_MS)
    timer.unref()
    fastify.decorate('audit', { flush })

    // each principal's most recent read rows (principals are kept per token by the auth plugin): a
    // client reading the same few things again and again (its score, a list, another list) counts
    // into them without a key built and hashed per read (a slot's entry says which row it is: no
    // object of its own per principal and window)
    const lastRead = new WeakMap<Principal, ReadSlot[]>()
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
      const requestId = requestIdOf(request)
      const now = Date.now()
      let key: string | undefined
      let recent: ReadSlot[] | undefined
      if (action === 'read') {
        recent = lastRead.get(principal)
        if (recent === undefined) lastRead.set(principal, (recent = []))
        for (const slot of recent) {
          const e = slot.entry
          if (e.target_user_uuid === target && e.status === status && e.route === route && e.method === method && buffer.countSlot(slot, now, requestId)) return false
        }
        key = `${principal.sub} ${principal.role} ${target} ${method} ${status} ${route}`
        const slot = buffer.countRead(key, now, requestId)
        if (slot) {
          remember(recent, slot)
          return false
        }
      }
      const entry: AuditEntry = {
        at: new Date(now),
        actor_sub: principal.sub,
        actor_role: principal.role,
        action,
        target_user_uuid: target,
        method,
        route,
        status,
        request_id: requestId,
        count: 1,
        last_at: null
      }
      if (key === undefined) return buffer.change(entry)
      remember(recent!, buffer.firstRead(key, entry, now))
      return buffer.due
    }
    /** `slot` first among a principal's recent read slots (at most RECENT_READ_SLOTS) */
    function remember(recent: ReadSlot[], slot: ReadSlot): void {
      if (recent.length < RECENT_READ_SLOTS) recent.push(slot)
      for (let i = recent.length - 1; i > 0; i--) recent[i] = recent[i - 1]!
      recent[0] = slot
    }
    fastify.addHook('onClose', async () => {
      clearInterval(timer)
      await flush()
    })
  },
  { name: 'audit', dependencies: ['db'] }
)
