import { assembleComponent, displayValue, type ComponentComputation, type ScoredContributor } from './component-assembly.js'
import {
  STEPS_CURVE_60_AND_OVER,
  STEPS_CURVE_UNDER_60,
  STEPS_OLDER_ADULT_AGE,
  VIGOROUS_TO_MODERATE_FACTOR,
  WEEKLY_ACTIVE_MINUTES_CURVE,
  scoreOnCurve,
} from './curves.js'
import { DAYS_PER_WEEK, dailyLevel, type LevelRule } from './daily-level.js'
import { groupValues, nonNegative } from './robust-stats.js'
import type { ActivityDayInput, AlgorithmDefinition } from './types.js'

/**
 * Activity component: weekly moderate-to-vigorous minutes (WHO 2020) and steps per day (Paluch 2022).
 * `days` are the records with quality 'ok' of the days the algorithm reads: the current week
 * (v1, v2), or the longer level window from v3 (`windows.dailyLevelDays`). Either way a contributor
 * needs `minimums.dailyValues` days with a value within the current week (`weekFrom` … scored day),
 * and the coverage is the share of that week with data, so v3 asks no more of a new user than v2.
 */
export function computeActivityComponent(
  days: readonly ActivityDayInput[],
  algorithm: AlgorithmDefinition,
  age: number | null,
  weekFrom: string,
): ComponentComputation | null {
  const minutesByDay = groupValues(days, (d) => d.date, moderateEquivalentMinutes)
  const stepsByDay = groupValues(days, (d) => d.date, (d) => nonNegative(d.steps))
  const level: LevelRule = { minimum: algorithm.minimums.dailyValues, weekFrom }
  const daysWithData = new Set([...minutesByDay.keys(), ...stepsByDay.keys()].filter((day) => day >= weekFrom)).size
  return assembleComponent(
    [scoreWeeklyActiveMinutes(minutesByDay, level), scoreDailySteps(stepsByDay, level, age)],
    algorithm.contributorWeights.activity,
    daysWithData / algorithm.windows.activityDays,
  )
}

/**
 * Moderate-equivalent minutes of one day: moderate + 2 × vigorous [11]. A device that only reports
 * "active minutes" has them counted as moderate (engineering choice: most trackers define active
 * minutes as moderate-or-higher intensity, but this is not verified per device).
 */
export function moderateEquivalentMinutes(day: ActivityDayInput): number | null {
  const moderate = nonNegative(day.moderate_minutes)
  const vigorous = nonNegative(day.vigorous_minutes)
  if (moderate !== null || vigorous !== null) return (moderate ?? 0) + VIGOROUS_TO_MODERATE_FACTOR * (vigorous ?? 0)
  return nonNegative(day.active_minutes)
}

/**
 * Weekly minutes = 7 × the 1-winsorized daily mean: in v1/v2, over the week, the single most active
 * day counts like the second most active one. That keeps one corrupt day from filling the weekly
 * target, and follows the guidelines' advice to spread activity over the week; a
 * one-session-a-week exerciser is under-credited by a 7-day window (documented limitation), not by
 * v3's 28-day one, where four weekly sessions stay four.
 */
function scoreWeeklyActiveMinutes(minutesByDay: ReadonlyMap<string, readonly number[]>, rule: LevelRule): ScoredContributor | null {
  const daily = dailyLevel(minutesByDay, rule)
  if (daily === null) return null
  const weekly = daily * DAYS_PER_WEEK
  return {
    name: 'moderate_vigorous_minutes',
    value: displayValue(weekly, 0),
    unit: 'min/week',
    target: WEEKLY_ACTIVE_MINUTES_CURVE.target,
    score: scoreOnCurve(WEEKLY_ACTIVE_MINUTES_CURVE, weekly),
    source: WEEKLY_ACTIVE_MINUTES_CURVE.source,
  }
}

/** Steps per day (1-winsorized mean), on the age-dependent Paluch curve; unknown age uses the under-60 curve. */
function scoreDailySteps(stepsByDay: ReadonlyMap<string, readonly number[]>, rule: LevelRule, age: number | null): ScoredContributor | null {
  const steps = dailyLevel(stepsByDay, rule)
  if (steps === null) return null
  const curve = age !== null && age >= STEPS_OLDER_ADULT_AGE ? STEPS_CURVE_60_AND_OVER : STEPS_CURVE_UNDER_60
  return {
    name: 'steps',
    value: displayValue(steps, 0),
    unit: 'steps/day',
    target: curve.target,
    score: scoreOnCurve(curve, steps),
    source: curve.source,
  }
}
