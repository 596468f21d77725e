/**
 * `npm run bench:ingest`: batch ingest through the API next to the database's own speed, same run.
 *
 *  - direct: BENCH_INGEST_CLIENTS (4) pg connections, each looping one multi-row
 *    `INSERT INTO bio_metrics (...) VALUES (...), (...)` of 1000 rows (parameterised);
 *  - API: as many autocannon connections, each looping POST /api/bio-metrics/batch with
 *    `{ items: [1000 readings] }` and a user token (validation, baseline check, upsert, outbox,
 *    cache invalidation, per-item results).
 *
 * Both get the same row generator (lib/readings.ts: unique, past `recorded`, same values), each
 * request for one user, rotating over its own BENCH_INGEST_USERS (50) seeded users with 30 days of
 * history, so both write into equally sized indexes. Each side: a warm-up, then about
 * BENCH_DURATION (10 s): direct by time, the API by a request count sized from its warm-up (a
 * timed run would drop the seconds-long requests still in flight at its end). Direct runs first,
 * so the API writes into the (slightly) larger table. BENCH_ROUNDS (3) rounds of both, each after
 * the score worker caught up with the last; each figure is the median of its rounds.
 * Figure: API rows/s ÷ direct rows/s (target ≥ 0.5).
 */
import pg from 'pg'
import { envInt, main, startPostgres, startService, workerMode } from './lib/infra.js'
import { atLeast, atMost, checkTable, combine, enforce, DURATION_S, environment, fmt, measure, median, saveResult, table, WARMUP_S, type Check, type Measured } from './lib/load.js'
import { reading } from './lib/readings.js'
import { seedUsers, toSeeded } from './lib/seed.js'

const BATCH = 1000
const COLUMNS = ['user_uuid', 'recorded', 'weight_kg', 'heart_rate_bpm', 'resting_heart_rate_bpm', 'hrv_rmssd_ms', 'systolic_mmhg', 'diastolic_mmhg', 'spo2_pct', 'source'] as const
const log = (message: string) => console.log(message)

