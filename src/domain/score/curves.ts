/**
 * Scoring curves: piecewise-linear maps from a measured value to a 0–100 sub-score.
 *
 * The x positions (targets, thresholds, plateaus) come from the cited guideline or study. The
 * sub-score given at each point is OUR ENGINEERING CHOICE: none of the cited sources publishes a
 * 0–100 scale. Curves built on guideline categories follow one convention so components stay
 * comparable: 100 at the target, about 75 at the end of the first category beyond it, about 50 at
 * the end of the next ("borderline", "prediabetes", "stage 1"), about 20 at the disease or stage-2
 * level and 0 at the crisis / very-high level. Between points the score is interpolated linearly
 * and beyond the ends it is held flat, so a small change in a measurement never makes it jump.
 * Numbers in [brackets] refer to the source list of docs/health-score.md (the research file's).
 */

export type CurvePoint = readonly [x: number, score: number]

export interface ScoringCurve {
  points: readonly CurvePoint[] // x strictly ascending
  target: string
  source: string
}

/** Linear interpolation between the points, flat beyond both ends. */
export function scoreOnCurve(curve: ScoringCurve, x: number): number {
  const points = curve.points
  if (x <= points[0][0]) return points[0][1]
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]
    if (x <= x1) {
      const [x0, y0] = points[i - 1]
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)
    }
  }
  return points[points.length - 1][1]
}

// ─── Activity ────────────────────────────────────────────────────────────────────────────────

/**
 * One vigorous minute counts as two moderate minutes.
 * @see US Physical Activity Guidelines 2008, Appendix 1 [11][12] (confirmed by search: "1 minute of
 *   vigorous-intensity activity counts the same as 2 minutes of moderate-intensity activity")
 */
export const VIGOROUS_TO_MODERATE_FACTOR = 2

/**
 * Moderate-equivalent minutes per week.
 * @see WHO 2020 guidelines, Bull et al. BJSM 2020;54:1451 [10]: 150–300 min/week moderate (or
 *   75–150 vigorous); "some physical activity is better than none". 150 → 80 (guideline met),
 *   300 → 100 (upper end reached), 75 → 40: sub-scores are our engineering choice.
 */
export const WEEKLY_ACTIVE_MINUTES_CURVE: ScoringCurve = {
  points: [[0, 0], [75, 40], [150, 80], [300, 100]],
  target: '150–300 min/week moderate-equivalent (1 vigorous min = 2 moderate)',
  source: 'WHO 2020 (Bull et al., Br J Sports Med 2020;54:1451)',
}

/**
 * Steps per day, adults under 60: risk falls until a plateau at ≈8,000–10,000 steps/day.
 * @see Paluch et al., Lancet Public Health 2022;7:e219 [15] (confirmed by search in the PMC
 *   abstract). Quartile medians 3,553 / 5,801 / 7,842 / 10,901 with HR 1 / 0.60 / 0.55 / 0.47: most
 *   of the benefit comes by ≈5,800, hence 3,500 → 35 and 5,800 → 75. Sub-scores: engineering choice.
 */
export const STEPS_CURVE_UNDER_60: ScoringCurve = {
  points: [[0, 0], [3500, 35], [5800, 75], [8000, 90], [10000, 100]],
  target: '8,000–10,000 steps/day (plateau, age < 60)',
  source: 'Paluch et al., Lancet Public Health 2022;7:e219',
}

/**
 * Steps per day, adults aged 60 and over: plateau at ≈6,000–8,000 steps/day.
 * @see Paluch et al., Lancet Public Health 2022;7:e219 [15] (confirmed by search). Sub-scores:
 *   engineering choice.
 */
export const STEPS_CURVE_60_AND_OVER: ScoringCurve = {
  points: [[0, 0], [3500, 45], [6000, 90], [8000, 100]],
  target: '6,000–8,000 steps/day (plateau, age ≥ 60)',
  source: 'Paluch et al., Lancet Public Health 2022;7:e219',
}

