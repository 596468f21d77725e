/**
 * The database side of every write of a user's health data (services/health/effects.ts): the
 * users' data versions bumped (scores made before are stale) and a score recomputation enqueued
 * (transactional outbox), as data-modifying CTEs that can lead any statement, so a write and its
 * effects are one atomic statement, or join a transaction as one more statement.
 */
import { sql, type Kysely, type QueryCreator, type RawBuilder } from 'kysely'
import type { DB } from './database.js'
import { enqueueScoreJobsQuery } from './score-jobs.js'
import { touchUsersDataQuery } from './users.js'

/** Rows an earlier CTE of the same statement wrote (`RETURNING user_uuid, …`): `day` is a row's affected date. */
export interface WrittenRows {
  cte: string
  day: RawBuilder<string>
}

/**
 * `affected` maps user → earliest affected date (YYYY-MM-DD); it must not be empty. Or it names the
 * rows an earlier CTE wrote: their users, each from its earliest `day`, so a row not written (an
 * existing key left alone) implies nothing.
 */
export function withDataChange(db: QueryCreator<any>, affected: Map<string, string> | WrittenRows) {
  if (affected instanceof Map) {
    return db
      .with('touched', (qc) => touchUsersDataQuery(qc, [...affected.keys()]))
      .with('queued', (qc) => enqueueScoreJobsQuery(qc, affected))
  }
  return db
    .with('touched', (qc) => touchUsersDataQuery(qc, qc.selectFrom(affected.cte).select('user_uuid')))
    .with('queued', (qc) => enqueueScoreJobsQuery(qc, qc.selectFrom(affected.cte).select(['user_uuid', sql<string>`min(${affected.day})`.as('from_date')]).groupBy('user_uuid')))
}

/** The effects alone (after a write that could not carry them): one statement. */
export async function recordDataChange(db: DB, affected: Map<string, string>): Promise<void> {
  if (affected.size === 0) return
  await withDataChange(db as unknown as Kysely<any>, affected).selectNoFrom(sql<number>`1`.as('done')).execute()
}
