/**
 * Queries shared by the four health tables, generic over a ResourceSpec (table, natural key,
 * data columns). Batch writes are one set-based `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE
 * IS DISTINCT FROM` statement, so a re-sent batch changes nothing and reports `unchanged`.
 */
import { sql, type Kysely, type QueryCreator, type RawBuilder } from 'kysely'
import { withDataChange } from './data-change.js'
import { compiledOnce, float8sFromBase64, insertJsonArrayRowsFrom, type DB } from './database.js'
import { dayAfter, decodeCursor, pageOf } from './pagination.js'
import { isJsonColumn, type ResourceSpec } from '../services/health/specs.js'

export type HealthRow = Record<string, unknown> & { user_uuid: string; quality: 'ok' | 'suspect'; quality_reasons: string[]; source: string }

export interface StoredValues {
  user_uuid: string
  key: string
  values: Record<string, unknown>
  source: string
  quality: 'ok' | 'suspect'
  quality_reasons: string[]
}

const any = (db: DB) => db as unknown as Kysely<any>

function param(column: string, value: unknown): RawBuilder<unknown> | unknown {
  return isJsonColumn(column) ? sql`${JSON.stringify(value)}::jsonb` : value
}

function keyValue(spec: ResourceSpec, key: string): string | Date {
  return spec.keyKind === 'timestamp' ? new Date(key) : key
}

export function rowKey(spec: ResourceSpec, row: Record<string, unknown>): string {
  const k = row[spec.key]
  return k instanceof Date ? k.toISOString() : String(k)
}

const findRecordQuery = compiledOnce<ResourceSpec, { user_uuid: string; key: string | Date }, HealthRow>(
  (spec) => spec.name,
  (spec, slot, db) => db.selectFrom(spec.name).selectAll().where('user_uuid', '=', slot('user_uuid')).where(spec.key, '=', slot('key'))
)

export async function findRecord(db: DB, spec: ResourceSpec, userUuid: string, key: string): Promise<HealthRow | undefined> {
  // the key as text (a canonical ISO timestamp or a date): PostgreSQL parses it for the key column
  return (await findRecordQuery(db, spec, { user_uuid: userUuid, key }))[0]
}

/**
 * `findRecord` for many keys at once (`Coalescer`): one statement, one answer per key (undefined:
 * no such record). The keys travel as two arrays, so the text is the same for any number of them.
 */
export async function findRecords(db: DB, spec: ResourceSpec, keys: ReadonlyArray<{ user_uuid: string; key: string }>): Promise<Array<HealthRow | undefined>> {
  const rows = await findRecordsQuery(db, spec, { users: keys.map((k) => k.user_uuid), keys: keys.map((k) => k.key) })
  const found = new Map<string, HealthRow>()
  for (const row of rows) found.set(`${row.user_uuid} ${rowKey(spec, row)}`, row)
  return keys.map((k) => found.get(`${k.user_uuid.toLowerCase()} ${canonicalKey(spec, k.key)}`))
}

const findRecordsQuery = compiledOnce<ResourceSpec, { users: string[]; keys: string[] }, HealthRow>(
  (spec) => spec.name,
  (spec, slot, db) => {
    const keys = sql.raw(spec.keyKind === 'timestamp' ? 'timestamptz[]' : 'date[]')
    const query = sql`SELECT t.* FROM unnest(${slot('users')}::uuid[], ${slot('keys')}::${keys}) AS k(user_uuid, key)
      JOIN ${sql.table(spec.name)} t ON t.user_uuid = k.user_uuid AND t.${sql.ref(spec.key)} = k.key`
    return { compile: () => query.compile(db) }
  }
)

export async function updateRecord(db: DB, spec: ResourceSpec, row: StoredValues): Promise<HealthRow | undefined> {
  const set: Record<string, unknown> = { source: row.source, quality: row.quality, quality_reasons: row.quality_reasons, updated_at: sql`now()` }
  for (const c of spec.columns) set[c] = param(c, row.values[c] ?? null)
  return (await any(db)
    .updateTable(spec.name)
    .set(set)
    .where('user_uuid', '=', row.user_uuid)
    .where(spec.key, '=', keyValue(spec, row.key))
    .returningAll()
    .executeTakeFirst()) as HealthRow | undefined
}

export async function deleteRecords(db: DB, spec: ResourceSpec, userUuid: string, key: string | null): Promise<number> {
  let q = any(db).deleteFrom(spec.name).where('user_uuid', '=', userUuid)
  if (key !== null) q = q.where(spec.key, '=', keyValue(spec, key))
  const result = await q.executeTakeFirst()
  return Number(result.numDeletedRows)
}

export interface ListQuery {
  limit: number
  cursor?: string
  from?: string
  to?: string
}

