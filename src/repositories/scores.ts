/**
 * Score inputs and stored scores. Inputs are read by bounded windows (the algorithm's: e.g. 28 days
 * of activity, sleep and bio-metrics, blood panels of the last 12 months), each an index range scan
 * on a primary key, so the cost does not grow with a user's history.
 */
import { sql, type Kysely } from 'kysely'
import type { DB } from './database.js'
import type { HealthScoreInput, HealthScoreResult } from '../domain/score/index.js'

const any = (db: DB) => db as unknown as Kysely<any>
const DAY_MS = 86_400_000

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** What one read must cover to serve every score date up to `to` (services/scores.ts derives it from the algorithm's windows). */
export interface ScoreInputBounds {
  activityFrom: string
  sleepFrom: string
  /** bio-metric readings in [biometricsFrom, biometricsBefore) */
  biometricsFrom: Date
  biometricsBefore: Date
  bloodFrom: string
  to: string
}

export async function loadScoreInput(db: DB, userUuid: string, bounds: ScoreInputBounds): Promise<Omit<HealthScoreInput, 'date'> | null> {
  const { to } = bounds
  const user = await db.selectFrom('users').select(['birth_date', 'sex', 'data_version', 'timezone']).where('user_uuid', '=', userUuid).executeTakeFirst()
  if (!user) return null
  const [activity, sleep, biometrics, blood] = await Promise.all([
    any(db).selectFrom('physical_activity').select(['date', 'steps', 'active_minutes', 'moderate_minutes', 'vigorous_minutes', 'distance_m', 'calories_kcal', 'quality'])
      .where('user_uuid', '=', userUuid).where('date', '>=', bounds.activityFrom).where('date', '<=', to).execute(),
    any(db).selectFrom('sleep_activity').select(['date', 'sleep_start', 'sleep_end', 'total_sleep_minutes', 'deep_minutes', 'rem_minutes', 'light_minutes', 'awake_minutes', 'quality'])
      .where('user_uuid', '=', userUuid).where('date', '>=', bounds.sleepFrom).where('date', '<=', to).execute(),
    any(db).selectFrom('bio_metrics').select(['recorded', 'resting_heart_rate_bpm', 'hrv_rmssd_ms', 'systolic_mmhg', 'diastolic_mmhg', 'spo2_pct', 'weight_kg', 'body_fat_pct', 'heart_rate_bpm', 'respiratory_rate_bpm', 'body_temperature_c', 'quality'])
      .where('user_uuid', '=', userUuid).where('recorded', '>=', bounds.biometricsFrom).where('recorded', '<', bounds.biometricsBefore).execute(),
    any(db).selectFrom('blood_tests').select(['test_date', 'results', 'quality'])
      .where('user_uuid', '=', userUuid).where('test_date', '>=', bounds.bloodFrom).where('test_date', '<=', to).execute()
  ])
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null))
  // the rows are this call's own: their timestamps become ISO strings in place, without a copy of
  // each reading (a fuller window's readings were each copied)
  for (const s of sleep as Array<Record<string, unknown>>) {
    s.sleep_start = iso(s.sleep_start)
    s.sleep_end = iso(s.sleep_end)
  }
  for (const b of biometrics as Array<Record<string, unknown>>) b.recorded = iso(b.recorded)
  return {
    user: { birth_date: user.birth_date, sex: user.sex, timezone: user.timezone },
    activity: activity as HealthScoreInput['activity'],
    sleep: sleep as HealthScoreInput['sleep'],
    biometrics: biometrics as HealthScoreInput['biometrics'],
    blood: blood.map((p: { test_date: string; results: Array<{ marker: string; value: number; unit: string }>; quality: 'ok' | 'suspect' }) => ({
      test_date: p.test_date,
      results: p.results.map((r) => ({ marker: r.marker, value: r.value, unit: r.unit, quality: p.quality }))
    }))
  }
}

export async function userDataVersion(db: DB, userUuid: string): Promise<{ data_version: number; timezone: string } | undefined> {
  return db.selectFrom('users').select(['data_version', 'timezone']).where('user_uuid', '=', userUuid).executeTakeFirst()
}

export interface StoredScore {
  user_uuid: string
  date: string
  algorithm_version: string
  result: HealthScoreResult
  data_version: number
  computed_at: Date
}

export async function storeScores(db: DB, userUuid: string, dataVersion: number, results: HealthScoreResult[]): Promise<StoredScore[]> {
  if (results.length === 0) return []
  const rows = await any(db)
    .insertInto('health_scores')
    .values(results.map((r) => ({
      user_uuid: userUuid,
      date: r.date,
      algorithm_version: r.algorithm_version,
      score: r.score,
      band: r.band,
      state: r.state,
      confidence: r.confidence,
      result: JSON.stringify(r),
      data_version: dataVersion,
      computed_at: sql`now()`
    })))
    .onConflict((oc: any) => oc.columns(['user_uuid', 'date', 'algorithm_version']).doUpdateSet({
      score: sql`excluded.score`, band: sql`excluded.band`, state: sql`excluded.state`, confidence: sql`excluded.confidence`,
      result: sql`excluded.result`, data_version: sql`excluded.data_version`, computed_at: sql`excluded.computed_at`
    }))
    .returning(['user_uuid', 'date', 'algorithm_version', 'result', 'data_version', 'computed_at'])
    .execute()
  return rows as StoredScore[]
}

export async function findScore(db: DB, userUuid: string, date: string, version: string): Promise<StoredScore | undefined> {
  return (await any(db).selectFrom('health_scores').select(['user_uuid', 'date', 'algorithm_version', 'result', 'data_version', 'computed_at'])
    .where('user_uuid', '=', userUuid).where('date', '=', date).where('algorithm_version', '=', version).executeTakeFirst()) as StoredScore | undefined
}

export async function listScores(db: DB, userUuid: string, version: string, from: string, to: string, limit: number): Promise<StoredScore[]> {
  return (await any(db).selectFrom('health_scores').select(['user_uuid', 'date', 'algorithm_version', 'result', 'data_version', 'computed_at'])
    .where('user_uuid', '=', userUuid).where('algorithm_version', '=', version).where('date', '>=', from).where('date', '<=', to)
    .orderBy('date', 'desc').limit(limit).execute()) as StoredScore[]
}