function insertStatement(rows: Array<Record<string, unknown>>): { text: string; values: unknown[] } {
  const values: unknown[] = []
  const tuples = rows.map((row) => `(${COLUMNS.map((c) => `$${values.push(row[c])}`).join(', ')})`)
  return { text: `INSERT INTO bio_metrics (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values }
}

interface DirectResult {
  rows: number
  statements: number
  seconds: number
  rows_per_s: number
  p50_ms: number
  p99_ms: number
}

/** `clients` connections inserting 1000-row statements for `seconds`. */
async function direct(url: string, users: string[], clients: number, seconds: number): Promise<DirectResult> {
  let next = 0
  const latencies: number[] = []
  let rows = 0
  const deadline = Date.now() + seconds * 1000
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      while (Date.now() < deadline) {
        const user = users[next++ % users.length]!
        const statement = insertStatement(Array.from({ length: BATCH }, () => reading(user)))
        const t0 = process.hrtime.bigint()
        await client.query(statement.text, statement.values)
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
        rows += BATCH
      }
    } finally {
      await client.end()
    }
  }))
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const sorted = latencies.sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
  return { rows, statements: latencies.length, seconds: elapsed, rows_per_s: rows / elapsed, p50_ms: at(0.5), p99_ms: at(0.99) }
}

/** Seconds until no score job is pending (null: still pending after 3 minutes, or no worker runs). */
async function drainSeconds(url: string): Promise<number | null> {
  const drainStarted = Date.now()
  const queue = new pg.Client({ connectionString: url })
  await queue.connect()
  let pending = -1
  try {
    while (Date.now() - drainStarted < 180_000) {
      pending = Number((await queue.query(`SELECT count(*) AS n FROM score_jobs WHERE state = 'pending'`)).rows[0].n)
      if (pending === 0 || workerMode() === 'none') break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } finally {
    await queue.end()
  }
  return pending === 0 ? (Date.now() - drainStarted) / 1000 : null
}

await main('bench:ingest', async () => {
  const started = Date.now()
  const clients = envInt('BENCH_INGEST_CLIENTS', 4)
  const perSide = envInt('BENCH_INGEST_USERS', 50)
  const postgres = await startPostgres()
  const url = await postgres.createDatabase('ingest')
  log(`Node ${process.version}, database: ${postgres.kind} PostgreSQL, redis: ${process.env.REDIS_URL ? 'REDIS_URL' : 'in-process cache'}`)
  const uuids = await seedUsers(url, { users: perSide * 2, days: 30, bioPerDay: 4 })
  const apiUsers = uuids.slice(0, perSide).map(toSeeded)
  const directUsers = uuids.slice(perSide)
  const service = await startService(url)

  // BENCH_ROUNDS (3) rounds of direct then API, each round waiting for the score worker to catch
  // up before the next: this VM's speed drifts within minutes, and one pair of runs let a phase
  // change decide the ratio (single runs measured 0.47-0.53 for the same code)
  const rounds = envInt('BENCH_ROUNDS', 3)
  const directRuns: DirectResult[] = []
  const apiRuns: Measured[] = []
  const drains: Array<number | null> = []
  let u = 0
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}`)
    log(`direct multi-row INSERT: ${clients} connections × ${BATCH} rows per statement`)
    if (WARMUP_S > 0) await direct(url, directUsers, clients, WARMUP_S)
    const db = await direct(url, directUsers, clients, DURATION_S)
    directRuns.push(db)
    log(`  ${fmt(db.rows_per_s, 0)} rows/s, statement p50 ${fmt(db.p50_ms, 1)} ms, p99 ${fmt(db.p99_ms, 1)} ms`)

    log(`API batch: ${clients} connections × ${BATCH} items per request`)
    apiRuns.push(await measure({
      name: `POST /api/bio-metrics/batch (${BATCH} items)`,
      baseUrl: service.url,
      metricsUrl: service.metricsUrl,
      connections: clients,
      itemsPerRequest: BATCH,
      timeout: 120,
      sizedByCount: true,
      next: () => {
        const user = apiUsers[u++ % apiUsers.length]!
        const items = Array.from({ length: BATCH }, () => reading(user.uuid))
        return { method: 'POST', path: '/api/bio-metrics/batch', headers: { 'content-type': 'application/json', authorization: user.auth }, body: JSON.stringify({ items }) }
      }
    }))
    // the writes enqueued score jobs: how long the worker needs to catch up is part of the story
    const drain = await drainSeconds(url)
    drains.push(drain)
    log(`score queue: ${drain !== null ? `drained ${fmt(drain, 1)} s after the run` : 'jobs still pending'} (worker: ${workerMode()})`)
  }
  await service.stop()
  const ofDirect = (pick: (r: DirectResult) => number) => median(directRuns.map(pick))!
  const db: DirectResult = { rows: ofDirect((r) => r.rows), statements: ofDirect((r) => r.statements), seconds: ofDirect((r) => r.seconds), rows_per_s: ofDirect((r) => r.rows_per_s), p50_ms: ofDirect((r) => r.p50_ms), p99_ms: ofDirect((r) => r.p99_ms) }
  const api = combine(apiRuns)
  const apiRows = api.rows_per_s ?? 0
  const perRound = directRuns.map((d, i) => (apiRuns[i]!.rows_per_s ?? 0) / d.rows_per_s)
  const drainS = drains.every((d) => d !== null) ? median(drains as number[])! : null

  // each figure the median of its rounds; the ratio is the ratio of the medians (as in bench and scale)
  const checks: Check[] = [atLeast('API batch rows/s / direct INSERT rows/s', apiRows / db.rows_per_s, 0.5), atMost('API errors', api.errors, 0)]
  console.log(`\n${table(['path', 'clients', 'rows/s', 'requests', 'p50 ms', 'p99 ms'], [
    [`direct INSERT, ${BATCH} rows/statement`, clients, fmt(db.rows_per_s, 0), db.statements, fmt(db.p50_ms, 1), fmt(db.p99_ms, 1)],
    [`API batch, ${BATCH} items/request`, clients, fmt(apiRows, 0), median(apiRuns.map((r) => r.requests))!, fmt(api.p50_ms, 1), fmt(api.p99_ms, 1)]
  ])}\n`)
  console.log(`${checkTable(checks)}\n`)
  if (rounds > 1) console.log(`per round: ${perRound.map((r) => fmt(r, 2)).join(', ')}\n`)
  const file = saveResult('ingest', {
    kind: 'ingest', at: new Date().toISOString(), environment: environment(postgres.kind), batch: BATCH, clients, rounds, direct: db, api,
    per_round: { direct: directRuns, api: apiRuns, ratio: perRound, score_queue_drain_s: drains }, score_queue_drain_s: drainS, worker: workerMode(), checks, total_s: (Date.now() - started) / 1000
  })
  console.log(`saved ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  enforce(checks)
})
