import { assembleComponent, displayValue, type ComponentComputation, type ScoredContributor } from './component-assembly.js'
import {
  DIASTOLIC_BLOOD_PRESSURE_CURVE,
  HRV_DEVIATION_CURVE,
  HRV_LN_SD_FLOOR,
  RESTING_HEART_RATE_DEVIATION_CURVE,
  RESTING_HEART_RATE_LEVEL_CURVE,
  SPO2_CURVE,
  SYSTOLIC_BLOOD_PRESSURE_CURVE,
  scoreOnCurve,
  type ScoringCurve,
} from './curves.js'
import { MAD_TO_SD, addToGroup, median, medianAbsoluteDeviation, positive, winsorizedMean } from './robust-stats.js'
import type { AlgorithmDefinition, BiometricReadingInput } from './types.js'
import type { BiometricPlacement } from './windows.js'

/** A reading with quality 'ok' inside the 28-day window, placed on its day. */
export interface PlacedBiometricReading extends BiometricPlacement {
  reading: BiometricReadingInput
}

/** One value per day: the median of that day's readings (a day with 20 readings counts once). */
export interface DailySeries {
  all: number[] // every day of the 28-day window
  recent: number[] // the recent days (7 for resting heart rate, 14 for HRV)
}

/**
 * Biometrics component: resting heart rate and HRV against the user's own 28-day baseline (as Oura
 * and WHOOP do), blood pressure (ACC/AHA), SpO2, and from v2 the absolute resting-heart-rate level.
 * Every aggregate is a median or a 1-winsorized mean of daily medians, so a single reading cannot
 * move it by more than the gap to its neighbour.
 */
export function computeBiometricsComponent(readings: readonly PlacedBiometricReading[], algorithm: AlgorithmDefinition): ComponentComputation | null {
  const { restingHeartRate, lnRmssd, systolic, diastolic, spo2, scoredDays } = dailyBiometricSeries(readings)
  const { minimums } = algorithm
  return assembleComponent(
    [
      scoreRestingHeartRateVsBaseline(restingHeartRate, minimums.baselineDays, minimums.recentDays),
      scoreHrvVsBaseline(lnRmssd, minimums.baselineDays, minimums.recentDays),
      scoreRestingHeartRateLevel(restingHeartRate, minimums.recentDays),
      scoreWindowAverage('systolic_blood_pressure', systolic.all, minimums.spotCheckDays, SYSTOLIC_BLOOD_PRESSURE_CURVE, 'mmHg', 0),
      scoreWindowAverage('diastolic_blood_pressure', diastolic.all, minimums.spotCheckDays, DIASTOLIC_BLOOD_PRESSURE_CURVE, 'mmHg', 0),
      scoreWindowAverage('spo2', spo2.all, minimums.spotCheckDays, SPO2_CURVE, '%', 1),
    ],
    algorithm.contributorWeights.biometrics,
    scoredDays / algorithm.windows.baselineDays,
  )
}

function lnOrNull(value: number | null): number | null {
  return value === null ? null : Math.log(value)
}

export interface DailyBiometricSeries {
  restingHeartRate: DailySeries
  /** ln(RMSSD); its recent days are the HRV window's */
  lnRmssd: DailySeries
  systolic: DailySeries
  diastolic: DailySeries
  spo2: DailySeries
  /** days with a usable value in any of the five */
  scoredDays: number
}

const SERIES = ['restingHeartRate', 'lnRmssd', 'systolic', 'diastolic', 'spo2'] as const

/**
 * The five daily series in one pass over the readings (dense wearable data has thousands of
 * readings a day): per field, the median of each day's usable values, over the whole window and
 * over its recent days, days in ascending order. A day without a usable value is absent.
 */
