/**
 * The one Database interface: every table the application queries.
 * Nullable columns are `| null`; server-filled columns are Generated.
 * @see https://kysely.dev/docs/getting-started#types
 */
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely'

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
