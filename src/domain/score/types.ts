/**
 * Types of the health-score engine: what the caller hands in (data already selected by window) and
 * what the engine answers. The answer is the contract's `GET /api/get_health_score` body minus the
 * two fields the caller adds (`user_uuid`, `computed_at`).
 * @see /work/shared/CONTRACT.md, section "Health score"
 */

export type Quality = 'ok' | 'suspect'
export type Sex = 'female' | 'male' | 'other' | 'unknown'

export interface ActivityDayInput {
  date: string // YYYY-MM-DD, the user's local day
  steps: number | null
  active_minutes: number | null
  moderate_minutes: number | null
  vigorous_minutes: number | null
  distance_m: number | null
  calories_kcal: number | null
  quality: Quality
}

export interface SleepNightInput {
  date: string // YYYY-MM-DD, the day the sleep ended
  sleep_start: string | null // ISO timestamp, UTC
  sleep_end: string | null
  total_sleep_minutes: number | null
  deep_minutes: number | null
  rem_minutes: number | null
  light_minutes: number | null
  awake_minutes: number | null
  quality: Quality
}

export interface BiometricReadingInput {
  recorded: string // ISO timestamp, UTC
  resting_heart_rate_bpm: number | null
  hrv_rmssd_ms: number | null
  systolic_mmhg: number | null
  diastolic_mmhg: number | null
  spo2_pct: number | null
  weight_kg: number | null
  body_fat_pct: number | null
  heart_rate_bpm: number | null
  respiratory_rate_bpm: number | null
  body_temperature_c: number | null
  quality: Quality
}

export interface BloodResultInput {
  marker: string
  value: number
  unit: string // canonical unit of the marker catalog (mg/dL, %)
  quality?: Quality // absent means 'ok'
}

export interface BloodPanelInput {
  test_date: string // YYYY-MM-DD
  results: BloodResultInput[]
}

export interface HealthScoreInput {
  /** The day scored; every window ends on this day, inclusive. */
  date: string
  user: {
    birth_date: string | null
    sex: Sex | null
    /**
     * The user's IANA time zone (the contract's `timezone`, default 'UTC'). It places biometric
     * timestamps on the user's local days. Optional: without it the engine admits every timestamp
     * that falls on a window day in some time zone (UTC−12 … UTC+14) and groups by UTC day.
     */
    timezone?: string | null
  }
  /** The last 7 days for v1/v2, 28 for v3 (`windows.dailyLevelDays`); more is tolerated and ignored. */
  activity: ActivityDayInput[]
  /** The last 7 nights for v1/v2, 28 for v3; more is tolerated and ignored. */
  sleep: SleepNightInput[]
  /** The last 28 days (more is tolerated and ignored). */
  biometrics: BiometricReadingInput[]
  /** Panels of the last 12 months; the latest one is used. */
  blood: BloodPanelInput[]
}

export type ComponentName = 'activity' | 'sleep' | 'biometrics' | 'blood'
export type Band = 'excellent' | 'good' | 'fair' | 'poor'
export type ScoreState = 'ok' | 'insufficient_data'

export interface Contributor {
  name: string
  value: number | null
  unit: string
  target?: string
  baseline?: number | null
  score: number // 0–100 integer
  source: string // short citation
}

export interface ComponentResult {
  score: number // 0–100 integer
  weight: number // effective weight after renormalization over the components present
  contributors: Contributor[]
}

export interface HealthScoreResult {
  date: string
  score: number | null
  band: Band | null
  state: ScoreState
  confidence: number // 0–1, two decimals
  components: Partial<Record<ComponentName, ComponentResult>>
  algorithm_version: string
  window: { from: string; to: string }
  excluded_readings: number
}

export type ActivityContributorName = 'moderate_vigorous_minutes' | 'steps'
export type SleepContributorName = 'sleep_duration' | 'sleep_regularity' | 'deep_sleep_share' | 'rem_sleep_share'
export type BiometricsContributorName =
  | 'resting_heart_rate'
  | 'hrv'
  | 'resting_heart_rate_level'
  | 'systolic_blood_pressure'
  | 'diastolic_blood_pressure'
  | 'spo2'
export type BloodContributorName =
  | 'hba1c'
  | 'fasting_glucose'
  | 'ldl_cholesterol'
  | 'hdl_cholesterol'
  | 'triglycerides'
  | 'total_cholesterol'

/** Weights of the contributors of one component; a contributor left out (or 0) is not scored. */
export type ContributorWeights<Name extends string> = Readonly<Partial<Record<Name, number>>>

export interface AlgorithmDefinition {
  version: string
  released: string // YYYY-MM-DD
  changelog: string
  /** Nominal weights of the four components; they sum to 1. */
  componentWeights: Readonly<Record<ComponentName, number>>
  contributorWeights: Readonly<{
    activity: ContributorWeights<ActivityContributorName>
    sleep: ContributorWeights<SleepContributorName>
    biometrics: ContributorWeights<BiometricsContributorName>
    blood: ContributorWeights<BloodContributorName>
  }>
  /** Lower bounds of the bands: score ≥ excellent → 'excellent', ≥ good → 'good', ≥ fair → 'fair', else 'poor'. */
  bands: Readonly<{ excellent: number; good: number; fair: number }>
  windows: Readonly<{
    /** The current week of activity: its days decide the minimum, the coverage and (v1, v2) every value. */
    activityDays: number
    /** The current week of sleep: as activityDays; sleep regularity is judged on weeks of this many nights. */
    sleepDays: number
    /**
     * From v3: days, ending on the scored day, over which the activity and sleep levels are averaged
     * (weekly minutes, steps, sleep duration, deep and REM shares). At least activityDays and
     * sleepDays. Absent (v1, v2): the levels use the current week only.
     */
    dailyLevelDays?: number
    baselineDays: number
    /** Recent window for resting heart rate (and its level). */
    recentDays: number
    /** Recent window for HRV, longer because day-to-day lnRMSSD is noisy. */
    hrvRecentDays: number
    bloodMonths: number
  }>
  minimums: Readonly<{
    /** Components needed for a score; fewer gives state 'insufficient_data'. */
    components: number
    /** Days with a value, within the current 7-day week, for an activity or sleep contributor. */
    dailyValues: number
    /** Days with a value, within the 28-day window, to form a personal baseline. */
    baselineDays: number
    /** Days with a value, within the last 7 days, to compare against the baseline. */
    recentDays: number
    /** Days with a reading, within the 28-day window, for blood pressure and SpO2. */
    spotCheckDays: number
  }>
}
