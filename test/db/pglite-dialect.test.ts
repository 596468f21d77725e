/**
 * test/support/pglite.ts: the Kysely dialect over PGlite + TimescaleDB behaves like pg for what the
 * app and the migrator rely on (results, affected rows, transactions, type parsing), and the
 * TimescaleDB features the migrations use run there. Note (applies to real TimescaleDB too):
 * Kysely's Migrator runs migrations inside a transaction, where a continuous aggregate must be
 * created WITH NO DATA and refresh_continuous_aggregate() cannot be called.
 */
import t from 'tap'
import { sql } from 'kysely'
import { commandOf, createTimescalePglite } from '../support/pglite.js'

t.test('command tag of a statement', async (t) => {
  t.equal(commandOf('select 1'), 'SELECT')
  t.equal(commandOf('  -- c\n/* x */ insert into a values (1)'), 'INSERT')
  t.equal(commandOf('with x as (select 1 as "insert") update a set b = 1'), 'UPDATE')
  t.equal(commandOf("with recursive r(n) as (select 'delete' union all select n from r) select * from r"), 'SELECT')
  t.equal(commandOf('end'), 'COMMIT')
  t.equal(commandOf('create table x (id int)'), 'CREATE')
})

const { db, close } = await createTimescalePglite({ createExtension: true })
t.teardown(close)

t.test('queries, affected rows and type parsing', async (t) => {
  await sql`CREATE TABLE items (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), doc jsonb, day date, n bigint);
            CREATE TABLE counter (x int)`.execute(db)
  const inserted = await db.insertInto('items').values([
    { id: 1, at: new Date('2024-01-01T00:00:00Z'), doc: JSON.stringify({ a: 1 }), day: '2024-01-02', n: 5 },
    { id: 2 }
  ]).executeTakeFirst()
  t.equal(inserted.numInsertedOrUpdatedRows, 2n)
  const updated = await db.updateTable('items').set({ n: 7 }).where('id', '=', 1).executeTakeFirst()
  t.equal(updated.numUpdatedRows, 1n)
  const cte = await sql`WITH x AS (SELECT 3 AS id) INSERT INTO items (id) SELECT id FROM x`.execute(db)
  t.equal(cte.numAffectedRows, 1n, 'a WITH … INSERT reports its inserted rows')
  const row = await db.selectFrom('items').selectAll().where('id', '=', 1).executeTakeFirstOrThrow()
  t.same(row, { id: 1, at: new Date('2024-01-01T00:00:00Z'), doc: { a: 1 }, day: '2024-01-02', n: 7 }, 'Date, parsed jsonb, date string, int8 number')
  const deleted = await db.deleteFrom('items').where('id', '=', 3).executeTakeFirst()
  t.equal(deleted.numDeletedRows, 1n)
})

t.test('transactions: commit, rollback, aborted commit, serialization', async (t) => {
  await t.rejects(db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ id: 10 }).execute()
    throw new Error('boom')
  }), /boom/)
  t.notOk(await db.selectFrom('items').select('id').where('id', '=', 10).executeTakeFirst(), 'rolled back')

  await t.rejects(db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ id: 11 }).execute()
    await sql`SELECT 1 / 0`.execute(trx).catch(() => {})
  }), /rolled back instead of committed/, 'COMMIT of an aborted transaction answers ROLLBACK, as on a server')
  t.notOk(await db.selectFrom('items').select('id').where('id', '=', 11).executeTakeFirst())

  // concurrent transactions never interleave on the single PGlite session
  const counts = await Promise.all([1, 2, 3, 4].map((i) => db.transaction().execute(async (trx) => {
    await trx.insertInto('counter').values({ x: i }).execute()
    await new Promise((resolve) => setTimeout(resolve, 5))
    const r = await trx.selectFrom('counter').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()
    return r.n
  })))
  t.same(counts, [1, 2, 3, 4])
})

t.test('TimescaleDB: hypertable, continuous aggregate, policies inside a transaction', async (t) => {
  await db.transaction().execute(async (trx) => {
    await sql`CREATE TABLE samples (user_uuid uuid NOT NULL, recorded_at timestamptz NOT NULL, value double precision NOT NULL, PRIMARY KEY (user_uuid, recorded_at))`.execute(trx)
    await sql`SELECT create_hypertable('samples', by_range('recorded_at', INTERVAL '7 days'))`.execute(trx)
    await sql`CREATE MATERIALIZED VIEW samples_daily WITH (timescaledb.continuous) AS
              SELECT user_uuid, time_bucket(INTERVAL '1 day', recorded_at) AS day, avg(value) AS avg_value
              FROM samples GROUP BY 1, 2 WITH NO DATA`.execute(trx)
    await sql`SELECT add_continuous_aggregate_policy('samples_daily', start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')`.execute(trx)
    await sql`ALTER TABLE samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_uuid', timescaledb.compress_orderby = 'recorded_at DESC')`.execute(trx)
    await sql`SELECT add_compression_policy('samples', INTERVAL '30 days')`.execute(trx)
    await sql`SELECT add_retention_policy('samples', INTERVAL '5 years')`.execute(trx)
  })
  await t.rejects(db.transaction().execute(async (trx) => {
    await sql`CREATE MATERIALIZED VIEW samples_weekly WITH (timescaledb.continuous) AS
              SELECT time_bucket(INTERVAL '7 days', recorded_at) AS week, count(*) FROM samples GROUP BY 1`.execute(trx)
  }), /cannot run inside a transaction block/, 'a continuous aggregate WITH DATA cannot be created in a migration transaction')

  const user = '00000000-0000-4000-8000-000000000001'
  await db.insertInto('samples').values([
    { user_uuid: user, recorded_at: new Date('2024-03-01T08:00:00Z'), value: 1 },
    { user_uuid: user, recorded_at: new Date('2024-03-01T20:00:00Z'), value: 3 },
    { user_uuid: user, recorded_at: new Date('2024-03-02T08:00:00Z'), value: 10 }
  ]).execute()
  await sql`CALL refresh_continuous_aggregate('samples_daily', NULL, NULL)`.execute(db)
  const daily = await db.selectFrom('samples_daily').select(['day', 'avg_value']).orderBy('day').execute()
  t.same(daily, [{ day: new Date('2024-03-01T00:00:00Z'), avg_value: 2 }, { day: new Date('2024-03-02T00:00:00Z'), avg_value: 10 }])

  const compression = (await sql<{ job_id: number }>`
    SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression' AND hypertable_name = 'samples'`.execute(db)).rows[0]
  t.ok(compression, 'compression policy registered')
  // no background workers in PGlite: jobs run only when called
  await t.resolves(sql`CALL run_job(${sql.lit(compression!.job_id)})`.execute(db), 'run_job works manually')
})
