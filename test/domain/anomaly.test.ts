import fc from 'fast-check'
import t from 'tap'
import {
  BASELINE_CHECKED_FIELDS,
  BASELINE_WINDOW_DAYS,
  detectSuspectFields,
  detectSuspectInWindows,
  median,
  MIN_BASELINE_POINTS,
  MODIFIED_Z_SCALE,
  MODIFIED_Z_THRESHOLD,
  modifiedZScore,
  type SuspectResource,
} from '../../src/domain/anomaly.js'

/** Deterministic noise in [-1, 1) (a 32-bit LCG), so a failure is reproducible. */
function noise(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 2 ** 31 - 1
  }
}

/**
 * Runs detection over a daily series the way the service does: each day is compared with the
 * previous BASELINE_WINDOW_DAYS days that were not themselves flagged. Returns flagged day indexes.
 */
function flaggedDays(resource: SuspectResource, field: string, series: number[]): number[] {
  const accepted: Array<Record<string, number>> = []
  const flagged: number[] = []
  series.forEach((value, day) => {
    const record = { [field]: value }
    const reasons = detectSuspectFields(resource, record, accepted.slice(-BASELINE_WINDOW_DAYS))
    if (reasons.length > 0) flagged.push(day)
    else accepted.push(record)
  })
  return flagged
}

t.equal(MODIFIED_Z_SCALE, 0.6745)
t.equal(MODIFIED_Z_THRESHOLD, 3.5)
t.equal(BASELINE_WINDOW_DAYS, 28)
t.equal(MIN_BASELINE_POINTS, 7)

t.test('median and modified z-score', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  const score = modifiedZScore(14, [1, 2, 3, 4, 5, 6, 7])
  t.same(score, { z: (0.6745 * 10) / 2, median: 4, mad: 2, spread: 2 })
  t.equal(modifiedZScore(-6, [1, 2, 3, 4, 5, 6, 7])?.z, (0.6745 * -10) / 2, 'negative side')
})

t.test('fewer than 7 history points: no score, never flagged', async (t) => {
  const six = [58, 59, 57, 58, 60, 58]
  t.equal(modifiedZScore(200, six), null)
  t.equal(modifiedZScore(200, [...six, Number.NaN, Number.POSITIVE_INFINITY]), null, 'non-finite values do not count')
  t.not(modifiedZScore(200, [...six, 58]), null, 'seven is enough')
  t.same(detectSuspectFields('bio_metrics', { resting_heart_rate_bpm: 140 }, six.map((v) => ({ resting_heart_rate_bpm: v }))), [])
  t.equal(modifiedZScore(Number.NaN, [...six, 58]), null, 'a non-finite reading has no score')
})

t.test('MAD = 0: the raw score is undefined, the per-metric floor makes it usable', async (t) => {
  const constant = Array.from({ length: 20 }, () => 70)
  t.same(modifiedZScore(70, constant), { z: 0, median: 70, mad: 0, spread: 0 })
  t.equal(modifiedZScore(70.1, constant)?.z, Infinity, 'without a floor any change is infinitely far')
  t.equal(modifiedZScore(69.9, constant)?.z, -Infinity)
  t.equal(modifiedZScore(70.5, constant, 0.3)?.spread, 0.3)

  const history = constant.map((weight_kg) => ({ weight_kg }))
  t.same(detectSuspectFields('bio_metrics', { weight_kg: 70.5 }, history), [], 'a normal fluctuation is not suspect')
  t.same(detectSuspectFields('bio_metrics', { weight_kg: 71.5 }, history), [], '1.5 kg: still below 5.2 × 0.3 kg')
  t.same(detectSuspectFields('bio_metrics', { weight_kg: 72 }, history), [
    'weight_kg 72 is far from the 28-day baseline (median 70, modified z 4.5 > 3.5)',
  ])
  const zeroSteps = Array.from({ length: 14 }, () => ({ steps: 0 }))
  t.same(detectSuspectFields('physical_activity', { steps: 2000 }, zeroSteps), [], 'steps floor 500')
  t.equal(detectSuspectFields('physical_activity', { steps: 3000 }, zeroSteps).length, 1)
})

