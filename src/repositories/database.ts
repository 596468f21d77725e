/**
 * The one Database interface: every table the application queries.
 * Nullable columns are `| null`; server-filled columns are Generated.
 * @see https://kysely.dev/docs/getting-started#types
 */
import { sql, type ColumnType, type RawBuilder, type Generated, type Insertable, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely'

type Timestamptz = ColumnType<Date, Date | string | undefined, Date | string>

export interface UsersTable {
  user_uuid: string
  email: string
  email_normalized: string
  name: string | null
  birth_date: string | null
  sex: 'female' | 'male' | 'other' | 'unknown'
  height_cm: number | null
  timezone: string
  data_version: Generated<number>
  created_at: Timestamptz
  updated_at: Timestamptz
}

export interface AppMetaTable {
  key: string
  value: string
  updated_at: Timestamptz
}

export interface Database {
  users: UsersTable
  app_meta: AppMetaTable
}

export type DB = Kysely<Database> | Transaction<Database>
export type UserRow = Selectable<UsersTable>
export type NewUserRow = Insertable<UsersTable>
export type UserUpdate = Updateable<UsersTable>

/**
 * A multi-row INSERT whose rows travel as ONE json parameter, typed by PostgreSQL from the table's
 * own row type: `INSERT INTO t (cols) SELECT cols FROM json_populate_recordset(NULL::t, $1)`. One
 * small statement whatever the row count (a VALUES list of n rows × c columns is n·c parameters to
 * build, send and parse); append `ON CONFLICT …` / `RETURNING …` as needed.
 * Values must be JSON: dates as ISO strings, arrays and objects for array and jsonb columns.
 */
export function insertJsonRows(table: string, columns: readonly string[], rows: ReadonlyArray<object>, defaults: Readonly<Record<string, RawBuilder<unknown>>> = {}) {
  const cols = sql.join(columns.map((c) => sql.ref(c)))
  // `defaults`: a key left out of a row (NULL to json_populate_recordset) takes this value instead
  const values = sql.join(columns.map((c) => (defaults[c] ? sql`coalesce(${sql.ref(c)}, ${defaults[c]})` : sql.ref(c))))
  return sql`INSERT INTO ${sql.table(table)} (${cols}) SELECT ${values} FROM json_populate_recordset(NULL::${sql.table(table)}, ${JSON.stringify(rows)}::json)`
}
