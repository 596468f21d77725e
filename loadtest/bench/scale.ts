/**
 * `npm run bench:scale`: do reads slow down as the data grows? Two fresh databases on the same
 * server, seeded set-based (generate_series): BENCH_SCALE_USERS (10 000) users × BENCH_SCALE_DAYS
 * (365) days, and BENCH_SCALE_SMALL_USERS (100) users × the same days; each day has
 * BENCH_SCALE_BIO_PER_DAY (1) bio-metric reading, one activity and one sleep record. For each
 * database: start the API on it and read every user's score and first list page once (so the runs
 * read warm: stored scores / the read cache). Then, for BENCH_ROUNDS (3; one noisy round then
 * cannot decide the median) rounds, drive the score read and the list read (limit=50) on both
 * sides, interleaved in slices of BENCH_SLICE seconds (lib/load.ts, measureInterleaved), rotating
 * over all of that database's users in random order; each figure is the median of its rounds. The p99 ratio
 * large / small is the figure (target ≤ 1.3). With the defaults the run takes about 8 minutes on
 * 2 cores (seeding ~3, priming 10 000 scores ~3); lower BENCH_SCALE_USERS for a quicker look (the
 * ratio then says less). The reads send `Accept-Encoding: BENCH_ACCEPT_ENCODING` (gzip, as browsers,
 * mobile HTTP stacks and k6 do by default; `identity` for uncompressed answers).
 */
import { envInt, main, startPostgres, startService, type Child, type PgServer } from './lib/infra.js'
import { atMost, checkTable, enforce, combine, environment, fmt, measureInterleaved, saveResult, table, type Check, type Measured, type Scenario } from './lib/load.js'
import { prime, seedUsers, toSeeded, type SeededUser, withClient } from './lib/seed.js'

const log = (message: string) => console.log(message)
const acceptEncoding = process.env.BENCH_ACCEPT_ENCODING ?? 'gzip'