t.test('60-day series with one spike: only the spike is flagged', async (t) => {
  const rand = noise(42)
  const restingHr = Array.from({ length: 60 }, () => Math.round(58 + 3 * rand()))
  restingHr[40] = 95
  t.same(flaggedDays('bio_metrics', 'resting_heart_rate_bpm', restingHr), [40])

  const steps = Array.from({ length: 60 }, () => Math.round(8000 + 2500 * rand()))
  steps[17] = 60_000
  t.same(flaggedDays('physical_activity', 'steps', steps), [17])

  const sleep = Array.from({ length: 60 }, () => Math.round(430 + 40 * rand()))
  sleep[55] = 60
  t.same(flaggedDays('sleep', 'total_sleep_minutes', sleep), [55], 'low side too (e.g. a watch taken off)')

  const early = Array.from({ length: 60 }, () => 58)
  early[3] = 150
  t.same(flaggedDays('bio_metrics', 'resting_heart_rate_bpm', early), [], 'a spike before 7 history points is never flagged')
})

t.test('the reason names field, value, baseline and score', async (t) => {
  const rand = noise(7)
  const history = Array.from({ length: 28 }, () => ({ resting_heart_rate_bpm: Math.round(58 + 3 * rand()) }))
  const [reason] = detectSuspectFields('bio_metrics', { resting_heart_rate_bpm: 95 }, history)
  t.match(reason, /^resting_heart_rate_bpm 95 is far from the 28-day baseline \(median 5\d(\.5)?, modified z \d+\.\d > 3\.5\)$/)
  const [low] = detectSuspectFields('physical_activity', { steps: 0 }, Array.from({ length: 10 }, () => ({ steps: 8000 })))
  t.equal(low, 'steps 0 is far from the 28-day baseline (median 8000, modified z -10.8 < -3.5)')
})

t.test('HRV is scored on the log scale', async (t) => {
  const rand = noise(3)
  const history = Array.from({ length: 28 }, () => ({ hrv_rmssd_ms: 45 * Math.exp(0.1 * rand()) }))
  t.same(detectSuspectFields('bio_metrics', { hrv_rmssd_ms: 60 }, history), [], '+33 % is within the floor')
  const [reason] = detectSuspectFields('bio_metrics', { hrv_rmssd_ms: 150 }, history)
  t.match(reason, /^hrv_rmssd_ms 150 is far from the 28-day baseline \(median 4\d(\.\d+)?, modified z on the log scale \d+\.\d > 3\.5\)$/)
})

t.test('only the table fields are checked; several reasons at once; absent fields skipped', async (t) => {
  const history = Array.from({ length: 10 }, () => ({ heart_rate_bpm: 70, spo2_pct: 97, body_temperature_c: 36.6, floors: 10 }))
  t.same(detectSuspectFields('bio_metrics', { heart_rate_bpm: 170 }, history), [], 'spot heart rate is not baseline-checked')
  t.same(detectSuspectFields('physical_activity', { floors: 300 }, history), [], 'floors are not checked')
  const reasons = detectSuspectFields('bio_metrics', { spo2_pct: 85, body_temperature_c: 39.5 }, history)
  t.equal(reasons.length, 2)
  t.same(detectSuspectFields('bio_metrics', { weight_kg: null, spo2_pct: undefined }, history), [])
  t.same(Object.keys(BASELINE_CHECKED_FIELDS).sort(), ['bio_metrics', 'physical_activity', 'sleep'])
  t.same(BASELINE_CHECKED_FIELDS.sleep.map((r) => r.field), ['total_sleep_minutes'])
  t.same(BASELINE_CHECKED_FIELDS.physical_activity.map((r) => r.field), ['steps', 'active_minutes'])
})

/**
 * The rule as first written (two sorts per field through `modifiedZScore` and `median`): the
 * reference the sorted-window forms below must match exactly, number for number.
 */
