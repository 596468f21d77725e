/**
 * Batch ingest for devices and integrations: up to 1000 items, each validated on its own (schema,
 * ownership, domain rules, duplicates within the batch); valid items upserted by natural key in one
 * transaction with one set-based statement; rejected items logged in the same transaction.
 * Re-sending the same batch changes nothing: every item answers `unchanged`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Sex } from '../../domain/validation/index.js'
import type { FieldError } from '../../domain/errors.js'
import { isPrivileged } from '../../plugins/auth.js'
import * as repo from '../../repositories/health-records.js'
import { insertRejections, loggedSource, type Rejection } from '../../repositories/rejections.js'
import { compileBodyValidator, schemaErrors } from '../../validation.js'
import { afterDataChange, earliest, recordDataChange } from './effects.js'
import { BASELINE_WINDOW_DAYS, detectSuspectInWindows } from '../../domain/anomaly.js'
import { baselineWindow, dateOfKey } from './records.js'
import type { Normalized, ResourceSpec } from './specs.js'
import type { BatchResultType } from '../../schemas/health.js'

type ItemResult = BatchResultType['results'][number]

interface Accepted {
  index: number
  userUuid: string
  key: string
  values: Normalized
  source: string
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export async function ingestBatch(app: FastifyInstance, spec: ResourceSpec, items: Array<Record<string, unknown>>, request: FastifyRequest, reply: FastifyReply): Promise<BatchResultType> {
  const principal = request.principal!
  const validateShape = compileBodyValidator(spec.create)
  const results: ItemResult[] = items.map((_item, index) => ({ index, status: 'rejected' }))
  const rejections: Rejection[] = []
  const reject = (index: number, reason: Rejection['reason'], errors: FieldError[], userUuid: string | null, source: unknown) => {
    results[index] = { index, status: 'rejected', errors }
    rejections.push({ user_uuid: userUuid, resource: spec.name, reason, errors, source: loggedSource(source) })
  }

  // 1. shape and ownership, item by item
  const shaped: Array<{ index: number; item: Record<string, unknown>; userUuid: string }> = []
  items.forEach((item, index) => {
    const claimed = typeof item.user_uuid === 'string' && UUID_RE.test(item.user_uuid) ? item.user_uuid.toLowerCase() : null
    const logUser = principal.role === 'user' ? principal.sub : claimed
    const source: unknown = item.source
    if (!validateShape(item)) return reject(index, 'validation', schemaErrors(validateShape.errors, `/items/${index}`), logUser, source)
    const nul = nulPath(item)
    // PostgreSQL text cannot hold NUL: reject the item here rather than fail the whole batch
    if (nul !== null) return reject(index, 'validation', [{ path: `/items/${index}${nul}`, message: 'text must not contain NUL characters' }], logUser, null)
    if (!isPrivileged(principal) && claimed !== principal.sub) return reject(index, 'validation', [{ path: `/items/${index}/user_uuid`, message: 'user not found' }], logUser, source)
    shaped.push({ index, item, userUuid: claimed! })
  })

  // 2. users exist (one query), domain rules, duplicates within the batch
  const userIds = [...new Set(shaped.map((s) => s.userUuid))]
  const users = userIds.length ? await app.db.writer.selectFrom('users').select(['user_uuid', 'sex']).where('user_uuid', 'in', userIds).execute() : []
  const sexOf = new Map(users.map((u) => [u.user_uuid, u.sex as Sex]))
  const now = new Date()
  const accepted: Accepted[] = []
  const seen = new ByUserKey<number>()
  for (const { index, item, userUuid } of shaped) {
    if (!sexOf.has(userUuid)) {
      reject(index, 'validation', [{ path: `/items/${index}/user_uuid`, message: 'user not found' }], userUuid, item.source)
      continue
    }
    const checked = spec.validate(item, now, sexOf.get(userUuid) ?? null)
    if (!checked.ok) {
      reject(index, 'implausible', checked.issues.map((i) => ({ path: `/items/${index}${i.path}`, message: i.message })), userUuid, item.source)
      continue
    }
    const key = String(checked.value[spec.key])
    const first = seen.get(userUuid, key)
    if (first !== undefined) {
      reject(index, 'validation', [{ path: `/items/${index}/${spec.key}`, message: `duplicate of item ${first} (same user and ${spec.key}); send each record once` }], userUuid, item.source)
      continue
    }
    seen.set(userUuid, key, index)
    accepted.push({ index, userUuid, key, values: checked.value, source: typeof item.source === 'string' ? item.source : 'manual' })
  }

  // 3. quality against each user's baseline: stored rows plus the batch's own earlier items
  const qualities = await judgeBatch(app, spec, accepted)

  // 4. one transaction: upsert, rejections, outbox, idempotent response
  const affected = new Map<string, string>()
  const outcome = await app.db.writer.transaction().execute(async (tx) => {
    const written = await repo.upsertRecords(tx, spec, accepted.map((a, i) => ({ user_uuid: a.userUuid, key: a.key, values: a.values, source: a.source, quality: qualities[i]!.quality, quality_reasons: qualities[i]!.quality_reasons })))
    const byKey = new ByUserKey<boolean>()
    for (const w of written) byKey.set(w.user_uuid, w.key, w.inserted)
    for (const a of accepted) {
      const inserted = byKey.get(a.userUuid, a.key)
      results[a.index] = { index: a.index, status: inserted === undefined ? 'unchanged' : inserted ? 'created' : 'updated' }
      if (inserted !== undefined) affected.set(a.userUuid, earliest(affected.get(a.userUuid), dateOfKey(spec, a.key)))
    }
    await insertRejections(tx, rejections)
    await recordDataChange(tx, affected)
    const body = { results }
    reply.code(200)
    await app.idempotency.complete(tx, request, reply, body)
    return body
  })

  // counted per label set, not per item: a 1000-item batch is a handful of metric updates
  const bySource = new Map<string, number>()
  let suspect = 0
  accepted.forEach((a, i) => {
    if (results[a.index]!.status === 'unchanged') return
    bySource.set(a.source, (bySource.get(a.source) ?? 0) + 1)
    if (qualities[i]!.quality === 'suspect') suspect++
  })
  for (const [source, n] of bySource) app.metrics.ingestRecords.inc({ resource: spec.name, source }, n)
  if (suspect) app.metrics.suspectReadings.inc({ resource: spec.name }, suspect)
  const byReason = new Map<string, number>()
  for (const r of rejections) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1)
  for (const [reason, n] of byReason) app.metrics.ingestRejections.inc({ resource: spec.name, reason }, n)
  if (rejections.length) request.log.warn({ resource: spec.name, rejected: rejections.length, fields: rejections.flatMap((r) => r.errors.map((e) => e.path)).slice(0, 20) }, 'batch items rejected')
  await afterDataChange(app, affected.keys())
  return outcome
}

/**
 * Values by user and natural key (a string, or a timestamp's epoch ms): two lookups of values that
 * already exist (strings keep their hash), instead of one of a "<user> <key>" string joined,
 * flattened and hashed per item.
 */
