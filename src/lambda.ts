/**
 * The serverless door: the same application behind API Gateway (HTTP API, payload v2) on AWS
 * Lambda, through @fastify/aws-lambda (inject, no sockets). Built once per container and reused
 * across invocations. Migrations run as a separate step (`npm run db:migrate`), the score worker
 * does not run here (no background time on Lambda), and metrics are not served on a port.
 * serverless.yml declares six function groups, all served by this handler.
 */
import awsLambdaFastify from '@fastify/aws-lambda'
import Fastify from 'fastify'
import app, { serverOptions } from './app.js'
import { loadConfig } from './config.js'

type Proxy = (event: unknown, context: unknown) => Promise<unknown>

let proxy: Promise<Proxy> | null = null

export async function buildLambdaProxy(env: NodeJS.ProcessEnv = process.env): Promise<Proxy & { close(): Promise<void> }> {
  // one request at a time per container: load shedding has nothing to protect, and a cold
  // start's busy event loop must not turn the first requests into 503s
  const config = {
    ...loadConfig(env),
    WORKER_ENABLED: false,
    MIGRATE_ON_START: false,
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: 0,
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: 0,
    PRESSURE_MAX_HEAP_BYTES: 0,
    PRESSURE_SHED_EVENT_LOOP_DELAY_MS: 0,
    PRESSURE_MAX_IN_FLIGHT: 0,
    // a frozen container cannot keep a lease, and its subscription would make every write wait
    CACHE_LOCAL_LEASE_MS: 0
  }
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is required on Lambda (there is no embedded PostgreSQL there)')
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config, databaseUrl: config.DATABASE_URL, jwtSecret: config.AUTH_JWT_SECRET, metricsPort: null })
  const proxy = awsLambdaFastify(fastify, { callbackWaitsForEmptyEventLoop: false }) // decorates: before ready
  await fastify.ready()
  return Object.assign(proxy as unknown as Proxy, { close: () => fastify.close() })
}

export async function handler(event: unknown, context: unknown): Promise<unknown> {
  proxy ??= buildLambdaProxy()
  return (await proxy)(event, context)
}
