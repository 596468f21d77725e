/**
 * The frozen migrations in db/migrations, on both storage modes:
 *  - plain PostgreSQL (the server in DATABASE_URL, a fresh database), storage_mode = 'postgres';
 *  - TimescaleDB (in-process PGlite + TimescaleDB 2.23, test/support/pglite.ts), storage_mode =
 *    'timescaledb', with hypertables and continuous aggregates in place of plain tables and views.
 * The application runs one set of queries against either, so every relation in the public schema
 * must have the same name and the same column names and types in both modes.
 * Expected hypertables / continuous aggregates are data-driven: they are asserted only for the
 * relations the migrations on disk create (the schema grows while other migrations are written).
 */
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { migrateToLatest, pendingMigrations } from '../../db/migrate.js'
import { findRecords, insertRecordsWithEffects, upsertRecords, writeContexts } from '../../src/repositories/health-records.js'
import { bioMetrics } from '../../src/services/health/specs.js'
import { createTestDatabase } from '../helper.js'
import { createTimescalePglite, type PgliteDatabase } from '../support/pglite.js'

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'db', 'migrations')
const migrationNames = readdirSync(migrationsDir)
  .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
  .map((f) => f.replace(/\.(ts|js|mjs)$/, ''))
  .sort()

/** Tables the TimescaleDB mode must turn into hypertables, and views it must make continuous aggregates (when they exist). */
const EXPECTED_HYPERTABLES = ['bio_metrics', 'health_scores']
const EXPECTED_CONTINUOUS_AGGREGATES = ['bio_metrics_daily']

function connect(url: string, max = 1): Kysely<any> {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => {}) // an idle client killed by DROP DATABASE … WITH (FORCE) at teardown
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
}

interface Relation {
  name: string
  kind: string
  columns: string[]
}

/**
 * User-facing relations of the public schema (tables, partitioned tables, views, materialized
 * views, foreign tables; not owned by an extension), each with its ordered `name type` columns.
 * pg_catalog rather than information_schema.columns: the latter leaves out materialized views.
 */
async function publicRelations(db: Kysely<any>): Promise<Map<string, Relation>> {
  const { rows } = await sql<{ name: string; kind: string; columns: string[] | null }>`
    SELECT c.relname AS name, c.relkind::text AS kind,
           array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
             FILTER (WHERE a.attnum IS NOT NULL) AS columns
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    GROUP BY c.relname, c.relkind
    ORDER BY c.relname`.execute(db)
  return new Map(rows.map((r) => [r.name, { name: r.name, kind: r.kind, columns: r.columns ?? [] }]))
}

async function storageMode(db: Kysely<any>): Promise<string | undefined> {
  const row = await db.selectFrom('app_meta').select('value').where('key', '=', 'storage_mode').executeTakeFirst()
  return row?.value
}

async function executedMigrations(db: Kysely<any>): Promise<string[]> {
  const rows = await db.selectFrom('kysely_migration').select('name').orderBy('name').execute()
  return rows.map((r) => r.name as string)
}

// ---------------------------------------------------------------------------------------------
// plain PostgreSQL

const plainUrl = await createTestDatabase(t, { migrate: false })
const plain = connect(plainUrl)
t.teardown(() => plain.destroy())
let plainRelations = new Map<string, Relation>()

t.test('plain PostgreSQL: every migration runs, storage_mode = postgres', async (t) => {
  t.ok(migrationNames.length > 0, 'there are migrations on disk')
  t.same(await pendingMigrations(plain), migrationNames, 'all migrations pending on an empty database')

  const first = await migrateToLatest(plain)
  t.same(first.results?.map((r) => [r.migrationName, r.status]), migrationNames.map((n) => [n, 'Success']), 'each migration ran once, in order')
  t.same(await executedMigrations(plain), migrationNames)
  t.equal(await storageMode(plain), 'postgres')
  t.same(await pendingMigrations(plain), [], 'nothing pending afterwards')

  const { rows: ext } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'`.execute(plain)
  t.equal(ext[0].n, 0, 'timescaledb is not installed in plain mode')

  plainRelations = await publicRelations(plain)
  t.ok(plainRelations.has('app_meta'), 'app_meta exists')
})

