/**
 * Health data keyed by natural key, the idempotency store and the ingest-rejection log.
 * TimescaleDB mode: bio_metrics is a hypertable and bio_metrics_daily a real-time continuous
 * aggregate. Plain mode: the same table, and a view of the same name and columns, so the
 * application has one query path. Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

const META = sql.raw(`
  source text NOT NULL DEFAULT 'manual',
  quality text NOT NULL DEFAULT 'ok' CHECK (quality IN ('ok', 'suspect')),
  quality_reasons text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`)

async function timescale(db: Kysely<any>): Promise<boolean> {
  const row = await sql<{ value: string }>`SELECT value FROM app_meta WHERE key = 'storage_mode'`.execute(db)
  return row.rows[0]?.value === 'timescaledb'
}

export async function up(db: Kysely<any>): Promise<void> {
  const tsdb = await timescale(db)

  await sql`CREATE TABLE blood_tests (
    user_uuid uuid NOT NULL REFERENCES users (user_uuid) ON DELETE CASCADE,
    test_date date NOT NULL,
    lab text,
    results jsonb NOT NULL,
    ${META},
    PRIMARY KEY (user_uuid, test_date)
  )`.execute(db)

  await sql`CREATE TABLE bio_metrics (
    user_uuid uuid NOT NULL REFERENCES users (user_uuid) ON DELETE CASCADE,
    recorded timestamptz NOT NULL,
    weight_kg double precision,
    body_fat_pct double precision,
    heart_rate_bpm double precision,
    resting_heart_rate_bpm double precision,
    hrv_rmssd_ms double precision,
    systolic_mmhg double precision,
    diastolic_mmhg double precision,
    spo2_pct double precision,
    body_temperature_c double precision,
    respiratory_rate_bpm double precision,
    ${META},
    PRIMARY KEY (user_uuid, recorded)
  )`.execute(db)

  await sql`CREATE TABLE physical_activity (
    user_uuid uuid NOT NULL REFERENCES users (user_uuid) ON DELETE CASCADE,
    date date NOT NULL,
    steps integer,
    distance_m double precision,
    active_minutes double precision,
    moderate_minutes double precision,
    vigorous_minutes double precision,
    calories_kcal double precision,
    floors integer,
    avg_heart_rate_bpm double precision,
    max_heart_rate_bpm double precision,
    ${META},
    PRIMARY KEY (user_uuid, date)
  )`.execute(db)

  await sql`CREATE TABLE sleep_activity (
    user_uuid uuid NOT NULL REFERENCES users (user_uuid) ON DELETE CASCADE,
    date date NOT NULL,
    sleep_start timestamptz,
    sleep_end timestamptz,
    total_sleep_minutes double precision,
    deep_minutes double precision,
    rem_minutes double precision,
    light_minutes double precision,
    awake_minutes double precision,
    interruptions integer,
    ${META},
    PRIMARY KEY (user_uuid, date)
  )`.execute(db)
  // The primary keys (user_uuid, key) serve every lookup and the newest-first list scans
  // (a B-tree is read backwards just as well).

  if (tsdb) {
    // 7-day chunks: a week of readings per chunk keeps recent chunks in memory
    await sql`SELECT create_hypertable('bio_metrics', by_range('recorded', INTERVAL '7 days'), migrate_data => true)`.execute(db)
    await sql`CREATE MATERIALIZED VIEW bio_metrics_daily WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT user_uuid,
             time_bucket(INTERVAL '1 day', recorded) AS day,
             count(*) AS readings,
             avg(resting_heart_rate_bpm) AS avg_resting_heart_rate_bpm,
             min(resting_heart_rate_bpm) AS min_resting_heart_rate_bpm,
             avg(hrv_rmssd_ms) AS avg_hrv_rmssd_ms,
             avg(systolic_mmhg) AS avg_systolic_mmhg,
             avg(diastolic_mmhg) AS avg_diastolic_mmhg,
             avg(weight_kg) AS avg_weight_kg,
             avg(spo2_pct) AS avg_spo2_pct
      FROM bio_metrics
      WHERE quality = 'ok'
      GROUP BY user_uuid, time_bucket(INTERVAL '1 day', recorded)
      WITH NO DATA`.execute(db)
    await sql`SELECT add_continuous_aggregate_policy('bio_metrics_daily', start_offset => INTERVAL '35 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes')`.execute(db)
  } else {
    await sql`CREATE VIEW bio_metrics_daily AS
      SELECT user_uuid,
             date_bin(INTERVAL '1 day', recorded, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS day,
             count(*) AS readings,
             avg(resting_heart_rate_bpm) AS avg_resting_heart_rate_bpm,
             min(resting_heart_rate_bpm) AS min_resting_heart_rate_bpm,
             avg(hrv_rmssd_ms) AS avg_hrv_rmssd_ms,
             avg(systolic_mmhg) AS avg_systolic_mmhg,
             avg(diastolic_mmhg) AS avg_diastolic_mmhg,
             avg(weight_kg) AS avg_weight_kg,
             avg(spo2_pct) AS avg_spo2_pct
      FROM bio_metrics
      WHERE quality = 'ok'
      GROUP BY user_uuid, date_bin(INTERVAL '1 day', recorded, TIMESTAMPTZ '2000-01-01 00:00:00+00')`.execute(db)
  }

  // Idempotency-Key store: shared by all instances, survives restarts, kept 24 h.
  await sql`CREATE TABLE idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL,
    user_uuid uuid,
    request_hash text NOT NULL,
    state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    status_code integer,
    response_body text,
    response_headers jsonb,
    locked_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
  )`.execute(db)
  await sql`CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at)`.execute(db)
  await sql`CREATE INDEX idempotency_keys_user_uuid_idx ON idempotency_keys (user_uuid)`.execute(db)

  // Rejected input, retained 30 days. No foreign key: rejections may name users that don't exist.
  await sql`CREATE TABLE ingest_rejections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_uuid uuid,
    resource text NOT NULL,
    reason text NOT NULL,
    errors jsonb NOT NULL DEFAULT '[]',
    source text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db)
  await sql`CREATE INDEX ingest_rejections_created_at_idx ON ingest_rejections (created_at DESC, id DESC)`.execute(db)
  await sql`CREATE INDEX ingest_rejections_user_idx ON ingest_rejections (user_uuid, created_at DESC, id DESC)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['ingest_rejections', 'idempotency_keys']) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db)
  await sql`DROP VIEW IF EXISTS bio_metrics_daily`.execute(db)
  for (const table of ['sleep_activity', 'physical_activity', 'bio_metrics', 'blood_tests']) await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db)
}
