/**
 * `npm run bench`: the API's per-request overhead against bare ceilings on the same machine.
 *
 * A fresh database (`ht_bench_<random>` on DATABASE_URL's server, else an embedded PostgreSQL in a
 * temp dir), BENCH_USERS users (1000) × 90 days of data (4 bio-metric readings, 1 activity and
 * 1 sleep record per day), then the API (src/server.ts) and the ceilings (bare-server.ts) as child
 * processes, driven by autocannon from this process. Each scenario rotates over the seeded users,
 * each with their own token. Scenarios and their ceilings:
 *
 *   bare route            ← cached score read, cached list read
 *   (bare route with a body of the same size as those answers: information only)
 *   SELECT 1 route        ← uncached single-record read
 *   one-row INSERT route  ← single POST
 *   (none)                   batch POST of 500 items (rows/s)
 *
 * "Cached" reads: every user's score and first page were read once before the run, so the run
 * is served from stored scores / the read cache. "Uncached" single-record read: every request
 * names a record no earlier request of this run named (a random permutation of the seeded
 * records), so any read-through cache misses and the read goes to PostgreSQL.
 * Then the inline score computation for a 1-year vs a 1-week (and a 35-day) history
 * (lib/score-latency.ts), in this process with the servers stopped. docs/benchmarks.md explains
 * every column.
 * Each ratio's scenario and ceiling are measured interleaved, in slices of BENCH_SLICE seconds
 * (lib/load.ts, measureInterleaved): the cached reads with the bare routes, the uncached read with
 * SELECT 1, the single POST with the INSERT route; the batch on its own.
 * Knobs: BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_SLICE (2 s; 0: one run per scenario), BENCH_CONNECTIONS (50),
 * BENCH_BATCH_CONNECTIONS (4), BENCH_USERS (1000: 360 000 records, enough for three rounds of
 * first reads; a record read again is a second read, which the cache stores), BENCH_ROUNDS (1; >1 reports medians),
 * BENCH_SCORE_ITERATIONS (300), BENCH_ONLY (scenario keys), BENCH_SKIP_SCORE, DB_POOL_MAX.
 */
import { randomUUID } from 'node:crypto'
import type { RequestParams } from 'autocannon'
import { envInt, main, startBare, startPostgres, startService, type Child } from './lib/infra.js'
import { atLeast, atMost, checkTable, enforce, combine, environment, fmt, measureInterleaved, saveResult, scenarioTable, table, type Check, type Measured, type Scenario } from './lib/load.js'
import { measureScoreLatency, type ScoreLatency } from './lib/score-latency.js'
import { reading } from './lib/readings.js'
import { createScratchTable, prime, sampleRecords, seedUsers, toSeeded } from './lib/seed.js'

const BATCH_SIZE = 500
const log = (message: string) => console.log(message)

function rotate<T>(items: T[]): () => T {
  let i = 0
  return () => items[i++ % items.length]!
}

const json = (auth?: string) => ({ 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) })

/** Bytes of one answer: the size the a2/a3 bare routes send back. */
async function bodySize(baseUrl: string, path: string, auth: string): Promise<number> {
  const res = await fetch(baseUrl + path, { headers: { authorization: auth } })
  return Buffer.byteLength(await res.text())
}

