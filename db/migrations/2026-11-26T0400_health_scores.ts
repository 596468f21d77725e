/**
 * Stored health scores (per user, date and algorithm version; a hypertable in TimescaleDB mode)
 * and the score-recomputation outbox: one row per user, coalescing every write, filled in the same
 * transaction as the write. Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  const mode = await sql<{ value: string }>`SELECT value FROM app_meta WHERE key = 'storage_mode'`.execute(db)
  const tsdb = mode.rows[0]?.value === 'timescaledb'

  await sql`CREATE TABLE health_scores (
    user_uuid uuid NOT NULL REFERENCES users (user_uuid) ON DELETE CASCADE,
    date date NOT NULL,
    algorithm_version text NOT NULL,
    score integer,
    band text,
    state text NOT NULL,
    confidence double precision NOT NULL,
    result jsonb NOT NULL,
    data_version bigint NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_uuid, date, algorithm_version)
  )`.execute(db)
  if (tsdb) {
    await sql`SELECT create_hypertable('health_scores', by_range('date', INTERVAL '30 days'), migrate_data => true)`.execute(db)
  }

  await sql`CREATE TABLE score_jobs (
    user_uuid uuid PRIMARY KEY REFERENCES users (user_uuid) ON DELETE CASCADE,
    from_date date NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    run_after timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_until timestamptz
  )`.execute(db)
  await sql`CREATE INDEX score_jobs_ready_idx ON score_jobs (run_after) WHERE state = 'pending'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS score_jobs`.execute(db)
  await sql`DROP TABLE IF EXISTS health_scores`.execute(db)
}