export function dailyBiometricSeries(readings: readonly PlacedBiometricReading[]): DailyBiometricSeries {
  const all = SERIES.map(() => new Map<string, number[]>())
  const recent = SERIES.map(() => new Map<string, number[]>())
  for (const placed of readings) {
    const r = placed.reading
    const values = [positive(r.resting_heart_rate_bpm), lnOrNull(positive(r.hrv_rmssd_ms)), positive(r.systolic_mmhg), positive(r.diastolic_mmhg), positive(r.spo2_pct)]
    for (let f = 0; f < values.length; f++) {
      const value = values[f]!
      if (value === null) continue
      addToGroup(all[f]!, placed.day, value)
      if (f === 1 ? placed.hrvRecent : placed.recent) addToGroup(recent[f]!, placed.day, value)
    }
  }
  const dailyMedians = (groups: Map<string, number[]>) => [...groups.keys()].sort().map((day) => median(groups.get(day) as number[]))
  const series = SERIES.map((_, f) => ({ all: dailyMedians(all[f]!), recent: dailyMedians(recent[f]!) }))
  const scoredDays = new Set(all.flatMap((groups) => [...groups.keys()])).size
  return { restingHeartRate: series[0]!, lnRmssd: series[1]!, systolic: series[2]!, diastolic: series[3]!, spo2: series[4]!, scoredDays }
}

/** Recent week (1-winsorized mean of daily values) minus the 28-day baseline (median), in bpm. */
function scoreRestingHeartRateVsBaseline(series: DailySeries, baselineDays: number, recentDays: number): ScoredContributor | null {
  if (series.all.length < baselineDays || series.recent.length < recentDays) return null
  const baseline = median(series.all)
  const recent = winsorizedMean(series.recent)
  return {
    name: 'resting_heart_rate',
    value: displayValue(recent, 1),
    unit: 'bpm',
    target: RESTING_HEART_RATE_DEVIATION_CURVE.target,
    baseline: displayValue(baseline, 1),
    score: scoreOnCurve(RESTING_HEART_RATE_DEVIATION_CURVE, recent - baseline),
    source: RESTING_HEART_RATE_DEVIATION_CURVE.source,
  }
}

/**
 * lnRMSSD of the last 14 days (1-winsorized mean of daily values) against the 28-day baseline, as a
 * robust z-score: (recent − median) / max(1.4826 × MAD, floor). Shown to the user in milliseconds.
 */
function scoreHrvVsBaseline(series: DailySeries, baselineDays: number, recentDays: number): ScoredContributor | null {
  if (series.all.length < baselineDays || series.recent.length < recentDays) return null
  const baseline = median(series.all)
  const spread = Math.max(MAD_TO_SD * medianAbsoluteDeviation(series.all, baseline), HRV_LN_SD_FLOOR)
  const recent = winsorizedMean(series.recent)
  return {
    name: 'hrv',
    value: displayValue(Math.exp(recent), 1),
    unit: 'ms',
    target: HRV_DEVIATION_CURVE.target,
    baseline: displayValue(Math.exp(baseline), 1),
    score: scoreOnCurve(HRV_DEVIATION_CURVE, (recent - baseline) / spread),
    source: HRV_DEVIATION_CURVE.source,
  }
}

/** Absolute resting heart rate of the recent week (scored from v2). */
function scoreRestingHeartRateLevel(series: DailySeries, recentDays: number): ScoredContributor | null {
  if (series.recent.length < recentDays) return null
  const recent = winsorizedMean(series.recent)
  return {
    name: 'resting_heart_rate_level',
    value: displayValue(recent, 1),
    unit: 'bpm',
    target: RESTING_HEART_RATE_LEVEL_CURVE.target,
    score: scoreOnCurve(RESTING_HEART_RATE_LEVEL_CURVE, recent),
    source: RESTING_HEART_RATE_LEVEL_CURVE.source,
  }
}

/** Spot checks (blood pressure, SpO2): 1-winsorized mean of the daily values of the 28-day window. */
function scoreWindowAverage(name: string, daily: number[], minimumDays: number, curve: ScoringCurve, unit: string, decimals: number): ScoredContributor | null {
  if (daily.length < minimumDays) return null
  const average = winsorizedMean(daily)
  return {
    name,
    value: displayValue(average, decimals),
    unit,
    target: curve.target,
    score: scoreOnCurve(curve, average),
    source: curve.source,
  }
}

