/**
 * RED metrics per route template, requests in flight, pool gauges refreshed at scrape time, and
 * /metrics on its own port (METRICS_PORT; 0 picks a free port, useful in tests).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import fp from 'fastify-plugin'
import type { Metrics } from '../metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    /** the port /metrics listens on, once started */
    metricsPort(): number | null
  }
}

export interface MetricsPluginOptions {
  metrics: Metrics
  port: number | null
}

export default fp<MetricsPluginOptions>(
  async (fastify, opts) => {
    const metrics = opts.metrics
    fastify.decorate('metrics', metrics)

    fastify.addHook('onRequest', (request, _reply, done) => {
      metrics.httpInFlight.inc()
      ;(request as { startedAt?: bigint }).startedAt = process.hrtime.bigint()
      done()
    })
    fastify.addHook('onResponse', (request, reply, done) => {
      metrics.httpInFlight.dec()
      const started = (request as { startedAt?: bigint }).startedAt
      if (started !== undefined) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        const route = request.routeOptions.url ?? 'unmatched'
        metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, seconds)
      }
      done()
    })

    // pool gauges are read when Prometheus scrapes, not on every query
    metrics.beforeScrape(() => {
      for (const [name, pool] of Object.entries(fastify.db.pools)) {
        if (name === 'reader' && pool === fastify.db.pools.writer) continue
        metrics.dbPoolConnections.set({ pool: name, state: 'total' }, pool.totalCount)
        metrics.dbPoolConnections.set({ pool: name, state: 'idle' }, pool.idleCount)
        metrics.dbPoolConnections.set({ pool: name, state: 'waiting' }, pool.waitingCount)
        metrics.dbPoolMax.set({ pool: name }, pool.options.max ?? 10)
      }
    })

    let server: http.Server | null = null
    if (opts.port !== null) {
      server = http.createServer((req, res) => {
        if (req.url !== '/metrics') {
          res.writeHead(404).end()
          return
        }
        metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
          .catch(() => res.writeHead(500).end())
      })
      const port = opts.port
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject)
        server!.listen(port, '0.0.0.0', () => resolve())
      })
    }
    fastify.decorate('metricsPort', () => (server ? (server.address() as AddressInfo).port : null))
    fastify.addHook('onClose', async () => {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()))
    })
  },
  { name: 'metrics', dependencies: ['db'] }
)
