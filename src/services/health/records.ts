/**
 * Single-record use-cases for the four health resources: validate (domain), flag against the
 * user's own baseline (domain), write with its side effects in one transaction (repository),
 * then invalidate the user's cache. Rejected input is recorded by the rejections plugin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BASELINE_CHECKED_FIELDS, BASELINE_WINDOW_DAYS, baselineColumns, detectSuspectInColumns, type BaselineColumns } from '../../domain/anomaly.js'
import { BadRequest, Conflict, NotFound } from '../../domain/errors.js'
import type { Sex } from '../../domain/validation/index.js'
import { Coalescer } from '../../repositories/coalescer.js'
import type { DB } from '../../repositories/database.js'
import * as repo from '../../repositories/health-records.js'
import { findUser } from '../../repositories/users.js'
import { assertOwnsOrPrivileged } from '../../plugins/auth.js'
import { toImplausible } from '../users.js'
import { afterDataChange, recordDataChange } from './effects.js'
import type { Normalized, ResourceSpec } from './specs.js'

const DAY_MS = 86_400_000

export function dateOfKey(spec: ResourceSpec, key: string): string {
  return key.slice(0, 10)
}

export function baselineWindow(spec: ResourceSpec, key: string): { from: string; to: string } {
  const at = spec.keyKind === 'timestamp' ? new Date(key) : new Date(`${key}T00:00:00Z`)
  return { from: new Date(at.getTime() - BASELINE_WINDOW_DAYS * DAY_MS).toISOString(), to: new Date(at.getTime() - 1).toISOString() }
}

/** quality and reasons of a new reading judged against the user's baseline (same key excluded), as columns. */
export function judge(spec: ResourceSpec, values: Normalized, history: BaselineColumns): { quality: 'ok' | 'suspect'; quality_reasons: string[] } {
  if (!spec.anomaly) return { quality: 'ok', quality_reasons: [] }
  const reasons = detectSuspectInColumns(spec.anomaly, values as never, history)
  return reasons.length ? { quality: 'suspect', quality_reasons: reasons } : { quality: 'ok', quality_reasons: [] }
}

async function userOr404(app: FastifyInstance, userUuid: string) {
  const user = await findUser(app.db.writer, userUuid)
  if (!user) throw new NotFound('user not found')
  return user
}

export interface WriteHooks {
  request: FastifyRequest
  reply: FastifyReply
}

export async function createRecord(app: FastifyInstance, spec: ResourceSpec, body: Record<string, unknown>, hooks: WriteHooks) {
  const userUuid = String(body.user_uuid).toLowerCase()
  assertOwnsOrPrivileged(hooks.request.principal, userUuid, 'user')
  // two round trips in all, each shared with the single writes of the same event-loop turn
  // (coalescedWrites): what the write needs to know (the user, their baseline), then the write with
  // its effects. Sex matters only to specs without a baseline (blood panels), so a baseline spec is
  // validated before the read, which needs the validated key for its window.
  const now = new Date()
  let checked = spec.anomaly ? spec.validate(body, now, null) : null
  if (checked && !checked.ok) throw toImplausible(checked.issues)
  const window = checked?.ok ? baselineWindow(spec, String(checked.value[spec.key])) : null
  const writes = coalescedWrites(app, app.db.writer, spec)
  const context = await writes.contexts.submit({ user_uuid: userUuid, window })
  if (!context) throw new NotFound('user not found')
  checked ??= spec.validate(body, now, context.sex as Sex)
  if (!checked.ok) throw toImplausible(checked.issues)
  const values = checked.value
  const key = String(values[spec.key])
  const quality = judge(spec, values, context.history)
  const source = typeof body.source === 'string' ? body.source : 'manual'
  const stored = { user_uuid: userUuid, key, values, source, ...quality }
  const created = <T>(row: T) => {
    hooks.reply.code(201).header('location', `/api/${spec.path}/${userUuid}/${encodeURIComponent(key)}`)
    return row
  }
  const exists = () => new Conflict(`a ${spec.name} record for this user and ${spec.key} already exists; use PATCH to change it`, [{ path: `/body/${spec.key}`, message: 'already exists' }])
  const row = await (hooks.request.idempotency
    ? app.db.writer.transaction().execute(async (tx) => {
        const inserted = created(await repo.insertRecordWithEffects(tx, spec, stored, dateOfKey(spec, key)))
        await app.idempotency.complete(tx, hooks.request, hooks.reply, inserted)
        return inserted
      })
    : writes.inserts.submit(stored).then((outcome) => {
        if ('error' in outcome) throw outcome.error
        if (!outcome.row) throw exists()
        return created(outcome.row)
      })
  ).catch((error: { code?: string }) => {
    if (error.code === '23505') throw exists()
    if (error.code === '23503') throw new NotFound('user not found')
    throw error
  })
  app.metrics.ingestRecords.inc({ resource: spec.name, source })
  if (row.quality === 'suspect') app.metrics.suspectReadings.inc({ resource: spec.name })
  await afterDataChange(app, [userUuid])
  return row
}

