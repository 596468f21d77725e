/**
 * Reads are audited as counts: one row per actor, target, route and status per flush interval
 * (about a second), with how many requests it stands for and when the last one came. Changes
 * (create, update, delete, export) stay one row each. At thousands of cached reads a second a row
 * per read was most of the database's write load. Existing rows are single requests: count 1.
 * Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE audit_log
    ADD COLUMN count integer NOT NULL DEFAULT 1 CONSTRAINT audit_log_count_positive CHECK (count >= 1),
    ADD COLUMN last_at timestamptz`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE audit_log DROP COLUMN IF EXISTS last_at, DROP COLUMN IF EXISTS count`.execute(db)
}
