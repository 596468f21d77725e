/**
 * Append-only audit log: who (sub, role) read or changed which user's data, when, through which
 * route. No foreign key and no health values: it outlives the user's erasure. A trigger refuses
 * UPDATE and DELETE. Frozen: never import application code here.
 */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_sub uuid NOT NULL,
    actor_role text NOT NULL,
    action text NOT NULL,
    target_user_uuid uuid,
    method text NOT NULL,
    route text NOT NULL,
    status integer NOT NULL,
    request_id text
  )`.execute(db)
  await sql`CREATE INDEX audit_log_target_idx ON audit_log (target_user_uuid, at DESC, id DESC)`.execute(db)
  await sql`CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC)`.execute(db)
  await sql`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`.execute(db)
  await sql`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_log`.execute(db)
  await sql`DROP FUNCTION IF EXISTS audit_log_append_only()`.execute(db)
}
