import t from 'tap'
import { addDays } from '../../../src/domain/score/dates.js'
import {
  ALGORITHMS,
  LATEST_ALGORITHM_VERSION,
  computeHealthScore,
  getAlgorithm,
  type AlgorithmDefinition,
  type HealthScoreInput,
} from '../../../src/domain/score/index.js'
import { HEALTHY_AVERAGE, personaNamed } from './helpers/persona-catalog.js'
import { SCORED_DAY, buildPersonaInput, emptyReading } from './helpers/personas.js'

const latest = getAlgorithm(LATEST_ALGORITHM_VERSION) as AlgorithmDefinition
const EMPTY: HealthScoreInput = { date: SCORED_DAY, user: { birth_date: null, sex: null }, activity: [], sleep: [], biometrics: [], blood: [] }

const insufficient = {
  date: SCORED_DAY,
  score: null,
  band: null,
  state: 'insufficient_data',
  confidence: 0,
  components: {},
  algorithm_version: LATEST_ALGORITHM_VERSION,
  window: { from: addDays(SCORED_DAY, -27), to: SCORED_DAY },
}

t.test('empty input: insufficient_data, nothing invented', async (t) => {
  t.strictSame(computeHealthScore(EMPTY, latest), { ...insufficient, excluded_readings: 0 })
})

