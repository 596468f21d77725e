/**
 * The biometrics component groups readings by day once for all five series. It must give exactly
 * what grouping each series on its own gives (the straightforward form below, as the component
 * computed it before), for any readings: duplicates, odd and even counts, missing and unusable values.
 */
import t from 'tap'
import fc from 'fast-check'
import { dailyBiometricSeries, type PlacedBiometricReading } from '../../../src/domain/score/biometrics.js'
import { groupValues, median, positive } from '../../../src/domain/score/robust-stats.js'
import type { BiometricReadingInput } from '../../../src/domain/score/types.js'

function reference(readings: readonly PlacedBiometricReading[]) {
  const series = (value: (r: BiometricReadingInput) => number | null, isRecent = (p: PlacedBiometricReading) => p.recent) => {
    const dailyMedians = (items: readonly PlacedBiometricReading[]) => {
      const byDay = groupValues(items, (p) => p.day, (p) => value(p.reading))
      return [...byDay.keys()].sort().map((day) => median(byDay.get(day) as number[]))
    }
    return { all: dailyMedians(readings), recent: dailyMedians(readings.filter(isRecent)) }
  }
  const ln = (v: number | null) => (v === null ? null : Math.log(v))
  return {
    restingHeartRate: series((r) => positive(r.resting_heart_rate_bpm)),
    lnRmssd: series((r) => ln(positive(r.hrv_rmssd_ms)), (p) => p.hrvRecent),
    systolic: series((r) => positive(r.systolic_mmhg)),
    diastolic: series((r) => positive(r.diastolic_mmhg)),
    spo2: series((r) => positive(r.spo2_pct)),
  }
}

t.test('one pass over the readings gives the five series of five passes (and the days with data), bit for bit', async (t) => {
  const value = fc.oneof(fc.constantFrom(0, -3, 1, 55, 55, 60, 97, 120, 80, Number.NaN, Infinity), fc.double({ min: -10, max: 250, noNaN: true }), fc.constant(null), fc.constant(undefined))
  const placed = fc.record({
    day: fc.constantFrom('2026-11-01', '2026-11-02', '2026-11-03', '2026-11-20', '2026-11-25'),
    recent: fc.boolean(),
    hrvRecent: fc.boolean(),
    reading: fc.record({
      recorded: fc.constant('2026-11-01T00:00:00.000Z'),
      quality: fc.constant('ok'),
      resting_heart_rate_bpm: value,
      hrv_rmssd_ms: value,
      systolic_mmhg: value,
      diastolic_mmhg: value,
      spo2_pct: value,
    }),
  }) as unknown as fc.Arbitrary<PlacedBiometricReading>
  fc.assert(
    fc.property(fc.array(placed, { maxLength: 200 }), (readings) => {
      const fast = dailyBiometricSeries(readings)
      const slow = reference(readings)
      const scoredDays = new Set(readings.filter(({ reading: r }) => [r.resting_heart_rate_bpm, r.hrv_rmssd_ms, r.systolic_mmhg, r.diastolic_mmhg, r.spo2_pct].some((v) => positive(v) !== null)).map((p) => p.day)).size
      if (fast.scoredDays !== scoredDays) throw new Error(`scoredDays ${fast.scoredDays} ≠ ${scoredDays}`)
      for (const name of Object.keys(slow) as Array<keyof typeof slow>) {
        for (const part of ['all', 'recent'] as const) {
          const a = fast[name][part]
          const b = slow[name][part]
          if (a.length !== b.length || a.some((x, i) => !Object.is(x, b[i]))) throw new Error(`${name}.${part}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`)
        }
      }
    }),
    { numRuns: 1000 },
  )
  t.pass('1000 generated reading sets')
})
