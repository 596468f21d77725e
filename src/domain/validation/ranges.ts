/**
 * Plausibility bounds: the values a person (or a working sensor) can produce at all. They reject
 * typos and broken devices with a 422; they are NOT clinical "normal" ranges and never judge health.
 *
 * Bounds are inclusive (`min <= value <= max`). No guideline body publishes "physically impossible"
 * limits, so every bound here is an engineering choice anchored, where one exists, to a documented
 * human extreme (research file §1: "Every hard bound in §1–2 is therefore an engineering choice
 * (UNVERIFIED)"). The contract fixes four of them (heart rate, SpO2, temperature, steps); the
 * contract wins where it differs from the research file.
 *
 * Exported `as const` so the TypeBox schemas can surface them in OpenAPI (`minimum`/`maximum`).
 *
 * Citations `[n]` point to /work/shared/research/health-score-sources.md (the "research file").
 */

export interface PlausibleRange {
  readonly min: number
  readonly max: number
  /** The unit as a client developer reads it in messages and docs. */
  readonly unit: string
  /** Counts (steps, floors, interruptions) must be whole numbers. */
  readonly integer?: boolean
}

/** Minutes in a civil day: no per-day duration can exceed it. */
export const MINUTES_PER_DAY = 1440

export const BIO_METRIC_RANGES = {
  // @see Guinness: Minnoch ≈635 kg heaviest [34]; Dangi ≈14.5 kg, the lightest documented adult [35].
  // Engineering choice (UNVERIFIED): the research file suggests 20–650; we use 10 so Dangi-sized
  // adults (54.6 cm, ≈14.5 kg) stay valid, consistent with the 50 cm height floor below.
  weight_kg: { min: 10, max: 650, unit: 'kg' },
  // @see ACE body-fat chart: essential fat 2–5 % (men), 10–13 % (women) [37] (secondary source).
  // 2–70 is the research file's suggested bound (UNVERIFIED engineering choice).
  body_fat_pct: { min: 2, max: 70, unit: '%' },
  // Contract: "heart rate 25–250". Max HR ≈ 208 − 0.7·age (Tanaka) / 220 − age (Fox) [22][23]
  // stays below 250 for every adult; 25 sits below the deepest documented sinus bradycardia.
  heart_rate_bpm: { min: 25, max: 250, unit: 'bpm' },
  // @see resting HR 60–100 by convention [24][25]; Oura treats 40–100 as normal [8].
  // 25–150 is the research file's suggested bound (UNVERIFIED engineering choice).
  resting_heart_rate_bpm: { min: 25, max: 150, unit: 'bpm' },
  // @see Nunan 2010 short-term RMSSD norms [27]; Shaffer & Ginsberg 2017 [28].
  // 1–300 ms is the research file's suggested bound (UNVERIFIED engineering choice).
  hrv_rmssd_ms: { min: 1, max: 300, unit: 'ms' },
  // @see Whelton 2018 ACC/AHA, Hypertension 71:1269 [13]: crisis is >180 systolic / >120 diastolic.
  // 50–300 and 20–200 mmHg are the research file's suggested bounds (UNVERIFIED engineering choice).
  systolic_mmhg: { min: 50, max: 300, unit: 'mmHg' },
  diastolic_mmhg: { min: 20, max: 200, unit: 'mmHg' },
  // Contract: "SpO2 50–100". Saturation above 100 % is impossible; healthy adults read 96–100 [30].
  spo2_pct: { min: 50, max: 100, unit: '%' },
  // Contract: "temperature 30–44 °C" (the research file suggested 25–44 [31][32]; the contract wins).
  // Survivors are documented at 13.7 °C and 46.5 °C [32], but a reading outside 30–44 from a
  // thermometer or wearable is far more likely a sensor or unit (°F) error.
  body_temperature_c: { min: 30, max: 44, unit: '°C' },
  // @see adults 12–20 /min; 95 % of elderly within 12–28 (Rodríguez-Molinero 2013, secondary) [33].
  // 4–60 /min is the research file's suggested bound (UNVERIFIED engineering choice).
  respiratory_rate_bpm: { min: 4, max: 60, unit: 'breaths/min' },
} as const satisfies Record<string, PlausibleRange>

