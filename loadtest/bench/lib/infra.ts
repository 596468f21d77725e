/**
 * What every benchmark needs around the load: a PostgreSQL (the one named by DATABASE_URL, or an
 * embedded one in a temp dir), fresh `ht_bench_<random>` databases dropped at the end, free ports,
 * and the API / bare servers as child processes, so the load generator (autocannon, in this
 * process) never shares an event loop with the server it measures. Everything started here is
 * stopped by `cleanup()`, also on Ctrl-C and when the BENCH_MAX_SECONDS watchdog fires.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { startEmbeddedPostgres } from '../../../src/embedded.js'
import { migrateToLatest } from '../../../db/migrate.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const JWT_SECRET = `bench-${randomBytes(24).toString('hex')}`
export const LOG_DIR = mkdtempSync(path.join(os.tmpdir(), 'ht-bench-logs-'))

/** A numeric knob: its value when set and at least `min` (1; 0 where 0 means "off"), else `fallback`. */
export const envInt = (name: string, fallback: number, min = 1) => {
  const raw = process.env[name]
  const value = Number(raw)
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(value) && value >= min ? value : fallback
}

// ---------- cleanup and the time bound ----------

const cleanups: Array<() => Promise<unknown>> = []
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn)
}
let cleaning: Promise<void> | null = null
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => console.error('cleanup:', error))
  })()
  return cleaning
}

/** Run a benchmark body with cleanup on success, failure, signals and the watchdog. */
export async function main(name: string, body: () => Promise<void>): Promise<void> {
  const maxSeconds = envInt('BENCH_MAX_SECONDS', 900)
  const watchdog = setTimeout(() => {
    console.error(`${name}: exceeded BENCH_MAX_SECONDS=${maxSeconds}; stopping`)
    void cleanup().finally(() => process.exit(2))
  }, maxSeconds * 1000)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)))
  let code = 0
  try {
    await body()
  } catch (error) {
    console.error(`${name} failed:`, error, `\nserver logs: ${LOG_DIR}`)
    code = 1
  } finally {
    await cleanup()
    clearTimeout(watchdog)
    // kept when something failed, or with BENCH_KEEP_LOGS=1 (e.g. for --trace-gc output)
    if (code === 0 && process.env.BENCH_KEEP_LOGS !== '1') rmSync(LOG_DIR, { recursive: true, force: true })
    else if (code === 0) console.error(`server logs kept: ${LOG_DIR}`)
  }
  process.exit(code)
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

// ---------- PostgreSQL ----------