/** Newest first, keyset on the natural key within the user: an index range scan on the primary key. */
export async function listRecords(db: DB, spec: ResourceSpec, userUuid: string, query: ListQuery) {
  const after = decodeCursor(query.cursor, 1)
  let q = any(db).selectFrom(spec.name).selectAll().where('user_uuid', '=', userUuid)
  if (spec.keyKind === 'timestamp') {
    if (query.from) q = q.where(spec.key, '>=', new Date(`${query.from}T00:00:00Z`))
    if (query.to) q = q.where(spec.key, '<', new Date(`${dayAfter(query.to)}T00:00:00Z`))
    if (after) q = q.where(spec.key, '<', new Date(String(after[0])))
  } else {
    if (query.from) q = q.where(spec.key, '>=', query.from)
    if (query.to) q = q.where(spec.key, '<=', query.to)
    if (after) q = q.where(spec.key, '<', String(after[0]))
  }
  const rows = (await q.orderBy(spec.key, 'desc').limit(query.limit + 1).execute()) as HealthRow[]
  return pageOf(rows, query.limit, (r) => [rowKey(spec, r)])
}

/** A window bound (an ISO timestamp) in the key column's form, as text PostgreSQL casts: the instant, or its date. */
function bound(spec: ResourceSpec, iso: string): string {
  return spec.keyKind === 'timestamp' ? iso : iso.slice(0, 10)
}

function baselineQuery(db: QueryCreator<any>, spec: ResourceSpec, userUuids: string[], from: string, to: string) {
  return baselineBetween(db, spec, userUuids, bound(spec, from), bound(spec, to))
}

/** `baselineQuery` with its bounds already in the key column's form */
function baselineBetween(db: QueryCreator<any>, spec: ResourceSpec, userUuids: string[], lo: unknown, hi: unknown) {
  return db
    .selectFrom(spec.name)
    .select(['user_uuid', spec.key, ...spec.columns.filter((c) => !isJsonColumn(c))])
    .where('user_uuid', 'in', userUuids)
    .where(spec.key, '>=', lo)
    .where(spec.key, '<=', hi)
    .where('quality', '=', 'ok')
}

/** quality-ok rows of the users in [from, to], for baselines (the anomaly rule's history). */
export async function baselineRows(db: DB, spec: ResourceSpec, userUuids: string[], from: string, to: string): Promise<HealthRow[]> {
  if (userUuids.length === 0) return []
  return (await baselineQuery(any(db), spec, userUuids, from, to).execute()) as HealthRow[]
}

export interface WriteContext {
  sex: string
  history: Record<string, number[]>
}

/**
 * What single writes need to know, for many writes in one round trip (`Coalescer`): for each
 * request, the user's sex (undefined: no such user) and, when it has a `window`, the baseline in it
 * (as `baselineRows`) as one list of values per field of `fields` (the checked ones): a few short
 * arrays instead of a row per reading. The requests travel as three arrays, so the statement's
 * text is the same for any number of them (one prepared statement).
 */
export async function writeContexts(db: DB, spec: ResourceSpec, fields: readonly string[], requests: ReadonlyArray<{ user_uuid: string; window: { from: string; to: string } | null }>): Promise<Array<WriteContext | undefined>> {
  const users = new Array<string>(requests.length)
  const los = new Array<string | null>(requests.length)
  const his = new Array<string | null>(requests.length)
  requests.forEach((r, i) => {
    users[i] = r.user_uuid
    los[i] = r.window && bound(spec, r.window.from)
    his[i] = r.window && bound(spec, r.window.to)
  })
  const rows = await writeContextsQuery(db, { spec, fields }, { users, los, his })
  const answers = new Array<WriteContext | undefined>(requests.length).fill(undefined)
  for (const row of rows) {
    if (row.sex === null) continue
    const history: Record<string, number[]> = {}
    // a request without a window has no baseline row: no values
    for (let f = 0; f < fields.length; f++) history[fields[f]!] = float8sFromBase64(row[`h${f}`] ?? null) ?? []
    answers[row.n - 1] = { sex: row.sex, history }
  }
  return answers
}

