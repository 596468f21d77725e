import type { AlgorithmDefinition } from './types.js'

/**
 * The registry of score algorithm versions. A version is frozen once released: change the score by
 * adding a version (with its changelog entry), never by editing one, so a stored score can always
 * be explained and a rollback is only a configuration change (HEALTH_SCORE_ALGORITHM).
 *
 * WEIGHTS ARE AN ENGINEERING CHOICE. No guideline weighs activity against sleep or blood pressure
 * against lipids; commercial scores (Oura, WHOOP, Fitbit) keep their weights proprietary [8][80].
 * Ours follow the reasoning in docs/health-score.md and are meant to be revisited once the score
 * has been validated (V3, Goldsack et al. 2020 [84]).
 */

/**
 * Shared by every version.
 * @see Oura score bands [77] (confirmed by search, support.ouraring.com 360025445574): 85–100
 *   optimal, 70–84 good, 60–69 fair, 0–59 pay attention. Adopted as-is; the names are ours.
 */
const OURA_BANDS = { excellent: 85, good: 70, fair: 60 } as const

/**
 * Windows: 7 days of activity and sleep (the weekly unit of the WHO target [10]; from v3 the
 * current week, with levels averaged over `dailyLevelDays`, see V3); a 28-day personal
 * baseline (Oura learns a baseline in about two weeks and WHOOP calibrates after 4 nights [8][61];
 * 28 days is our engineering choice from the issue); resting heart rate judged on the last 7 days
 * and HRV on the last 14, as Oura's HRV balance does ("average HRV from the past 14 days against
 * your long-term average" [8], confirmed by search); the latest blood panel of the last 12 months
 * (engineering choice from the issue: lipids and HbA1c are commonly rechecked yearly, no source in
 * the research file).
 */
const WINDOWS = { activityDays: 7, sleepDays: 7, baselineDays: 28, recentDays: 7, hrvRecentDays: 14, bloodMonths: 12 } as const

const MINIMUMS = {
  /** Engineering choice: one component alone is a sub-score, not a health score. */
  components: 2,
  /** Engineering choice: a majority (4 of 7) of the week, so a weekly average is not built from a few days. */
  dailyValues: 4,
  /** @see Oura: "It can take up to two weeks … to learn your average values" [8] (confirmed by search). */
  baselineDays: 14,
  /** @see Plews et al. 2014 [29]: at least 3 valid lnRMSSD values per week (confirmed by search). */
  recentDays: 3,
  /** @see 2017 ACC/AHA [13]: classify on readings taken on at least 2 occasions. */
  spotCheckDays: 2,
} as const

const V1: AlgorithmDefinition = {
  version: 'v1',
  released: '2026-11-01',
  changelog:
    'First release. Four components (activity, sleep, biometrics, blood) scored against WHO 2020, ' +
    'Paluch 2022, AASM/SRS 2015, 2017 ACC/AHA, ADA and NCEP ATP III targets; resting heart rate ' +
    'and HRV (lnRMSSD) judged against a personal 28-day baseline. Bands 85/70/60.',
  /**
   * Engineering choice: equal weights. No source ranks activity, sleep, vital signs and blood
   * markers against each other; the closest published composite, the AHA Life's Essential 8 score,
   * is the unweighted mean of its metrics (secondary sources, confirmed by search; the AHA point
   * tables themselves were not retrieved, so they are not used here).
   */
  componentWeights: { activity: 0.25, sleep: 0.25, biometrics: 0.25, blood: 0.25 },
  contributorWeights: {
    /** Engineering choice: the WHO minutes target [10] and the step dose–response [15] count equally. */
    activity: { moderate_vigorous_minutes: 0.5, steps: 0.5 },
    /**
     * Engineering choice: duration has the firmest guideline [14]; regularity predicted mortality
     * even better than duration in UK Biobank [60] but is measured here by a proxy; consumer sleep
     * staging is the least accurate input, so the stage shares weigh least.
     */
    sleep: { sleep_duration: 0.5, sleep_regularity: 0.3, deep_sleep_share: 0.1, rem_sleep_share: 0.1 },
    /**
     * Engineering choice: blood pressure, the guideline-defined risk factor [13], weighs most
     * (systolic over diastolic); the two baseline signals (as Oura/WHOOP use [8][80]) show change
     * rather than level, and SpO2 is rarely abnormal in the users this score is for.
     */
    biometrics: {
      resting_heart_rate: 0.2,
      hrv: 0.2,
      systolic_blood_pressure: 0.25,
      diastolic_blood_pressure: 0.2,
      spo2: 0.15,
    },
    /**
     * Engineering choice: glycaemia and lipids weigh half each. HbA1c over a single glucose value
     * because it reflects ~3 months [1]; LDL, the primary ATP III target [4], leads the lipids;
     * total cholesterol overlaps LDL + HDL, so it weighs least.
     */
    blood: {
      hba1c: 0.3,
      fasting_glucose: 0.2,
      ldl_cholesterol: 0.25,
      hdl_cholesterol: 0.1,
      triglycerides: 0.075,
      total_cholesterol: 0.075,
    },
  },
  bands: OURA_BANDS,
  windows: WINDOWS,
  minimums: MINIMUMS,
}

