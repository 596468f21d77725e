/**
 * The database side of every write of a user's health data (services/health/effects.ts): the
 * users' data versions bumped (scores made before are stale) and a score recomputation enqueued
 * (transactional outbox), as data-modifying CTEs that can lead any statement, so a write and its
 * effects are one atomic statement, or join a transaction as one more statement.
 */
import { sql, type Kysely, type QueryCreator } from 'kysely'
import type { DB } from './database.js'
import { enqueueScoreJobsQuery } from './score-jobs.js'
import { touchUsersDataQuery } from './users.js'

/** `affected` maps user → earliest affected date (YYYY-MM-DD); it must not be empty. */
export function withDataChange(db: QueryCreator<any>, affected: Map<string, string>) {
  return db
    .with('touched', (qc) => touchUsersDataQuery(qc, [...affected.keys()]))
    .with('queued', (qc) => enqueueScoreJobsQuery(qc, affected))
}

/** The effects alone (after a write that could not carry them): one statement. */
export async function recordDataChange(db: DB, affected: Map<string, string>): Promise<void> {
  if (affected.size === 0) return
  await withDataChange(db as unknown as Kysely<any>, affected).selectNoFrom(sql<number>`1`.as('done')).execute()
}
