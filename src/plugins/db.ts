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
import { FifoCache } from './fifo-cache.js'
import { timestamptzParser } from '../repositories/timestamptz.js'

// DATE stays a 'YYYY-MM-DD' string (no time-zone shift); int8 counts fit a JS number here.
pg.types.setTypeParser(1082, (value) => value)
pg.types.setTypeParser(20, (value) => Number(value))
// timestamptz: pg's own parser, with a fast path for the UTC form (repositories/timestamptz.ts)
pg.types.setTypeParser(1184, timestamptzParser(pg.types.getTypeParser(1184)))

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
  const names = new StatementNames(config.DB_PREPARED_STATEMENTS)
  // a client losing its server (idle, or checked out mid-query) must not crash the process:
  // the query in flight fails and becomes a 503; the pool replaces the client
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
    wrapQuery(client, names)
  })
  return pool
}

/**
 * Names for repeated statements, so PostgreSQL parses and plans each once per connection instead of
 * on every execution (an unnamed statement is parsed, analysed and planned each time: for the
 * single POST's two statements that was more than half of PostgreSQL's CPU, measured with pgbench).
 * A text is named the second time it is seen (a statement run once would only take a slot), up to
 * `max` texts per pool; the rest run unnamed. Names are never reused for another text.
 * @see https://www.postgresql.org/docs/current/sql-prepare.html (generic and custom plans)
 */
export class StatementNames {
  private readonly named = new Map<string, string>()
  /** texts seen once, not named yet (bounded: a stream of one-off texts cannot grow it) */
  private readonly seen = new FifoCache<string, true>({ maxEntries: 1024 })
  private next = 0

  constructor(readonly max: number, private readonly prefix = 'ht_') {}

  /** The name to run `text` under; undefined: run it unnamed. */
  nameOf(text: string): string | undefined {
    const name = this.named.get(text)
    if (name !== undefined || this.max === 0 || this.named.size >= this.max) return name
    if (this.seen.get(text) === undefined) {
      this.seen.set(text, true)
      return undefined
    }
    this.seen.delete(text)
    return this.assign(text)
  }

  /**
   * A fresh name for a named text whose cached plan PostgreSQL refused (a migration changed a table
   * under it): every connection prepares it again on its next use. Undefined if the text had none.
   */
  rename(text: string): string | undefined {
    return this.named.has(text) ? this.assign(text) : undefined
  }

  get size(): number {
    return this.named.size
  }

  private assign(text: string): string {
    const name = `${this.prefix}${this.next++}`
    this.named.set(text, name)
    return name
  }
}

/** PostgreSQL 0A000 "cached plan must not change result type": raised before the statement runs */
function planRefused(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '')
}

type QueryFn = (...args: unknown[]) => unknown

/**
 * Every query of a pooled client goes through here:
 * - Repeated texts run as named statements (`StatementNames`). When a migration changes the result
 *   type under a prepared plan (`SELECT *` after `ADD COLUMN`), PostgreSQL refuses it before running
 *   anything: the text gets a new name and, outside a transaction, the query is sent again (inside
 *   one, the transaction is already aborted: the error goes to the caller, and the next try works).
 * - A query that hit `query_timeout` fails, but pg keeps its connection, and what it sent may still
 *   reach the server later (a hanging network that recovers): a BEGIN delivered late would leave
 *   the next borrower's statements in a transaction nobody commits, holding row locks that make
 *   every later write to those rows time out. Such a connection is ended instead (the pool drops a
 *   client that is ending when it is released; the server rolls back whatever it had open).
 */
function wrapQuery(client: pg.PoolClient, names: StatementNames): void {
  const query = client.query.bind(client) as QueryFn
  let inTransaction = false
  const endOnReadTimeout = (result: unknown) => {
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if ((error as Error | undefined)?.message === 'Query read timeout') client.end().catch(() => {})
      })
    }
    return result
  }
  // a Query built from the text and named afterwards: a config object ({ name, text, values })
  // would be copied property by property (pg's cloneQueryConfig) on every execution
  const named = (name: string, text: string, values: unknown[]) =>
    new Promise((resolve, reject) => {
      const q = new pg.Query(text, values, (error: Error | undefined, result: unknown) => (error ? reject(error) : resolve(result)))
      ;(q as unknown as { name: string }).name = name
      query(q)
    })
  ;(client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    const [text, values] = args
    // the promise form Kysely uses: (text, values)
    if (typeof text !== 'string' || !Array.isArray(values) || args.length !== 2) return endOnReadTimeout(query(...args))
    if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true
    else if (/^\s*(commit|rollback|end|abort)\s*$/i.test(text)) inTransaction = false
    const name = names.nameOf(text)
    if (name === undefined) return endOnReadTimeout(query(text, values))
    const first = endOnReadTimeout(named(name, text, values)) as Promise<unknown>
    return first.catch((error: unknown) => {
      if (!planRefused(error)) throw error
      const renamed = names.rename(text)
      if (renamed === undefined || inTransaction) throw error
      return endOnReadTimeout(named(renamed, text, values))
    })
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
