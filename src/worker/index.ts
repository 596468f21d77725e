/**
 * `npm run worker`: the score worker on its own (its own Kubernetes Deployment), with /metrics on
 * METRICS_PORT and graceful shutdown. API pods then run with WORKER_ENABLED=false.
 */
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import app, { serverOptions } from '../app.js'
import { ConfigError, loadConfig } from '../config.js'
import { resolveDatabase, resolveJwtSecret } from '../embedded.js'

async function main(): Promise<void> {
  let config
  try {
    // it serves no reads: no local copies, so no generation feed that writes would wait for
    config = { ...loadConfig(), WORKER_ENABLED: true, CACHE_LOCAL_MAX_MB: 0 }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(78)
    }
    throw error
  }
  const fastify = Fastify(serverOptions(config))
  const database = await resolveDatabase(config, { info: (m) => fastify.log.info(m) })
  await fastify.register(app, { config, databaseUrl: database.url, jwtSecret: resolveJwtSecret(config) ?? 'worker-does-not-verify-tokens-000000' })
  await fastify.ready()
  fastify.log.info({ worker: fastify.scoreWorker.id, metricsPort: fastify.metricsPort() }, 'score worker started')
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    if (err) fastify.log.error({ err }, 'worker stopping after an error')
    else fastify.log.info({ signal }, 'worker stopping: finishing jobs in hand')
    await fastify.close()
    await database.stop()
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
