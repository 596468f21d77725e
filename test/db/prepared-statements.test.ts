/**
 * Repeated statements run as named (server-side prepared) statements (plugins/db.ts): PostgreSQL
 * plans them once per connection. A migration that changes a table under a prepared `SELECT *`
 * must not break the pool: the statement is prepared again under a new name.
 */
import t, { type Test } from 'tap'
import pg from 'pg'
import { createTestDatabase } from '../helper.js'
import { createPool, StatementNames } from '../../src/plugins/db.js'
import { loadConfig } from '../../src/config.js'

t.test('StatementNames: named from the second sighting, up to the cap, never reused', async (t) => {
  const names = new StatementNames(2, 'p')
  t.equal(names.nameOf('a'), undefined, 'a text seen once runs unnamed')
  t.equal(names.nameOf('a'), 'p0', 'named the second time')
  t.equal(names.nameOf('a'), 'p0', 'and keeps its name')
  names.nameOf('b')
  t.equal(names.nameOf('b'), 'p1')
  names.nameOf('c')
  t.equal(names.nameOf('c'), undefined, 'past the cap a text runs unnamed')
  t.equal(names.size, 2)
  t.equal(names.rename('a'), 'p2', 'a refused text gets a name never used before')
  t.equal(names.nameOf('a'), 'p2')
  t.equal(names.rename('c'), undefined, 'an unnamed text has nothing to rename')
  const off = new StatementNames(0)
  off.nameOf('a')
  t.equal(off.nameOf('a'), undefined, '0 turns naming off')
})

async function setup(t: Test, prepared: number) {
  const url = await createTestDatabase(t)
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: url, AUTH_JWT_SECRET: 'x'.repeat(32) }), DB_POOL_MAX: 1, DB_PREPARED_STATEMENTS: prepared }
  const pool = createPool(url, config, 'prepared-test')
  t.teardown(() => pool.end())
  await pool.query('CREATE TABLE things (id int PRIMARY KEY, label text)')
  await pool.query("INSERT INTO things VALUES (1, 'one')")
  return pool
}

// as Kysely runs a statement: borrow a client, query(text, values), release
async function run(pool: pg.Pool, text: string, values: unknown[] = []) {
  const client = await pool.connect()
  try {
    return await client.query(text, values)
  } finally {
    client.release()
  }
}

const preparedTexts = async (pool: pg.Pool) =>
  (await run(pool, 'SELECT statement FROM pg_prepared_statements WHERE NOT from_sql')).rows.map((r: { statement: string }) => r.statement)

t.test('a repeated statement is prepared once on the connection', async (t) => {
  const pool = await setup(t, 8)
  const text = 'SELECT label FROM things WHERE id = $1'
  t.same((await run(pool, text, [1])).rows, [{ label: 'one' }])
  t.notOk((await preparedTexts(pool)).includes(text), 'not after one run')
  for (let i = 0; i < 3; i++) t.same((await run(pool, text, [1])).rows, [{ label: 'one' }], 'same answer when named')
  t.ok((await preparedTexts(pool)).includes(text), 'prepared after the second run')
  await t.rejects(run(pool, text, ['not a number']), { code: '22P02' }, 'errors of a named statement reach the caller')
  t.same((await run(pool, text, [1])).rows, [{ label: 'one' }], 'and the connection goes on')
})

t.test('DB_PREPARED_STATEMENTS=0 prepares nothing', async (t) => {
  const pool = await setup(t, 0)
  const text = 'SELECT label FROM things WHERE id = $1'
  for (let i = 0; i < 3; i++) await run(pool, text, [1])
  t.same(await preparedTexts(pool), [])
})

t.test('a migration that changes a prepared result type: prepared again, not an error', async (t) => {
  const pool = await setup(t, 8)
  const text = 'SELECT * FROM things WHERE id = $1'
  await run(pool, text, [1])
  await run(pool, text, [1])
  t.ok((await preparedTexts(pool)).includes(text), 'prepared')
  await run(pool, 'ALTER TABLE things ADD COLUMN note text')
  t.same((await run(pool, text, [1])).rows, [{ id: 1, label: 'one', note: null }], 'outside a transaction the query is sent again and sees the new column')

  await run(pool, 'ALTER TABLE things ADD COLUMN extra int')
  const client = await pool.connect()
  try {
    await client.query('BEGIN', [])
    // inside a transaction the refusal has aborted it: the caller sees the error and rolls back
    await t.rejects(client.query(text, [1]), { code: '0A000' }, 'inside a transaction the error reaches the caller')
    await client.query('ROLLBACK', [])
    await client.query('BEGIN', [])
    t.same((await client.query(text, [1])).rows, [{ id: 1, label: 'one', note: null, extra: null }], 'the next try works, in a transaction too')
    await client.query('COMMIT', [])
  } finally {
    client.release()
  }
})