export interface PgServer {
  kind: 'external' | 'embedded'
  /** a fresh, migrated database on that server; dropped at cleanup */
  createDatabase(label?: string): Promise<string>
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** DATABASE_URL's server, or an embedded PostgreSQL (persistent=false) in a temp dir. */
export async function startPostgres(): Promise<PgServer> {
  let adminUrl = process.env.DATABASE_URL
  let kind: PgServer['kind'] = 'external'
  if (!adminUrl) {
    kind = 'embedded'
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ht-bench-pg-'))
    // as root, PostgreSQL runs as the `postgres` user, which must reach the data dir
    chmodSync(dir, 0o755)
    const port = await freePort()
    const embedded = await startEmbeddedPostgres(path.join(dir, 'data'), port, { info: () => {} }, false)
    onCleanup(async () => {
      await embedded.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    adminUrl = embedded.url
  }
  const admin = adminUrl
  return {
    kind,
    async createDatabase(label = '') {
      const name = `ht_bench_${label ? `${label}_` : ''}${randomBytes(4).toString('hex')}`
      await adminQuery(admin, `CREATE DATABASE ${name}`)
      onCleanup(() => adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      const url = withDatabase(admin, name)
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) })
      try {
        await migrateToLatest(db)
      } finally {
        await db.destroy()
      }
      return url
    }
  }
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

// ---------- child processes ----------

export interface Child {
  url: string
  /** Prometheus /metrics of the child (METRICS_PORT) */
  metricsUrl: string
  stop(): Promise<void>
}

/** The environment the API and the bare server share: same pool, logging and limits. */
export function serviceEnv(databaseUrl: string, port: number, metricsPort: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: JWT_SECRET,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    MIGRATE_ON_START: 'true',
    // as deployed (docker-compose, k8s, Helm): the API runs no worker; startService starts one beside it
    WORKER_ENABLED: workerMode() === 'inprocess' ? 'true' : 'false',
    RATE_LIMIT_MAX: '1000000',
    SHUTDOWN_DRAIN_MS: '0',
    // a closed-loop benchmark keeps the event loop ~100% busy on purpose: load shedding would turn
    // the measurement into 503s. BENCH_KEEP_PRESSURE=1 keeps the service's own thresholds.
    ...(process.env.BENCH_KEEP_PRESSURE === '1'
      ? {}
      : { PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PRESSURE_SHED_EVENT_LOOP_DELAY_MS: '0', PRESSURE_MAX_IN_FLIGHT: '0' }),
    ...extra
  }
  if (!process.env.REDIS_URL) delete env.REDIS_URL
  return env
}

/**
 * The servers run as the Docker image runs them: JavaScript compiled by tsc, started by plain
 * `node` (tsx's on-the-fly transform adds a `__name` wrapper to every function it creates, a
 * cost production never pays). Compiled once per benchmark run into loadtest/bench/.build (inside
 * the repository, so node_modules resolve); BENCH_RUNTIME=tsx runs the TypeScript through tsx.
 */
const BUILD_DIR = path.join(REPO_ROOT, 'loadtest', 'bench', '.build')
let built: Promise<void> | null = null
function compiled(script: string): Promise<string[]> {
  if (process.env.BENCH_RUNTIME === 'tsx') return Promise.resolve(['--import', 'tsx', script])
  built ??= new Promise<void>((resolve, reject) => {
    rmSync(BUILD_DIR, { recursive: true, force: true })
    const tsc = spawn(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO_ROOT, 'loadtest', 'bench', 'tsconfig.build.json')], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
    tsc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc -p loadtest/bench/tsconfig.build.json exited ${code}`))))
  })
  return built.then(() => [path.join(BUILD_DIR, script.replace(/\.ts$/, '.js'))])
}

/** Start `<script>` (compiled, see above) and wait until `readyPath` answers 200. */
export async function startChild(label: string, script: string, env: NodeJS.ProcessEnv, readyPath: string, nodeArgs: string[] = [], readyUrl?: string): Promise<Child> {
  const logFile = path.join(LOG_DIR, `${label}.log`)
  const log = createWriteStream(logFile, { flags: 'a' })
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...(await compiled(script))], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.pipe(log)
  child.stderr!.pipe(log)
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  const url = `http://127.0.0.1:${env.PORT}`
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exit
      clearTimeout(timer)
    }
    log.end()
  }
  onCleanup(stop)
  const deadline = Date.now() + 90_000
  for (;;) {
    if (exited) throw new Error(`${label} exited before it was ready; log: ${logFile}\n${tail(logFile)}`)
    if (Date.now() > deadline) throw new Error(`${label} not ready after 90 s; log: ${logFile}\n${tail(logFile)}`)
    const ok = await fetch(readyUrl ?? url + readyPath).then((r) => r.ok, () => false)
    if (ok) return { url, metricsUrl: `http://127.0.0.1:${env.METRICS_PORT}/metrics`, stop }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n')
  } catch {
    return ''
  }
}

/** Where the score worker runs: BENCH_WORKER unset → its own process, `inprocess`, or `0` → none. */
export function workerMode(): 'process' | 'inprocess' | 'none' {
  return process.env.BENCH_WORKER === 'inprocess' ? 'inprocess' : process.env.BENCH_WORKER === '0' ? 'none' : 'process'
}

/**
 * The API (src/server.ts) on `databaseUrl`, and beside it the score worker (src/worker/index.ts) as
 * its own process, the topology of docker-compose, the Kustomize base and the Helm chart.
 * BENCH_WORKER=inprocess runs the worker inside the API instead (WORKER_ENABLED=true), 0 runs none.
 * BENCH_SERVICE_NODE_ARGS adds node flags to the API, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile it under the benchmark's load; BENCH_WORKER_NODE_ARGS to the worker process.
 */
export async function startService(databaseUrl: string, label = 'service', extra: Record<string, string> = {}): Promise<Child> {
  const env = serviceEnv(databaseUrl, await freePort(), await freePort(), extra)
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const api = await startChild(label, 'src/server.ts', env, '/readyz', nodeArgs)
  if (workerMode() !== 'process') return api
  // the score worker in its own process (`npm run worker`), as every deployment runs it: it shares
  // the machine's cores with the API, not the API's event loop
  const workerEnv = serviceEnv(databaseUrl, await freePort(), await freePort(), extra)
  const workerArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const worker = await startChild(`${label}-worker`, 'src/worker/index.ts', workerEnv, '', workerArgs, `http://127.0.0.1:${workerEnv.METRICS_PORT}/metrics`)
  return { ...api, stop: async () => { await Promise.all([api.stop(), worker.stop()]) } }
}

/** The ceilings (loadtest/bench/bare-server.ts) on the same database, pool and logging settings. */
export async function startBare(databaseUrl: string, label = 'bare', extra: Record<string, string> = {}): Promise<Child> {
  const env = serviceEnv(databaseUrl, await freePort(), await freePort(), extra)
  const nodeArgs = (process.env.BENCH_BARE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  return startChild(label, 'loadtest/bench/bare-server.ts', env, '/bench/bare', nodeArgs)
}