t.test('plain PostgreSQL: migrating again is a no-op', async (t) => {
  const before = await publicRelations(plain)
  const again = await migrateToLatest(plain)
  t.same(again.results ?? [], [], 'no migration ran the second time')
  t.same(await executedMigrations(plain), migrationNames, 'kysely_migration unchanged')
  t.same([...(await publicRelations(plain)).values()], [...before.values()], 'schema unchanged')
  t.equal(await storageMode(plain), 'postgres')
})

t.test('plain PostgreSQL: every table in public has a primary key', async (t) => {
  const { rows } = await sql<{ name: string; has_pk: boolean }>`
    SELECT c.relname AS name,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    ORDER BY c.relname`.execute(plain)
  t.ok(rows.length > 0)
  for (const row of rows) t.ok(row.has_pk, `${row.name} has a primary key`)
})

// ---------------------------------------------------------------------------------------------
// TimescaleDB (PGlite)

let tsdb: PgliteDatabase | undefined
t.teardown(() => tsdb?.close())

t.test('TimescaleDB (PGlite): every migration runs, storage_mode = timescaledb', async (t) => {
  tsdb = await createTimescalePglite()
  const { db } = tsdb
  const { rows: available } = await sql<{ name: string }>`SELECT name FROM pg_available_extensions WHERE name = 'timescaledb'`.execute(db)
  t.equal(available.length, 1, 'pg_available_extensions lists timescaledb, so the first migration detects it')

  const result = await migrateToLatest(db)
  t.same(result.results?.map((r) => [r.migrationName, r.status]), migrationNames.map((n) => [n, 'Success']))
  t.equal(await storageMode(db), 'timescaledb')
  const { rows: ext } = await sql<{ extversion: string }>`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`.execute(db)
  t.equal(ext.length, 1, 'the timescaledb extension is installed')
  t.match(ext[0]?.extversion, /^2\./)
  t.same(await pendingMigrations(db), [])
  const again = await migrateToLatest(db)
  t.same(again.results ?? [], [], 'migrating again is a no-op')
  t.same(await executedMigrations(db), migrationNames)
})

t.test('TimescaleDB (PGlite): hypertables and continuous aggregates', async (t) => {
  if (!tsdb) return t.plan(0, 'TimescaleDB database not created')
  const { db } = tsdb
  const tsdbRelations = await publicRelations(db)
  const hypertables = (await sql<{ schema: string; name: string }>`
    SELECT hypertable_schema AS schema, hypertable_name AS name FROM timescaledb_information.hypertables ORDER BY 2`.execute(db)).rows
  const caggs = (await sql<{ schema: string; name: string }>`
    SELECT view_schema AS schema, view_name AS name FROM timescaledb_information.continuous_aggregates ORDER BY 2`.execute(db)).rows
  // internal materialization hypertables of continuous aggregates live in _timescaledb_internal
  const userHypertables = hypertables.filter((h) => h.schema === 'public').map((h) => h.name)
  t.comment(`hypertables: ${userHypertables.join(', ') || '(none)'}; continuous aggregates: ${caggs.map((c) => c.name).join(', ') || '(none)'}`)

  for (const name of userHypertables) {
    t.equal(plainRelations.get(name)?.kind, 'r', `hypertable ${name} is a plain table in postgres mode`)
  }
  for (const name of EXPECTED_HYPERTABLES) {
    if (!plainRelations.has(name)) {
      t.comment(`${name} does not exist yet (no migration creates it): hypertable check skipped`)
      continue
    }
    t.ok(userHypertables.includes(name), `${name} is a hypertable`)
  }

  for (const cagg of caggs) {
    t.equal(cagg.schema, 'public', `continuous aggregate ${cagg.name} is in public`)
    t.ok(['v', 'm'].includes(plainRelations.get(cagg.name)?.kind ?? ''), `continuous aggregate ${cagg.name} is a view in postgres mode`)
  }
  for (const name of EXPECTED_CONTINUOUS_AGGREGATES) {
    if (!plainRelations.has(name)) {
      t.comment(`${name} does not exist yet (no migration creates it): continuous-aggregate check skipped`)
      continue
    }
    t.ok(caggs.some((c) => c.name === name), `${name} is a continuous aggregate`)
    // PGlite runs no background jobs: a manual refresh must work over the (empty) data
    await t.resolves(sql`CALL refresh_continuous_aggregate(${sql.lit(name)}, NULL, NULL)`.execute(db), `${name} refreshes`)
  }
  t.ok(tsdbRelations.size > 0)
})