/** @see Paluch et al. 2022 [15]: the plateau differs below and from age 60. */
export const STEPS_OLDER_ADULT_AGE = 60

// ─── Sleep ───────────────────────────────────────────────────────────────────────────────────

/**
 * Sleep duration in hours (average night).
 * @see AASM/SRS consensus, Watson et al. J Clin Sleep Med 2015;11:591 [14]: ≥ 7 h regularly;
 *   > 9 h of uncertain risk. Cappuccio et al. SLEEP 2010;33:585 [18]: short sleep RR 1.12, long
 *   sleep RR 1.30, both self-reported and possibly confounded (Kurina 2013 [19]) — hence a gentle
 *   decline above 9 h. Full credit 7–9 h as Oura does [9]. Sub-scores: engineering choice.
 */
export const SLEEP_DURATION_CURVE: ScoringCurve = {
  points: [[4, 0], [5, 30], [6, 60], [7, 100], [9, 100], [10, 85], [12, 50]],
  target: '7–9 h',
  source: 'AASM/SRS (Watson et al., J Clin Sleep Med 2015;11:591)',
}

/**
 * Deep (N3 / slow-wave) share of staged sleep.
 * @see Carskadon & Dement normal proportions via Medscape [41]: N3 10–20% of sleep. Slow-wave share
 *   falls with age [42] (no age adjustment yet, see docs). Nothing in the sources supports a
 *   penalty above the range, so the curve stays flat there. Sub-scores: engineering choice.
 */
export const DEEP_SLEEP_SHARE_CURVE: ScoringCurve = {
  points: [[0, 0], [0.05, 50], [0.1, 100]],
  target: '≥ 10% of sleep (normal N3 10–20%)',
  source: 'Carskadon & Dement, normal sleep stage proportions',
}

/**
 * REM share of staged sleep.
 * @see Carskadon & Dement via Medscape [41]: REM 20–25% of sleep. Sub-scores: engineering choice.
 */
export const REM_SLEEP_SHARE_CURVE: ScoringCurve = {
  points: [[0, 0], [0.1, 50], [0.2, 100]],
  target: '≥ 20% of sleep (normal REM 20–25%)',
  source: 'Carskadon & Dement, normal sleep stage proportions',
}

/**
 * Regularity: the 1-winsorized mean absolute deviation of the nightly sleep midpoint from the
 * week's typical midpoint, in minutes (from v3, the mean of that weekly value over four weeks).
 * @see Windred et al. SLEEP 2024 [60] and Cribb et al. eLife 2023 [20]: irregular sleep is tied to
 *   higher mortality, and regularity predicted it better than duration. Those studies use the Sleep
 *   Regularity Index, which needs minute-level sleep/wake data we do not receive; this midpoint
 *   proxy and its cut-offs are our ENGINEERING CHOICE, not calibrated against SRI (UNVERIFIED).
 */
export const SLEEP_REGULARITY_CURVE: ScoringCurve = {
  points: [[30, 100], [60, 75], [90, 50], [150, 20], [240, 0]],
  target: '≤ 30 min average shift of the sleep midpoint',
  source: 'Windred et al., SLEEP 2024; Cribb et al., eLife 2023 (proxy, engineering choice)',
}

// ─── Biometrics ──────────────────────────────────────────────────────────────────────────────

/**
 * Resting heart rate, recent week minus the personal 28-day baseline (bpm).
 * @see Oura readiness contributors [8] (confirmed by search): the contributor "may decline if you
 *   have an RHR that's 3–5 BPM higher or 10–15 BPM lower than your usual average". Full credit from
 *   −10 to +3; slopes beyond are our engineering choice.
 */
export const RESTING_HEART_RATE_DEVIATION_CURVE: ScoringCurve = {
  points: [[-20, 40], [-15, 70], [-10, 100], [3, 100], [5, 80], [10, 40], [15, 0]],
  target: 'within −10 to +3 bpm of your 28-day baseline',
  source: 'Oura readiness: resting HR vs personal average',
}

