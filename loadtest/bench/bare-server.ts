/**
 * The ceilings the API is compared with, as a child process of the benchmark. Built like the
 * service: `Fastify(serverOptions(config))` (same logger, LOG_LEVEL, request ids, timeouts), the
 * same x-request-id hook, the service's metrics plugin (in-flight gauge + duration histogram per
 * request, /metrics on METRICS_PORT) and its db plugin (Kysely over pg, DB_POOL_MAX, timeouts,
 * per-query histogram). No auth, no schemas, no cache: what is left is the floor cost of a request.
 *
 *   GET  /bench/bare     nothing at all                         (ceiling of cached reads)
 *        ?bytes=N        a JSON body of N bytes: separates bytes on the wire from the API's work
 *   GET  /bench/select1  `SELECT 1` through the pool            (ceiling of uncached reads)
 *   POST /bench/insert   one-row INSERT into bench_scratch      (ceiling of a single POST)
 *
 * BARE_WRITE_BATCH=1 adds the service's write batching (src/plugins/write-batch.ts): the a4 row, which
 * shows what that technique does for a route with nothing else to do (information only).
 *
 * bench_scratch is created by the benchmark as `LIKE bio_metrics INCLUDING ALL` (same columns,
 * defaults and primary key; no foreign key, no anomaly check, no outbox).
 */
import Fastify from 'fastify'
import { sql, type Kysely } from 'kysely'
import { serverOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createMetrics } from '../../src/metrics.js'
import dbPlugin from '../../src/plugins/db.js'
import metricsPlugin from '../../src/plugins/metrics.js'
import writeBatchPlugin from '../../src/plugins/write-batch.js'

const BIO_COLUMNS = ['weight_kg', 'body_fat_pct', 'heart_rate_bpm', 'resting_heart_rate_bpm', 'hrv_rmssd_ms', 'systolic_mmhg', 'diastolic_mmhg', 'spo2_pct', 'body_temperature_c', 'respiratory_rate_bpm'] as const

async function start(): Promise<void> {
  const config = loadConfig()
  const fastify = Fastify(serverOptions(config))
  const metrics = createMetrics()
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  await fastify.register(dbPlugin, {
    config,
    writerUrl: config.DATABASE_URL!,
    observe: (pool, operation, seconds) => metrics.dbQueryDuration.observe({ pool, operation }, seconds)
  })
  await fastify.register(metricsPlugin, { metrics, port: config.METRICS_PORT })
  await fastify.register(writeBatchPlugin, { enabled: process.env.BARE_WRITE_BATCH === '1' })
  const db = fastify.db.writer as unknown as Kysely<any>

  const padded = new Map<number, string>()
  fastify.get('/bench/bare', async (request, reply) => {
    const bytes = Number((request.query as { bytes?: string }).bytes ?? 0)
    if (!(bytes > 0)) return { ok: true }
    let body = padded.get(bytes)
    if (body === undefined) padded.set(bytes, (body = JSON.stringify({ ok: true, pad: 'x'.repeat(Math.max(0, bytes - 21)) })))
    return reply.type('application/json; charset=utf-8').send(body)
  })

  fastify.get('/bench/select1', async () => {
    const result = await sql<{ one: number }>`SELECT 1 AS one`.execute(db)
    return { one: result.rows[0]?.one }
  })

  fastify.post('/bench/insert', async (request, reply) => {
    const body = request.body as Record<string, unknown>
    const row: Record<string, unknown> = { user_uuid: body.user_uuid, recorded: new Date(String(body.recorded)), source: body.source ?? 'manual' }
    for (const column of BIO_COLUMNS) if (typeof body[column] === 'number') row[column] = body[column]
    const inserted = await db.insertInto('bench_scratch').values(row).returningAll().executeTakeFirstOrThrow()
    return reply.code(201).send(inserted)
  })

  await fastify.listen({ port: config.PORT, host: config.HOST })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      fastify.close().finally(() => process.exit(0))
    })
  }
}

start().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
