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
import { MAD_TO_SD, groupValues, median, medianAbsoluteDeviation, positive, winsorizedMean } from './robust-stats.js'
import type { AlgorithmDefinition, BiometricReadingInput } from './types.js'
import type { BiometricPlacement } from './windows.js'

/** A reading with quality 'ok' inside the 28-day window, placed on its day. */
export interface PlacedBiometricReading extends BiometricPlacement {
  reading: BiometricReadingInput
}

/** One value per day: the median of that day's readings (a day with 20 readings counts once). */
interface DailySeries {
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
  const series = (value: (r: BiometricReadingInput) => number | null, isRecent = (p: PlacedBiometricReading) => p.recent) =>
    dailySeries(readings, isRecent, value)
  const restingHeartRate = series((r) => positive(r.resting_heart_rate_bpm))
  const lnRmssd = series((r) => lnOrNull(positive(r.hrv_rmssd_ms)), (p) => p.hrvRecent)
  const systolic = series((r) => positive(r.systolic_mmhg))
  const diastolic = series((r) => positive(r.diastolic_mmhg))
  const spo2 = series((r) => positive(r.spo2_pct))
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
    daysWithScoredReadings(readings) / algorithm.windows.baselineDays,
  )
}

function lnOrNull(value: number | null): number | null {
  return value === null ? null : Math.log(value)
}

function dailySeries(
  readings: readonly PlacedBiometricReading[],
  isRecent: (reading: PlacedBiometricReading) => boolean,
  value: (reading: BiometricReadingInput) => number | null,
): DailySeries {
  const dailyMedians = (items: readonly PlacedBiometricReading[]) => {
    const byDay = groupValues(items, (p) => p.day, (p) => value(p.reading))
    return [...byDay.keys()].sort().map((day) => median(byDay.get(day) as number[]))
  }
  return {
    all: dailyMedians(readings),
    recent: dailyMedians(readings.filter(isRecent)),
  }
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

function daysWithScoredReadings(readings: readonly PlacedBiometricReading[]): number {
  const days = new Set<string>()
  for (const { day, reading } of readings) {
    const scored = [reading.resting_heart_rate_bpm, reading.hrv_rmssd_ms, reading.systolic_mmhg, reading.diastolic_mmhg, reading.spo2_pct]
    if (scored.some((v) => positive(v) !== null)) days.add(day)
  }
  return days.size
}
