import { assembleComponent, displayValue, type ComponentComputation, type ScoredContributor } from './component-assembly.js'
import { DEEP_SLEEP_SHARE_CURVE, REM_SLEEP_SHARE_CURVE, SLEEP_DURATION_CURVE, SLEEP_REGULARITY_CURVE, scoreOnCurve, type ScoringCurve } from './curves.js'
import { DAY_MS, addDays, parseTimestamp } from './dates.js'
import { dailyLevel, type LevelRule } from './daily-level.js'
import { ascending, collapseDuplicateDays, groupValues, nonNegative, sumAscending, winsorizedMean } from './robust-stats.js'
import type { AlgorithmDefinition, SleepNightInput } from './types.js'

const MINUTES_PER_DAY = 1440

/** How a contributor's value is shown: shares are scored as fractions and shown as percentages. */
interface Display {
  unit: string
  scale: number
  decimals: number
}
const PERCENT: Display = { unit: '%', scale: 100, decimals: 1 }

/**
 * Sleep component: duration (AASM/SRS), regularity of the sleep midpoint, and the deep and REM
 * shares of staged sleep. `nights` are the records with quality 'ok' of the nights the algorithm
 * reads: the current week (v1, v2) or the longer level window from v3, over which duration and the
 * stage shares are averaged. Regularity is judged week by week (see scoreRegularity). The minimum
 * and the coverage are judged on the current week (`weekFrom` … scored day) in every version.
 */
export function computeSleepComponent(nights: readonly SleepNightInput[], algorithm: AlgorithmDefinition, weekFrom: string): ComponentComputation | null {
  const rule: LevelRule = { minimum: algorithm.minimums.dailyValues, weekFrom }
  const hoursByNight = groupValues(nights, (n) => n.date, sleepHours)
  const deepByNight = groupValues(nights, (n) => n.date, (n) => stageShare(n, 'deep'))
  const remByNight = groupValues(nights, (n) => n.date, (n) => stageShare(n, 'rem'))
  const midpointByNight = groupValues(nights, (n) => n.date, sleepMidpointMinuteOfDay)
  const nightsWithData = new Set([...hoursByNight.keys(), ...deepByNight.keys(), ...midpointByNight.keys()].filter((night) => night >= weekFrom)).size
  const { sleepDays, dailyLevelDays } = algorithm.windows
  const weeks = Math.max(1, Math.floor((dailyLevelDays ?? sleepDays) / sleepDays))
  return assembleComponent(
    [
      scoreLevel('sleep_duration', hoursByNight, rule, SLEEP_DURATION_CURVE, { unit: 'h', scale: 1, decimals: 2 }),
      scoreRegularity(midpointByNight, weekFrom, sleepDays, weeks, rule.minimum),
      scoreLevel('deep_sleep_share', deepByNight, rule, DEEP_SLEEP_SHARE_CURVE, PERCENT),
      scoreLevel('rem_sleep_share', remByNight, rule, REM_SLEEP_SHARE_CURVE, PERCENT),
    ],
    algorithm.contributorWeights.sleep,
    nightsWithData / algorithm.windows.sleepDays,
  )
}

/** Hours asleep; when the total is missing, the sum of the stages given (as the API itself does). */
export function sleepHours(night: SleepNightInput): number | null {
  const total = nonNegative(night.total_sleep_minutes)
  if (total !== null) return total / 60
  const stages = [night.deep_minutes, night.rem_minutes, night.light_minutes].map(nonNegative)
  if (stages.every((s) => s === null)) return null
  return stages.reduce<number>((sum, s) => sum + (s ?? 0), 0) / 60
}

/**
 * Share of a stage within staged sleep (deep + REM + light). Using the staged sum rather than the
 * total keeps the proportions independent of how the total was measured, so more sleep with the
 * same proportions never changes this contributor.
 */
export function stageShare(night: SleepNightInput, stage: 'deep' | 'rem'): number | null {
  const deep = nonNegative(night.deep_minutes)
  const rem = nonNegative(night.rem_minutes)
  const light = nonNegative(night.light_minutes)
  if (deep === null || rem === null || light === null) return null
  const staged = deep + rem + light
  if (staged <= 0) return null
  return (stage === 'deep' ? deep : rem) / staged
}

