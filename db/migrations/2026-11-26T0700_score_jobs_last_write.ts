/**
 * Score jobs remember their latest write as well as their first (`run_after`): a job is computed
 * once its user's writes have been quiet for WORKER_DEBOUNCE_MS, or WORKER_MAX_WAIT_MS after the
 * first write at the latest, so a user streaming data is recomputed once per max wait instead of
 * once per debounce. Existing jobs count as written when they were queued.
 * Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE score_jobs ADD COLUMN last_write_at timestamptz`.execute(db)
  await sql`UPDATE score_jobs SET last_write_at = run_after`.execute(db)
  await sql`ALTER TABLE score_jobs ALTER COLUMN last_write_at SET DEFAULT now(), ALTER COLUMN last_write_at SET NOT NULL`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE score_jobs DROP COLUMN IF EXISTS last_write_at`.execute(db)
}