export const PHYSICAL_ACTIVITY_RANGES = {
  // Contract: "steps per day are capped by plausibility (e.g. 100 000)". Healthy adults take
  // 4,000–18,000 steps/day (Tudor-Locke 2011) [38].
  steps: { min: 0, max: 100_000, unit: 'steps', integer: true },
  // @see research file §1 "Daily distance": no authoritative range; 0–250 km suggested
  // (UNVERIFIED engineering choice; covers ultra-distance days, cycling included).
  distance_m: { min: 0, max: 250_000, unit: 'm' },
  // Contract: "Minutes per day can't exceed 1440" — applies to each minutes field.
  active_minutes: { min: 0, max: MINUTES_PER_DAY, unit: 'min' },
  moderate_minutes: { min: 0, max: MINUTES_PER_DAY, unit: 'min' },
  vigorous_minutes: { min: 0, max: MINUTES_PER_DAY, unit: 'min' },
  // @see DGA 2020–25 estimated needs 1,600–3,000 kcal/day [40]; Wadlow's peak intake 8,000 [36].
  // The research file suggests 500–10,000 for TOTAL daily energy; trackers often report ACTIVE
  // energy, which is legitimately near 0 on a rest day, so the floor is 0 (engineering choice).
  calories_kcal: { min: 0, max: 10_000, unit: 'kcal' },
  // Fitbit counts one floor per ≈10 ft (3 m) of climbed elevation (help.fitbit.com "How does my
  // tracker count floors?", confirmed via search). 2,000 floors ≈ 6,000 m of ascent in a day:
  // an engineering choice (UNVERIFIED) above any realistic day, including mountaineering.
  floors: { min: 0, max: 2_000, unit: 'floors', integer: true },
  // Same physiological limits as any heart-rate reading (contract: 25–250).
  avg_heart_rate_bpm: { min: 25, max: 250, unit: 'bpm' },
  max_heart_rate_bpm: { min: 25, max: 250, unit: 'bpm' },
} as const satisfies Record<string, PlausibleRange>

export const SLEEP_RANGES = {
  // @see research file §1 "Sleep duration": 0–20 h per main sleep suggested (UNVERIFIED).
  total_sleep_minutes: { min: 0, max: 1_200, unit: 'min' },
  // Asleep stages cannot exceed the total-sleep bound above.
  deep_minutes: { min: 0, max: 1_200, unit: 'min' },
  rem_minutes: { min: 0, max: 1_200, unit: 'min' },
  light_minutes: { min: 0, max: 1_200, unit: 'min' },
  // Awake-in-bed time is bounded only by the contract's 24 h maximum between start and end.
  awake_minutes: { min: 0, max: MINUTES_PER_DAY, unit: 'min' },
  // Engineering choice (no source): at most one awakening per minute of the 24 h maximum in bed.
  interruptions: { min: 0, max: MINUTES_PER_DAY, unit: 'interruptions', integer: true },
} as const satisfies Record<string, PlausibleRange>

export const USER_RANGES = {
  // @see Guinness: Dangi 54.6 cm (shortest adult) [35], Wadlow 272 cm (tallest man ever) [36].
  height_cm: { min: 50, max: 275, unit: 'cm' },
} as const satisfies Record<string, PlausibleRange>

export type BioMetricField = keyof typeof BIO_METRIC_RANGES
export type PhysicalActivityField = keyof typeof PHYSICAL_ACTIVITY_RANGES
export type SleepMetricField = keyof typeof SLEEP_RANGES

export const BIO_METRIC_FIELDS = Object.keys(BIO_METRIC_RANGES) as BioMetricField[]
export const PHYSICAL_ACTIVITY_FIELDS = Object.keys(PHYSICAL_ACTIVITY_RANGES) as PhysicalActivityField[]
export const SLEEP_METRIC_FIELDS = Object.keys(SLEEP_RANGES) as SleepMetricField[]