const writeContextsQuery = compiledOnce<{ spec: ResourceSpec; fields: readonly string[] }, { users: string[]; los: Array<string | null>; his: Array<string | null> }, { n: number; sex: string | null; [history: `h${number}`]: string | null }>(
  ({ spec, fields }) => `${spec.name}:${fields.join(',')}`,
  ({ spec, fields }, slot, db) => {
    const bounds = sql.raw(spec.keyKind === 'timestamp' ? 'timestamptz[]' : 'date[]')
    // one column per field (h0, h1, …): its values' 8 bytes each (float8send), base64
    // (float8sFromBase64). As one json_agg per field PostgreSQL formatted every value as decimal
    // text (float8out) and checked it as JSON, and the API parsed it back: with a 28-day baseline of
    // 4 readings a day, ~900 values per single POST. (array_send's bytea was no cheaper: a length
    // per value, and hex doubled the bytes the API decodes)
    const columns = sql.join(fields.map((f, i) => sql`encode(string_agg(float8send(h.${sql.ref(f)}::float8), ''::bytea) FILTER (WHERE h.${sql.ref(f)} IS NOT NULL), 'base64') AS ${sql.ref(`h${i}`)}`))
    // no checked fields: no baseline (neither its columns nor its join)
    const [historyColumns, history] = fields.length > 0
      ? [sql`, b.*`, sql`LEFT JOIN LATERAL (SELECT ${columns} FROM (${baselineBetween(db, spec, [sql.ref('i.user_uuid') as never], sql.ref('i.lo'), sql.ref('i.hi'))}) h) b ON true`]
      : [sql``, sql``]
    // the user as a scalar subquery (NULL: no such user), which PostgreSQL never turns into a join:
    // a join with the unnested requests may hash the whole users table in a generic plan. A request
    // without a window has NULL bounds: no baseline row matches, every column is NULL
    const query = sql`SELECT i.n::int4 AS n, (SELECT u.sex FROM users u WHERE u.user_uuid = i.user_uuid) AS sex${historyColumns}
      FROM unnest(${slot('users')}::uuid[], ${slot('los')}::${bounds}, ${slot('his')}::${bounds}) WITH ORDINALITY AS i(user_uuid, lo, hi, n) ${history}`
    return { compile: () => query.compile(db) }
  }
)

/**
 * Insert one record and, in the same statement, what every write implies (effects.ts): the user's
 * data version bumped and the score job enqueued. One round trip, atomic without BEGIN/COMMIT.
 */
export async function insertRecordWithEffects(db: DB, spec: ResourceSpec, row: StoredValues, affectedFrom: string): Promise<HealthRow> {
  const values: Record<string, unknown> = { user_uuid: row.user_uuid, key: keyValue(spec, row.key), source: row.source, quality: row.quality, quality_reasons: row.quality_reasons, from_date: affectedFrom }
  for (const c of spec.columns) values[`c_${c}`] = isJsonColumn(c) ? JSON.stringify(row.values[c] ?? null) : (row.values[c] ?? null)
  const inserted = (await insertRecordQuery(db, spec, values))[0]
  if (!inserted) throw new Error(`insert into ${spec.name} returned no row`)
  return inserted
}

const insertRecordQuery = compiledOnce<ResourceSpec, Record<string, unknown>, HealthRow>(
  (spec) => spec.name,
  (spec, slot, db) => {
    const user = slot('user_uuid') as string
    const values: Record<string, unknown> = { user_uuid: user, [spec.key]: slot('key'), source: slot('source'), quality: slot('quality'), quality_reasons: slot('quality_reasons') }
    for (const c of spec.columns) values[c] = isJsonColumn(c) ? sql`${slot(`c_${c}`)}::jsonb` : slot(`c_${c}`)
    return withDataChange(db, new Map([[user, slot('from_date') as string]]))
      .insertInto(spec.name)
      .values(values)
      .returningAll()
  }
)

/**
 * Insert many new records in one statement (`Coalescer`), with what every write implies (effects.ts)
 * for the users whose rows went in: data version bumped, score job enqueued from the earliest date.
 * A record whose key exists is left alone (DO NOTHING) and answers undefined: a 409 for its
 * request. Two rows with the same key must not be in one call (both would be "inserted" by key).
 * One failing row (a user deleted since, a constraint) fails the statement: callers retry the rows
 * one by one (`insertRecordWithEffects`), so the error lands on the request it belongs to.
 */
export async function insertRecordsWithEffects(db: DB, spec: ResourceSpec, rows: ReadonlyArray<StoredValues>): Promise<Array<HealthRow | undefined>> {
  const inserted = new Map<string, HealthRow>()
  for (const row of await insertRecordsQuery(db, spec, { rows: JSON.stringify(rows.map((row) => jsonRow(spec, row))) })) inserted.set(`${row.user_uuid} ${rowKey(spec, row)}`, row)
  return rows.map((row) => inserted.get(`${row.user_uuid} ${canonicalKey(spec, row.key)}`))
}

/** a key as `rowKey` prints the stored one: an ISO UTC timestamp with milliseconds, or the date */
export function canonicalKey(spec: ResourceSpec, key: string): string {
  return spec.keyKind === 'timestamp' ? new Date(key).toISOString() : key
}

