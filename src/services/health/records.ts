/**
 * Single-record use-cases for the four health resources: validate (domain), flag against the
 * user's own baseline (domain), write with its side effects in one transaction (repository),
 * then invalidate the user's cache. Rejected input is recorded by the rejections plugin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BASELINE_CHECKED_FIELDS, BASELINE_WINDOW_DAYS, baselineColumns, detectSuspectInColumns, type BaselineColumns } from '../../domain/anomaly.js'
import { BadRequest, Conflict, NotFound } from '../../domain/errors.js'
import type { Sex } from '../../domain/validation/index.js'
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
  // two round trips in all: what the write needs to know (the user, their baseline), then the write
  // with its effects in one statement. Sex matters only to specs without a baseline (blood panels),
  // so a baseline spec is validated before the read, which needs the validated key for its window.
  const now = new Date()
  let checked = spec.anomaly ? spec.validate(body, now, null) : null
  if (checked && !checked.ok) throw toImplausible(checked.issues)
  const window = checked?.ok ? baselineWindow(spec, String(checked.value[spec.key])) : null
  const context = await repo.writeContext(app.db.writer, spec, userUuid, window, spec.anomaly ? BASELINE_CHECKED_FIELDS[spec.anomaly].map((r) => r.field) : [])
  if (!context) throw new NotFound('user not found')
  checked ??= spec.validate(body, now, context.sex as Sex)
  if (!checked.ok) throw toImplausible(checked.issues)
  const values = checked.value
  const key = String(values[spec.key])
  const quality = judge(spec, values, context.history)
  const source = typeof body.source === 'string' ? body.source : 'manual'
  const stored = { user_uuid: userUuid, key, values, source, ...quality }
  const insert = (db: DB) => repo.insertRecordWithEffects(db, spec, stored, dateOfKey(spec, key))
  const created = <T>(row: T) => {
    hooks.reply.code(201).header('location', `/api/${spec.path}/${userUuid}/${encodeURIComponent(key)}`)
    return row
  }
  const row = await (hooks.request.idempotency
    ? app.db.writer.transaction().execute(async (tx) => {
        const inserted = created(await insert(tx))
        await app.idempotency.complete(tx, hooks.request, hooks.reply, inserted)
        return inserted
      })
    : insert(app.db.writer).then(created)
  ).catch((error: { code?: string }) => {
    if (error.code === '23505') {
      throw new Conflict(`a ${spec.name} record for this user and ${spec.key} already exists; use PATCH to change it`, [{ path: `/body/${spec.key}`, message: 'already exists' }])
    }
    if (error.code === '23503') throw new NotFound('user not found')
    throw error
  })
  app.metrics.ingestRecords.inc({ resource: spec.name, source })
  if (row.quality === 'suspect') app.metrics.suspectReadings.inc({ resource: spec.name })
  await afterDataChange(app, [userUuid])
  return row
}

export async function getRecord(app: FastifyInstance, spec: ResourceSpec, request: FastifyRequest, userUuid: string, key: string) {
  assertOwnsOrPrivileged(request.principal, userUuid, spec.name)
  const row = await repo.findRecord(await app.readerFor(userUuid), spec, userUuid, normalizeKey(spec, key))
  if (!row) throw new NotFound(`${spec.name} record not found`)
  return row
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
