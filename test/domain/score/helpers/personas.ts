/**
 * Deterministic synthetic personas for the score tests: a seeded PRNG (mulberry32) turns a persona
 * description into 60 days of activity, sleep and biometrics plus blood panels, shaped exactly like
 * the engine's input. Same spec and seed → same data, on every machine.
 */
import { addDays } from '../../../../src/domain/score/dates.js'
import type {
  ActivityDayInput,
  BiometricReadingInput,
  BloodPanelInput,
  HealthScoreInput,
  Sex,
  SleepNightInput,
} from '../../../../src/domain/score/index.js'

export const SCORED_DAY = '2026-03-31'

/** mulberry32: a tiny, well-known 32-bit PRNG; good enough for test fixtures. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function gaussian(random: () => number, mean: number, sd: number): number {
  const u = Math.max(random(), 1e-12)
  const v = random()
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

export interface PersonaSpec {
  name: string
  birthDate: string | null
  sex: Sex
  /** Days of history ending on the scored day (60 unless the persona is new). */
  historyDays: number
  activity: null | { steps: number; stepsSd: number; moderate: number; vigorous: number; minutesSd: number }
  sleep: null | {
    hours: number
    hoursSd: number
    /** Usual sleep midpoint, hours after 00:00 UTC of the day the sleep ends. */
    midpointHour: number
    midpointSdMinutes: number
    /** Rotating shifts: on 3 days out of 7 the midpoint moves 9 hours later. */
    rotatingShifts?: boolean
    deepShare: number
    remShare: number
  }
  biometrics: null | {
    restingHeartRate: number
    hrvMs: number
    /** Change of the last 7 days against the rest (illness, overreaching). */
    recentRestingHeartRateShift?: number
    recentHrvFactor?: number
    bloodPressure?: { systolic: number; diastolic: number }
    spo2?: number
  }
  blood: null | Partial<Record<'hba1c' | 'glucose' | 'ldl' | 'hdl' | 'triglycerides' | 'total_cholesterol', number>>
}

const UNITS: Record<string, string> = {
  hba1c: '%',
  glucose: 'mg/dL',
  ldl: 'mg/dL',
  hdl: 'mg/dL',
  triglycerides: 'mg/dL',
  total_cholesterol: 'mg/dL',
}

/** A stale panel, 400 days old, with alarming values: it must never count (12-month window). */
const STALE_PANEL_VALUES = { hba1c: 9.5, glucose: 190, ldl: 210, hdl: 28, triglycerides: 600, total_cholesterol: 320 }

export function buildPersonaInput(spec: PersonaSpec, seed = 1, date = SCORED_DAY): HealthScoreInput {
  const random = mulberry32(seed * 7919)
  const activity: ActivityDayInput[] = []
  const sleep: SleepNightInput[] = []
  const biometrics: BiometricReadingInput[] = []
  for (let back = spec.historyDays - 1; back >= 0; back--) {
    const day = addDays(date, -back)
    if (spec.activity) activity.push(activityDay(spec.activity, day, random))
    if (spec.sleep) sleep.push(sleepNight(spec.sleep, day, back, random))
    if (spec.biometrics) biometrics.push(...biometricReadings(spec.biometrics, day, back, random))
  }
  const blood: BloodPanelInput[] = []
  if (spec.blood) {
    blood.push(panel(addDays(date, -90), spec.blood))
    blood.push(panel(addDays(date, -400), STALE_PANEL_VALUES))
  }
  return { date, user: { birth_date: spec.birthDate, sex: spec.sex, timezone: 'UTC' }, activity, sleep, biometrics, blood }
}

