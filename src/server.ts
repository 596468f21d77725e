/**
 * Builds options, listens, shuts down. Nothing else: the application is src/app.ts.
 * With no DATABASE_URL it starts the embedded PostgreSQL first and prints a dev admin token.
 */
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import app, { serverOptions } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { resolveDatabase, resolveJwtSecret } from './embedded.js'
import { migrateToLatest } from '../db/migrate.js'
import { signToken } from './plugins/auth.js'

async function migrate(url: string): Promise<string[]> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) })
  try {
    const result = await migrateToLatest(db)
    return (result.results ?? []).map((r) => r.migrationName)
  } finally {
    await db.destroy()
  }
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(78) // EX_CONFIG
    }
    throw error
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit()
  const fastify = Fastify(serverOptions(config)).withTypeProvider<TypeBoxTypeProvider>()
  const database = await resolveDatabase(config, { info: (msg) => fastify.log.info(msg) })
  const jwtSecret = resolveJwtSecret(config)

  if (config.MIGRATE_ON_START) {
    const ran = await migrate(database.url)
    fastify.log.info({ migrations: ran }, ran.length ? 'migrations applied' : 'database schema is current')
  }

  await fastify.register(app, { config, databaseUrl: database.url, jwtSecret })

  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    if (err) fastify.log.error({ err }, 'shutting down after an error')
    else fastify.log.info({ signal }, 'shutting down: draining')
    // readiness turns 503 first so the load balancer stops sending new requests
    fastify.lifecycle.draining = true
    if (config.SHUTDOWN_DRAIN_MS > 0 && !err) await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS))
    // keep-alive sockets that go idle while closing would hold close() until their timeout
    const sweeper = setInterval(() => fastify.server.closeIdleConnections(), 250)
    await fastify.close() // stops accepting, lets in-flight requests finish, closes pools
    clearInterval(sweeper)
    await database.stop()
    fastify.log.info('shutdown complete')
  })

  const address = await fastify.listen({ port: config.PORT, host: config.HOST })
  if (database.embedded && jwtSecret) {
    const token = signToken(jwtSecret, { sub: '00000000-0000-4000-8000-000000000000', role: 'admin', expiresInSeconds: 30 * 24 * 3600 })
    const local = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1')
    console.log(
      [
        '',
        `Health Tracker API listening on ${local}`,
        `  API docs (Swagger UI): ${local}/docs`,
        `  OpenAPI document:      ${local}/openapi.json`,
        `  metrics:               http://127.0.0.1:${fastify.metricsPort() ?? config.METRICS_PORT}/metrics`,
        `  embedded PostgreSQL:   data in ${config.DATA_DIR}/postgres`,
        '  dev admin token (30 days; mint more with `npm run token -- --sub <uuid> --role admin`):',
        `  ${token}`,
        ''
      ].join('\n')
    )
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
