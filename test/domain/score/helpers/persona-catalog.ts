/**
 * The personas of the score tests, each with the band a clinician reading the cited guidelines
 * would expect. Values are plausible adult figures, not real people.
 */
import type { Band } from '../../../../src/domain/score/index.js'
import type { PersonaSpec } from './personas.js'

export interface Persona {
  spec: PersonaSpec
  /** Expected band, or null for 'insufficient_data'. */
  expectedBand: Band | null
}

const NORMAL_SLEEP = { hoursSd: 0.35, midpointHour: 3.5, midpointSdMinutes: 20, deepShare: 0.16, remShare: 0.22 }

export const HEALTHY_AVERAGE: PersonaSpec = {
  name: 'healthy-average',
  birthDate: '1986-05-20',
  sex: 'female',
  historyDays: 60,
  activity: { steps: 5500, stepsSd: 800, moderate: 11, vigorous: 1, minutesSd: 4 },
  sleep: { ...NORMAL_SLEEP, hours: 6.4 },
  biometrics: { restingHeartRate: 70, hrvMs: 38, bloodPressure: { systolic: 127, diastolic: 81 }, spo2: 97 },
  blood: { hba1c: 5.6, glucose: 97, ldl: 134, hdl: 47, triglycerides: 145, total_cholesterol: 208 },
}

export const PERSONAS: readonly Persona[] = [
  {
    expectedBand: 'excellent',
    spec: {
      name: 'athlete',
      birthDate: '1996-04-10',
      sex: 'male',
      historyDays: 60,
      activity: { steps: 13000, stepsSd: 1500, moderate: 40, vigorous: 35, minutesSd: 10 },
      sleep: { ...NORMAL_SLEEP, hours: 8.1, midpointSdMinutes: 15, deepShare: 0.19, remShare: 0.23 },
      biometrics: { restingHeartRate: 47, hrvMs: 95, bloodPressure: { systolic: 112, diastolic: 70 }, spo2: 97.5 },
      blood: { hba1c: 5.1, glucose: 86, ldl: 88, hdl: 66, triglycerides: 80, total_cholesterol: 172 },
    },
  },
  { expectedBand: 'good', spec: HEALTHY_AVERAGE },
  {
    expectedBand: 'poor',
    spec: {
      name: 'sedentary-short-sleeper',
      birthDate: '1981-02-02',
      sex: 'male',
      historyDays: 60,
      activity: { steps: 2500, stepsSd: 600, moderate: 3, vigorous: 0, minutesSd: 2 },
      sleep: { ...NORMAL_SLEEP, hours: 5.0, midpointSdMinutes: 45, deepShare: 0.11, remShare: 0.17 },
      biometrics: { restingHeartRate: 82, hrvMs: 24, bloodPressure: { systolic: 136, diastolic: 88 }, spo2: 96 },
      blood: { hba1c: 6.0, glucose: 108, ldl: 156, hdl: 38, triglycerides: 210, total_cholesterol: 236 },
    },
  },
  {
    expectedBand: 'fair',
    spec: {
      name: 'hypertensive',
      birthDate: '1968-09-14',
      sex: 'male',
      historyDays: 60,
      activity: { steps: 4200, stepsSd: 700, moderate: 6, vigorous: 0, minutesSd: 3 },
      sleep: { ...NORMAL_SLEEP, hours: 6.1 },
      biometrics: { restingHeartRate: 80, hrvMs: 26, bloodPressure: { systolic: 158, diastolic: 99 }, spo2: 96 },
      blood: { hba1c: 5.7, glucose: 100, ldl: 145, hdl: 42, triglycerides: 170, total_cholesterol: 220 },
    },
  },
  {
    expectedBand: 'fair',
    spec: {
      name: 'pre-diabetic',
      birthDate: '1974-01-30',
      sex: 'female',
      historyDays: 60,
      activity: { steps: 4000, stepsSd: 700, moderate: 5, vigorous: 0, minutesSd: 3 },
      sleep: { ...NORMAL_SLEEP, hours: 6.1 },
      biometrics: { restingHeartRate: 78, hrvMs: 30, bloodPressure: { systolic: 128, diastolic: 82 }, spo2: 96.5 },
      blood: { hba1c: 6.3, glucose: 119, ldl: 140, hdl: 40, triglycerides: 205, total_cholesterol: 222 },
    },
  },
  {
    expectedBand: 'fair',
    spec: {
      name: 'shift-worker',
      birthDate: '1991-07-07',
      sex: 'female',
      historyDays: 60,
      activity: { steps: 4300, stepsSd: 700, moderate: 6, vigorous: 0, minutesSd: 3 },
      sleep: { ...NORMAL_SLEEP, hours: 5.5, hoursSd: 0.5, rotatingShifts: true, deepShare: 0.13, remShare: 0.19 },
      biometrics: { restingHeartRate: 72, hrvMs: 36, recentRestingHeartRateShift: 4, recentHrvFactor: 0.85, spo2: 96.5 },
      blood: { hba1c: 5.6, glucose: 97, ldl: 136, hdl: 46, triglycerides: 150, total_cholesterol: 212 },
    },
  },
  {
    expectedBand: null,
    spec: {
      name: 'new-user-3-days',
      birthDate: '1990-03-03',
      sex: 'other',
      historyDays: 3,
      activity: { steps: 9000, stepsSd: 1000, moderate: 30, vigorous: 5, minutesSd: 8 },
      sleep: { ...NORMAL_SLEEP, hours: 7.5 },
      biometrics: { restingHeartRate: 60, hrvMs: 50, spo2: 97 },
      blood: null,
    },
  },
  {
    expectedBand: 'excellent',
    spec: {
      name: 'elderly-walker',
      birthDate: '1954-06-01',
      sex: 'female',
      historyDays: 60,
      activity: { steps: 7400, stepsSd: 900, moderate: 26, vigorous: 0, minutesSd: 5 },
      sleep: { ...NORMAL_SLEEP, hours: 7.0, deepShare: 0.09, remShare: 0.18 },
      biometrics: { restingHeartRate: 67, hrvMs: 24, bloodPressure: { systolic: 128, diastolic: 77 }, spo2: 95.5 },
      blood: { hba1c: 5.6, glucose: 96, ldl: 112, hdl: 58, triglycerides: 130, total_cholesterol: 196 },
    },
  },
  {
    expectedBand: 'good',
    spec: {
      ...HEALTHY_AVERAGE,
      name: 'dyslipidemic',
      blood: { hba1c: 5.6, glucose: 97, ldl: 205, hdl: 35, triglycerides: 280, total_cholesterol: 285 },
    },
  },
  {
    expectedBand: null,
    spec: {
      name: 'no-wearable-blood-only',
      birthDate: '1979-11-11',
      sex: 'unknown',
      historyDays: 60,
      activity: null,
      sleep: null,
      biometrics: null,
      blood: { hba1c: 5.3, glucose: 90, ldl: 105, hdl: 58, triglycerides: 100, total_cholesterol: 185 },
    },
  },
  {
    expectedBand: 'good',
    spec: {
      ...HEALTHY_AVERAGE,
      name: 'unwell-this-week',
      biometrics: { ...(HEALTHY_AVERAGE.biometrics as NonNullable<PersonaSpec['biometrics']>), recentRestingHeartRateShift: 7, recentHrvFactor: 0.7 },
    },
  },
]

export function personaNamed(name: string): PersonaSpec {
  const persona = PERSONAS.find((p) => p.spec.name === name)
  if (persona === undefined) throw new Error(`no persona ${name}`)
  return persona.spec
}
