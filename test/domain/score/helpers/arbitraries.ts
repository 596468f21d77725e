/**
 * fast-check arbitraries for the score properties: personas with a seed, extra readings (suspect
 * or outlying) and fully random, partly malformed inputs for fuzzing.
 */
import fc from 'fast-check'
import { addDays } from '../../../../src/domain/score/dates.js'
import type {
  ActivityDayInput,
  BiometricReadingInput,
  BloodPanelInput,
  HealthScoreInput,
  SleepNightInput,
} from '../../../../src/domain/score/index.js'
import { PERSONAS, type Persona } from './persona-catalog.js'
import { SCORED_DAY, buildPersonaInput, emptyReading } from './personas.js'

/**
 * Plausibility ranges of the contract ("e.g. heart rate 25–250, SpO2 50–100, temperature 30–44")
 * completed with the research file's suggested hard bounds (§1, engineering choices).
 */
export const BIOMETRIC_PLAUSIBILITY: Readonly<Record<string, readonly [number, number]>> = {
  resting_heart_rate_bpm: [25, 150],
  hrv_rmssd_ms: [1, 300],
  systolic_mmhg: [50, 300],
  diastolic_mmhg: [20, 200],
  spo2_pct: [50, 100],
  weight_kg: [20, 650],
  body_fat_pct: [2, 70],
  heart_rate_bpm: [25, 250],
  respiratory_rate_bpm: [4, 60],
  body_temperature_c: [30, 44],
}
export const ACTIVITY_PLAUSIBILITY: Readonly<Record<string, readonly [number, number]>> = {
  steps: [0, 100_000],
  moderate_minutes: [0, 1440],
  vigorous_minutes: [0, 1440],
  active_minutes: [0, 1440],
}
export const SLEEP_PLAUSIBILITY: Readonly<Record<string, readonly [number, number]>> = {
  total_sleep_minutes: [0, 1200],
  deep_minutes: [0, 1200],
  rem_minutes: [0, 1200],
  light_minutes: [0, 1200],
}

/** Personas that have a score (≥ 14 days of data in every stream they record). */
export const SCORED_PERSONAS: readonly Persona[] = PERSONAS.filter((p) => p.expectedBand !== null)

export const personaInput = (personas: readonly Persona[] = PERSONAS) =>
  fc.record({ persona: fc.constantFrom(...personas), seed: fc.integer({ min: 1, max: 10_000 }) }).map(({ persona, seed }) => ({
    name: persona.spec.name,
    input: buildPersonaInput(persona.spec, seed),
  }))

/** A value inside [min, max], with the bounds themselves drawn often (they are the extremes). */
const inRange = ([min, max]: readonly [number, number]) =>
  fc.oneof(fc.constantFrom(min, max), fc.double({ min, max, noNaN: true }))

/** A timestamp at any second of the 28-day window ending on SCORED_DAY (UTC days, as the personas). */
export const timestampInWindow = fc
  .integer({ min: Date.parse(`${addDays(SCORED_DAY, -27)}T00:00:00Z`), max: Date.parse(`${SCORED_DAY}T23:59:59Z`) })
  .map((ms) => new Date(ms).toISOString())

export const dayInLastWeek = fc.integer({ min: 0, max: 6 }).map((back) => addDays(SCORED_DAY, -back))

/** Any day of the 28-day window (v3 averages activity and sleep levels over it). */
export const dayInLastFourWeeks = fc.integer({ min: 0, max: 27 }).map((back) => addDays(SCORED_DAY, -back))

/** One biometric reading carrying one metric at any plausible value. */
export const plausibleBiometricReading = fc
  .record({ metric: fc.constantFrom(...Object.keys(BIOMETRIC_PLAUSIBILITY)), recorded: timestampInWindow })
  .chain(({ metric, recorded }) =>
    inRange(BIOMETRIC_PLAUSIBILITY[metric]).map((value): BiometricReadingInput => ({ ...emptyReading(recorded), [metric]: value })),
  )

export type DailyRecordChange =
  | { stream: 'activity'; mode: 'duplicate' | 'replace'; date: string; field: string; value: number }
  | { stream: 'sleep'; mode: 'duplicate' | 'replace'; date: string; field: string; value: number }

