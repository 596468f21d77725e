/** Users table queries. Plain functions taking `db` (or a transaction) first; no HTTP here. */
import { sql, type QueryCreator, type SelectQueryBuilder } from 'kysely'
import type { Database, DB, NewUserRow, UserRow, UserUpdate } from './database.js'
import { dayAfter, decodeCursor, pageOf } from './pagination.js'

export async function insertUser(db: DB, row: NewUserRow): Promise<UserRow> {
  return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findUser(db: DB, userUuid: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('user_uuid', '=', userUuid).executeTakeFirst()
}

export async function updateUser(db: DB, userUuid: string, update: UserUpdate): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ ...update, updated_at: sql<Date>`now()` })
    .where('user_uuid', '=', userUuid)
    .returningAll()
    .executeTakeFirst()
}

/**
 * The data-version bump, as a query (run alone, or as a CTE of a data write: data-change.ts).
 * `userUuids`: a list, or a query answering `user_uuid`s (the rows a statement's CTE wrote).
 */
export function touchUsersDataQuery(db: QueryCreator<any>, userUuids: string[] | SelectQueryBuilder<any, any, { user_uuid: string }>) {
  return db
    .updateTable('users')
    .set((eb) => ({ data_version: eb('data_version', '+', 1) }))
    // a query's users as `= ANY(ARRAY(…))`: always the primary key, where `IN (subquery)` may
    // become a semi-join that scans the whole table
    .where((eb) => (Array.isArray(userUuids) ? eb('user_uuid', 'in', userUuids) : eb('user_uuid', '=', sql<string>`ANY(ARRAY(${userUuids}))`)))
}

export async function touchUsersData(db: DB, userUuids: string[]): Promise<void> {
  if (userUuids.length === 0) return
  await touchUsersDataQuery(db, userUuids).execute()
}

export interface UserListQuery {
  limit: number
  cursor?: string
  from?: string
  to?: string
}

/** Newest first, keyset on (created_at, user_uuid). */
export async function listUsers(db: DB, query: UserListQuery) {
  const after = decodeCursor(query.cursor, 2)
  let q = db.selectFrom('users').selectAll()
  if (query.from) q = q.where('created_at', '>=', new Date(`${query.from}T00:00:00Z`))
  if (query.to) q = q.where('created_at', '<', new Date(`${dayAfter(query.to)}T00:00:00Z`))
  if (after) {
    q = q.where((eb) => eb(eb.refTuple('created_at', 'user_uuid'), '<', eb.tuple(new Date(String(after[0])), String(after[1]))))
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('user_uuid', 'desc').limit(query.limit + 1).execute()
  return pageOf(rows, query.limit, (r) => [r.created_at.toISOString(), r.user_uuid])
}
