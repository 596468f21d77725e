/**
 * Health-score use-cases. A stored score is current when it was made by the active algorithm at
 * the user's current data version (bumped in every write's transaction); then it is the fast path.
 * Otherwise the score is computed inline, stored and returned, so a read right after a write always
 * reflects it. The worker precomputes the same scores in the background from the outbox.
 */
import type { FastifyInstance } from 'fastify'
import { computeHealthScore, computeScoreWindow, getAlgorithm, LATEST_ALGORITHM_VERSION, type AlgorithmDefinition, type HealthScoreResult } from '../domain/score/index.js'
import { NotFound } from '../domain/errors.js'
import type { DB } from '../repositories/database.js'
import { addDays, findScore, listScores, loadScoreInput, storeScores, userDataVersion } from '../repositories/scores.js'

export function activeAlgorithm(app: FastifyInstance): AlgorithmDefinition {
  const version = app.appConfig.HEALTH_SCORE_ALGORITHM ?? LATEST_ALGORITHM_VERSION
  // asked on every score read: found once per version, not by a search each time
  let algorithm = algorithmByVersion.get(version)
  if (algorithm === undefined) algorithmByVersion.set(version, (algorithm = getAlgorithm(version)!))
  return algorithm
}
const algorithmByVersion = new Map<string, AlgorithmDefinition>()

/**
 * The cache variant of score reads: the active version and today's UTC date. The same string for
 * the whole day (its hash is computed once), not a new one per request.
 */
let variantCache = { version: '', day: '', variant: '' }
export function scoreVariant(app: FastifyInstance): string {
  const version = activeAlgorithm(app).version
  const day = utcDay()
  if (variantCache.version !== version || variantCache.day !== day) variantCache = { version, day, variant: `${version}:${day}` }
  return variantCache.variant
}

/** Today's UTC date (YYYY-MM-DD), formatted once per UTC day rather than once per request. */
let utcDayCache = { day: '', from: 0, until: 0 }
export function utcDay(now = Date.now()): string {
  if (now < utcDayCache.from || now >= utcDayCache.until) {
    const from = now - (now % 86_400_000)
    utcDayCache = { day: new Date(from).toISOString().slice(0, 10), from, until: from + 86_400_000 }
  }
  return utcDayCache.day
}

/** The user's calendar day now, in their time zone. */
export function todayIn(timezone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

export interface ScoreAnswer extends HealthScoreResult {
  user_uuid: string
  computed_at: Date
  stale: boolean
}

function answer(userUuid: string, result: HealthScoreResult, computedAt: Date, stale: boolean): ScoreAnswer {
  return { ...result, user_uuid: userUuid, computed_at: computedAt, stale }
}

/**
 * Compute every date in [from, to] from one windowed read, and store them. `user`: the user's data
 * version as the caller just read it (before the data, as here: a write in between leaves the
 * stored scores stale, never falsely current); read here when not given.
 */
export async function computeAndStore(app: FastifyInstance, db: DB, userUuid: string, from: string, to: string, algorithm = activeAlgorithm(app), user?: { data_version: number }): Promise<ScoreAnswer[]> {
  const version = user ?? (await userDataVersion(db, userUuid))
  if (!version) return []
  const started = process.hrtime.bigint()
  // the windows of the first and last date (with the time-zone slack of the bio-metric window)
  const first = computeScoreWindow(from, algorithm)
  const last = computeScoreWindow(to, algorithm)
  const input = await loadScoreInput(db, userUuid, {
    activityFrom: first.activityFrom,
    sleepFrom: first.sleepFrom,
    biometricsFrom: new Date(first.baselineStartMs),
    biometricsBefore: new Date(last.endMs),
    bloodFrom: first.bloodFrom,
    to
  })
  if (!input) return []
  const results: HealthScoreResult[] = []
  for (let date = from; date <= to; date = addDays(date, 1)) results.push(computeHealthScore({ ...input, date }, algorithm))
  app.metrics.scoreDuration.observe(Number(process.hrtime.bigint() - started) / 1e9 / Math.max(results.length, 1))
  const stored = await storeScores(db, userUuid, version.data_version, results)
  return stored.map((s) => answer(userUuid, s.result, s.computed_at, false))
}

export async function getHealthScore(app: FastifyInstance, userUuid: string, date: string | undefined, options: { allowInline: boolean }): Promise<ScoreAnswer> {
  const db = app.db.writer // the score path reads the writer: consistent with the caller's own writes
  const user = await userDataVersion(db, userUuid)
  if (!user) throw new NotFound('user not found')
  const day = date ?? todayIn(user.timezone)
  const algorithm = activeAlgorithm(app)
  const stored = await findScore(db, userUuid, day, algorithm.version)
  if (stored && stored.data_version === user.data_version) return answer(userUuid, stored.result, stored.computed_at, false)
  if (!options.allowInline && stored) return answer(userUuid, stored.result, stored.computed_at, true)
  const [fresh] = await computeAndStore(app, db, userUuid, day, day, algorithm, user)
  if (!fresh) throw new NotFound('user not found')
  return fresh
}

export async function scoreHistory(app: FastifyInstance, userUuid: string, from: string | undefined, to: string | undefined) {
  const user = await userDataVersion(app.db.writer, userUuid)
  if (!user) throw new NotFound('user not found')
  const end = to ?? todayIn(user.timezone)
  const start = from ?? addDays(end, -29)
  const algorithm = activeAlgorithm(app)
  const rows = await listScores(await app.readerFor(userUuid), userUuid, algorithm.version, start, end, 366)
  return {
    user_uuid: userUuid,
    algorithm_version: algorithm.version,
    from: start,
    to: end,
    items: rows.map((r) => ({ date: r.date, score: r.result.score, band: r.result.band, state: r.result.state, confidence: r.result.confidence, computed_at: r.computed_at, stale: r.data_version !== user.data_version }))
  }
}
