/**
 * Every Prometheus metric the service exports, in one registry per process (tests build several
 * apps in one process, so nothing is registered globally). Names are what the Grafana dashboard
 * and the alert rules in k8s/monitoring use; a test checks that each one they use exists.
 * Latency buckets bracket the SLO targets p95 < 200 ms and p99 < 400 ms.
 */
import client from 'prom-client'

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 1, 2, 5]

export function createMetrics() {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  const r = [registry]
  const beforeScrape: Array<() => void> = []
  return {
    registry,
    /** register a callback that refreshes gauges right before each scrape */
    beforeScrape: (fn: () => void) => beforeScrape.push(fn),
    httpDuration: new client.Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration by method, route template and status', labelNames: ['method', 'route', 'status_code'], buckets: LATENCY_BUCKETS, registers: r }),
    httpInFlight: new client.Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served', registers: r }),
    dbQueryDuration: new client.Histogram({ name: 'db_query_duration_seconds', help: 'database query duration by operation and pool', labelNames: ['operation', 'pool'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: r }),
    dbPoolConnections: new client.Gauge({ name: 'db_pool_connections', help: 'database pool connections by state (total, idle, waiting = queued requests)', labelNames: ['pool', 'state'], registers: r, collect: () => beforeScrape.forEach((fn) => fn()) }),
    dbCoalescedGroup: new client.Histogram({ name: 'db_coalesced_group_size', help: 'requests that shared one coalesced statement (repositories/coalescer.ts), by statement', labelNames: ['statement'], buckets: [1, 2, 4, 8, 16, 32, 64, 100], registers: r }),
    dbPoolMax: new client.Gauge({ name: 'db_pool_max', help: 'configured maximum connections per pool', labelNames: ['pool'], registers: r }),
    cacheRequests: new client.Counter({ name: 'cache_requests_total', help: 'cache look-ups by result', labelNames: ['result'], registers: r }),
    redisUp: new client.Gauge({ name: 'redis_up', help: '1 when the configured Redis answers, else 0', labelNames: ['role'], registers: r }),
    cacheCircuitOpen: new client.Gauge({ name: 'cache_circuit_open', help: '1 while the cache circuit breaker bypasses Redis', registers: r }),
    queueDepth: new client.Gauge({ name: 'score_queue_depth', help: 'score recomputation jobs waiting', registers: r }),
    queueOldestAge: new client.Gauge({ name: 'score_queue_oldest_job_age_seconds', help: 'age of the oldest waiting score job', registers: r }),
    scoreJobs: new client.Counter({ name: 'score_jobs_total', help: 'score jobs by result', labelNames: ['result'], registers: r }),
    scoreDuration: new client.Histogram({ name: 'score_computation_duration_seconds', help: 'time to load data and compute one health score', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: r }),
    ingestRecords: new client.Counter({ name: 'ingest_records_total', help: 'health records accepted, by resource and source', labelNames: ['resource', 'source'], registers: r }),
    ingestRejections: new client.Counter({ name: 'ingest_rejections_total', help: 'health records rejected, by resource and reason', labelNames: ['resource', 'reason'], registers: r }),
    suspectReadings: new client.Counter({ name: 'readings_flagged_suspect_total', help: 'accepted readings flagged suspect against the user baseline', labelNames: ['resource'], registers: r }),
    rateLimited: new client.Counter({ name: 'rate_limited_requests_total', help: 'requests answered 429', registers: r }),
    rateLimitStoreErrors: new client.Counter({ name: 'rate_limit_store_errors_total', help: 'requests let through because the rate-limit store failed', registers: r }),
    shedRequests: new client.Counter({ name: 'shed_requests_total', help: 'requests shed with 503 (pressure) or degraded (priority)', labelNames: ['reason'], registers: r })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
