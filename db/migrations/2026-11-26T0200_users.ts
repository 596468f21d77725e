/** Users. Email uniqueness is case-insensitive through the normalized column. Frozen. */
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('user_uuid', 'uuid', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_normalized', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('birth_date', 'date')
    .addColumn('sex', 'text', (c) => c.notNull().defaultTo('unknown'))
    .addColumn('height_cm', 'double precision')
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
    // bumped in the same transaction as every write of the user's data: a score or cache entry
    // made at an older data_version is stale.
    .addColumn('data_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`)) // ms: keyset cursors round-trip through JS Date
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('users_sex_check', sql`sex IN ('female', 'male', 'other', 'unknown')`)
    .execute()
  await db.schema.createIndex('users_email_normalized_key').unique().on('users').column('email_normalized').execute()
  // keyset pagination of the admin list: newest first
  await db.schema.createIndex('users_created_at_idx').on('users').columns(['created_at desc', 'user_uuid desc']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('users').execute()
}