/** a coalesced insert's answer for one request: its row, undefined when the key exists (409), or its own error */
type InsertOutcome = { row: repo.HealthRow | undefined } | { error: unknown }

interface CoalescedWrites {
  contexts: Coalescer<{ user_uuid: string; window: { from: string; to: string } | null }, repo.WriteContext | undefined>
  inserts: Coalescer<repo.StoredValues, InsertOutcome>
}

const writesByDb = new WeakMap<DB, Map<string, CoalescedWrites>>()

/** the coalescers of `db` and `spec`, made by `make` on first use (one set per database and resource) */
function perDbAndSpec<T>(byDb: WeakMap<DB, Map<string, T>>, db: DB, spec: ResourceSpec, make: () => T): T {
  let bySpec = byDb.get(db)
  if (!bySpec) byDb.set(db, (bySpec = new Map()))
  let made = bySpec.get(spec.name)
  if (made === undefined) bySpec.set(spec.name, (made = make()))
  return made
}

/**
 * The single writes of one event-loop turn, per database and resource, share their statements
 * (`Coalescer`): one baseline read and one insert (one commit) for the group instead of one each.
 * Under load that is most of a single POST's PostgreSQL cost and round trips; alone a POST runs
 * as before. Writes with an Idempotency-Key keep their own transaction (the key's row commits with
 * the record).
 */
function coalescedWrites(app: FastifyInstance, db: DB, spec: ResourceSpec): CoalescedWrites {
  return perDbAndSpec(writesByDb, db, spec, () => {
    const fields = spec.anomaly ? BASELINE_CHECKED_FIELDS[spec.anomaly].map((r) => r.field) : []
    return {
      contexts: new Coalescer((requests) => repo.writeContexts(db, spec, fields, requests), { onGroup: observeGroup(app, 'write_context') }),
      inserts: new Coalescer((rows) => insertGroup(db, spec, rows), { onGroup: observeGroup(app, 'insert') })
    }
  })
}

/** class 22 (data exception) and 23 (integrity constraint violation): the fault of a row, not of the group */
function rowError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))
}

/**
 * One statement for the group's rows. If a row fails it (its user deleted since the context read,
 * a constraint), the rows are written one by one, so only that request gets the error. A key sent
 * twice in one group is written after the group, on its own: it gets its 409 (or, if the first
 * one failed, its 201) exactly as if the two requests had come one after the other.
 */
export async function insertGroup(db: DB, spec: ResourceSpec, rows: repo.StoredValues[]): Promise<InsertOutcome[]> {
  const outcomes = new Array<InsertOutcome>(rows.length)
  const one = async (i: number): Promise<void> => {
    const row = rows[i]!
    outcomes[i] = await repo.insertRecordWithEffects(db, spec, row, dateOfKey(spec, row.key)).then((inserted) => ({ row: inserted }), (error: unknown) => ({ error }))
  }
  const seen = new Set<string>()
  const first: number[] = []
  const repeats: number[] = []
  rows.forEach((row, i) => {
    const key = `${row.user_uuid} ${repo.canonicalKey(spec, row.key)}`
    if (seen.has(key)) repeats.push(i)
    else {
      seen.add(key)
      first.push(i)
    }
  })
  try {
    const inserted = await repo.insertRecordsWithEffects(db, spec, first.map((i) => rows[i]!))
    first.forEach((i, n) => (outcomes[i] = { row: inserted[n] }))
  } catch (error) {
    if (!rowError(error)) throw error
    if (first.length === 1) outcomes[first[0]!] = { error }
    else await Promise.all(first.map(one))
  }
  for (const i of repeats) await one(i)
  return outcomes
}

export async function getRecord(app: FastifyInstance, spec: ResourceSpec, request: FastifyRequest, userUuid: string, key: string) {
  assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
  const row = await coalescedReads(app, await app.readerFor(userUuid), spec).submit({ user_uuid: userUuid, key: normalizeKey(spec, key) })
  if (!row) throw new NotFound(`${spec.name} record not found`)
  return row
}

const readsByDb = new WeakMap<DB, Map<string, Coalescer<{ user_uuid: string; key: string }, repo.HealthRow | undefined>>>()

