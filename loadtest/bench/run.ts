/**
 * `npm run bench`: the API's per-request overhead against bare ceilings on the same machine.
 *
 * A fresh database (`ht_bench_<random>` on DATABASE_URL's server, else an embedded PostgreSQL in a
 * temp dir), BENCH_USERS users (300) × 90 days of data (4 bio-metric readings, 1 activity and
 * 1 sleep record per day), then the API (src/server.ts) and the ceilings (bare-server.ts) as child
 * processes, driven by autocannon from this process. Each scenario rotates over the seeded users,
 * each with their own token. Scenarios and their ceilings:
 *
 *   bare route            ← cached score read, cached list read
 *   SELECT 1 route        ← uncached single-record read
 *   one-row INSERT route  ← single POST
 *   (none)                   batch POST of 500 items (rows/s)
 *
 * "Cached" reads: every user's score and first page were read once before the run, so the run
 * is served from stored scores / the read cache. "Uncached" single-record read: every request
 * names a record no earlier request of this run named (a random permutation of the seeded
 * records), so any read-through cache misses and the read goes to PostgreSQL.
 * Then the inline score computation for a 1-year vs a 1-week history (lib/score-latency.ts).
 * Knobs: BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_CONNECTIONS (50),
 * BENCH_BATCH_CONNECTIONS (8), BENCH_USERS (300), BENCH_SCORE_ITERATIONS (300), DB_POOL_MAX.
 */
import { randomUUID } from 'node:crypto'
import type { RequestParams } from 'autocannon'
import { envInt, main, startBare, startPostgres, startService } from './lib/infra.js'
import { atLeast, atMost, checkTable, environment, fmt, measure, saveResult, scenarioTable, table, type Check, type Measured } from './lib/load.js'
import { measureScoreLatency } from './lib/score-latency.js'
import { reading } from './lib/readings.js'
import { createScratchTable, sampleRecords, seedUsers, toSeeded, type SeededUser } from './lib/seed.js'

const BATCH_SIZE = 500
const log = (message: string) => console.log(message)

function rotate<T>(items: T[]): () => T {
  let i = 0
  return () => items[i++ % items.length]!
}

const json = (auth?: string) => ({ 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) })

