/**
 * A statement that hit the client's read timeout on a hanging network must not leave its
 * connection in the pool: what it sent can still reach PostgreSQL once the network recovers (a
 * late BEGIN would put the next borrower's writes in a transaction nobody commits).
 */
import t from 'tap'
import pg from 'pg'
import { createTestDatabase } from '../helper.js'
import { createPool } from '../../src/plugins/db.js'
import { loadConfig } from '../../src/config.js'
import { FaultProxy } from '../system/fault-proxy.js'

t.test('a connection whose statement timed out is ended, not reused', async (t) => {
  const url = await createTestDatabase(t)
  const proxy = await FaultProxy.start(new URL(url).hostname, Number(new URL(url).port || 5432))
  t.teardown(() => proxy.close())
  const config = { ...loadConfig({ ...process.env, DATABASE_URL: url, AUTH_JWT_SECRET: 'x'.repeat(32) }), DB_POOL_MAX: 1, DB_STATEMENT_TIMEOUT_MS: 200 }
  const pool = createPool(proxy.rewrite(url), config, 'pool-timeout-test')
  t.teardown(() => pool.end())
  const pidOf = async (client: pg.PoolClient) => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid

  // as Kysely uses the pool: connect, query, release without an error
  let client = await pool.connect()
  const first = await pidOf(client)
  proxy.pause()
  await t.rejects(client.query('BEGIN'), /Query read timeout/, 'the BEGIN times out on the hanging network')
  client.release()
  await proxy.resume()

  client = await pool.connect()
  const second = await pidOf(client)
  const inTransaction = (await client.query<{ open: boolean }>('SELECT now() <> statement_timestamp() AS open')).rows[0]!.open
  client.release()
  t.not(second, first, 'the next borrower gets a new connection')
  t.equal(inTransaction, false, 'and is not inside the late BEGIN')

  // the old session is gone (its late BEGIN rolled back), not idle in a transaction
  const admin = new pg.Client({ connectionString: url })
  admin.on('error', () => {}) // the database is dropped WITH (FORCE) at teardown, maybe before this closes
  await admin.connect()
  t.teardown(() => admin.end())
  let state: string | undefined = 'unknown'
  for (let i = 0; i < 50 && state !== undefined; i++) {
    state = (await admin.query<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [first])).rows[0]?.state
    if (state !== undefined) await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(state, undefined, 'the timed-out session has ended')
})
