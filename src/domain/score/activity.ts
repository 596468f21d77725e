import { assembleComponent, displayValue, type ComponentComputation, type ScoredContributor } from './component-assembly.js'
import {
  STEPS_CURVE_60_AND_OVER,
  STEPS_CURVE_UNDER_60,
  STEPS_OLDER_ADULT_AGE,
  VIGOROUS_TO_MODERATE_FACTOR,
  WEEKLY_ACTIVE_MINUTES_CURVE,
  scoreOnCurve,
} from './curves.js'
import { collapseDuplicateDays, groupValues, nonNegative, winsorizedMean } from './robust-stats.js'
import type { ActivityDayInput, AlgorithmDefinition } from './types.js'

/**
 * Activity component: weekly moderate-to-vigorous minutes (WHO 2020) and steps per day (Paluch 2022),
 * over the 7-day window. `days` are the window's records with quality 'ok'.
 */
export function computeActivityComponent(
  days: readonly ActivityDayInput[],
  algorithm: AlgorithmDefinition,
  age: number | null,
): ComponentComputation | null {
  const minutesByDay = groupValues(days, (d) => d.date, moderateEquivalentMinutes)
  const stepsByDay = groupValues(days, (d) => d.date, (d) => nonNegative(d.steps))
  const windowDays = algorithm.windows.activityDays
  const minimum = algorithm.minimums.dailyValues
  const daysWithData = new Set([...minutesByDay.keys(), ...stepsByDay.keys()]).size
  return assembleComponent(
    [
      scoreWeeklyActiveMinutes(collapseDuplicateDays(minutesByDay), windowDays, minimum),
      scoreDailySteps(collapseDuplicateDays(stepsByDay), minimum, age),
    ],
    algorithm.contributorWeights.activity,
    daysWithData / windowDays,
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
 * Weekly minutes = 7 × the 1-winsorized daily mean: the single most active day counts like the
 * second most active one. That keeps one corrupt day from filling the weekly target, and follows
 * the guidelines' advice to spread activity over the week; a one-session-a-week exerciser is
 * under-credited (documented limitation).
 */
function scoreWeeklyActiveMinutes(dailyMinutes: number[], windowDays: number, minimum: number): ScoredContributor | null {
  if (dailyMinutes.length < minimum) return null
  const weekly = winsorizedMean(dailyMinutes) * windowDays
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
function scoreDailySteps(dailySteps: number[], minimum: number, age: number | null): ScoredContributor | null {
  if (dailySteps.length < minimum) return null
  const curve = age !== null && age >= STEPS_OLDER_ADULT_AGE ? STEPS_CURVE_60_AND_OVER : STEPS_CURVE_UNDER_60
  const steps = winsorizedMean(dailySteps)
  return {
    name: 'steps',
    value: displayValue(steps, 0),
    unit: 'steps/day',
    target: curve.target,
    score: scoreOnCurve(curve, steps),
    source: curve.source,
  }
}
