/**
 * The one Database interface: every table the application queries.
 * Nullable columns are `| null`; server-filled columns are Generated.
 * @see https://kysely.dev/docs/getting-started#types
 */
import { CompiledQuery, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, type ColumnType, type RawBuilder, type Generated, type Insertable, type Selectable, type Transaction, type Updateable } from 'kysely'

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
  return insertJsonRowsFrom(table, columns, sql`${JSON.stringify(rows)}::json`, defaults)
}

/** `insertJsonRows` with the rows' JSON given as an expression (a `compiledOnce` slot, say) */
export function insertJsonRowsFrom(table: string, columns: readonly string[], json: RawBuilder<unknown>, defaults: Readonly<Record<string, RawBuilder<unknown>>> = {}) {
  const cols = sql.join(columns.map((c) => sql.ref(c)))
  // `defaults`: a key left out of a row (NULL to json_populate_recordset) takes this value instead
  const values = sql.join(columns.map((c) => (defaults[c] ? sql`coalesce(${sql.ref(c)}, ${defaults[c]})` : sql.ref(c))))
  return sql`INSERT INTO ${sql.table(table)} (${cols}) SELECT ${values} FROM json_populate_recordset(NULL::${sql.table(table)}, ${json})`
}

/**
 * `insertJsonRowsFrom` with each row a JSON array of its values in `columns` order, and each
 * column's SQL type given (`[name, type]`): `INSERT INTO t (cols) SELECT (e->>0)::type, … FROM
 * jsonb_array_elements($1) e`. Without a key name per value a bio-metric row is ~110 bytes
 * instead of ~250 for the API to build and send, and PostgreSQL takes values by position instead
 * of matching keys to columns: a 1000-row INSERT executed in ~2.5 ms instead of ~3.8
 * (json_populate_recordset). jsonb, not json: a json element is text, and each `->>` on it scans
 * it from the start (~11 ms). A missing or null element is NULL (`defaults` as for
 * insertJsonRowsFrom); an array column takes a JSON array, a jsonb column any JSON value but null.
 */
export function insertJsonArrayRowsFrom(table: string, columns: ReadonlyArray<readonly [name: string, type: string]>, json: RawBuilder<unknown>, defaults: Readonly<Record<string, RawBuilder<unknown>>> = {}) {
  const cols = sql.join(columns.map(([c]) => sql.ref(c)))
  const values = sql.join(columns.map(([c, type], i) => {
    const at = sql.lit(i)
    const value = type === 'jsonb'
      ? sql`CASE WHEN jsonb_typeof(e -> ${at}) <> 'null' THEN e -> ${at} END`
      : type.endsWith('[]')
        ? sql`CASE WHEN jsonb_typeof(e -> ${at}) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(e -> ${at}))::${sql.raw(type)} END`
        : sql`(e ->> ${at})::${sql.raw(type)}`
    return defaults[c] ? sql`coalesce(${value}, ${defaults[c]})` : value
  }))
  return sql`INSERT INTO ${sql.table(table)} (${cols}) SELECT ${values} FROM jsonb_array_elements(${json}) e`
}

/**
 * Doubles sent by PostgreSQL as `encode(string_agg(float8send(x), ''::bytea), 'base64')`: each
 * value's 8 bytes, base64 (with the line breaks PostgreSQL puts in every 76 characters, which the
 * decoder skips). Many numbers come out cheaper this way than as text: each value is ~11
 * characters that neither side formats or parses as a decimal (float8out, then JSON.parse).
 * Null (no rows): null.
 */
export function float8sFromBase64(text: string | null): number[] | null {
  if (text === null) return null
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length % 8 !== 0) throw new Error(`not a run of float8 values: ${bytes.length} bytes`)
  const out = new Array<number>(bytes.length / 8)
  for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleBE(i * 8)
  return out
}

const SLOT = '\u0000ht-slot:'

/** builds and compiles PostgreSQL queries, never runs them (the driver has no connection) */
const compiler = new Kysely<any>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler()
  }
})

/**
 * A statement whose text never changes, compiled once and then run with new values. Kysely builds
 * an immutable query tree and compiles it to SQL on every call: for the single POST's two
 * statements that was ~85 µs of CPU per request, for text that is the same every time.
 * - `keyOf` names the variants of a statement (one per resource, say); `build` is called with the
 *   argument of a variant's first run and a Kysely that only compiles.
 * - `build` gets a placeholder for each named value: use it where the value goes (an array of
 *   placeholders for an IN list of fixed length). Each run puts the values in their places;
 *   constants the builder added (`'ok'`, `1`) stay as compiled.
 * - The same text object on every run also makes the statement's name lookup (plugins/db.ts) cheap.
 */
export function compiledOnce<A, V extends Record<string, unknown>, R = Record<string, unknown>>(
  keyOf: (arg: A) => string,
  build: (arg: A, slot: <K extends keyof V & string>(name: K) => V[K], db: Kysely<any>) => { compile(): CompiledQuery<unknown> }
) {
  const compiled = new Map<string, { sql: string; parameters: readonly unknown[]; slots: ReadonlyArray<string | null> }>()
  const prepare = (key: string, arg: A) => {
    const used = new Set<string>()
    const slot = (name: string) => {
      used.add(name)
      return `${SLOT}${name}` as never
    }
    const query = build(arg, slot, compiler).compile()
    const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? p.slice(SLOT.length) : null))
    for (const name of used) if (!slots.includes(name)) throw new Error(`compiledOnce: value "${name}" did not become a parameter of ${query.sql}`)
    const entry = { sql: query.sql, parameters: query.parameters, slots }
    compiled.set(key, entry)
    return entry
  }
  /** run the statement for `arg` (compiled on its key's first run) with `values` */
  return async (db: DB, arg: A, values: V): Promise<R[]> => {
    const key = keyOf(arg)
    const { sql: text, parameters, slots } = compiled.get(key) ?? prepare(key, arg)
    const args = new Array<unknown>(parameters.length)
    for (let i = 0; i < args.length; i++) {
      const slot = slots[i]
      args[i] = slot === null ? parameters[i] : values[slot]
    }
    return (await db.executeQuery<R>(CompiledQuery.raw(text, args))).rows
  }
}
