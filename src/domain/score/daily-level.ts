import { collapseDuplicateDays, winsorizedMean } from './robust-stats.js'

/**
 * Daily levels of the activity and sleep components: one value per day (duplicates collapsed),
 * averaged with a winsorized mean over the days the algorithm reads.
 */

/** How a daily level is formed from the days read (shared with the sleep component). */
export interface LevelRule {
  /** Days with a value needed within the current week. */
  minimum: number
  /** First day of the current week. */
  weekFrom: string
}

/**
 * The level of a daily series: the 1-winsorized mean of one value per day over every day read (the
 * current week in v1/v2, the 28-day level window from v3), or null when the current week has fewer
 * than `minimum` days with a value. Whatever its size, one day counts at most like the most (or
 * least) extreme of the other days, and weighs 1/n of the level.
 */
export function dailyLevel(byDay: ReadonlyMap<string, readonly number[]>, rule: LevelRule): number | null {
  let inWeek = 0
  for (const day of byDay.keys()) if (day >= rule.weekFrom) inWeek++
  if (inWeek < rule.minimum) return null
  return winsorizedMean(collapseDuplicateDays(byDay))
}

/** One week, the unit of the WHO target [10]: weekly minutes are 7 × the daily level. */
export const DAYS_PER_WEEK = 7