/** A duplicate or corrupted activity/sleep record on a day drawn by `day`: one field at an extreme or any plausible value. */
export const dailyRecordChangeOn = (day: fc.Arbitrary<string>): fc.Arbitrary<DailyRecordChange> =>
  fc.oneof(
    fc
      .record({ mode: fc.constantFrom('duplicate' as const, 'replace' as const), date: day, field: fc.constantFrom(...Object.keys(ACTIVITY_PLAUSIBILITY)) })
      .chain((r) => inRange(ACTIVITY_PLAUSIBILITY[r.field]).map((value) => ({ stream: 'activity' as const, ...r, value }))),
    fc
      .record({ mode: fc.constantFrom('duplicate' as const, 'replace' as const), date: day, field: fc.constantFrom(...Object.keys(SLEEP_PLAUSIBILITY), 'shift_hours') })
      .chain((r) =>
        (r.field === 'shift_hours' ? fc.double({ min: -12, max: 12, noNaN: true }) : inRange(SLEEP_PLAUSIBILITY[r.field])).map((value) => ({
          stream: 'sleep' as const,
          ...r,
          value,
        })),
      ),
  )

/** A duplicate or corrupted record of the current week (the whole window of v1/v2). */
export const dailyRecordChange: fc.Arbitrary<DailyRecordChange> = dailyRecordChangeOn(dayInLastWeek)

export function applyDailyRecordChange(input: HealthScoreInput, change: DailyRecordChange): HealthScoreInput {
  if (change.stream === 'activity') {
    const original = input.activity.find((d) => d.date === change.date) as ActivityDayInput
    const changed = { ...original, [change.field]: change.value }
    const others = change.mode === 'replace' ? input.activity.filter((d) => d !== original) : input.activity
    return { ...input, activity: [...others, changed] }
  }
  const original = input.sleep.find((n) => n.date === change.date) as SleepNightInput
  const changed: SleepNightInput = { ...original }
  if (change.field === 'shift_hours') {
    const shift = change.value * 3_600_000
    changed.sleep_start = new Date(Date.parse(original.sleep_start as string) + shift).toISOString()
    changed.sleep_end = new Date(Date.parse(original.sleep_end as string) + shift).toISOString()
  } else {
    Object.assign(changed, { [change.field]: change.value })
  }
  const others = change.mode === 'replace' ? input.sleep.filter((n) => n !== original) : input.sleep
  return { ...input, sleep: [...others, changed] }
}

// ─── Suspect records (inside the windows) ────────────────────────────────────────────────────

const anyNumber = fc.oneof(fc.constant(null), fc.double({ min: -10, max: 100_000, noNaN: true }))

export const suspectActivity = fc.record({
  date: dayInLastWeek,
  steps: anyNumber,
  active_minutes: anyNumber,
  moderate_minutes: anyNumber,
  vigorous_minutes: anyNumber,
  distance_m: anyNumber,
  calories_kcal: anyNumber,
  quality: fc.constant('suspect' as const),
})

export const suspectSleep = fc.record({
  date: dayInLastWeek,
  sleep_start: fc.oneof(fc.constant(null), timestampInWindow),
  sleep_end: fc.oneof(fc.constant(null), timestampInWindow),
  total_sleep_minutes: anyNumber,
  deep_minutes: anyNumber,
  rem_minutes: anyNumber,
  light_minutes: anyNumber,
  awake_minutes: anyNumber,
  quality: fc.constant('suspect' as const),
})

export const suspectBiometric = fc.record({
  recorded: timestampInWindow,
  resting_heart_rate_bpm: anyNumber,
  hrv_rmssd_ms: anyNumber,
  systolic_mmhg: anyNumber,
  diastolic_mmhg: anyNumber,
  spo2_pct: anyNumber,
  weight_kg: anyNumber,
  body_fat_pct: anyNumber,
  heart_rate_bpm: anyNumber,
  respiratory_rate_bpm: anyNumber,
  body_temperature_c: anyNumber,
  quality: fc.constant('suspect' as const),
})

const SCORED_MARKERS = ['glucose', 'hba1c', 'ldl', 'hdl', 'triglycerides', 'total_cholesterol'] as const
const UNITS = ['mg/dL', '%', 'mmol/L']

