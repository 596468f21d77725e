import t from 'tap'
import {
  BLOOD_MARKER_IDS,
  BLOOD_MARKERS,
  type BloodResultInput,
  findUnit,
  flagValue,
  mergeBloodResults,
  normalizeBloodResult,
  referenceRange,
  roundTo,
  toCanonicalValue,
  validateBloodPanel,
} from '../../src/domain/blood-markers.js'
import type { Sex } from '../../src/domain/validation/index.js'

const now = new Date('2026-03-01T12:00:00Z')

function normalized(input: BloodResultInput, sex?: Sex) {
  const result = normalizeBloodResult(input, sex)
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.issues)}`)
  return result.value
}
function issuesOf(input: BloodResultInput) {
  const result = normalizeBloodResult(input)
  return result.ok ? [] : result.issues
}

t.test('the catalog covers the contract markers with LOINC codes', async (t) => {
  t.same([...BLOOD_MARKER_IDS].sort(), [
    'alt', 'ast', 'creatinine', 'crp', 'glucose', 'hba1c', 'hdl', 'hemoglobin', 'ldl',
    'total_cholesterol', 'triglycerides', 'tsh', 'vitamin_d',
  ])
  const loinc = Object.fromEntries(BLOOD_MARKER_IDS.map((id) => [id, BLOOD_MARKERS[id].loinc]))
  t.same(loinc, {
    glucose: '2345-7', hba1c: '4548-4', total_cholesterol: '2093-3', hdl: '2085-9', ldl: '13457-7',
    triglycerides: '2571-8', hemoglobin: '718-7', creatinine: '2160-0', alt: '1742-6', ast: '1920-8',
    tsh: '3016-3', vitamin_d: '62292-8', crp: '1988-5',
  })
  for (const id of BLOOD_MARKER_IDS) {
    t.equal(BLOOD_MARKERS[id].units[0].unit, BLOOD_MARKERS[id].canonicalUnit, `${id}: first unit is canonical`)
  }
})

t.test('anchor conversions from the brief', async (t) => {
  t.match(normalized({ marker: 'glucose', value: 5.5, unit: 'mmol/L' }), {
    marker: 'glucose', loinc: '2345-7', value: 99.1, unit: 'mg/dL', original_value: 5.5, original_unit: 'mmol/L',
    reference_low: 70, reference_high: 99.9, flag: 'normal',
  })
  t.match(normalized({ marker: 'creatinine', value: 88.4, unit: 'µmol/L' }), { value: 1, unit: 'mg/dL' })
  t.match(normalized({ marker: 'hba1c', value: 48, unit: 'mmol/mol' }), { value: 6.5, unit: '%', flag: 'high' })
})

// [marker, value, unit, sex, canonical value, flag]
const conversions: Array<[string, number, string, Sex | undefined, number, string]> = [
  ['glucose', 100, 'mg/dL', undefined, 100, 'high'],
  ['glucose', 99.9, 'mg/dL', undefined, 99.9, 'normal'],
  ['glucose', 7.0, 'mmol/L', undefined, 126.1, 'high'],
  ['glucose', 3.9, 'mmol/L', undefined, 70.3, 'normal'],
  ['glucose', 3.8, 'mmol/L', undefined, 68.5, 'low'],
  ['hba1c', 5.6, '%', undefined, 5.6, 'normal'],
  ['hba1c', 39, 'mmol/mol', undefined, 5.7, 'high'],
  ['hba1c', 38, 'mmol/mol', undefined, 5.6, 'normal'],
  ['total_cholesterol', 5.0, 'mmol/L', undefined, 193, 'normal'],
  ['total_cholesterol', 5.2, 'mmol/L', undefined, 201, 'high'],
  ['total_cholesterol', 199, 'mg/dL', undefined, 199, 'normal'],
  ['hdl', 1.0, 'mmol/L', 'male', 39, 'low'],
  ['hdl', 1.3, 'mmol/L', 'female', 50, 'normal'],
  ['hdl', 45, 'mg/dL', 'female', 45, 'low'],
  ['hdl', 45, 'mg/dL', 'male', 45, 'normal'],
  ['hdl', 95, 'mg/dL', 'male', 95, 'normal'],
  ['ldl', 2.6, 'mmol/L', undefined, 101, 'high'],
  ['ldl', 2.5, 'mmol/L', undefined, 97, 'normal'],
  ['ldl', 99, 'mg/dL', undefined, 99, 'normal'],
  ['ldl', 100, 'mg/dL', undefined, 100, 'high'],
  ['triglycerides', 1.7, 'mmol/L', undefined, 151, 'high'],
  ['triglycerides', 1.0, 'mmol/L', undefined, 89, 'normal'],
  ['triglycerides', 149, 'mg/dL', undefined, 149, 'normal'],
  ['triglycerides', 150, 'mg/dL', undefined, 150, 'high'],
  ['hemoglobin', 135, 'g/L', 'male', 13.5, 'normal'],
  ['hemoglobin', 125, 'g/L', 'male', 12.5, 'low'],
  ['hemoglobin', 125, 'g/L', 'female', 12.5, 'normal'],
  ['hemoglobin', 15.5, 'g/dL', 'female', 15.5, 'high'],
  ['creatinine', 120, 'µmol/L', 'male', 1.36, 'high'],
  ['creatinine', 1.35, 'mg/dL', 'male', 1.35, 'normal'],
  ['creatinine', 1.05, 'mg/dL', 'female', 1.05, 'high'],
  ['alt', 40, 'IU/L', 'male', 40, 'high'],
  ['alt', 0.5, 'µkat/L', 'male', 30, 'normal'],
  ['alt', 0.5, 'µkat/L', 'female', 30, 'high'],
  ['ast', 1, 'µkat/L', undefined, 60, 'high'],
  ['ast', 20, 'U/L', undefined, 20, 'normal'],
  ['ast', 7, 'U/L', undefined, 7, 'low'],
  ['tsh', 2.5, 'µIU/mL', undefined, 2.5, 'normal'],
  ['tsh', 0.4, 'mIU/L', undefined, 0.4, 'low'],
  ['tsh', 4.51, 'mU/L', undefined, 4.51, 'high'],
  ['vitamin_d', 75, 'nmol/L', undefined, 30, 'normal'],
  ['vitamin_d', 50, 'nmol/L', undefined, 20, 'low'],
  ['vitamin_d', 120, 'µg/L', undefined, 120, 'high'],
  ['crp', 0.5, 'mg/dL', undefined, 5, 'high'],
  ['crp', 3, 'mg/L', undefined, 3, 'normal'],
  ['crp', 3.01, 'mg/L', undefined, 3.01, 'high'],
]
t.test('every marker converts every accepted unit to canonical, then flags', async (t) => {
  for (const [marker, value, unit, sex, canonical, flag] of conversions) {
    const result = normalized({ marker, value, unit }, sex)
    t.equal(result.value, canonical, `${marker} ${value} ${unit} = ${canonical} ${result.unit}`)
    t.equal(result.flag, flag, `${marker} ${value} ${unit} (${sex ?? 'no sex'}) is ${flag}`)
  }
  const covered = new Set(conversions.map(([marker, , unit]) => `${marker}:${findUnit(BLOOD_MARKERS[marker as 'alt'], unit)?.unit}`))
  for (const id of BLOOD_MARKER_IDS) {
    for (const { unit } of BLOOD_MARKERS[id].units) t.ok(covered.has(`${id}:${unit}`), `${id} in ${unit} is tested`)
  }
})

t.test('unit matching forgives case, spaces and µ/μ/u/mc spellings', async (t) => {
  for (const unit of ['µmol/L', 'μmol/L', 'umol/L', 'UMOL / L', 'umol/l']) {
    t.match(normalized({ marker: 'creatinine', value: 88.4, unit }), { value: 1, original_unit: 'µmol/L' }, unit)
  }
  for (const unit of ['MG/DL', 'mg/dl', 'Mmol/l']) t.ok(normalizeBloodResult({ marker: 'glucose', value: 100, unit }).ok, unit)
  for (const unit of ['µg/L', 'ug/L', 'mcg/L']) t.ok(normalizeBloodResult({ marker: 'vitamin_d', value: 30, unit }).ok, unit)
  t.ok(normalizeBloodResult({ marker: ' GLUCOSE ', value: 100, unit: 'mg/dL' }).ok, 'marker names are trimmed and case-insensitive')
})

t.test('unknown marker and unit messages name the allowed ones', async (t) => {
  t.same(issuesOf({ marker: 'glucos', value: 1, unit: 'mg/dL' }), [{
    path: '/marker',
    message: "unknown marker 'glucos'; allowed: glucose, hba1c, total_cholesterol, hdl, ldl, triglycerides, hemoglobin, creatinine, alt, ast, tsh, vitamin_d, crp",
  }])
  t.same(issuesOf({ marker: 'glucose', value: 100, unit: 'mg' }), [
    { path: '/unit', message: "unit 'mg' is not accepted for glucose; allowed: mg/dL, mmol/L" },
  ])
  t.same(issuesOf({ marker: 'hemoglobin', value: 100, unit: 'mmol/L' })[0].message, "unit 'mmol/L' is not accepted for hemoglobin; allowed: g/dL, g/L")
  t.same(issuesOf({}).map((i) => i.path), ['/marker', '/unit', '/value'], 'everything missing, everything reported')
})

t.test('values must be positive and physiologically plausible', async (t) => {
  for (const value of [0, -1]) t.match(issuesOf({ marker: 'glucose', value, unit: 'mg/dL' }), [{ path: '/value', message: /greater than 0/ }])
  const mmolAsMg = issuesOf({ marker: 'glucose', value: 5.5, unit: 'mg/dL' })
  t.match(mmolAsMg, [{ path: '/value', message: 'glucose 5.5 mg/dL is below the plausible minimum of 10 mg/dL; check the value and the unit (accepted: mg/dL, mmol/L)' }])
  t.ok(normalizeBloodResult({ marker: 'glucose', value: 10, unit: 'mg/dL' }).ok, 'plausible minimum is inclusive')
  t.ok(normalizeBloodResult({ marker: 'glucose', value: 3000, unit: 'mg/dL' }).ok, 'plausible maximum is inclusive')
  t.match(issuesOf({ marker: 'glucose', value: 200, unit: 'mmol/L' }), [{ path: '/value', message: 'glucose 200 mmol/L (3603.2 mg/dL) is above the plausible maximum of 3000 mg/dL' }])
  t.match(issuesOf({ marker: 'hemoglobin', value: 140, unit: 'g/dL' }), [{ path: '/value', message: /above the plausible maximum of 30 g\/dL/ }], 'g/L sent as g/dL')
  t.match(issuesOf({ marker: 'crp', value: 0.001, unit: 'mg/L' }), [{ path: '/value', message: /below the plausible minimum/ }], 'rounds to 0')
  t.ok(normalizeBloodResult({ marker: 'alt', value: 5000, unit: 'U/L' }).ok, 'acute liver injury is real data, not rejected')
  t.ok(normalizeBloodResult({ marker: 'crp', value: 350, unit: 'mg/L' }).ok, 'sepsis-level CRP is real data, not rejected')
})

t.test('reference ranges: sex-specific, union when sex is unknown', async (t) => {
  t.same(referenceRange('hemoglobin', 'male'), { low: 13, high: 16.6 })
  t.same(referenceRange('hemoglobin', 'female'), { low: 12, high: 15 })
  for (const sex of [undefined, null, 'other', 'unknown'] as const) t.same(referenceRange('hemoglobin', sex), { low: 12, high: 16.6 })
  t.same(referenceRange('hdl'), { low: 40, high: null })
  t.same(referenceRange('alt'), { low: null, high: 33 })
  t.same(referenceRange('creatinine'), { low: 0.59, high: 1.35 })
  t.equal(flagValue(1, { low: null, high: null }), 'normal')
  t.equal(flagValue(12, { low: 12, high: 15 }), 'normal', 'inclusive low')
  t.equal(flagValue(15, { low: 12, high: 15 }), 'normal', 'inclusive high')
})

t.test('rounding is half away from zero without float noise', async (t) => {
  t.equal(roundTo(1.005, 2), 1.01)
  t.equal(roundTo(99.088, 1), 99.1)
  t.equal(roundTo(0.5, 0), 1)
  t.equal(roundTo(-0.5, 0), -1)
  t.equal(toCanonicalValue('glucose', 5.5, 'mmol/l'), 99.1)
  t.equal(toCanonicalValue('glucose', 5.5, 'furlongs'), undefined)
})

t.test('panel: every result normalized, issues rooted at /results/<index>', async (t) => {
  const ok = validateBloodPanel({
    test_date: '2026-02-27', lab: '  Quest  ',
    results: [{ marker: 'glucose', value: 5.5, unit: 'mmol/L' }, { marker: 'hemoglobin', value: 125, unit: 'g/L' }],
  }, now, 'female')
  t.ok(ok.ok)
  if (ok.ok) {
    t.equal(ok.value.test_date, '2026-02-27')
    t.equal(ok.value.lab, 'Quest')
    t.same(ok.value.results.map((r) => [r.marker, r.value, r.flag]), [['glucose', 99.1, 'normal'], ['hemoglobin', 12.5, 'normal']])
  }
  const male = validateBloodPanel({ test_date: '2026-02-27', results: [{ marker: 'hemoglobin', value: 125, unit: 'g/L' }] }, now, 'male')
  t.equal(male.ok && male.value.results[0].flag, 'low', 'sex reaches the reference range')

  const bad = validateBloodPanel({
    test_date: '2026-03-03', lab: ' ',
    results: [
      { marker: 'glucose', value: 90, unit: 'mg/dL' },
      { marker: 'ldl', value: 100, unit: 'mg' },
      { marker: 'glucose', value: 5, unit: 'mmol/L' },
      { marker: 'ldl', value: -3, unit: 'mg/dL' },
    ],
  }, now)
  t.notOk(bad.ok)
  if (!bad.ok) {
    t.same(bad.issues.map((i) => i.path), ['/test_date', '/lab', '/results/1/unit', '/results/2/marker', '/results/3/value', '/results/3/marker'])
    t.match(bad.issues[3].message, "duplicate marker 'glucose' (already given at /results/0)")
  }
})

t.test('panel: results required and non-empty; test_date real and not in the future', async (t) => {
  for (const results of [[], null, undefined]) {
    const r = validateBloodPanel({ test_date: '2026-02-27', results }, now)
    t.same(r.ok ? [] : r.issues.map((i) => i.path), ['/results'], `results = ${JSON.stringify(results)}`)
  }
  const one = [{ marker: 'crp', value: 1, unit: 'mg/L' }]
  t.ok(validateBloodPanel({ test_date: '2026-03-02', results: one }, now).ok, 'today in UTC+14')
  for (const test_date of ['2026-03-03', '2026-02-30', null]) {
    const r = validateBloodPanel({ test_date, results: one }, now)
    t.same(r.ok ? [] : r.issues.map((i) => i.path), ['/test_date'], `test_date = ${test_date}`)
  }
})

t.test('PATCH: results are upserted by marker', async (t) => {
  const glucose = normalized({ marker: 'glucose', value: 90, unit: 'mg/dL' })
  const ldl = normalized({ marker: 'ldl', value: 120, unit: 'mg/dL' })
  const newGlucose = normalized({ marker: 'glucose', value: 110, unit: 'mg/dL' })
  const crp = normalized({ marker: 'crp', value: 1, unit: 'mg/L' })
  t.same(mergeBloodResults([glucose, ldl], [crp, newGlucose]), [newGlucose, ldl, crp])
})
