/**
 * Test harness: each test file gets its own freshly created database on the server named by
 * DATABASE_URL (the local PostgreSQL in CI, or the embedded one that test/run.ts starts), migrated,
 * and dropped when the file ends. The app is built with the same options the server uses.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import app, { serverOptions, type AppOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { signToken, type Role } from '../src/plugins/auth.js'
import { migrateToLatest } from '../db/migrate.js'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'

interface Tap {
  teardown(fn: () => unknown): void
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL
  if (!url) throw new Error('DATABASE_URL is not set: run the tests with `npm test` (it starts an embedded PostgreSQL)')
  return url
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Create an empty database for this test file; dropped at teardown. */
export async function createTestDatabase(t: Tap, options: { migrate?: boolean } = {}): Promise<string> {
  const name = `ht_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl(), 'postgres') })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = withDatabase(serverUrl(), name)
  t.teardown(async () => {
    const client = new pg.Client({ connectionString: withDatabase(serverUrl(), 'postgres') })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  })
  if (options.migrate !== false) {
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) })
    await migrateToLatest(db)
    await db.destroy()
  }
  return url
}

export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'false',
    SHUTDOWN_DRAIN_MS: '0',
    RATE_LIMIT_MAX: '100000',
    // load shedding is tested on purpose (protection tests); elsewhere a busy CI machine must not trip it
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
    PRESSURE_SHED_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_IN_FLIGHT: '0',
    ...env
  })
}

export interface TestApp {
  app: FastifyInstance
  url: string
  config: Config
}

/** Build the app on a fresh database (or `databaseUrl`), closed at teardown. */
export async function buildTestApp(t: Tap, options: { env?: Record<string, string>; databaseUrl?: string; app?: Partial<AppOptions> } = {}): Promise<TestApp> {
  const url = options.databaseUrl ?? (await createTestDatabase(t))
  const config = testConfig(url, options.env)
  const fastify = Fastify(serverOptions(config)).withTypeProvider<TypeBoxTypeProvider>()
  await fastify.register(app, { config, databaseUrl: url, jwtSecret: TEST_SECRET, metricsPort: null, ...options.app })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return { app: fastify as unknown as FastifyInstance, url, config }
}

export function token(sub: string, role: Role = 'user'): string {
  return signToken(TEST_SECRET, { sub, role })
}

export const auth = (sub: string, role: Role = 'user') => ({ authorization: `Bearer ${token(sub, role)}` })

export const ADMIN = randomUUID()
export const adminAuth = () => auth(ADMIN, 'admin')

let counter = 0
/** Create a user through the API and return its uuid. */
export async function createUser(app: FastifyInstance, fields: Record<string, unknown> = {}): Promise<string> {
  const user_uuid = randomUUID()
  counter += 1
  const res = await app.inject({
    method: 'POST',
    url: '/api/users/',
    headers: adminAuth(),
    payload: { user_uuid, email: `user${counter}-${user_uuid.slice(0, 8)}@example.com`, name: 'Test User', birth_date: '1990-05-17', sex: 'female', timezone: 'UTC', ...fields }
  })
  if (res.statusCode !== 201) throw new Error(`createUser failed: ${res.statusCode} ${res.body}`)
  return user_uuid
}