class ByUserKey<V, K = string> {
  private readonly users = new Map<string, Map<K, V>>()
  get(user: string, key: K): V | undefined {
    return this.users.get(user)?.get(key)
  }
  set(user: string, key: K, value: V): void {
    let keys = this.users.get(user)
    if (keys === undefined) this.users.set(user, (keys = new Map()))
    keys.set(key, value)
  }
  /** each user (in the order first set) with its values by key */
  byUser(): IterableIterator<[string, Map<K, V>]> {
    return this.users.entries()
  }
}

/** JSON pointer of the first string holding a NUL character, or null (paths are built only for it). */
export function nulPath(value: unknown): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? '' : null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i])
      if (found !== null) return `/${i}${found}`
    }
    return null
  }
  if (value && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue
      const found = nulPath((value as Record<string, unknown>)[k])
      if (found !== null) return `/${k}${found}`
    }
  }
  return null
}

/** First index whose value is > k (`after`) or >= k (otherwise), in a sorted array. */
function firstIndex<T extends string | number>(sorted: readonly T[], k: T, after: boolean): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < k || (after && sorted[mid] === k)) lo = mid + 1
    else hi = mid
  }
  return lo
}

const BASELINE_WINDOW_MS = BASELINE_WINDOW_DAYS * 86_400_000