t.test('one set of queries for both: same relations, column names and types in both modes', async (t) => {
  if (!tsdb) return t.plan(0, 'TimescaleDB database not created')
  const tsdbRelations = await publicRelations(tsdb.db)
  t.same([...tsdbRelations.keys()], [...plainRelations.keys()], 'same relation names in public')
  for (const [name, relation] of plainRelations) {
    const other = tsdbRelations.get(name)
    if (!other) continue
    t.same(other.columns, relation.columns, `${name}: same columns (name type, in order)`)
  }
})

t.test('one set of queries for both: the batch upsert creates, updates and leaves unchanged alike', async (t) => {
  if (!tsdb) return t.plan(0, 'TimescaleDB database not created')
  for (const [mode, db] of [['postgres', plain], ['timescaledb', tsdb.db]] as const) {
    const user = '6f1c2a9e-0000-4000-8000-00000000beef'
    await db.insertInto('users').values({ user_uuid: user, name: 'Batch', email: `batch-${mode}@example.com`, email_normalized: `batch-${mode}@example.com`, sex: 'female' }).execute()
    const spec = bioMetrics
    const row = (recorded: string, weight: number) => ({ user_uuid: user, key: recorded, values: { weight_kg: weight, heart_rate_bpm: 60 }, source: 'test', quality: 'ok' as const, quality_reasons: [] as string[] })
    const first = await upsertRecords(db, spec, [row('2026-01-01T07:00:00.000Z', 70), row('2026-01-02T07:00:00.000Z', 71)])
    t.same(first.map((r) => [r.key, r.inserted]), [['2026-01-01T07:00:00.000Z', true], ['2026-01-02T07:00:00.000Z', true]], `${mode}: created`)
    const second = await upsertRecords(db, spec, [row('2026-01-01T07:00:00.000Z', 70), row('2026-01-02T07:00:00.000Z', 72)])
    t.same(second.map((r) => [r.key, r.inserted]), [['2026-01-02T07:00:00.000Z', false]], `${mode}: the same reading is unchanged, a changed one updated`)
    const stored = await db.selectFrom('bio_metrics').select(['weight_kg', 'quality_reasons']).where('user_uuid', '=', user).orderBy('recorded').execute()
    t.same(stored.map((r) => Number(r.weight_kg)), [70, 72], `${mode}: values stored`)
    t.same(stored[0]!.quality_reasons, [], `${mode}: text[] column filled from JSON`)
  }
})