interface Side {
  label: string
  users: number
  rows: number
  seed_s: number
  score: Measured
  list: Measured
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

interface Seeded {
  url: string
  uuids: string[]
  rows: number
  seed_s: number
}

async function seed(postgres: PgServer, label: string, users: number, days: number): Promise<Seeded> {
  const url = await postgres.createDatabase(label)
  const started = Date.now()
  log(`seeding ${label}: ${users} users × ${days} days`)
  const uuids = await seedUsers(url, { users, days, bioPerDay: envInt('BENCH_SCALE_BIO_PER_DAY', 1), chunk: 250, log: users >= 1000 ? log : undefined })
  const rows = await withClient(url, async (c) => {
    const r = await c.query<{ n: string }>('SELECT (SELECT count(*) FROM bio_metrics) + (SELECT count(*) FROM physical_activity) + (SELECT count(*) FROM sleep_activity) AS n')
    return Number(r.rows[0]!.n)
  })
  return { url, uuids, rows, seed_s: (Date.now() - started) / 1000 }
}

interface Running {
  label: string
  seeded: Seeded
  service: Child
  users: SeededUser[]
  next: { i: number; j: number }
  runs: { score: Measured[]; list: Measured[] }
}

/** Start the API on one database and read every user's score and first page once. */
async function startSide(label: string, seeded: Seeded): Promise<Running> {
  log(`starting the API on ${label} (${seeded.uuids.length} users, ${seeded.rows.toLocaleString('en-US')} rows)`)
  // the priming of 10 000 users takes minutes: entries must outlive it
  const service = await startService(seeded.url, `service-${label}`, { CACHE_TTL_SECONDS: '3600' })
  const users = shuffle(seeded.uuids.map(toSeeded))
  const primeStarted = Date.now()
  await prime(service.url, users, 16, [acceptEncoding])
  log(`  primed ${users.length} users in ${((Date.now() - primeStarted) / 1000).toFixed(1)} s`)
  return { label, seeded, service, users, next: { i: 0, j: 0 }, runs: { score: [], list: [] } }
}

function reads(side: Running): [score: Scenario, list: Scenario] {
  const { users, next, service } = side
  return [
    { name: `${side.label}: cached score GET`, baseUrl: service.url, metricsUrl: service.metricsUrl, next: () => {
      const u = users[next.i++ % users.length]!
      return { method: 'GET', path: `/api/get_health_score?user_uuid=${u.uuid}`, headers: { authorization: u.auth, 'accept-encoding': acceptEncoding } }
    } },
    { name: `${side.label}: cached list GET`, baseUrl: service.url, metricsUrl: service.metricsUrl, next: () => {
      const u = users[next.j++ % users.length]!
      return { method: 'GET', path: `/api/bio-metrics/${u.uuid}?limit=50`, headers: { authorization: u.auth, 'accept-encoding': acceptEncoding } }
    } }
  ]
}

await main('bench:scale', async () => {
  const started = Date.now()
  const days = envInt('BENCH_SCALE_DAYS', 365)
  const bigUsers = envInt('BENCH_SCALE_USERS', 10_000)
  const smallUsers = envInt('BENCH_SCALE_SMALL_USERS', 100)
  const postgres = await startPostgres()
  log(`Node ${process.version}, database: ${postgres.kind} PostgreSQL, redis: ${process.env.REDIS_URL ? 'REDIS_URL' : 'in-process cache'}, Accept-Encoding: ${acceptEncoding}`)
  const small = await startSide('small', await seed(postgres, 'small', smallUsers, days))
  const large = await startSide('large', await seed(postgres, 'large', bigUsers, days))
  // both APIs stay up; each round measures the four reads interleaved in slices (small score, large
  // score, small list, large list, ...), so drift in the machine's speed hits both sides alike, and
  // each figure is the median of its rounds
  const rounds = envInt('BENCH_ROUNDS', 3)
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}`)
    const [smallScore, smallList] = reads(small)
    const [largeScore, largeList] = reads(large)
    const [a, b, c, d] = await measureInterleaved([smallScore, largeScore, smallList, largeList])
    small.runs.score.push(a!)
    large.runs.score.push(b!)
    small.runs.list.push(c!)
    large.runs.list.push(d!)
  }
  await Promise.all([small.service.stop(), large.service.stop()])
  const sides: Side[] = [small, large].map((x) => ({
    label: x.label, users: x.users.length, rows: x.seeded.rows, seed_s: x.seeded.seed_s, score: combine(x.runs.score), list: combine(x.runs.list)
  }))
  const [s, b] = sides as [Side, Side]

  const checks: Check[] = [
    atMost('score GET p99, large / small', b.score.p99_ms / Math.max(s.score.p99_ms, 1), 1.3),
    atMost('list GET p99, large / small', b.list.p99_ms / Math.max(s.list.p99_ms, 1), 1.3),
    atMost('errors, all runs', sides.reduce((n, x) => n + x.score.errors + x.list.errors, 0), 0)
  ]
  console.log(`\n${table(['database', 'users', 'rows', 'seed s', 'score req/s', 'score p50', 'score p99', 'list req/s', 'list p50', 'list p99', 'errors'], sides.map((x) => [
    x.label, x.users.toLocaleString('en-US'), x.rows.toLocaleString('en-US'), fmt(x.seed_s, 0),
    fmt(x.score.rps, 0), fmt(x.score.p50_ms, 1), fmt(x.score.p99_ms, 1), fmt(x.list.rps, 0), fmt(x.list.p50_ms, 1), fmt(x.list.p99_ms, 1), x.score.errors + x.list.errors
  ]))}\n`)
  console.log(`${checkTable(checks)}\n`)
  const file = saveResult('scale', { kind: 'scale', at: new Date().toISOString(), environment: environment(postgres.kind), accept_encoding: acceptEncoding, days, rounds, sides, per_round: { small: small.runs, large: large.runs }, checks, total_s: (Date.now() - started) / 1000 })
  console.log(`saved ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  enforce(checks)
})