const insertRecordsQuery = compiledOnce<ResourceSpec, { rows: string }, HealthRow>(
  (spec) => spec.name,
  (spec, slot, db) => {
    // the affected date of a row, as dateOfKey (services/health/records.ts) has it: the key's UTC date
    const day = spec.keyKind === 'timestamp' ? sql<string>`(${sql.ref(spec.key)} AT TIME ZONE 'UTC')::date` : sql<string>`${sql.ref(spec.key)}`
    const written = db
      // a raw CTE body is not parenthesised by Kysely
      .with('ins', () => sql`(${insertJsonArrayRowsFrom(spec.name, jsonColumns(spec), sql`${slot('rows')}::jsonb`, JSON_DEFAULTS)} ON CONFLICT (user_uuid, ${sql.ref(spec.key)}) DO NOTHING RETURNING *)`)
    return withDataChange(written, { cte: 'ins', day }).selectFrom('ins').selectAll()
  }
)

/**
 * SQL types of the health tables' columns (db/migrations/2026-11-26T0300_health_data.ts), for the
 * rows sent as JSON arrays (insertJsonArrayRowsFrom); every other data column is double precision.
 * test/db/column-types.test.ts holds them against the catalog.
 */
const COLUMN_TYPES: Readonly<Record<string, string>> = {
  user_uuid: 'uuid', recorded: 'timestamptz', date: 'date', test_date: 'date', source: 'text', quality: 'text', quality_reasons: 'text[]',
  lab: 'text', results: 'jsonb', sleep_start: 'timestamptz', sleep_end: 'timestamptz', steps: 'integer', floors: 'integer', interruptions: 'integer'
}

/** every column a record's JSON row may carry (`jsonRow`), in its order, with its SQL type */
export function jsonColumns(spec: ResourceSpec): Array<[name: string, type: string]> {
  return ['user_uuid', spec.key, 'source', 'quality', 'quality_reasons', ...spec.columns].map((c) => [c, COLUMN_TYPES[c] ?? 'double precision'])
}

/** what `jsonRow` leaves out of a row: the usual quality, coalesced back in SQL */
const JSON_DEFAULTS = { quality: sql`'ok'`, quality_reasons: sql`'{}'::text[]` }

/**
 * A record as a JSON array in `jsonColumns` order (insertJsonArrayRowsFrom): null data columns and
 * the usual quality ('ok', no reasons: JSON_DEFAULTS) are null, and trailing nulls are left out.
 */
function jsonRow(spec: ResourceSpec, row: StoredValues): unknown[] {
  const usual = row.quality === 'ok' && row.quality_reasons.length === 0
  const values: unknown[] = [row.user_uuid, row.key, row.source, usual ? null : row.quality, usual ? null : row.quality_reasons]
  for (const c of spec.columns) values.push(row.values[c] ?? null)
  let end = values.length
  while (end > 3 && values[end - 1] === null) end--
  values.length = end
  return values
}

export interface UpsertOutcome {
  user_uuid: string
  key: string
  inserted: boolean
}

/**
 * One statement for the whole batch. Rows whose data equals the stored row are not touched (and
 * not returned): `unchanged`. `xmax = 0` tells a fresh insert from an update.
 */
export async function upsertRecords(db: DB, spec: ResourceSpec, rows: StoredValues[]): Promise<UpsertOutcome[]> {
  if (rows.length === 0) return []
  const dataColumns = ['source', ...spec.columns]
  // the whole batch is one json parameter (insertJsonArrayRowsFrom), not a 10 000-parameter VALUES list
  const records = JSON.stringify(rows.map((row) => jsonRow(spec, row)))
  const updates = sql.join([...dataColumns, 'quality', 'quality_reasons'].map((c) => sql`${sql.ref(c)} = excluded.${sql.ref(c)}`))
  const mine = sql.join(dataColumns.map((c) => sql`${sql.raw(spec.name)}.${sql.ref(c)}`))
  const theirs = sql.join(dataColumns.map((c) => sql`excluded.${sql.ref(c)}`))
  // the outcomes come back as ONE json value of [user_uuid, key, inserted] triples (the key as text
  // in the form the items carry: ISO UTC with milliseconds, or the date), not as 1000 result rows
  // to format, send and parse one by one
  const key = spec.keyKind === 'timestamp' ? sql`to_char(${sql.ref(spec.key)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : sql.ref(spec.key)
  const result = await sql<{ outcomes: Array<[string, string, boolean]> | null }>`
    WITH written AS (
      ${insertJsonArrayRowsFrom(spec.name, jsonColumns(spec), sql`${records}::jsonb`, JSON_DEFAULTS)}
      ON CONFLICT (user_uuid, ${sql.ref(spec.key)}) DO UPDATE SET ${updates}, updated_at = now()
      WHERE (${mine}) IS DISTINCT FROM (${theirs})
      RETURNING user_uuid, ${key} AS key, (xmax = 0) AS inserted)
    SELECT json_agg(json_build_array(user_uuid, key, inserted)) AS outcomes FROM written`.execute(db)
  return (result.rows[0]?.outcomes ?? []).map(([user_uuid, k, inserted]) => ({ user_uuid, key: k, inserted }))
}
