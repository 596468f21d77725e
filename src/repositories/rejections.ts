/** The ingest-rejection log: every rejected health input, retained 30 days, readable by admins. */
import type { Kysely } from 'kysely'
import { insertJsonRows, type DB } from './database.js'
import { dayAfter, decodeCursor, pageOf } from './pagination.js'

export const REJECTION_RETENTION_DAYS = 30

export interface Rejection {
  user_uuid: string | null
  resource: string
  reason: 'validation' | 'implausible'
  errors: Array<{ path: string; message: string }>
  source: string | null
}

const any = (db: DB) => db as unknown as Kysely<any>

/**
 * The client's `source` as the log keeps it: 64 characters at most, and a NUL (which PostgreSQL
 * text cannot hold, and which may be the very reason for the rejection) shown as U+FFFD.
 */
export function loggedSource(source: unknown): string | null {
  return typeof source === 'string' ? source.slice(0, 64).replaceAll('\u0000', '\uFFFD') : null
}

export async function insertRejections(db: DB, rows: Rejection[]): Promise<void> {
  if (rows.length === 0) return
  await insertJsonRows('ingest_rejections', ['user_uuid', 'resource', 'reason', 'errors', 'source'], rows).execute(db)
}

export async function listRejections(db: DB, query: { user_uuid?: string; from?: string; to?: string; limit: number; cursor?: string }) {
  const after = decodeCursor(query.cursor, 2)
  let q = any(db).selectFrom('ingest_rejections').selectAll()
  if (query.user_uuid) q = q.where('user_uuid', '=', query.user_uuid)
  if (query.from) q = q.where('created_at', '>=', new Date(`${query.from}T00:00:00Z`))
  if (query.to) q = q.where('created_at', '<', new Date(`${dayAfter(query.to)}T00:00:00Z`))
  if (after) q = q.where((eb: any) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(String(after[0])), Number(after[1]))))
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute()
  return pageOf(rows as any[], query.limit, (r) => [(r.created_at as Date).toISOString(), Number(r.id)])
}

export async function purgeOldRejections(db: DB): Promise<number> {
  const result = await any(db)
    .deleteFrom('ingest_rejections')
    .where('created_at', '<', new Date(Date.now() - REJECTION_RETENTION_DAYS * 86_400_000))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
