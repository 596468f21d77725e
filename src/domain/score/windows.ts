import {
  DAY_MS,
  EARLIEST_ZONE_LEAD_MS,
  LATEST_ZONE_LAG_MS,
  addDays,
  isDayWithin,
  isKnownTimeZone,
  localDayOf,
  parseIsoDay,
  parseTimestamp,
  subtractMonths,
  utcDayOf,
} from './dates.js'
import type { AlgorithmDefinition } from './types.js'

/**
 * The windows one score looks at, all ending on the scored day (inclusive). The caller queries the
 * database with the same windows; the engine applies them again so that extra history passed in by
 * mistake can neither change the score nor make it slower to explain.
 */
export interface ScoreWindow {
  to: string
  /** First day of activity the score reads: the level window from v3, else the current week. */
  activityFrom: string
  /** First day of the current week of activity (minimum and coverage are judged on it). */
  activityWeekFrom: string
  /** First night the score reads: the level window from v3, else the current week. */
  sleepFrom: string
  /** First night of the current week of sleep (minimum, coverage and regularity). */
  sleepWeekFrom: string
  baselineFrom: string
  recentFrom: string
  hrvRecentFrom: string
  bloodFrom: string
  /** The user's time zone, or null when unknown (then the zone slack of dates.ts applies). */
  timeZone: string | null
  /** Without a time zone, timestamps in [baselineStartMs, endMs) count. */
  baselineStartMs: number
  recentStartMs: number
  hrvRecentStartMs: number
  endMs: number
}

export function computeScoreWindow(date: string, algorithm: AlgorithmDefinition, timeZone?: string | null): ScoreWindow {
  const dayMs = parseIsoDay(date)
  if (dayMs === null) throw new RangeError(`date must be a calendar day YYYY-MM-DD, got ${JSON.stringify(date)}`)
  const { activityDays, sleepDays, dailyLevelDays, baselineDays, recentDays, hrvRecentDays, bloodMonths } = algorithm.windows
  const activityReadDays = Math.max(activityDays, dailyLevelDays ?? 0)
  const sleepReadDays = Math.max(sleepDays, dailyLevelDays ?? 0)
  const baselineFrom = addDays(date, -(baselineDays - 1))
  const recentFrom = addDays(date, -(recentDays - 1))
  const hrvRecentFrom = addDays(date, -(hrvRecentDays - 1))
  return {
    to: date,
    activityFrom: addDays(date, -(activityReadDays - 1)),
    activityWeekFrom: addDays(date, -(activityDays - 1)),
    sleepFrom: addDays(date, -(sleepReadDays - 1)),
    sleepWeekFrom: addDays(date, -(sleepDays - 1)),
    baselineFrom,
    recentFrom,
    hrvRecentFrom,
    bloodFrom: subtractMonths(date, bloodMonths),
    timeZone: isKnownTimeZone(timeZone) ? timeZone : null,
    baselineStartMs: (parseIsoDay(baselineFrom) as number) - EARLIEST_ZONE_LEAD_MS,
    recentStartMs: (parseIsoDay(recentFrom) as number) - EARLIEST_ZONE_LEAD_MS,
    hrvRecentStartMs: (parseIsoDay(hrvRecentFrom) as number) - EARLIEST_ZONE_LEAD_MS,
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

/** Where a biometric reading falls: its day and whether it is in the recent windows. */
export interface BiometricPlacement {
  day: string
  recent: boolean // last 7 days (resting heart rate)
  hrvRecent: boolean // last 14 days (HRV)
}

/**
 * Places a timestamp on the user's local day when the time zone is known; otherwise admits it if
 * some time zone would put it on a window day and groups it by UTC day. Null when outside.
 */
export function placeBiometricReading(recorded: unknown, window: ScoreWindow): BiometricPlacement | null {
  const ms = parseTimestamp(recorded)
  if (ms === null) return null
  if (window.timeZone !== null) {
    const day = localDayOf(ms, window.timeZone)
    // localDayOf formats a calendar day itself: a length check stands in for parsing it again
    if (day === null || day.length !== 10 || day < window.baselineFrom || day > window.to) return null
    return { day, recent: day >= window.recentFrom, hrvRecent: day >= window.hrvRecentFrom }
  }
  if (ms < window.baselineStartMs || ms >= window.endMs) return null
  return { day: utcDayOf(ms), recent: ms >= window.recentStartMs, hrvRecent: ms >= window.hrvRecentStartMs }
}