function referenceSuspect(resource: SuspectResource, record: Record<string, unknown>, history: ReadonlyArray<Record<string, unknown>>): string[] {
  const reasons: string[] = []
  const fmt = (v: number) => String(Number.parseFloat(v.toFixed(2)))
  for (const rule of BASELINE_CHECKED_FIELDS[resource]) {
    const usable = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !(rule.logScale === true && v <= 0) ? v : null)
    const x = usable(record[rule.field])
    if (x === null) continue
    const past = history.map((h) => usable(h[rule.field])).filter((v): v is number => v !== null)
    const transform = rule.logScale === true ? Math.log : (v: number) => v
    const score = modifiedZScore(transform(x), past.map(transform), rule.madFloor)
    if (score === null || Math.abs(score.z) <= MODIFIED_Z_THRESHOLD) continue
    const comparison = score.z > 0 ? `> ${MODIFIED_Z_THRESHOLD}` : `< -${MODIFIED_Z_THRESHOLD}`
    const scale = rule.logScale === true ? ' on the log scale' : ''
    reasons.push(`${rule.field} ${fmt(x)} is far from the ${BASELINE_WINDOW_DAYS}-day baseline (median ${fmt(median(past))}, modified z${scale} ${score.z.toFixed(1)} ${comparison})`)
  }
  return reasons
}

t.test('detectSuspectFields (one sort per field) gives exactly what two sorts through modifiedZScore give', (t) => {
  const value = fc.oneof(
    fc.constantFrom(0, -1, 1, 2, 2, 2, 3, 5, 8, 60, 61, 62, 200, 0.1, Number.NaN, Infinity, -Infinity),
    fc.double({ min: -50, max: 300, noNaN: true }),
    fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
    fc.constant(undefined),
    fc.constant(null),
  )
  const resource = fc.constantFrom<SuspectResource>('bio_metrics', 'physical_activity', 'sleep')
  const record = (r: SuspectResource) => fc.record(Object.fromEntries(BASELINE_CHECKED_FIELDS[r].map((rule) => [rule.field, value]))) as fc.Arbitrary<Record<string, number>>
  const property = fc.property(
    resource.chain((r) => fc.tuple(fc.constant(r), record(r), fc.array(record(r), { maxLength: 140 }))),
    ([r, rec, history]) => {
      const fast = detectSuspectFields(r, rec, history)
      const reference = referenceSuspect(r, rec, history)
      if (JSON.stringify(fast) !== JSON.stringify(reference)) throw new Error(`${JSON.stringify(fast)} ≠ ${JSON.stringify(reference)}`)
    },
  )
  t.doesNotThrow(() => fc.assert(property, { numRuns: 3000 }))
  // and the realistic case: 112 readings of 4 weeks, a normal and an outlying new reading
  const rand = noise(11)
  const weeks = Array.from({ length: 112 }, () => ({ resting_heart_rate_bpm: 58 + Math.round(rand() * 3), hrv_rmssd_ms: 45 + rand() * 10, weight_kg: 70 + rand() }))
  for (const rec of [{ resting_heart_rate_bpm: 60, hrv_rmssd_ms: 47, weight_kg: 70.2 }, { resting_heart_rate_bpm: 95, hrv_rmssd_ms: 12, weight_kg: 80 }]) {
    t.same(detectSuspectFields('bio_metrics', rec, weeks), referenceSuspect('bio_metrics', rec, weeks))
  }
  t.equal(detectSuspectFields('bio_metrics', { resting_heart_rate_bpm: 95, hrv_rmssd_ms: 12, weight_kg: 80 }, weeks).length, 3, 'all three outliers flagged')
  t.end()
})