const V2: AlgorithmDefinition = {
  ...V1,
  version: 'v2',
  released: '2026-11-26',
  changelog:
    'Biometrics adds the absolute resting-heart-rate level (Zhang et al., CMAJ 2016: mortality RR ' +
    '1.09 per +10 bpm, 1.45 above 80 bpm) at weight 0.15, so a persistently high resting heart rate ' +
    'lowers the score even when it is stable against the personal baseline. To make room, the ' +
    'baseline resting-heart-rate and HRV weights go from 0.20 to 0.15 and SpO2 from 0.15 to 0.10. ' +
    'Users with a resting heart rate above 50 bpm score up to a few points lower.',
  contributorWeights: {
    ...V1.contributorWeights,
    /** Engineering choice; see the changelog. Sums to 1 like v1. */
    biometrics: {
      resting_heart_rate: 0.15,
      hrv: 0.15,
      resting_heart_rate_level: 0.15,
      systolic_blood_pressure: 0.25,
      diastolic_blood_pressure: 0.2,
      spo2: 0.1,
    },
  },
}

/**
 * v3 keeps every target, curve and weight of v2; it changes how activity and sleep days are
 * aggregated, so that one wrong or duplicated day cannot move the total by more than one point
 * (docs/health-score.md §7; v1/v2 allow up to 3).
 *
 * Level window, 28 days: ENGINEERING CHOICE, measured rather than sourced. With a 7-day window a
 * day is a seventh of the level and one corrupted day moved our personas' totals by up to 2.1
 * points before rounding; over 14 days up to 1.1, 21 days 0.7, 28 days 0.6, and a 7-night
 * regularity alone up to 1.4 (docs/health-score.md §7 has the table). 28 days is also the span of
 * the personal baseline and of the answer's `window`. It stays faithful to the guidelines, which
 * describe habitual behaviour: WHO 2020 counts minutes per week [10] (weekly minutes = 7 × the
 * 28-day daily level, i.e. the average week of the last four); Paluch 2022 relates mortality to
 * steps per day [15]; AASM/SRS recommend ≥ 7 h regularly [14]; Oura's sleep balance likewise
 * looks back two weeks, not one [8]. The current week still needs `minimums.dailyValues` days with
 * data and still sets the coverage, so no user loses a component v2 would have scored. Sleep
 * regularity is judged week by week (like the 7-day Sleep Regularity Index [20]) and averaged
 * over the four weeks.
 */
const V3: AlgorithmDefinition = {
  ...V2,
  version: 'v3',
  released: '2026-11-26',
  changelog:
    'Activity and sleep levels (weekly moderate-to-vigorous minutes, steps per day, sleep duration, ' +
    'deep and REM shares) are the 1-winsorized daily mean over the last 28 days instead of 7 ' +
    '(weekly minutes = 7 × that mean), and sleep regularity is the mean of the weekly regularity ' +
    'of the last four weeks; targets, curves and weights are those of v2. One corrupted or ' +
    'duplicated day now moves the total by at most 1 point (up to 3 in v1/v2). The current week ' +
    'still needs 4 days with data. Scores follow a change of habits over four weeks instead of one, ' +
    'and someone who exercises once a week is no longer under-credited.',
  windows: { ...WINDOWS, dailyLevelDays: 28 },
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** Every released version, oldest first. Frozen: a released version never changes. */
export const ALGORITHMS: readonly AlgorithmDefinition[] = deepFreeze([V1, V2, V3])

export const LATEST_ALGORITHM_VERSION: string = ALGORITHMS[ALGORITHMS.length - 1].version

export function getAlgorithm(version: string): AlgorithmDefinition | undefined {
  return ALGORITHMS.find((algorithm) => algorithm.version === version)
}