await main('bench', async () => {
  const started = Date.now()
  const postgres = await startPostgres()
  const databaseUrl = await postgres.createDatabase('run')
  log(`Node ${process.version}, database: ${postgres.kind} PostgreSQL, redis: ${process.env.REDIS_URL ? 'REDIS_URL' : 'in-process cache'}`)
  const uuids = await seedUsers(databaseUrl, { users: envInt('BENCH_USERS', 1000), days: 90, bioPerDay: 4, log })
  await createScratchTable(databaseUrl)
  const users = uuids.map(toSeeded)
  const records = await sampleRecords(databaseUrl, uuids, 1_000_000)
  const tokenOf = new Map(users.map((u) => [u.uuid, u.auth]))

  const only = (process.env.BENCH_ONLY ?? '').split(',').map((k) => k.trim()).filter(Boolean)
  const wanted = (key: string) => only.length === 0 || only.includes(key)
  const [service, bare, bareBatched] = await Promise.all([
    startService(databaseUrl),
    startBare(databaseUrl),
    // the a4 row: the same ceilings with the service's write batching
    wanted('bareBatched') ? startBare(databaseUrl, 'bare-batched', { BARE_WRITE_BATCH: '1' }) : null
  ])
  await prime(service.url, users.slice(0, 1), 8)
  const scoreBytes = await bodySize(service.url, `/api/get_health_score?user_uuid=${users[0]!.uuid}`, users[0]!.auth)
  const listBytes = await bodySize(service.url, `/api/bio-metrics/${users[0]!.uuid}?limit=50`, users[0]!.auth)
  const nextUser = rotate(users)
  let recordIndex = 0
  const get = (path: string, auth?: string): RequestParams => ({ method: 'GET', path, headers: auth ? { authorization: auth } : {} })
  // as browsers, mobile HTTP stacks and k6 send it: the cache's gzip form of the same answer
  const gzipped = (request: RequestParams): RequestParams => ({ ...request, headers: { ...request.headers, 'accept-encoding': 'gzip' } })
  // `group`: scenarios measured interleaved (measureInterleaved): each ratio's two ends share one
  const scenarios: Array<Omit<Scenario, 'baseUrl'> & { key: string; server: Child; group: 'cached' | 'uncached' | 'write' | 'batch' }> = [
    { key: 'bare', group: 'cached', name: 'a. bare route (ceiling)', server: bare, next: () => get('/bench/bare') },
    { key: 'bareScoreSize', group: 'cached', name: `a2. bare route, ${fmt(scoreBytes / 1024, 1)} KB body (info)`, server: bare, next: () => get(`/bench/bare?bytes=${scoreBytes}`) },
    { key: 'bareListSize', group: 'cached', name: `a3. bare route, ${fmt(listBytes / 1024, 1)} KB body (info)`, server: bare, next: () => get(`/bench/bare?bytes=${listBytes}`) },
    ...(bareBatched ? [{ key: 'bareBatched', group: 'cached' as const, name: 'a4. bare route with write batching (info)', server: bareBatched, next: () => get('/bench/bare') }] : []),
    { key: 'score', group: 'cached', name: 'b. cached score GET', server: service, next: () => {
      const u = nextUser()
      return get(`/api/get_health_score?user_uuid=${u.uuid}`, u.auth)
    } },
    { key: 'list', group: 'cached', name: 'c. cached list GET (limit=50)', server: service, next: () => {
      const u = nextUser()
      return get(`/api/bio-metrics/${u.uuid}?limit=50`, u.auth)
    } },
    { key: 'scoreGz', group: 'cached', name: 'b2. cached score GET, gzip (info)', server: service, next: () => {
      const u = nextUser()
      return gzipped(get(`/api/get_health_score?user_uuid=${u.uuid}`, u.auth))
    } },
    { key: 'listGz', group: 'cached', name: 'c2. cached list GET, gzip (info)', server: service, next: () => {
      const u = nextUser()
      return gzipped(get(`/api/bio-metrics/${u.uuid}?limit=50`, u.auth))
    } },
    { key: 'select1', group: 'uncached', name: 'e. SELECT 1 route (ceiling)', server: bare, next: () => get('/bench/select1') },
    { key: 'uncached', group: 'uncached', name: 'd. uncached single-record GET', server: service, next: () => {
      const r = records[recordIndex++ % records.length]!
      return get(`/api/bio-metrics/${r.user_uuid}/${encodeURIComponent(r.recorded)}`, tokenOf.get(r.user_uuid))
    } },
    { key: 'insert', group: 'write', name: 'g. one-row INSERT route (ceiling)', server: bare, next: () => ({ method: 'POST', path: '/bench/insert', headers: json(), body: JSON.stringify(reading(randomUUID())) }) },
    { key: 'post', group: 'write', name: 'f. single POST', server: service, next: () => {
      const u = nextUser()
      return { method: 'POST', path: '/api/bio-metrics/', headers: json(u.auth), body: JSON.stringify(reading(u.uuid)) }
    } },
    { key: 'batch', group: 'batch', name: `h. batch POST (${BATCH_SIZE} items)`, server: service, connections: envInt('BENCH_BATCH_CONNECTIONS', 4), itemsPerRequest: BATCH_SIZE, timeout: 60, sizedByCount: true, next: () => {
      const u = nextUser()
      const items = Array.from({ length: BATCH_SIZE }, () => reading(u.uuid))
      return { method: 'POST', path: '/api/bio-metrics/batch', headers: json(u.auth), body: JSON.stringify({ items }) }
    } }
  ]
  // BENCH_ONLY=bare,score,... runs a subset (keys above; ratios need both ends); BENCH_SKIP_SCORE=1
  // skips the inline score computation
  const selected = only.length ? scenarios.filter((s) => only.includes(s.key)) : scenarios
  // A shared 2-core box is noisy: BENCH_ROUNDS > 1 repeats every scenario and reports medians.
  const rounds = envInt('BENCH_ROUNDS', 1)
  const runs = new Map<string, Measured[]>(selected.map((s) => [s.key, []]))
  for (let round = 1; round <= rounds; round++) {
    // the writes of the previous round made those users' scores and pages stale: read them once more
    log(`round ${round}/${rounds}: priming (one score and one list read per user), then a warm-up and a bounded run per scenario`)
    await prime(service.url, users, 8, selected.some((s) => s.key.endsWith('Gz')) ? ['identity', 'gzip'] : ['identity'])
    for (const group of new Set(selected.map((s) => s.group))) {
      const members = selected.filter((s) => s.group === group)
      const measuredGroup = await measureInterleaved(members.map((s) => ({ ...s, baseUrl: s.server.url, metricsUrl: s.server.metricsUrl })))
      members.forEach((s, i) => runs.get(s.key)!.push(measuredGroup[i]!))
    }
  }
  const uncachedRepeats = Math.max(0, recordIndex - records.length)
  const results = selected.map((s) => combine(runs.get(s.key)!))
  const byKey = new Map(selected.map((s, i) => [s.key, results[i]!]))

  await Promise.all([service.stop(), bare.stop(), bareBatched?.stop()])
  let scoreLatency: ScoreLatency | null = null
  if (process.env.BENCH_SKIP_SCORE !== '1') {
    log('inline score computation (in this process, servers stopped)')
    scoreLatency = await measureScoreLatency(databaseUrl, log)
  }

  const ratios: Array<[scenario: string, ceiling: string, rpsTarget?: number, p99Target?: number]> = [
    ['score', 'bare', 0.6, 3], ['list', 'bare', 0.6, 3], ['score', 'bareScoreSize'], ['list', 'bareListSize'], ['score', 'bareBatched'], ['list', 'bareBatched'], ['scoreGz', 'bare'], ['listGz', 'bare'], ['uncached', 'select1', 0.5], ['post', 'insert', 0.6]
  ]
  const checks: Check[] = []
  const info = (check: string, value: number): Check => ({ check, value, target: '(info)', pass: true })
  for (const [scenarioKey, ceilingKey, rpsTarget, p99Target] of ratios) {
    const scenario = byKey.get(scenarioKey)
    const ceiling = byKey.get(ceilingKey)
    if (!scenario || !ceiling) continue
    const label = `${scenario.name} / ${ceiling.name}`
    const rps = scenario.rps / ceiling.rps
    checks.push(rpsTarget ? atLeast(`${label}: req/s`, rps, rpsTarget) : info(`${label}: req/s`, rps))
    const p99 = scenario.p99_ms / Math.max(ceiling.p99_ms, 1)
    checks.push(p99Target ? atMost(`${label}: p99`, p99, p99Target) : info(`${label}: p99`, p99))
  }
  if (scoreLatency) {
    checks.push(atMost('score compute, 1 year / 1 week history (median)', scoreLatency.ratio, 1.5))
    checks.push(info('score compute, 1 year / 35 days history (median)', scoreLatency.ratio_full_windows))
  }
  checks.push(atMost('errors, all scenarios', results.reduce((n, m) => n + m.errors, 0), 0))

  console.log(`\n${scenarioTable(results)}\n`)
  if (scoreLatency) {
    console.log(table(['inline score compute', 'median ms', 'p90 ms'], [
      ['1 year of history', fmt(scoreLatency.year_median_ms), fmt(scoreLatency.year_p90_ms)],
      ['35 days (all windows full)', fmt(scoreLatency.window_median_ms), fmt(scoreLatency.window_p90_ms)],
      ['1 week of history', fmt(scoreLatency.week_median_ms), fmt(scoreLatency.week_p90_ms)]
    ]))
  }
  console.log(`\n${checkTable(checks)}\n`)
  if (uncachedRepeats) console.log(`note: the uncached run exhausted ${records.length} distinct records and repeated ${uncachedRepeats}; raise BENCH_USERS`)
  const file = saveResult('bench', {
    kind: 'bench', at: new Date().toISOString(), environment: environment(postgres.kind), users: users.length, days: 90,
    rounds, results, per_round: Object.fromEntries(runs), score_latency: scoreLatency, checks, uncached_records: records.length, uncached_repeats: uncachedRepeats,
    total_s: (Date.now() - started) / 1000
  })
  console.log(`saved ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  enforce(checks)
})