/**
 * HRV: robust z-score of the last 14 days' lnRMSSD against the personal 28-day baseline
 * (median and 1.4826 × MAD of daily lnRMSSD).
 * @see Plews et al. IJSPP 2014;9:783 [29]: analyse lnRMSSD, averaged over ≥ 3 valid days a week.
 *   Buchheit, Front Physiol 2014;5:73 [63]: judge a change against measurement error and the
 *   smallest worthwhile change, commonly taken as 0.5 SD — hence full credit down to z = −0.5
 *   (the 0.5 factor is the usual sport-science convention, not a number from [63]). The gentle
 *   slope below (30 points per SD) is our engineering choice, sized so that one stray reading
 *   cannot move the total score by a point (see docs, "Robustness").
 */
export const HRV_DEVIATION_CURVE: ScoringCurve = {
  points: [[-4, 0], [-2.5, 40], [-1.5, 70], [-0.5, 100]],
  target: 'at or above your 28-day baseline minus 0.5 SD (lnRMSSD)',
  source: 'Plews et al., IJSPP 2014;9:783; Buchheit, Front Physiol 2014;5:73',
}

/**
 * Floor of the baseline SD of daily lnRMSSD, for users whose HRV barely moves (MAD = 0 would make
 * every change infinite). 0.1 ln units ≈ 10% of RMSSD.
 * @see research file §4, "MAD = 0", option (b): floor the MAD [73]. The value is our engineering choice.
 */
export const HRV_LN_SD_FLOOR = 0.1

/**
 * Absolute resting heart rate level (v2 onwards).
 * @see Zhang et al. CMAJ 2016;188:E53 [17] (confirmed by search in the PubMed abstract): all-cause
 *   mortality RR 1.09 per +10 bpm, rising linearly from 45 bpm; 60–80 bpm RR 1.12 and > 80 bpm
 *   RR 1.45 vs the lowest category — hence the steeper fall above 80. Low rates are not penalised
 *   (athletes; bradycardia needs clinical context [26]). Sub-scores: engineering choice.
 */
export const RESTING_HEART_RATE_LEVEL_CURVE: ScoringCurve = {
  points: [[50, 100], [60, 85], [70, 70], [80, 55], [90, 30], [100, 10], [110, 0]],
  target: '≤ 50 bpm (mortality risk rises linearly above 45 bpm; RR 1.45 above 80 bpm)',
  source: 'Zhang et al., CMAJ 2016;188:E53',
}

/**
 * Systolic blood pressure (mmHg), 28-day average.
 * @see 2017 ACC/AHA, Whelton et al. Hypertension 2018;71:1269 [13]: normal < 120, elevated 120–129,
 *   stage 1 130–139, stage 2 ≥ 140, crisis > 180. The 2025 AHA/ACC update keeps these categories
 *   (confirmed by search, secondary summaries). Sub-scores per category: engineering choice.
 */
export const SYSTOLIC_BLOOD_PRESSURE_CURVE: ScoringCurve = {
  points: [[120, 100], [130, 75], [140, 50], [160, 20], [180, 0]],
  target: '< 120 mmHg (ACC/AHA normal)',
  source: '2017 ACC/AHA (Whelton et al., Hypertension 2018;71:1269)',
}

/**
 * Diastolic blood pressure (mmHg), 28-day average.
 * @see 2017 ACC/AHA [13]: normal < 80, stage 1 80–89, stage 2 ≥ 90, crisis > 120. Sub-scores:
 *   engineering choice.
 */
export const DIASTOLIC_BLOOD_PRESSURE_CURVE: ScoringCurve = {
  points: [[80, 100], [90, 50], [100, 20], [120, 0]],
  target: '< 80 mmHg (ACC/AHA normal)',
  source: '2017 ACC/AHA (Whelton et al., Hypertension 2018;71:1269)',
}