t.test('one set of queries for both: coalesced single writes read their contexts and insert alike', async (t) => {
  if (!tsdb) return t.plan(0, 'TimescaleDB database not created')
  for (const [mode, db] of [['postgres', plain], ['timescaledb', tsdb.db]] as const) {
    const user = '6f1c2a9e-0000-4000-8000-00000000cafe'
    const ghost = '6f1c2a9e-0000-4000-8000-00000000dead'
    await db.insertInto('users').values({ user_uuid: user, name: 'Single', email: `single-${mode}@example.com`, email_normalized: `single-${mode}@example.com`, sex: 'male' }).execute()
    const spec = bioMetrics
    const row = (recorded: string, weight: number) => ({ user_uuid: user, key: recorded, values: { weight_kg: weight }, source: 'test', quality: 'ok' as const, quality_reasons: [] as string[] })
    const first = await insertRecordsWithEffects(db, spec, [row('2026-02-01T07:00:00.000Z', 70), row('2026-02-02T07:00:00Z', 71)])
    t.same(first.map((r) => r && Number(r.weight_kg)), [70, 71], `${mode}: both inserted, matched to their rows (a key without milliseconds too)`)
    const second = await insertRecordsWithEffects(db, spec, [row('2026-02-01T07:00:00.000Z', 72), row('2026-02-03T07:00:00.000Z', 73)])
    t.same(second.map((r) => r && Number(r.weight_kg)), [undefined, 73], `${mode}: an existing key is left alone`)
    const job = await db.selectFrom('score_jobs').select(sql<string>`from_date::text`.as('from_date')).where('user_uuid', '=', user).executeTakeFirst()
    t.equal(job?.from_date, '2026-02-01', `${mode}: score job from the earliest date`)
    const window = { from: '2026-01-06T07:00:00.000Z', to: '2026-02-03T06:59:59.999Z' }
    const contexts = await writeContexts(db, spec, ['weight_kg', 'heart_rate_bpm'], [{ user_uuid: user, window }, { user_uuid: ghost, window }, { user_uuid: user, window: null }])
    t.same(contexts, [{ sex: 'male', history: { weight_kg: [70, 71], heart_rate_bpm: [] } }, undefined, { sex: 'male', history: { weight_kg: [], heart_rate_bpm: [] } }], `${mode}: contexts per request`)
    const found = await findRecords(db, spec, [{ user_uuid: user, key: '2026-02-03T07:00:00.000Z' }, { user_uuid: ghost, key: '2026-02-03T07:00:00.000Z' }, { user_uuid: user.toUpperCase(), key: '2026-02-01T07:00:00Z' }])
    t.same(found.map((r) => r && Number(r.weight_kg)), [73, undefined, 70], `${mode}: records found per key`)
  }
})

// ---------------------------------------------------------------------------------------------
// concurrency

t.test('ten migrators at once on a fresh database run each migration exactly once', async (t) => {
  const url = await createTestDatabase(t, { migrate: false })
  const instances = Array.from({ length: 10 }, () => connect(url, 2))
  let settled: PromiseSettledResult<Awaited<ReturnType<typeof migrateToLatest>>>[]
  let rows: { name: string; n: number }[]
  let mode: string | undefined
  try {
    settled = await Promise.allSettled(instances.map((db) => migrateToLatest(db)))
    rows = (await sql<{ name: string; n: number }>`SELECT name, count(*)::int AS n FROM kysely_migration GROUP BY name ORDER BY name`.execute(instances[0])).rows
    mode = await storageMode(instances[0])
  } finally {
    await Promise.all(instances.map((db) => db.destroy()))
  }
  for (const [i, s] of settled.entries()) {
    t.equal(s.status, 'fulfilled', `migrator ${i} resolved${s.status === 'rejected' ? `: ${String((s.reason as Error)?.message ?? s.reason)}` : ''}`)
  }
  const ran = settled.flatMap((s) => (s.status === 'fulfilled' ? (s.value.results ?? []) : []))
  t.same(ran.map((r) => r.migrationName).sort(), migrationNames, 'the ten runs together executed each migration once')
  t.ok(ran.every((r) => r.status === 'Success'))
  t.same(rows, migrationNames.map((name) => ({ name, n: 1 })), 'kysely_migration has each migration exactly once')
  t.equal(mode, 'postgres')
})
