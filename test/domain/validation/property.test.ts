import fc from 'fast-check'
import t from 'tap'
import { detectSuspectFields, modifiedZScore } from '../../../src/domain/anomaly.js'
import {
  BLOOD_MARKER_IDS,
  BLOOD_MARKERS,
  normalizeBloodResult,
  roundTo,
  toCanonicalValue,
  validateBloodPanel,
} from '../../../src/domain/blood-markers.js'
import {
  BIO_METRIC_FIELDS,
  BIO_METRIC_RANGES,
  type FieldIssue,
  PHYSICAL_ACTIVITY_FIELDS,
  SLEEP_METRIC_FIELDS,
  validateBioMetric,
  validatePhysicalActivity,
  validateSleep,
  validateUser,
  type Validated,
} from '../../../src/domain/validation/index.js'

const runs = { numRuns: 500 }

/** Runs a fast-check property as one tap assertion (a failure shows fast-check's counterexample). */
function holds<Ts>(t: { doesNotThrow: (fn: () => void, message: string) => unknown }, name: string, property: fc.IProperty<Ts>): void {
  t.doesNotThrow(() => fc.assert(property, runs), name)
}

/** Any number, including NaN, ±Infinity, -0, negatives and huge values. */
const anyNumber = fc.oneof(fc.double(), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity))
/** Arbitrary strings plus near-misses of real dates and timestamps. */
const anyDateText = fc.oneof(
  fc.string(),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom('2026-02-30', '2026-03-01T07:30:00+01:00', '2026-03-01T23:59:60Z', '0000-01-01', '9999-12-31T23:59:59-23:59'),
)
const absent = fc.constantFrom(undefined, null)
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, absent)
const nowArb = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })

function metricsRecord(fields: readonly string[]) {
  return fc.record(Object.fromEntries(fields.map((f) => [f, maybe(anyNumber)])), { requiredKeys: [] })
}

/** A result is ok, or carries at least one issue whose path is "" or a JSON Pointer. */
function wellFormed<T>(result: Validated<T>): boolean {
  if (result.ok) return true
  return (
    result.issues.length > 0 &&
    result.issues.every((i: FieldIssue) => (i.path === '' || i.path.startsWith('/')) && i.message.length > 0)
  )
}

t.test('validators never throw and always answer ok or well-formed issues', async (t) => {
  holds(t, 'validateBioMetric',
    fc.property(fc.record({ recorded: maybe(anyDateText) }), metricsRecord(BIO_METRIC_FIELDS), nowArb, (head, metrics, now) =>
      wellFormed(validateBioMetric({ ...head, ...metrics }, now)))
  )
  holds(t, 'validatePhysicalActivity',
    fc.property(fc.record({ date: maybe(anyDateText) }), metricsRecord(PHYSICAL_ACTIVITY_FIELDS), nowArb, (head, metrics, now) =>
      wellFormed(validatePhysicalActivity({ ...head, ...metrics }, now)))
  )
  holds(t, 'validateSleep',
    fc.property(
      fc.record({ date: maybe(anyDateText), sleep_start: maybe(anyDateText), sleep_end: maybe(anyDateText) }),
      metricsRecord(SLEEP_METRIC_FIELDS),
      nowArb,
      (head, metrics, now) => wellFormed(validateSleep({ ...head, ...metrics }, now)),
    )
  )
  holds(t, 'validateUser',
    fc.property(
      fc.record({
        email: maybe(fc.oneof(fc.string(), fc.emailAddress())),
        name: maybe(fc.string()),
        birth_date: maybe(anyDateText),
        sex: maybe(fc.oneof(fc.string(), fc.constantFrom('female', 'male', 'other', 'unknown'))),
        height_cm: maybe(anyNumber),
        timezone: maybe(fc.oneof(fc.string(), fc.constantFrom('UTC', 'Europe/Berlin', '+01:00'))),
      }, { requiredKeys: [] }),
      nowArb,
      (input, now) => wellFormed(validateUser(input, now)),
    )
  )
  const resultArb = fc.record({
    marker: maybe(fc.oneof(fc.string(), fc.constantFrom(...BLOOD_MARKER_IDS))),
    value: maybe(anyNumber),
    unit: maybe(fc.oneof(fc.string(), fc.constantFrom('mg/dL', 'mmol/L', 'µmol/L', 'g/L', 'U/L', 'nmol/L', 'mg/L'))),
  }, { requiredKeys: [] })
  holds(t, 'validateBloodPanel',
    fc.property(
      fc.record({ test_date: maybe(anyDateText), lab: maybe(fc.string()), results: maybe(fc.array(resultArb, { maxLength: 20 })) }),
      nowArb,
      fc.constantFrom(undefined, null, 'female', 'male', 'other', 'unknown'),
      (input, now, sex) => wellFormed(validateBloodPanel(input, now, sex)),
    )
  )
})

