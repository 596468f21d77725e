/**
 * The score-recomputation outbox. Enqueued in the same transaction as the data write, coalesced
 * per user (earliest affected date wins, `version` counts enqueues). Workers claim jobs with
 * FOR UPDATE SKIP LOCKED and a lease, so two workers never compute the same user at once, and a
 * job finished while a newer write arrived is kept (its version moved on).
 */
import { sql, type QueryCreator, type SelectQueryBuilder } from 'kysely'
import type { DB } from './database.js'

export interface ScoreJob {
  user_uuid: string
  from_date: string
  version: number
  attempts: number
  enqueued_at: Date
}

/**
 * The upsert of outbox rows, as a query for a CTE (repositories/data-change.ts).
 * `affected`: user → earliest affected date, or a query answering `user_uuid, from_date` rows (one
 * per user: the upsert cannot touch a row twice) from what a statement's CTE wrote.
 */
export function enqueueScoreJobsQuery(db: QueryCreator<any>, affected: Map<string, string> | SelectQueryBuilder<any, any, { user_uuid: string; from_date: string }>) {
  const insert = db.insertInto('score_jobs')
  return (affected instanceof Map
    ? insert.values([...affected.entries()].map(([user_uuid, from_date]) => ({ user_uuid, from_date })))
    : insert.columns(['user_uuid', 'from_date']).expression(affected)
  ).onConflict((oc: any) =>
      oc.column('user_uuid').doUpdateSet({
        from_date: sql`LEAST(score_jobs.from_date, excluded.from_date)`,
        version: sql`score_jobs.version + 1`,
        state: 'pending',
        attempts: 0,
        last_error: null,
        last_write_at: sql`now()`,
        // a pending job keeps the time of its first write, from which WORKER_MAX_WAIT_MS counts (a
        // stream of writes cannot postpone it beyond that); a failed or parked job is revived now
        run_after: sql`CASE WHEN score_jobs.state = 'pending' AND score_jobs.attempts = 0 THEN score_jobs.run_after ELSE now() END`
      })
    )
}

/**
 * Claim up to `limit` ready jobs: pending, not leased, at least `debounceMs` past their `run_after`
 * (the first write they stand for), and either quiet (no write for `debounceMs`) or waiting since
 * `maxWaitMs`. A burst of writes (a device syncing reading by reading) is computed once; a user
 * who writes without pause is computed once per `maxWaitMs`, not once per debounce, since each of
 * those computations would be outdated by the next write. Reads never wait for the worker: a stale
 * score is computed inline. `maxWaitMs` ≤ `debounceMs` gives a fixed delay after the first write.
 */
export async function claimScoreJobs(db: DB, workerId: string, limit: number, leaseSeconds: number, debounceMs = 0, maxWaitMs = debounceMs): Promise<ScoreJob[]> {
  // the settings go in as literals, not parameters: the worker runs this every poll, so it runs as
  // a prepared statement (plugins/db.ts), and a generic plan made without the cut-off's value
  // estimated a third of the queue as ready and scanned the whole table (test/db/query-plans.test.ts)
  const number = (n: number) => {
    if (!Number.isFinite(n)) throw new RangeError(`claimScoreJobs: ${n} is not a number`)
    return sql.lit(n)
  }
  const debounce = sql`make_interval(secs => ${number(debounceMs / 1000)})`
  const result = await sql<ScoreJob>`
    UPDATE score_jobs SET locked_by = ${workerId}, locked_until = now() + make_interval(secs => ${leaseSeconds})
    WHERE user_uuid IN (
      SELECT user_uuid FROM score_jobs
      WHERE state = 'pending' AND run_after <= now() - ${debounce} AND (locked_until IS NULL OR locked_until < now())
        AND (last_write_at <= now() - ${debounce} OR run_after <= now() - make_interval(secs => ${number(maxWaitMs / 1000)}))
      ORDER BY run_after
      LIMIT ${number(Math.floor(limit))}
      FOR UPDATE SKIP LOCKED)
    RETURNING user_uuid, from_date, version, attempts, enqueued_at`.execute(db)
  return result.rows
}

/**
 * Done: remove the job unless a newer write re-enqueued it meanwhile; then release it, due from now
 * (so a user writing continuously is recomputed once per debounce, not back to back).
 */
export async function completeScoreJob(db: DB, job: ScoreJob): Promise<void> {
  const deleted = await sql`DELETE FROM score_jobs WHERE user_uuid = ${job.user_uuid} AND version = ${job.version}`.execute(db)
  if (Number(deleted.numAffectedRows ?? 0) === 0) {
    await sql`UPDATE score_jobs SET locked_by = NULL, locked_until = NULL, run_after = now() WHERE user_uuid = ${job.user_uuid}`.execute(db)
  }
}

/** Failed: retry with exponential backoff, or park after maxAttempts. Returns true when parked. */
export async function failScoreJob(db: DB, job: ScoreJob, error: string, maxAttempts: number): Promise<boolean> {
  const attempts = job.attempts + 1
  const parked = attempts >= maxAttempts
  const backoffSeconds = Math.min(2 ** attempts, 300)
  await sql`UPDATE score_jobs SET attempts = ${attempts}, last_error = ${error.slice(0, 500)}, locked_by = NULL, locked_until = NULL,
            state = ${parked ? 'parked' : 'pending'}, run_after = now() + make_interval(secs => ${backoffSeconds})
            WHERE user_uuid = ${job.user_uuid} AND version = ${job.version}`.execute(db)
  return parked
}

/** Give claimed jobs back (graceful shutdown). */
export async function releaseScoreJobs(db: DB, workerId: string): Promise<void> {
  await sql`UPDATE score_jobs SET locked_by = NULL, locked_until = NULL WHERE locked_by = ${workerId}`.execute(db)
}

export async function queueStats(db: DB): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const result = await sql<{ depth: number; oldest: number | null }>`
    SELECT count(*)::int AS depth, EXTRACT(EPOCH FROM now() - min(enqueued_at))::float8 AS oldest
    FROM score_jobs WHERE state = 'pending'`.execute(db)
  const row = result.rows[0]
  return { depth: row?.depth ?? 0, oldestAgeSeconds: row?.oldest ?? 0 }
}
