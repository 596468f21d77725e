/**
 * Inline score computation: does its cost grow with a user's history? One user with a year of
 * data, one with a week (same readings per day, blood panels through the API), then the score
 * service's `computeAndStore` for today, called directly many times, interleaved. A third user with
 * 35 days (every input window of the score — 28 days of bio-metrics, 7 of activity and sleep —
 * full) separates "more history" from "fuller windows": a week-old user's bio-metric window is
 * only a quarter full, so 1 year / 1 week also measures 4× the in-window readings. This is exactly
 * the work GET /api/get_health_score does inline when the stored score is stale: read the user's
 * data version, load the windowed inputs, compute, upsert the stored score.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import app, { serverOptions } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { computeAndStore, todayIn } from '../../../src/services/scores.js'
import { envInt, JWT_SECRET } from './infra.js'
import { seedUsers, userToken } from './seed.js'

export interface ScoreLatency {
  iterations: number
  year_median_ms: number
  window_median_ms: number
  week_median_ms: number
  year_p90_ms: number
  window_p90_ms: number
  week_p90_ms: number
  /** 1 year / 1 week (the target) */
  ratio: number
  /** 1 year / 35 days: the pure effect of older history */
  ratio_full_windows: number
}

const median = (xs: number[]) => percentile(xs, 0.5)
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

async function bloodPanels(fastify: FastifyInstance, user: string, days: number): Promise<void> {
  const items = []
  for (let ago = 3; ago <= days; ago += 90) {
    const date = new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10)
    items.push({ user_uuid: user, test_date: date, lab: 'bench', results: [
      { marker: 'glucose', value: 88, unit: 'mg/dL' }, { marker: 'ldl', value: 2.8, unit: 'mmol/L' },
      { marker: 'hdl', value: 58, unit: 'mg/dL' }, { marker: 'hba1c', value: 5.3, unit: '%' }
    ] })
  }
  const res = await fastify.inject({ method: 'POST', url: '/api/blood-tests/batch', headers: { authorization: `Bearer ${userToken(user)}` }, payload: { items } })
  if (res.statusCode !== 200) throw new Error(`blood panels: ${res.statusCode} ${res.body}`)
}

export async function measureScoreLatency(databaseUrl: string, log: (m: string) => void): Promise<ScoreLatency> {
  const iterations = envInt('BENCH_SCORE_ITERATIONS', 300)
  const [year] = await seedUsers(databaseUrl, { users: 1, days: 365, bioPerDay: 4 })
  const [full] = await seedUsers(databaseUrl, { users: 1, days: 35, bioPerDay: 4 })
  const [week] = await seedUsers(databaseUrl, { users: 1, days: 7, bioPerDay: 4 })
  const config = loadConfig({
    DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL, AUTH_JWT_SECRET: JWT_SECRET,
    LOG_LEVEL: 'silent', WORKER_ENABLED: 'false', RATE_LIMIT_MAX: '1000000', DB_POOL_MAX: process.env.DB_POOL_MAX,
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', PRESSURE_SHED_EVENT_LOOP_DELAY_MS: '0', PRESSURE_MAX_IN_FLIGHT: '0'
  })
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config, databaseUrl, jwtSecret: JWT_SECRET, metricsPort: null })
  await fastify.ready()
  try {
    await bloodPanels(fastify, year!, 365)
    await bloodPanels(fastify, full!, 35)
    await bloodPanels(fastify, week!, 7)
    const today = todayIn('UTC')
    const time = async (user: string) => {
      const started = process.hrtime.bigint()
      const [answer] = await computeAndStore(fastify, fastify.db.writer, user, today, today)
      if (!answer) throw new Error('no score computed')
      return Number(process.hrtime.bigint() - started) / 1e6
    }
    const users = [year!, full!, week!]
    for (let i = 0; i < 20; i++) for (const u of users) await time(u) // warm-up: JIT, plans, buffers
    const samples = users.map(() => [] as number[])
    for (let i = 0; i < iterations; i++) {
      // rotate the order so no user always runs first (or last) in a round
      for (let k = 0; k < users.length; k++) {
        const which = (i + k) % users.length
        samples[which]!.push(await time(users[which]!))
      }
    }
    const [years, fulls, weeks] = samples as [number[], number[], number[]]
    const result: ScoreLatency = {
      iterations,
      year_median_ms: median(years),
      window_median_ms: median(fulls),
      week_median_ms: median(weeks),
      year_p90_ms: percentile(years, 0.9),
      window_p90_ms: percentile(fulls, 0.9),
      week_p90_ms: percentile(weeks, 0.9),
      ratio: median(years) / median(weeks),
      ratio_full_windows: median(years) / median(fulls)
    }
    log(`  score compute (median of ${iterations}): 1 year ${result.year_median_ms.toFixed(2)} ms, 35 days ${result.window_median_ms.toFixed(2)} ms, 1 week ${result.week_median_ms.toFixed(2)} ms`)
    return result
  } finally {
    await fastify.close()
  }
}