t.test('an accepted bio-metric is within every bound', async (t) => {
  holds(t, 'accepted bio-metric values are in range',
    fc.property(metricsRecord(BIO_METRIC_FIELDS), (metrics) => {
      const result = validateBioMetric({ recorded: '2026-03-01T07:30:00Z', ...metrics }, new Date('2026-03-01T12:00:00Z'))
      if (!result.ok) return true
      return BIO_METRIC_FIELDS.every((f) => {
        const v = result.value[f]
        return v === null || (v >= BIO_METRIC_RANGES[f].min && v <= BIO_METRIC_RANGES[f].max)
      })
    })
  )
})

t.test('conversions round-trip within the reporting precision', async (t) => {
  for (const id of BLOOD_MARKER_IDS) {
    const marker = BLOOD_MARKERS[id]
    const step = 10 ** -marker.decimals
    for (const conversion of marker.units) {
      holds(t, `${id}: canonical → ${conversion.unit} → canonical`,
        fc.property(fc.double({ min: marker.plausibleMin, max: marker.plausibleMax, noNaN: true }), (canonical) => {
          const inUnit = conversion.fromCanonical(canonical)
          const back = toCanonicalValue(id, inUnit, conversion.unit)
          return back !== undefined && Math.abs(back - canonical) <= step / 2 + 1e-9
        })
      )
      holds(t, `${id}: a value sent in ${conversion.unit} normalizes to the canonical value it came from`,
        fc.property(fc.double({ min: marker.plausibleMin, max: marker.plausibleMax, noNaN: true }), (canonical) => {
          const rounded = roundTo(canonical, marker.decimals)
          const value = conversion.fromCanonical(rounded)
          if (value <= 0) return true // e.g. HbA1c below 2.15 % has no positive IFCC value
          const result = normalizeBloodResult({ marker: id, value, unit: conversion.unit })
          return result.ok && Math.abs(result.value.value - rounded) <= step / 2 + 1e-9
        })
      )
    }
  }
})

t.test('anomaly detection never throws and never flags short histories', async (t) => {
  holds(t, 'modifiedZScore is null below 7 finite points',
    fc.property(anyNumber, fc.array(anyNumber, { maxLength: 60 }), fc.double({ min: 0, max: 100, noNaN: true }), (x, history, floor) => {
      const score = modifiedZScore(x, history, floor)
      const finiteCount = history.filter(Number.isFinite).length
      return finiteCount >= 7 || score === null
    })
  )
  holds(t, 'detectSuspectFields flags nothing with < 7 history points',
    fc.property(
      fc.constantFrom('bio_metrics', 'physical_activity', 'sleep' as const),
      fc.dictionary(fc.constantFrom('weight_kg', 'steps', 'total_sleep_minutes', 'hrv_rmssd_ms', 'spo2_pct'), anyNumber),
      fc.array(fc.dictionary(fc.constantFrom('weight_kg', 'steps', 'total_sleep_minutes', 'hrv_rmssd_ms', 'spo2_pct'), anyNumber), { maxLength: 6 }),
      (resource, record, history) => detectSuspectFields(resource, record, history).length === 0,
    )
  )
})
