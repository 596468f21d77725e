/**
 * Covering indexes for the baseline read of every single write (repositories/health-records.ts
 * `writeContexts`): the user's `ok` readings of the 28 days before the new one, only the fields the
 * anomaly rules check (domain/anomaly.ts BASELINE_CHECKED_FIELDS). The primary key finds the rows,
 * but a user's readings arrive over weeks among everyone else's, so each of them sits on a heap
 * page of its own: 112 bio-metric readings (4 a day) were ~115 page visits per write. Here the
 * values sit in the index, next to each other in (user, time) order: an index-only scan reads a
 * few pages (where the visibility map marks them all-visible, which vacuum maintains).
 * `quality` is included too (a baseline takes `ok` readings only), not a partial index: the query
 * runs prepared, and a generic plan, whose 'ok' is a parameter, could not prove a partial index's
 * predicate. In TimescaleDB mode the index is created on every chunk of the hypertable.
 * Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

const INDEXES = [
  { name: 'bio_metrics_baseline_idx', table: 'bio_metrics', key: 'recorded', include: ['weight_kg', 'resting_heart_rate_bpm', 'hrv_rmssd_ms', 'systolic_mmhg', 'diastolic_mmhg', 'spo2_pct', 'body_temperature_c', 'respiratory_rate_bpm'] },
  { name: 'physical_activity_baseline_idx', table: 'physical_activity', key: 'date', include: ['steps', 'active_minutes'] },
  { name: 'sleep_activity_baseline_idx', table: 'sleep_activity', key: 'date', include: ['total_sleep_minutes'] }
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const index of INDEXES) {
    await sql`CREATE INDEX ${sql.id(index.name)} ON ${sql.table(index.table)} (user_uuid, ${sql.ref(index.key)}) INCLUDE (quality, ${sql.join(index.include.map((c) => sql.ref(c)))})`.execute(db)
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of INDEXES) await sql`DROP INDEX IF EXISTS ${sql.id(index.name)}`.execute(db)
}