/** Read every user's score and list page once (with a little concurrency), so the runs read warm. */
async function prime(baseUrl: string, users: SeededUser[]): Promise<void> {
  const queue = [...users]
  const worker = async () => {
    for (let u = queue.shift(); u; u = queue.shift()) {
      for (const path of [`/api/get_health_score?user_uuid=${u.uuid}`, `/api/bio-metrics/${u.uuid}?limit=50`]) {
        const res = await fetch(baseUrl + path, { headers: { authorization: u.auth } })
        if (!res.ok) throw new Error(`prime ${path}: ${res.status} ${await res.text()}`)
        await res.arrayBuffer()
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

await main('bench', async () => {
  const started = Date.now()
  const postgres = await startPostgres()
  const databaseUrl = await postgres.createDatabase('run')
  log(`database: ${postgres.kind} PostgreSQL, redis: ${process.env.REDIS_URL ? 'REDIS_URL' : 'in-process cache'}`)
  const uuids = await seedUsers(databaseUrl, { users: envInt('BENCH_USERS', 300), days: 90, bioPerDay: 4, log })
  await createScratchTable(databaseUrl)
  const users = uuids.map(toSeeded)
  const records = await sampleRecords(databaseUrl, uuids, 1_000_000)
  const tokenOf = new Map(users.map((u) => [u.uuid, u.auth]))

  const [service, bare] = await Promise.all([startService(databaseUrl), startBare(databaseUrl)])
  log('priming: one score and one list read per user')
  await prime(service.url, users)

  const nextUser = rotate(users)
  let recordIndex = 0
  const get = (path: string, auth?: string): RequestParams => ({ method: 'GET', path, headers: auth ? { authorization: auth } : {} })
  const results: Measured[] = []
  const run = async (name: string, baseUrl: string, next: () => RequestParams, extra: { connections?: number; itemsPerRequest?: number } = {}) => {
    const m = await measure({ name, baseUrl, next, ...extra })
    results.push(m)
    return m
  }

  log('load: a warm-up, then a bounded run per scenario')
  const bareRoute = await run('a. bare route (ceiling)', bare.url, () => get('/bench/bare'))
  const score = await run('b. cached score GET', service.url, () => {
    const u = nextUser()
    return get(`/api/get_health_score?user_uuid=${u.uuid}`, u.auth)
  })
  const list = await run('c. cached list GET (limit=50)', service.url, () => {
    const u = nextUser()
    return get(`/api/bio-metrics/${u.uuid}?limit=50`, u.auth)
  })
  const select1 = await run('e. SELECT 1 route (ceiling)', bare.url, () => get('/bench/select1'))
  const uncached = await run('d. uncached single-record GET', service.url, () => {
    const r = records[recordIndex++ % records.length]!
    return get(`/api/bio-metrics/${r.user_uuid}/${encodeURIComponent(r.recorded)}`, tokenOf.get(r.user_uuid))
  })
  const uncachedRepeats = Math.max(0, recordIndex - records.length)
  const insert = await run('g. one-row INSERT route (ceiling)', bare.url, () => ({ method: 'POST', path: '/bench/insert', headers: json(), body: JSON.stringify(reading(randomUUID())) }))
  const post = await run('f. single POST', service.url, () => {
    const u = nextUser()
    return { method: 'POST', path: '/api/bio-metrics/', headers: json(u.auth), body: JSON.stringify(reading(u.uuid)) }
  })
  const batch = await run(`h. batch POST (${BATCH_SIZE} items)`, service.url, () => {
    const u = nextUser()
    const items = Array.from({ length: BATCH_SIZE }, () => reading(u.uuid))
    return { method: 'POST', path: '/api/bio-metrics/batch', headers: json(u.auth), body: JSON.stringify({ items }) }
  }, { connections: envInt('BENCH_BATCH_CONNECTIONS', 8), itemsPerRequest: BATCH_SIZE })

  await Promise.all([service.stop(), bare.stop()])
  log('inline score computation (in this process, servers stopped)')
  const scoreLatency = await measureScoreLatency(databaseUrl, log)

  const ratios = [
    { scenario: score, ceiling: bareRoute, rpsTarget: 0.6, p99Target: 3 },
    { scenario: list, ceiling: bareRoute, rpsTarget: 0.6, p99Target: 3 },
    { scenario: uncached, ceiling: select1, rpsTarget: 0.5 },
    { scenario: post, ceiling: insert, rpsTarget: 0.6 }
  ]
  const checks: Check[] = []
  for (const r of ratios) {
    checks.push(atLeast(`${r.scenario.name} / ${r.ceiling.name}: req/s`, r.scenario.rps / r.ceiling.rps, r.rpsTarget))
    const p99 = r.scenario.p99_ms / Math.max(r.ceiling.p99_ms, 1)
    checks.push(r.p99Target ? atMost(`${r.scenario.name} / ${r.ceiling.name}: p99`, p99, r.p99Target) : { check: `${r.scenario.name} / ${r.ceiling.name}: p99`, value: p99, target: '(info)', pass: true })
  }
  checks.push(atMost('score compute, 1 year / 1 week history (median)', scoreLatency.ratio, 1.5))
  const errors = results.reduce((n, m) => n + m.errors, 0)
  checks.push(atMost('errors, all scenarios', errors, 0))

  console.log(`\n${scenarioTable(results)}\n`)
  console.log(table(['inline score compute', 'median ms', 'p90 ms'], [
    ['1 year of history', fmt(scoreLatency.year_median_ms), fmt(scoreLatency.year_p90_ms)],
    ['1 week of history', fmt(scoreLatency.week_median_ms), fmt(scoreLatency.week_p90_ms)]
  ]))
  console.log(`\n${checkTable(checks)}\n`)
  if (uncachedRepeats) console.log(`note: the uncached run exhausted ${records.length} distinct records and repeated ${uncachedRepeats}; raise BENCH_USERS`)
  console.log(`batch ingest: ${fmt(batch.rows_per_s, 0)} rows/s`)
  const file = saveResult('bench', {
    kind: 'bench', at: new Date().toISOString(), environment: environment(postgres.kind), users: users.length, days: 90,
    results, score_latency: scoreLatency, checks, uncached_records: records.length, uncached_repeats: uncachedRepeats,
    total_s: (Date.now() - started) / 1000
  })
  console.log(`saved ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
})