async function judgeBatch(app: FastifyInstance, spec: ResourceSpec, accepted: Accepted[]) {
  if (!spec.anomaly || accepted.length === 0) return accepted.map(() => ({ quality: 'ok' as const, quality_reasons: [] as string[] }))
  const keys = accepted.map((a) => a.key).sort()
  const from = baselineWindow(spec, keys[0]!).from
  const to = keys[keys.length - 1]!
  const stored = await repo.baselineRows(app.db.writer, spec, [...new Set(accepted.map((a) => a.userUuid))], from, spec.keyKind === 'timestamp' ? to : `${to}T23:59:59.999Z`)
  // history per user, keyed by natural key so a re-sent batch sees exactly what the first one saw.
  // A timestamp key is held as its epoch milliseconds (what the windows compare; a stored row's
  // Date gives them without an ISO string made and parsed back), a date as itself
  const timestamps = spec.keyKind === 'timestamp'
  const orderOf = (a: Accepted): number | string => (timestamps ? Date.parse(a.key) : a.key)
  const order = accepted.map(orderOf)
  const history = new ByUserKey<Record<string, unknown>, number | string>()
  for (const row of stored) {
    const k = row[spec.key]
    history.set(row.user_uuid, !timestamps ? repo.rowKey(spec, row) : k instanceof Date ? k.getTime() : Date.parse(String(k)), row)
  }
  accepted.forEach((a, i) => history.set(a.userUuid, order[i]!, a.values))
  // each user's history sorted once by key; every item's 28-day window is then two binary searches
  // (a per-item scan of the whole history made a 1000-item batch quadratic)
  const sorted = new Map<string, { keys: Array<number | string>; values: Array<Record<string, unknown>> }>()
  for (const [user, m] of history.byUser()) {
    const entries = [...m.entries()].sort(timestamps ? ([a], [b]) => (a as number) - (b as number) : ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    sorted.set(user, { keys: entries.map(([k]) => k), values: entries.map(([, v]) => v) })
  }
  // each item's window is two binary searches; the medians and MADs of all windows then come from
  // one sliding sorted window per user and field (domain/anomaly.ts)
  const results: Array<{ quality: 'ok' | 'suspect'; quality_reasons: string[] }> = new Array(accepted.length)
  const byUserItems = new Map<string, number[]>()
  accepted.forEach((a, i) => {
    const list = byUserItems.get(a.userUuid)
    if (list) list.push(i)
    else byUserItems.set(a.userUuid, [i])
  })
  for (const [user, indexes] of byUserItems) {
    const { keys, values } = sorted.get(user)!
    const readings = indexes.map((i) => {
      const a = accepted[i]!
      let start: number
      let end: number
      let self: number
      if (timestamps) {
        // epoch milliseconds: [key − 28 days, key − 1 ms], as baselineWindow (records.ts) has it
        const instants = keys as number[]
        const at = order[i] as number
        start = firstIndex(instants, at - BASELINE_WINDOW_MS, false)
        end = firstIndex(instants, at - 1, true)
        self = firstIndex(instants, at, false)
      } else {
        // dates: from the window's first day, strictly before the item's own date
        const dates = keys as string[]
        start = firstIndex(dates, baselineWindow(spec, a.key).from.slice(0, 10), false)
        end = firstIndex(dates, a.key, false)
        self = end
      }
      // `self`: judged suspect, the item leaves the baselines of the batch's later items
      return { record: a.values, start, end: Math.max(start, end), self }
    })
    const reasons = detectSuspectInWindows(spec.anomaly, values, readings)
    indexes.forEach((i, n) => {
      const r = reasons[n]!
      results[i] = r.length ? { quality: 'suspect', quality_reasons: r } : { quality: 'ok', quality_reasons: [] }
    })
  }
  return results
}