t.test('data only outside the windows counts for nothing', async (t) => {
  const old = buildPersonaInput(HEALTHY_AVERAGE, 1, addDays(SCORED_DAY, -400)) // 60 days ending 400 days ago
  const future = buildPersonaInput(HEALTHY_AVERAGE, 1, addDays(SCORED_DAY, 90))
  const input: HealthScoreInput = {
    ...EMPTY,
    activity: [...old.activity, ...future.activity.filter((d) => d.date > SCORED_DAY)],
    sleep: [...old.sleep, ...future.sleep.filter((n) => n.date > SCORED_DAY)],
    biometrics: [...old.biometrics, ...future.biometrics.filter((r) => r.recorded > `${addDays(SCORED_DAY, 2)}`)],
    blood: [...old.blood, ...future.blood.filter((p) => p.test_date > SCORED_DAY)],
  }
  t.strictSame(computeHealthScore(input, latest), { ...insufficient, excluded_readings: 0 })
  const suspectOutside = { ...input, activity: input.activity.map((d) => ({ ...d, quality: 'suspect' as const })) }
  t.equal(computeHealthScore(suspectOutside, latest).excluded_readings, 0, 'suspect records outside the windows are not counted either')
})

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm.version}: all readings suspect: insufficient_data, every in-window reading counted as excluded`, async (t) => {
    const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
    const suspect: HealthScoreInput = {
      ...input,
      activity: input.activity.map((d) => ({ ...d, quality: 'suspect' })),
      sleep: input.sleep.map((n) => ({ ...n, quality: 'suspect' })),
      biometrics: input.biometrics.map((r) => ({ ...r, quality: 'suspect' })),
      blood: input.blood.map((p) => ({ ...p, results: p.results.map((r) => ({ ...r, quality: 'suspect' as const })) })),
    }
    const dailyDays = Math.max(algorithm.windows.activityDays, algorithm.windows.dailyLevelDays ?? 0) // 7 in v1/v2, 28 from v3
    const inWindow =
      dailyDays + // activity days
      dailyDays + // nights
      input.biometrics.filter((r) => r.recorded >= `${addDays(SCORED_DAY, -27)}T00:00:00Z`).length +
      6 // results of the 90-day-old panel (the 400-day-old one is outside)
    t.strictSame(computeHealthScore(suspect, algorithm), { ...insufficient, algorithm_version: algorithm.version, excluded_readings: inWindow })
  })
}

t.test('an invalid date is a programming error of the caller', async (t) => {
  for (const date of ['2026-02-30', '31/03/2026', '', '2026-3-1']) {
    t.throws(() => computeHealthScore({ ...EMPTY, date }, latest), RangeError, JSON.stringify(date))
  }
})

t.test('malformed records are ignored, never crash the score', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const base = computeHealthScore(input, latest)
  const noisy: HealthScoreInput = {
    ...input,
    activity: [...input.activity, { ...input.activity[0], date: 'yesterday' }],
    biometrics: [
      ...input.biometrics,
      { ...emptyReading('not a timestamp'), resting_heart_rate_bpm: 200 },
      { ...emptyReading(`${SCORED_DAY}T10:00:00Z`), resting_heart_rate_bpm: Number.NaN, hrv_rmssd_ms: -4, spo2_pct: Number.POSITIVE_INFINITY },
    ],
    blood: [
      ...input.blood,
      { test_date: addDays(SCORED_DAY, -1), results: [{ marker: 'glucose', value: 5.2, unit: 'mmol/L' }, { marker: 'constructor', value: 1, unit: 'mg/dL' }] },
    ],
  }
  t.strictSame(computeHealthScore(noisy, latest), base, 'unusable values and non-canonical units are skipped')
})

t.test('minimum data: four of seven days, two components', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const lastDays = (n: number) => addDays(SCORED_DAY, -(n - 1))
  const only = (activityDays: number, sleepNights: number): HealthScoreInput => ({
    ...input,
    biometrics: [],
    blood: [],
    activity: input.activity.filter((d) => d.date >= lastDays(activityDays)),
    sleep: input.sleep.filter((n) => n.date >= lastDays(sleepNights)),
  })
  t.equal(computeHealthScore(only(4, 4), latest).state, 'ok', '4 days of activity and 4 nights give a score')
  t.equal(computeHealthScore(only(3, 4), latest).state, 'insufficient_data', '3 days of activity are not a component')
  const partial = computeHealthScore(only(4, 7), latest)
  t.equal(partial.components.activity?.weight, 0.5, 'weights renormalized over the two components present')
  t.ok(partial.confidence < computeHealthScore(only(7, 7), latest).confidence, 'fewer days, lower confidence')
  t.equal(computeHealthScore(only(7, 7), latest).confidence, 0.5, 'two full components of four equal weights')
})

t.test('confidence drops with missing contributors and gaps', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const full = computeHealthScore(input, latest)
  const noBloodPressure = computeHealthScore({ ...input, biometrics: input.biometrics.filter((r) => r.systolic_mmhg === null) }, latest)
  const sparse = computeHealthScore({ ...input, biometrics: input.biometrics.filter((_, i) => i % 3 !== 0) }, latest)
  t.equal(full.confidence, 1)
  t.ok(noBloodPressure.confidence < full.confidence, `without blood pressure: ${noBloodPressure.confidence}`)
  t.ok(sparse.confidence <= full.confidence, `with gaps: ${sparse.confidence}`)
})

t.test('the latest usable panel of the last 12 months is used', async (t) => {
  const input = buildPersonaInput(personaNamed('no-wearable-blood-only'), 1)
  const ldl = (i: HealthScoreInput) => computeHealthScore(i, latest).components.blood?.contributors.find((c) => c.name === 'ldl_cholesterol')?.value
  t.equal(ldl(input), 105)
  const newer = { test_date: addDays(SCORED_DAY, -10), results: [{ marker: 'ldl', value: 150, unit: 'mg/dL' }] }
  t.equal(ldl({ ...input, blood: [...input.blood, newer] }), 150, 'a newer panel replaces the older one')
  const thyroidOnly = { test_date: addDays(SCORED_DAY, -5), results: [{ marker: 'tsh', value: 2.1, unit: 'mIU/L' }] }
  t.equal(ldl({ ...input, blood: [...input.blood, thyroidOnly] }), 105, 'a panel with no scored marker does not hide the previous one')
  const onlyStale = { ...input, blood: input.blood.filter((p) => p.test_date < addDays(SCORED_DAY, -365)) }
  t.notOk(computeHealthScore(onlyStale, latest).components.blood, 'a panel older than 12 months is ignored')
  const lastDay = { test_date: addDays(SCORED_DAY, 0).replace(/^(\d{4})/, (y) => String(Number(y) - 1)), results: [{ marker: 'ldl', value: 99, unit: 'mg/dL' }] }
  t.equal(ldl({ ...EMPTY, blood: [lastDay] }), 99, 'exactly 12 months old still counts')
})

t.test('time zones: biometric readings land on the user’s local day', async (t) => {
  const nextDayUtcEvening = { ...emptyReading(`${addDays(SCORED_DAY, 1)}T03:00:00Z`), systolic_mmhg: 200, diastolic_mmhg: 110 }
  const twoDaysAhead = { ...emptyReading(`${addDays(SCORED_DAY, 2)}T03:00:00Z`), systolic_mmhg: 200, diastolic_mmhg: 110 }
  const earlier = { ...emptyReading(`${addDays(SCORED_DAY, -3)}T12:00:00Z`), systolic_mmhg: 200, diastolic_mmhg: 110 }
  const biometricContributorCount = (timezone: string | null | undefined, readings = [nextDayUtcEvening, earlier]) =>
    computeHealthScore({ ...EMPTY, user: { birth_date: null, sex: null, timezone }, biometrics: readings }, latest).components.biometrics?.contributors.length
  t.equal(biometricContributorCount('America/New_York'), 2, 'New York: 23:00 local on the scored day counts')
  t.equal(biometricContributorCount('UTC'), undefined, 'UTC: the next day is outside, one day of blood pressure is not enough')
  t.equal(biometricContributorCount(null), 2, 'zone unknown: any zone that could place it on the scored day counts')
  t.equal(biometricContributorCount('Not/AZone'), 2, 'an unknown zone name falls back to the same rule')
  t.equal(biometricContributorCount(null, [twoDaysAhead, earlier]), undefined, 'two days ahead is outside in every zone')
})

t.test('duplicates of a day (impossible through the API) are collapsed deterministically', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const base = computeHealthScore(input, latest)
  const doubled = computeHealthScore({ ...input, activity: [...input.activity, ...input.activity], sleep: [...input.sleep, ...input.sleep] }, latest)
  t.strictSame(doubled, base, 'exact duplicates change nothing')
})

t.test('age picks the step curve: the 60+ plateau is lower', async (t) => {
  const walker = buildPersonaInput(personaNamed('elderly-walker'), 1)
  const steps = (birth: string | null) =>
    computeHealthScore({ ...walker, user: { ...walker.user, birth_date: birth } }, latest).components.activity?.contributors.find((c) => c.name === 'steps')
  t.ok((steps('1954-06-01')?.score as number) > (steps('1990-06-01')?.score as number), 'same steps score higher at 71 than at 35')
  t.strictSame(steps(null), steps('1990-06-01'), 'unknown age uses the under-60 curve')
  t.match(steps('1954-06-01')?.target, /age ≥ 60/)
})

t.test('HRV that never varies does not divide by zero', async (t) => {
  const flat: HealthScoreInput = {
    ...EMPTY,
    biometrics: Array.from({ length: 28 }, (_, i) => ({
      ...emptyReading(`${addDays(SCORED_DAY, -i)}T06:00:00Z`),
      resting_heart_rate_bpm: 60,
      hrv_rmssd_ms: i < 3 ? 40 : 50,
    })),
  }
  const hrv = computeHealthScore(flat, latest).components.biometrics?.contributors.find((c) => c.name === 'hrv')
  t.ok(hrv && Number.isFinite(hrv.score) && hrv.score >= 0 && hrv.score <= 100, `hrv score ${hrv?.score}`)
})

t.test('a huge (unvalidated) value never turns into Infinity in the explanation', async (t) => {
  // found by the fuzzing property: display rounding scaled 1.8e307 by 10 and overflowed
  const input: HealthScoreInput = {
    date: '2026-03-31',
    user: { birth_date: null, sex: 'female', timezone: 'UTC' },
    activity: [],
    sleep: [],
    biometrics: [],
    blood: [{ test_date: '2026-03-31', results: [{ marker: 'hba1c', value: 1.797693134862316e307, unit: '%', quality: 'ok' }] }],
  }
  for (const algorithm of ALGORITHMS) {
    const result = computeHealthScore(input, algorithm)
    for (const component of Object.values(result.components)) {
      for (const c of component.contributors) t.ok(c.value === null || Number.isFinite(c.value), `${algorithm.version} ${c.name}: ${c.value}`)
    }
  }
  const { roundTo } = await import('../../../src/domain/score/robust-stats.js')
  t.equal(roundTo(1.797693134862316e307, 1), 1.797693134862316e307)
  t.equal(roundTo(-1.797693134862316e307, 2), -1.797693134862316e307)
  t.equal(roundTo(2.345, 1), 2.3)
  t.equal(roundTo(7.25, 1), 7.3)
})