function activityDay(a: NonNullable<PersonaSpec['activity']>, day: string, random: () => number): ActivityDayInput {
  const steps = Math.max(0, Math.round(gaussian(random, a.steps, a.stepsSd)))
  const moderate = Math.max(0, Math.round(gaussian(random, a.moderate, a.minutesSd)))
  const vigorous = Math.max(0, Math.round(gaussian(random, a.vigorous, a.minutesSd / 2)))
  return {
    date: day,
    steps,
    active_minutes: moderate + vigorous,
    moderate_minutes: moderate,
    vigorous_minutes: vigorous,
    distance_m: Math.round(steps * 0.75),
    calories_kcal: 1800 + Math.round(steps * 0.04),
    quality: 'ok',
  }
}

function sleepNight(s: NonNullable<PersonaSpec['sleep']>, day: string, back: number, random: () => number): SleepNightInput {
  const shifted = s.rotatingShifts === true && back % 7 < 3
  const midpointMinutes = (s.midpointHour + (shifted ? 9 : 0)) * 60 + gaussian(random, 0, s.midpointSdMinutes)
  const totalMinutes = Math.max(120, Math.round(gaussian(random, s.hours * 60, s.hoursSd * 60)))
  const awake = 15 + Math.round(random() * 20)
  const inBed = totalMinutes + awake
  const midnight = Date.parse(`${day}T00:00:00Z`)
  const start = midnight + (midpointMinutes - inBed / 2) * 60_000
  const deep = Math.round(totalMinutes * s.deepShare * (1 + gaussian(random, 0, 0.08)))
  const rem = Math.round(totalMinutes * s.remShare * (1 + gaussian(random, 0, 0.08)))
  return {
    date: day,
    sleep_start: new Date(Math.round(start)).toISOString(),
    sleep_end: new Date(Math.round(start + inBed * 60_000)).toISOString(),
    total_sleep_minutes: totalMinutes,
    deep_minutes: deep,
    rem_minutes: rem,
    light_minutes: totalMinutes - deep - rem,
    awake_minutes: awake,
    quality: 'ok',
  }
}

export function emptyReading(recorded: string): BiometricReadingInput {
  return {
    recorded,
    resting_heart_rate_bpm: null,
    hrv_rmssd_ms: null,
    systolic_mmhg: null,
    diastolic_mmhg: null,
    spo2_pct: null,
    weight_kg: null,
    body_fat_pct: null,
    heart_rate_bpm: null,
    respiratory_rate_bpm: null,
    body_temperature_c: null,
    quality: 'ok',
  }
}

function biometricReadings(b: NonNullable<PersonaSpec['biometrics']>, day: string, back: number, random: () => number): BiometricReadingInput[] {
  const recent = back < 7
  const rhr = b.restingHeartRate + (recent ? b.recentRestingHeartRateShift ?? 0 : 0)
  const hrv = b.hrvMs * (recent ? b.recentHrvFactor ?? 1 : 1)
  const morning: BiometricReadingInput = {
    ...emptyReading(`${day}T06:30:00.000Z`),
    resting_heart_rate_bpm: Math.round(gaussian(random, rhr, 1.5)),
    hrv_rmssd_ms: Math.round(hrv * Math.exp(gaussian(random, 0, 0.1)) * 10) / 10,
    spo2_pct: b.spo2 === undefined ? null : Math.min(100, Math.round(gaussian(random, b.spo2, 0.6) * 10) / 10),
    weight_kg: 72,
    heart_rate_bpm: Math.round(gaussian(random, rhr + 8, 3)),
  }
  const readings = [morning]
  if (b.bloodPressure && back % 2 === 0) {
    readings.push({
      ...emptyReading(`${day}T19:00:00.000Z`),
      systolic_mmhg: Math.round(gaussian(random, b.bloodPressure.systolic, 4)),
      diastolic_mmhg: Math.round(gaussian(random, b.bloodPressure.diastolic, 3)),
      heart_rate_bpm: Math.round(gaussian(random, rhr + 10, 3)),
    })
  }
  return readings
}

function panel(testDate: string, values: Partial<Record<string, number>>): BloodPanelInput {
  return {
    test_date: testDate,
    results: Object.entries(values).map(([marker, value]) => ({ marker, value: value as number, unit: UNITS[marker], quality: 'ok' as const })),
  }
}