/**
 * The single-record reads of one event-loop turn, per database and resource, share one statement
 * (`Coalescer`), as the cache's lookups of a turn share one MGET. A key PostgreSQL refuses (a date
 * that does not exist) fails only its own read.
 */
function coalescedReads(app: FastifyInstance, db: DB, spec: ResourceSpec) {
  return perDbAndSpec(readsByDb, db, spec, () => new Coalescer((keys) => repo.findRecords(db, spec, keys), { isolate: rowError, onGroup: observeGroup(app, 'lookup') }))
}

/** `db_coalesced_group_size{statement}`: how many requests each statement served */
function observeGroup(app: FastifyInstance, statement: 'write_context' | 'insert' | 'lookup') {
  const histogram = app.metrics.dbCoalescedGroup.labels({ statement })
  return (size: number) => histogram.observe(size)
}

export async function listRecords(app: FastifyInstance, spec: ResourceSpec, request: FastifyRequest, userUuid: string, query: repo.ListQuery) {
  assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
  return repo.listRecords(await app.readerFor(userUuid), spec, userUuid, query)
}

export function normalizeKey(spec: ResourceSpec, key: string): string {
  if (spec.keyKind === 'date') return key
  const at = new Date(key)
  if (Number.isNaN(at.getTime())) throw new BadRequest(`${spec.key} must be an RFC 3339 timestamp`, [{ path: `/params/${spec.key}`, message: 'not a timestamp' }])
  return at.toISOString()
}

export async function patchRecord(app: FastifyInstance, spec: ResourceSpec, request: FastifyRequest, userUuid: string, rawKey: string, patch: Record<string, unknown>) {
  assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
  const key = normalizeKey(spec, rawKey)
  const user = await userOr404(app, userUuid)
  const stored = await repo.findRecord(app.db.writer, spec, userUuid, key)
  if (!stored) throw new NotFound(`${spec.name} record not found`)
  const merged = spec.merge(stored, patch, new Date(), user.sex as Sex)
  if (!merged.ok) throw toImplausible(merged.issues)
  const valuesChanged = spec.columns.some((c) => JSON.stringify(normalizeValue(stored[c])) !== JSON.stringify(normalizeValue(merged.value[c])))
  let quality: { quality: 'ok' | 'suspect'; quality_reasons: string[] }
  if (patch.quality === 'ok') quality = { quality: 'ok', quality_reasons: [] } // the client confirms the reading
  else if (patch.quality === 'suspect') quality = { quality: 'suspect', quality_reasons: stored.quality_reasons.length ? stored.quality_reasons : ['marked suspect by the client'] }
  else if (valuesChanged) {
    const window = baselineWindow(spec, key)
    const history = spec.anomaly ? baselineColumns(spec.anomaly, await repo.baselineRows(app.db.writer, spec, [userUuid], window.from, window.to)) : {}
    quality = judge(spec, merged.value, history)
  } else quality = { quality: stored.quality, quality_reasons: stored.quality_reasons }
  const source = typeof patch.source === 'string' ? patch.source : stored.source
  const row = await app.db.writer.transaction().execute(async (tx: DB) => {
    const updated = await repo.updateRecord(tx, spec, { user_uuid: userUuid, key, values: merged.value, source, ...quality })
    if (!updated) throw new NotFound(`${spec.name} record not found`)
    await recordDataChange(tx, new Map([[userUuid, dateOfKey(spec, key)]]))
    return updated
  })
  await afterDataChange(app, [userUuid])
  return row
}

function normalizeValue(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : v ?? null
}

export async function deleteRecords(app: FastifyInstance, spec: ResourceSpec, request: FastifyRequest, userUuid: string, key: string | undefined, all: boolean | undefined) {
  assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
  if (!all && key === undefined) {
    throw new BadRequest(`name the record with ?${spec.key}= or delete every record with ?all=true`, [{ path: `/querystring/${spec.key}`, message: `${spec.key} or all=true is required` }])
  }
  if (all && key !== undefined) throw new BadRequest(`give either ?${spec.key}= or ?all=true, not both`)
  const normalized = key === undefined ? null : normalizeKey(spec, key)
  const deleted = await app.db.writer.transaction().execute(async (tx: DB) => {
    const n = await repo.deleteRecords(tx, spec, userUuid, normalized)
    if (n > 0) await recordDataChange(tx, new Map([[userUuid, normalized ? dateOfKey(spec, normalized) : '1900-01-01']]))
    return n
  })
  if (normalized !== null && deleted === 0) throw new NotFound(`${spec.name} record not found`)
  if (deleted > 0) await afterDataChange(app, [userUuid])
}