/**
 * SpO2 (%), 28-day average.
 * @see openoximetry.org [30]: healthy adults 96–100%, "normal" > 94%, hypoxaemia < 90%.
 *   Sub-scores: engineering choice.
 */
export const SPO2_CURVE: ScoringCurve = {
  points: [[85, 0], [90, 40], [95, 100]],
  target: '≥ 95% (normal > 94%)',
  source: 'OpenOximetry: normal SpO2 > 94%, hypoxaemia < 90%',
}

// ─── Blood ───────────────────────────────────────────────────────────────────────────────────

/**
 * Fasting plasma glucose (mg/dL). The catalog's `glucose` marker is assumed fasting.
 * @see ADA Standards of Care, Diagnosis [1]: < 100 normal, 100–125 prediabetes, ≥ 126 diabetes.
 *   ADA glycemic targets [2]: hypoglycaemia level 1 < 70, level 2 < 54. Sub-scores: engineering choice.
 */
export const FASTING_GLUCOSE_CURVE: ScoringCurve = {
  points: [[40, 0], [54, 40], [70, 100], [99, 100], [125, 50], [140, 20], [200, 0]],
  target: '70–99 mg/dL (ADA normal fasting)',
  source: 'ADA Standards of Care: Diagnosis and Classification',
}

/**
 * HbA1c (%, NGSP).
 * @see ADA Standards of Care, Diagnosis [1]: < 5.7 normal, 5.7–6.4 prediabetes, ≥ 6.5 diabetes.
 *   Sub-scores: engineering choice.
 */
export const HBA1C_CURVE: ScoringCurve = {
  points: [[5.6, 100], [6.4, 50], [7, 20], [9, 0]],
  target: '< 5.7% (ADA normal)',
  source: 'ADA Standards of Care: Diagnosis and Classification',
}

/**
 * LDL cholesterol (mg/dL). Non-increasing: a higher LDL never scores higher.
 * @see NCEP ATP III (NIH Publ. 02-5215, 2002) [4]: < 100 optimal, 100–129 near optimal, 130–159
 *   borderline high, 160–189 high, ≥ 190 very high. Sub-scores: engineering choice.
 */
export const LDL_CURVE: ScoringCurve = {
  points: [[100, 100], [130, 75], [160, 50], [190, 20], [220, 0]],
  target: '< 100 mg/dL (ATP III optimal)',
  source: 'NCEP ATP III (2002)',
}

/**
 * HDL cholesterol (mg/dL).
 * @see NCEP ATP III [4]: < 40 low, ≥ 60 high (protective). The < 50 cut-off for women is from a
 *   secondary source [48] (UNVERIFIED), so v1/v2 use 40 for everyone. Sub-scores: engineering choice.
 */
export const HDL_CURVE: ScoringCurve = {
  points: [[25, 0], [40, 50], [60, 100]],
  target: '≥ 60 mg/dL (ATP III; < 40 is low)',
  source: 'NCEP ATP III (2002)',
}

/**
 * Triglycerides (mg/dL).
 * @see NCEP ATP III [4] as tabulated in [48][50]: < 150 normal, 150–199 borderline high, 200–499
 *   high, ≥ 500 very high. Sub-scores: engineering choice.
 */
export const TRIGLYCERIDES_CURVE: ScoringCurve = {
  points: [[150, 100], [200, 50], [500, 10], [800, 0]],
  target: '< 150 mg/dL (ATP III normal)',
  source: 'NCEP ATP III (2002)',
}

/**
 * Total cholesterol (mg/dL).
 * @see NCEP ATP III [4]: < 200 desirable, 200–239 borderline high, ≥ 240 high. Sub-scores:
 *   engineering choice.
 */
export const TOTAL_CHOLESTEROL_CURVE: ScoringCurve = {
  points: [[200, 100], [240, 50], [300, 10], [350, 0]],
  target: '< 200 mg/dL (ATP III desirable)',
  source: 'NCEP ATP III (2002)',
}
