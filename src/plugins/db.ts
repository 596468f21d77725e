/**
 * PostgreSQL through Kysely + pg: a writer pool and, with DATABASE_READ_URL, a reader pool for
 * read-only queries. Statement and connection timeouts are configuration. Query durations and pool
 * saturation feed the metrics plugin.
 */
import fp from 'fastify-plugin'
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely'
import pg from 'pg'
import type { Config } from '../config.js'
import type { Database } from '../repositories/database.js'

// DATE stays a 'YYYY-MM-DD' string (no time-zone shift); int8 counts fit a JS number here.
pg.types.setTypeParser(1082, (value) => value)
pg.types.setTypeParser(20, (value) => Number(value))

export type PoolName = 'writer' | 'reader'

export interface Databases {
  writer: Kysely<Database>
  reader: Kysely<Database>
  pools: Record<PoolName, pg.Pool>
  /** the TimescaleDB or plain PostgreSQL mode recorded by the migrations */
  storageMode(): Promise<string>
  ping(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Databases
  }
}

export type QueryObserver = (pool: PoolName, operation: string, seconds: number, failed: boolean) => void

export function createPool(url: string, config: Config, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: config.DB_POOL_MAX,
    connectionTimeoutMillis: config.DB_CONNECTION_TIMEOUT_MS,
    idleTimeoutMillis: config.DB_IDLE_TIMEOUT_MS,
    statement_timeout: config.DB_STATEMENT_TIMEOUT_MS,
    // a query stuck on a dead socket fails instead of hanging a request forever
    query_timeout: config.DB_STATEMENT_TIMEOUT_MS + 1000,
    application_name: applicationName,
    keepAlive: true
  })
  // a client losing its server (idle, or checked out mid-query) must not crash the process:
  // the query in flight fails and becomes a 503; the pool replaces the client
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
    endAfterReadTimeout(client)
  })
  return pool
}

/**
 * A query that hit `query_timeout` fails, but pg keeps its connection, and what it sent may still
 * reach the server later (a hanging network that recovers): a BEGIN delivered late would leave the
 * next borrower's statements in a transaction nobody commits, holding row locks that make every
 * later write to those rows time out. Such a connection is ended instead (the pool drops a client
 * that is ending when it is released; the server rolls back whatever it had open).
 */
function endAfterReadTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args)
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error | undefined)?.message === 'Query read timeout') client.end().catch(() => {})
      })
    }
    return result
  }
}

export function createKysely(pool: pg.Pool, name: PoolName, observe?: QueryObserver): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: observe
      ? (event: LogEvent) => {
          const text = event.query.sql.trimStart()
          const operation = /^(select|insert|update|delete|with)/i.exec(text)?.[1]?.toLowerCase() ?? 'other'
          observe(name, operation === 'with' ? 'other' : operation, event.queryDurationMillis / 1000, event.level === 'error')
        }
      : undefined
  })
}

export interface DbPluginOptions {
  config: Config
  writerUrl: string
  readerUrl?: string
  observe?: QueryObserver
}

export default fp<DbPluginOptions>(
  async (fastify, opts) => {
    const writerPool = createPool(opts.writerUrl, opts.config, 'health-tracker')
    const readerPool = opts.readerUrl ? createPool(opts.readerUrl, opts.config, 'health-tracker-reader') : writerPool
    const writer = createKysely(writerPool, 'writer', opts.observe)
    const reader = opts.readerUrl ? createKysely(readerPool, 'reader', opts.observe) : writer
    fastify.decorate('db', {
      writer,
      reader,
      pools: { writer: writerPool, reader: readerPool },
      async storageMode() {
        const row = await writer.selectFrom('app_meta').select('value').where('key', '=', 'storage_mode').executeTakeFirst()
        return row?.value ?? 'unknown'
      },
      async ping() {
        await sql`SELECT 1`.execute(writer)
        if (reader !== writer) await sql`SELECT 1`.execute(reader)
      }
    })
    fastify.addHook('onClose', async () => {
      await writer.destroy()
      if (reader !== writer) await reader.destroy()
    })
  },
  { name: 'db' }
)
