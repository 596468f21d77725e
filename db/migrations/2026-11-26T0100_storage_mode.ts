/**
 * Detect TimescaleDB and record the storage mode. Later migrations read `app_meta.storage_mode`
 * to create hypertables and continuous aggregates, or plain tables and views of the same name.
 * Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS app_meta (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`.execute(db)
  const available = await sql<{ present: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS present`.execute(db)
  let mode = 'postgres'
  if (available.rows[0]?.present) {
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`.execute(db)
    mode = 'timescaledb'
  }
  await sql`INSERT INTO app_meta (key, value) VALUES ('storage_mode', ${mode})
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS app_meta`.execute(db)
}