t.test('detectSuspectInWindows gives exactly what detectSuspectFields gives on each window', (t) => {
  // values drawn from small pools so ties, MAD = 0, zeros, negatives and NaN all occur often
  const value = fc.oneof(
    fc.constantFrom(0, -1, 1, 2, 2, 2, 3, 5, 8, 60, 61, 62, 200, Number.NaN, Infinity),
    fc.double({ min: -50, max: 300, noNaN: true }),
    fc.constant(undefined),
  )
  const resource = fc.constantFrom<SuspectResource>('bio_metrics', 'physical_activity', 'sleep')
  const record = (r: SuspectResource) => fc.record(Object.fromEntries(BASELINE_CHECKED_FIELDS[r].map((rule) => [rule.field, value]))) as fc.Arbitrary<Record<string, number>>
  const property = fc.property(
    resource.chain((r) =>
      fc.tuple(fc.constant(r), fc.array(record(r), { maxLength: 60 })).chain(([r2, series]) =>
        fc.tuple(
          fc.constant(r2),
          fc.constant(series),
          fc.array(fc.tuple(record(r2), fc.nat({ max: series.length }), fc.nat({ max: series.length })), { maxLength: 25 }),
        ),
      ),
    ),
    ([r, series, queries]) => {
      const readings = queries.map(([rec, a, b]) => ({ record: rec, start: Math.min(a, b), end: Math.max(a, b) }))
      const fast = detectSuspectInWindows(r, series, readings)
      readings.forEach((q, i) => {
        const naive = detectSuspectFields(r, q.record, series.slice(q.start, q.end))
        if (JSON.stringify(naive) !== JSON.stringify(fast[i])) throw new Error(`reading ${i}: ${JSON.stringify(naive)} ≠ ${JSON.stringify(fast[i])}`)
      })
    },
  )
  t.doesNotThrow(() => fc.assert(property, { numRuns: 2000 }))

  // a realistic batch: 1000 readings, each against its own sliding 28-point window of a long series
  const rand = noise(7)
  const long = Array.from({ length: 1500 }, (_, i) => ({ resting_heart_rate_bpm: i === 1200 ? 140 : 58 + Math.round(rand() * 3), weight_kg: 70 + rand() }))
  const windows = long.slice(500).map((rec, i) => ({ record: rec, start: Math.max(0, 500 + i - 28), end: 500 + i }))
  const fast = detectSuspectInWindows('bio_metrics', long, windows)
  const naive = windows.map((w) => detectSuspectFields('bio_metrics', w.record, long.slice(w.start, w.end)))
  t.same(fast, naive)
  t.ok(fast[700]!.some((reason) => reason.startsWith('resting_heart_rate_bpm 140')), 'the spike is flagged')
  t.end()
})

t.test('readings that are part of the series (a batch): a suspect one leaves the later baselines, as one by one', (t) => {
  const value = fc.oneof(fc.constantFrom(58, 59, 60, 60, 61, 62, 90, 140, 200), fc.double({ min: 40, max: 200, noNaN: true }), fc.constant(undefined))
  const record = fc.record({ resting_heart_rate_bpm: value, systolic_mmhg: value, weight_kg: value }) as fc.Arbitrary<Record<string, number>>
  const property = fc.property(fc.array(record, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (series, width) => {
    // every entry is a reading judged against the `width` entries before it (a sliding window)
    const readings = series.map((rec, i) => ({ record: rec, start: Math.max(0, i - width), end: i, self: i }))
    const fast = detectSuspectInWindows('bio_metrics', series, [...readings].reverse()).reverse()
    // one by one, in order: a reading found suspect is not part of any later baseline
    const suspect = new Set<number>()
    series.forEach((rec, i) => {
      const history = series.slice(Math.max(0, i - width), i).filter((_, k) => !suspect.has(Math.max(0, i - width) + k))
      const naive = detectSuspectFields('bio_metrics', rec, history)
      if (naive.length) suspect.add(i)
      if (JSON.stringify(naive) !== JSON.stringify(fast[i])) throw new Error(`reading ${i}: ${JSON.stringify(naive)} ≠ ${JSON.stringify(fast[i])}`)
    })
  })
  t.doesNotThrow(() => fc.assert(property, { numRuns: 1000 }))
  t.end()
})