export const suspectBloodResult = fc.record({
  marker: fc.constantFrom(...SCORED_MARKERS, 'tsh', 'crp'),
  value: fc.double({ min: 0.1, max: 1000, noNaN: true }),
  unit: fc.constantFrom(...UNITS),
  quality: fc.constant('suspect' as const),
})

/** A new panel within 12 months holding only suspect results (it must not become "the latest"). */
export const suspectBloodPanel = fc.record({
  test_date: fc.integer({ min: 0, max: 300 }).map((back) => addDays(SCORED_DAY, -back)),
  results: fc.array(suspectBloodResult, { minLength: 1, maxLength: 4 }),
})

// ─── Fully random inputs (fuzzing) ───────────────────────────────────────────────────────────

const wildNumber = fc.oneof(
  fc.constant(null),
  fc.double(), // includes NaN, ±Infinity, −0 and huge values
  fc.integer({ min: -100, max: 200_000 }),
)
const dayNearScoredDay = fc.oneof(
  fc.integer({ min: -400, max: 40 }).map((back) => addDays(SCORED_DAY, -back)),
  fc.constantFrom('not-a-date', '2026-02-30', ''),
)
const timestampNearScoredDay = fc.oneof(
  fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2026-06-01T00:00:00Z') }).map((ms) => new Date(ms).toISOString()),
  fc.constantFrom('garbage', '2026-03-31T25:00:00Z'),
)
const quality = fc.constantFrom('ok' as const, 'suspect' as const)

export const randomInput: fc.Arbitrary<HealthScoreInput> = fc.record({
  date: fc.constant(SCORED_DAY),
  user: fc.record({
    birth_date: fc.oneof(fc.constant(null), fc.constantFrom('1950-01-01', '1990-06-15', '2030-01-01', 'bad')),
    sex: fc.constantFrom('female' as const, 'male' as const, 'other' as const, 'unknown' as const, null),
    timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/Los_Angeles', 'Not/AZone', null, undefined),
  }),
  activity: fc.array(
    fc.record({ date: dayNearScoredDay, steps: wildNumber, active_minutes: wildNumber, moderate_minutes: wildNumber, vigorous_minutes: wildNumber, distance_m: wildNumber, calories_kcal: wildNumber, quality }),
    { maxLength: 20 },
  ),
  sleep: fc.array(
    fc.record({
      date: dayNearScoredDay,
      sleep_start: fc.oneof(fc.constant(null), timestampNearScoredDay),
      sleep_end: fc.oneof(fc.constant(null), timestampNearScoredDay),
      total_sleep_minutes: wildNumber,
      deep_minutes: wildNumber,
      rem_minutes: wildNumber,
      light_minutes: wildNumber,
      awake_minutes: wildNumber,
      quality,
    }),
    { maxLength: 20 },
  ),
  biometrics: fc.array(
    fc.record({
      recorded: timestampNearScoredDay,
      resting_heart_rate_bpm: wildNumber,
      hrv_rmssd_ms: wildNumber,
      systolic_mmhg: wildNumber,
      diastolic_mmhg: wildNumber,
      spo2_pct: wildNumber,
      weight_kg: wildNumber,
      body_fat_pct: wildNumber,
      heart_rate_bpm: wildNumber,
      respiratory_rate_bpm: wildNumber,
      body_temperature_c: wildNumber,
      quality,
    }),
    { maxLength: 60 },
  ),
  blood: fc.array(
    fc.record({
      test_date: dayNearScoredDay,
      results: fc.array(
        fc.record({ marker: fc.constantFrom(...SCORED_MARKERS, 'TSH', ' LDL ', '__proto__'), value: fc.double(), unit: fc.constantFrom(...UNITS, 'MG/DL'), quality: fc.constantFrom('ok' as const, 'suspect' as const, undefined) }),
        { maxLength: 8 },
      ),
    }),
    { maxLength: 3 },
  ),
}) as fc.Arbitrary<HealthScoreInput>

/** A deterministic shuffle driven by a seed (Fisher–Yates over mulberry32). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy
}

export function shuffleInput(input: HealthScoreInput, random: () => number): HealthScoreInput {
  return {
    ...input,
    activity: shuffled(input.activity, random),
    sleep: shuffled(input.sleep, random),
    biometrics: shuffled(input.biometrics, random),
    blood: shuffled(input.blood, random).map((panel): BloodPanelInput => ({ ...panel, results: shuffled(panel.results, random) })),
  }
}