/**
 * Clock time (minutes after 00:00 UTC) halfway between falling asleep and waking. The user's time
 * zone is unknown, but regularity only compares nights with each other, so a constant offset
 * cancels out.
 */
export function sleepMidpointMinuteOfDay(night: SleepNightInput): number | null {
  const start = parseTimestamp(night.sleep_start)
  const end = parseTimestamp(night.sleep_end)
  if (start === null || end === null || end <= start || end - start > DAY_MS) return null
  const midpointMinutes = (start + end) / 2 / 60_000
  return ((midpointMinutes % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY
}

function scoreLevel(name: string, byNight: ReadonlyMap<string, readonly number[]>, rule: LevelRule, curve: ScoringCurve, display: Display): ScoredContributor | null {
  const average = dailyLevel(byNight, rule)
  if (average === null) return null
  return {
    name,
    value: displayValue(average * display.scale, display.decimals),
    unit: display.unit,
    target: curve.target,
    score: scoreOnCurve(curve, average),
    source: curve.source,
  }
}

/**
 * Regularity: how far, on average, each night's midpoint lies from its week's typical midpoint
 * (the circular medoid), with the single most deviant night of the week winsorized so one late
 * party does not count as a shifted rhythm. v1/v2 judge the current week only. From v3 the value
 * is the mean of this weekly deviation over the consecutive weeks of the level window (the current
 * week and the three before it), each week judged on its own like the 7-day Sleep Regularity
 * Index it stands in for [20]: one night then weighs a quarter of what it did, and a clock change
 * (daylight saving time, travel) only affects the week it falls in. The current week needs
 * `minimum` nights; an earlier week with fewer is skipped.
 */
function scoreRegularity(
  midpointByNight: ReadonlyMap<string, readonly number[]>,
  weekFrom: string,
  weekDays: number,
  weeks: number,
  minimum: number,
): ScoredContributor | null {
  const deviations: number[] = []
  for (let week = 0; week < weeks; week++) {
    const from = addDays(weekFrom, -week * weekDays)
    const to = addDays(from, weekDays - 1)
    const deviation = weeklyDeviation(new Map([...midpointByNight].filter(([night]) => night >= from && night <= to)), minimum)
    if (deviation !== null) deviations.push(deviation)
    else if (week === 0) return null
  }
  const deviation = sumAscending(deviations) / deviations.length
  return {
    name: 'sleep_regularity',
    value: displayValue(deviation, 0),
    unit: 'min',
    target: SLEEP_REGULARITY_CURVE.target,
    score: scoreOnCurve(SLEEP_REGULARITY_CURVE, deviation),
    source: SLEEP_REGULARITY_CURVE.source,
  }
}

/** 1-winsorized mean distance (min) of one week's midpoints from their circular medoid; null below `minimum` nights. */
function weeklyDeviation(midpointByNight: ReadonlyMap<string, readonly number[]>, minimum: number): number | null {
  const midpoints = collapseDuplicateDays(midpointByNight, circularMedoid)
  if (midpoints.length < minimum) return null
  const typical = circularMedoid(midpoints)
  return winsorizedMean(midpoints.map((m) => circularDistance(m, typical)))
}

/** Distance between two clock times in minutes, going the short way round midnight (0–720). */
export function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % MINUTES_PER_DAY
  return Math.min(d, MINUTES_PER_DAY - d)
}

/** The value with the smallest total circular distance to all others (ties: the earliest clock time). */
export function circularMedoid(values: readonly number[]): number {
  const sorted = ascending(values)
  let best = sorted[0]
  let bestCost = Number.POSITIVE_INFINITY
  for (const candidate of sorted) {
    let cost = 0
    for (const value of sorted) cost += circularDistance(value, candidate)
    if (cost < bestCost) {
      best = candidate
      bestCost = cost
    }
  }
  return best
}
