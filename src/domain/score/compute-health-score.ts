import { computeActivityComponent } from './activity.js'
import { computeBiometricsComponent, type PlacedBiometricReading } from './biometrics.js'
import { computeBloodComponent, isOkBloodResult } from './blood.js'
import type { ComponentComputation } from './component-assembly.js'
import { ageInYears } from './dates.js'
import { roundTo } from './robust-stats.js'
import { computeSleepComponent } from './sleep.js'
import type {
  AlgorithmDefinition,
  Band,
  ComponentName,
  ComponentResult,
  HealthScoreInput,
  HealthScoreResult,
} from './types.js'
import {
  computeScoreWindow,
  isActivityDayInWindow,
  isBloodDayInWindow,
  isSleepDayInWindow,
  placeBiometricReading,
  type ScoreWindow,
} from './windows.js'

const COMPONENT_ORDER: readonly ComponentName[] = ['activity', 'sleep', 'biometrics', 'blood']

/**
 * The health score of one user on one day. Pure and deterministic: no clock, no randomness, no
 * I/O; the result does not depend on the order of any input array. Data outside the windows is
 * ignored, readings whose quality is not 'ok' are left out and counted in `excluded_readings`.
 * Throws a RangeError only when `input.date` is not a calendar day (the route validates it first).
 * @see docs/health-score.md for the method and its sources.
 */
export function computeHealthScore(input: HealthScoreInput, algorithm: AlgorithmDefinition): HealthScoreResult {
  const window = computeScoreWindow(input.date, algorithm, input.user?.timezone)
  const selected = selectWindowedData(input, window)
  const age = ageInYears(input.user?.birth_date ?? null, window.to)

  const computed: Partial<Record<ComponentName, ComponentComputation>> = {}
  const activity = computeActivityComponent(selected.activity, algorithm, age, window.activityWeekFrom)
  if (activity !== null) computed.activity = activity
  const sleep = computeSleepComponent(selected.sleep, algorithm, window.sleepWeekFrom)
  if (sleep !== null) computed.sleep = sleep
  const biometrics = computeBiometricsComponent(selected.biometrics, algorithm)
  if (biometrics !== null) computed.biometrics = biometrics
  const blood = computeBloodComponent(selected.blood, algorithm)
  if (blood !== null) computed.blood = blood

  return combineComponents(computed, algorithm, window, selected.excluded)
}

interface WindowedData {
  activity: HealthScoreInput['activity']
  sleep: HealthScoreInput['sleep']
  biometrics: PlacedBiometricReading[]
  blood: HealthScoreInput['blood']
  excluded: number
}

/**
 * Keeps what lies inside the windows; among that, only quality 'ok' feeds the score and everything
 * else is counted as excluded. Blood results are counted one by one; the panels keep their suspect
 * results, which the blood component skips itself.
 */
function selectWindowedData(input: HealthScoreInput, window: ScoreWindow): WindowedData {
  let excluded = 0
  const keepOk = <T extends { quality: unknown }>(items: readonly T[]): T[] =>
    items.filter((item) => {
      if (item.quality === 'ok') return true
      excluded++
      return false
    })

  const activity = keepOk((input.activity ?? []).filter((d) => d !== null && isActivityDayInWindow(d.date, window)))
  const sleep = keepOk((input.sleep ?? []).filter((n) => n !== null && isSleepDayInWindow(n.date, window)))
  const biometrics: PlacedBiometricReading[] = []
  for (const reading of input.biometrics ?? []) {
    const placement = reading === null ? null : placeBiometricReading(reading.recorded, window)
    if (placement === null) continue
    if (reading.quality === 'ok') biometrics.push({ day: placement.day, recent: placement.recent, hrvRecent: placement.hrvRecent, reading })
    else excluded++
  }
  const blood = (input.blood ?? []).filter((p) => p !== null && isBloodDayInWindow(p.test_date, window))
  for (const panel of blood) {
    for (const result of panel.results ?? []) if (result !== null && typeof result === 'object' && !isOkBloodResult(result)) excluded++
  }
  return { activity, sleep, biometrics, blood, excluded }
}

/**
 * Total = weighted mean of the components present, with the nominal weights renormalized over
 * them. Confidence = Σ over present components of nominal weight × share of its contributor weight
 * present × share of its window covered by data. Fewer components than the algorithm's minimum
 * give 'insufficient_data' with a null score and band; the components that do exist are still shown.
 */
function combineComponents(
  computed: Partial<Record<ComponentName, ComponentComputation>>,
  algorithm: AlgorithmDefinition,
  window: ScoreWindow,
  excluded: number,
): HealthScoreResult {
  const present = COMPONENT_ORDER.filter((name) => computed[name] !== undefined && algorithm.componentWeights[name] > 0)
  const presentWeight = present.reduce((sum, name) => sum + algorithm.componentWeights[name], 0)
  const nominalWeight = COMPONENT_ORDER.reduce((sum, name) => sum + algorithm.componentWeights[name], 0)

  const components: Partial<Record<ComponentName, ComponentResult>> = {}
  let weighted = 0
  let confidence = 0
  for (const name of present) {
    const component = computed[name] as ComponentComputation
    const weight = algorithm.componentWeights[name]
    weighted += weight * component.score
    confidence += (weight / nominalWeight) * component.contributorShare * component.dataCoverage
    components[name] = {
      score: Math.round(component.score),
      weight: roundTo(weight / presentWeight, 3),
      contributors: component.contributors,
    }
  }

  const sufficient = present.length > 0 && present.length >= algorithm.minimums.components
  const score = sufficient ? Math.max(0, Math.min(100, Math.round(weighted / presentWeight))) : null
  return {
    date: window.to,
    score,
    band: score === null ? null : bandOf(score, algorithm),
    state: sufficient ? 'ok' : 'insufficient_data',
    confidence: roundTo(Math.max(0, Math.min(1, confidence)), 2),
    components,
    algorithm_version: algorithm.version,
    window: { from: window.baselineFrom, to: window.to },
    excluded_readings: excluded,
  }
}

export function bandOf(score: number, algorithm: AlgorithmDefinition): Band {
  if (score >= algorithm.bands.excellent) return 'excellent'
  if (score >= algorithm.bands.good) return 'good'
  if (score >= algorithm.bands.fair) return 'fair'
  return 'poor'
}
