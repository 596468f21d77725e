/** Runs the score worker inside this process when WORKER_ENABLED (the default). */
import fp from 'fastify-plugin'
import { ScoreWorker } from '../worker/score-worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    scoreWorker: ScoreWorker
  }
}

export default fp<{ enabled: boolean }>(
  async (fastify, opts) => {
    const config = fastify.appConfig
    const worker = new ScoreWorker(fastify, { concurrency: config.WORKER_CONCURRENCY, pollMs: config.WORKER_POLL_MS, maxAttempts: config.WORKER_MAX_ATTEMPTS, debounceMs: config.WORKER_DEBOUNCE_MS, maxWaitMs: config.WORKER_MAX_WAIT_MS })
    fastify.decorate('scoreWorker', worker)
    if (opts.enabled) fastify.addHook('onReady', async () => worker.start())
    fastify.addHook('onClose', async () => worker.stop())
  },
  { name: 'worker', dependencies: ['db', 'metrics'] }
)
