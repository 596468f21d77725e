import { EARLIEST_ZONE_LEAD_MS, LATEST_ZONE_LAG_MS, addDays, isDayWithin, parseIsoDay, parseTimestamp, subtractMonths, DAY_MS } from './dates.js'
import type { AlgorithmDefinition } from './types.js'

/**
 * The windows one score looks at, all ending on the scored day (inclusive). The caller queries the
 * database with the same windows; the engine applies them again so that extra history passed in by
 * mistake can neither change the score nor make it slower to explain.
 */
export interface ScoreWindow {
  to: string
  activityFrom: string
  sleepFrom: string
  baselineFrom: string
  recentFrom: string
  bloodFrom: string
  /** Timestamps (biometrics) in [baselineStartMs, endMs) count; see dates.ts for the zone slack. */
  baselineStartMs: number
  recentStartMs: number
  hrvRecentStartMs: number
  endMs: number
}

export function computeScoreWindow(date: string, algorithm: AlgorithmDefinition): ScoreWindow {
  const dayMs = parseIsoDay(date)
  if (dayMs === null) throw new RangeError(`date must be a calendar day YYYY-MM-DD, got ${JSON.stringify(date)}`)
  const { activityDays, sleepDays, baselineDays, recentDays, hrvRecentDays, bloodMonths } = algorithm.windows
  const baselineFrom = addDays(date, -(baselineDays - 1))
  const recentFrom = addDays(date, -(recentDays - 1))
  return {
    to: date,
    activityFrom: addDays(date, -(activityDays - 1)),
    sleepFrom: addDays(date, -(sleepDays - 1)),
    baselineFrom,
    recentFrom,
    bloodFrom: subtractMonths(date, bloodMonths),
    baselineStartMs: (parseIsoDay(baselineFrom) as number) - EARLIEST_ZONE_LEAD_MS,
    recentStartMs: (parseIsoDay(recentFrom) as number) - EARLIEST_ZONE_LEAD_MS,
    hrvRecentStartMs: (parseIsoDay(addDays(date, -(hrvRecentDays - 1))) as number) - EARLIEST_ZONE_LEAD_MS,
    endMs: dayMs + DAY_MS + LATEST_ZONE_LAG_MS,
  }
}

export function isActivityDayInWindow(day: unknown, window: ScoreWindow): boolean {
  return isDayWithin(day, window.activityFrom, window.to)
}

export function isSleepDayInWindow(day: unknown, window: ScoreWindow): boolean {
  return isDayWithin(day, window.sleepFrom, window.to)
}

export function isBloodDayInWindow(day: unknown, window: ScoreWindow): boolean {
  return isDayWithin(day, window.bloodFrom, window.to)
}

/** The reading's time when it lies in the 28-day window, else null. */
export function biometricTimeInWindow(recorded: unknown, window: ScoreWindow): number | null {
  const ms = parseTimestamp(recorded)
  return ms !== null && ms >= window.baselineStartMs && ms < window.endMs ? ms : null
}
