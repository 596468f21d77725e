import t from 'tap'
import {
  applyMergePatch,
  BIO_METRIC_FIELDS,
  BIO_METRIC_RANGES,
  type BioMetricInput,
  validateBioMetric,
} from '../../../src/domain/validation/index.js'

const now = new Date('2026-03-01T12:00:00Z')
const recorded = '2026-03-01T08:30:00+01:00'

function issuesOf(input: BioMetricInput) {
  const result = validateBioMetric(input, now)
  return result.ok ? [] : result.issues
}

t.test('the contract fixes some bounds; the table must keep them', async (t) => {
  t.same(BIO_METRIC_RANGES.heart_rate_bpm, { min: 25, max: 250, unit: 'bpm' })
  t.same(BIO_METRIC_RANGES.spo2_pct, { min: 50, max: 100, unit: '%' })
  t.same(BIO_METRIC_RANGES.body_temperature_c, { min: 30, max: 44, unit: '°C' })
  t.equal(BIO_METRIC_FIELDS.length, 10)
})

t.test('every bound, from both sides', async (t) => {
  for (const field of BIO_METRIC_FIELDS) {
    const { min, max, unit } = BIO_METRIC_RANGES[field]
    t.ok(validateBioMetric({ recorded, [field]: min }, now).ok, `${field} = min ${min} is accepted`)
    t.ok(validateBioMetric({ recorded, [field]: max }, now).ok, `${field} = max ${max} is accepted`)
    for (const outside of [min - 0.01, max + 0.01]) {
      const issues = issuesOf({ recorded, [field]: outside })
      t.same(issues.map((i) => i.path), [`/${field}`], `${field} = ${outside} is rejected at /${field}`)
      t.match(issues[0].message, `${field} must be between ${min} and ${max} ${unit}`)
    }
  }
})

t.test('the message names the range and the value received', async (t) => {
  t.same(issuesOf({ recorded, systolic_mmhg: 320 }), [
    { path: '/systolic_mmhg', message: 'systolic_mmhg must be between 50 and 300 mmHg (got 320)' },
  ])
})

t.test('at least one metric is required (issue on the document root)', async (t) => {
  const issues = issuesOf({ recorded })
  t.equal(issues.length, 1)
  t.equal(issues[0].path, '')
  t.match(issues[0].message, /at least one metric is required: weight_kg, body_fat_pct/)
  t.same(issuesOf({ recorded, weight_kg: null, spo2_pct: undefined }).map((i) => i.path), [''], 'null counts as absent')
})

t.test('systolic must exceed diastolic', async (t) => {
  t.ok(validateBioMetric({ recorded, systolic_mmhg: 121, diastolic_mmhg: 120 }, now).ok)
  for (const [systolic, diastolic] of [[120, 120], [80, 120]]) {
    const issues = issuesOf({ recorded, systolic_mmhg: systolic, diastolic_mmhg: diastolic })
    t.same(issues.map((i) => i.path), ['/systolic_mmhg'], `${systolic}/${diastolic} rejected`)
    t.match(issues[0].message, 'must be greater than diastolic_mmhg')
  }
  t.same(
    issuesOf({ recorded, systolic_mmhg: 40, diastolic_mmhg: 90 }).map((i) => i.path),
    ['/systolic_mmhg'],
    'an out-of-range systolic is reported once, not again by the cross-field rule',
  )
})

t.test('recorded: required, parseable, not in the future beyond the 5-minute skew', async (t) => {
  t.same(issuesOf({ weight_kg: 70 }).map((i) => i.path), ['/recorded'])
  t.match(issuesOf({ recorded: 'yesterday', weight_kg: 70 })[0].message, /recorded must be an RFC 3339 timestamp/)
  t.match(issuesOf({ recorded: '2026-03-01T08:30:00', weight_kg: 70 })[0].message, /with an offset/)
  t.ok(validateBioMetric({ recorded: '2026-03-01T12:05:00Z', weight_kg: 70 }, now).ok, 'exactly now + 5 min is accepted')
  t.ok(validateBioMetric({ recorded: '2026-03-01T13:05:00+01:00', weight_kg: 70 }, now).ok, 'offsets are honoured')
  const future = issuesOf({ recorded: '2026-03-01T12:05:00.001Z', weight_kg: 70 })
  t.same(future.map((i) => i.path), ['/recorded'], 'now + 5 min + 1 ms is rejected')
  t.match(future[0].message, /must not be in the future/)
})

t.test('returns every issue at once', async (t) => {
  const issues = issuesOf({ recorded: 'nope', spo2_pct: 101, heart_rate_bpm: 10, systolic_mmhg: 100, diastolic_mmhg: 110 })
  t.same(issues.map((i) => i.path).sort(), ['/heart_rate_bpm', '/recorded', '/spo2_pct', '/systolic_mmhg'])
})

t.test('normalized value: recorded as ISO UTC, absent metrics null', async (t) => {
  const result = validateBioMetric({ recorded, weight_kg: 72.4, resting_heart_rate_bpm: 58 }, now)
  t.ok(result.ok)
  if (!result.ok) return
  t.equal(result.value.recorded, '2026-03-01T07:30:00.000Z')
  t.equal(result.value.weight_kg, 72.4)
  t.equal(result.value.resting_heart_rate_bpm, 58)
  t.equal(result.value.spo2_pct, null)
  t.same(Object.keys(result.value).sort(), ['recorded', ...BIO_METRIC_FIELDS].sort())
})

t.test('PATCH: merge with the stored record, then validate the merged record', async (t) => {
  const stored = { recorded: '2026-03-01T07:30:00.000Z', systolic_mmhg: 130, diastolic_mmhg: 85, weight_kg: null }
  t.ok(validateBioMetric(applyMergePatch(stored, { diastolic_mmhg: 80 }), now).ok)
  const inverted = validateBioMetric(applyMergePatch(stored, { diastolic_mmhg: 140 }), now)
  t.notOk(inverted.ok, 'a patch touching one side of a cross-field rule is checked against the stored other side')
  const cleared = validateBioMetric(applyMergePatch(stored, { systolic_mmhg: null, diastolic_mmhg: null }), now)
  t.same(cleared.ok ? [] : cleared.issues.map((i) => i.path), [''], 'clearing every metric is caught')
  t.same(applyMergePatch(stored, { weight_kg: undefined }), stored, 'undefined keeps the stored value')
})
