import t from 'tap'
import {
  MINUTES_PER_DAY,
  PHYSICAL_ACTIVITY_FIELDS,
  PHYSICAL_ACTIVITY_RANGES,
  type PhysicalActivityInput,
  validatePhysicalActivity,
} from '../../../src/domain/validation/index.js'

const now = new Date('2026-03-01T12:00:00Z')
const date = '2026-02-28'

function pathsOf(input: PhysicalActivityInput): string[] {
  const result = validatePhysicalActivity(input, now)
  return result.ok ? [] : result.issues.map((i) => i.path)
}
function messagesOf(input: PhysicalActivityInput): string[] {
  const result = validatePhysicalActivity(input, now)
  return result.ok ? [] : result.issues.map((i) => i.message)
}

t.test('contract bounds: steps ≤ 100 000, minutes ≤ 1440', async (t) => {
  t.same(PHYSICAL_ACTIVITY_RANGES.steps, { min: 0, max: 100_000, unit: 'steps', integer: true })
  for (const field of ['active_minutes', 'moderate_minutes', 'vigorous_minutes'] as const) {
    t.equal(PHYSICAL_ACTIVITY_RANGES[field].max, MINUTES_PER_DAY)
  }
  t.equal(MINUTES_PER_DAY, 1440)
})

t.test('every bound, from both sides', async (t) => {
  for (const field of PHYSICAL_ACTIVITY_FIELDS) {
    const { min, max, integer } = PHYSICAL_ACTIVITY_RANGES[field] as { min: number; max: number; integer?: boolean }
    const step = integer === true ? 1 : 0.01
    t.ok(validatePhysicalActivity({ date, [field]: min }, now).ok, `${field} = ${min} accepted`)
    t.ok(validatePhysicalActivity({ date, [field]: max }, now).ok, `${field} = ${max} accepted`)
    t.same(pathsOf({ date, [field]: min - step }), [`/${field}`], `${field} = ${min - step} rejected`)
    t.same(pathsOf({ date, [field]: max + step }), [`/${field}`], `${field} = ${max + step} rejected`)
    if (integer === true) {
      t.same(pathsOf({ date, [field]: min + 0.5 }), [`/${field}`], `${field} must be whole`)
      t.match(messagesOf({ date, [field]: min + 0.5 })[0], 'must be a whole number')
    }
  }
})

t.test('at least one metric', async (t) => {
  t.same(pathsOf({ date }), [''])
  t.ok(validatePhysicalActivity({ date, steps: 0 }, now).ok, 'zero is a value, not an absence')
})

t.test('date: required, a real calendar date, not after today anywhere on Earth', async (t) => {
  t.same(pathsOf({ steps: 1 }), ['/date'])
  t.same(pathsOf({ date: '2026-02-30', steps: 1 }), ['/date'])
  t.match(messagesOf({ date: '2026-02-30', steps: 1 })[0], /date is not a calendar date: day 30 does not exist in 2026-02/)
  t.ok(validatePhysicalActivity({ date: '2026-03-02', steps: 1 }, now).ok, 'already 2 March in UTC+14')
  t.same(pathsOf({ date: '2026-03-02', steps: 1 }), [])
  t.ok(validatePhysicalActivity({ date: '2026-03-02', steps: 1 }, new Date('2026-03-01T10:00:00Z')).ok)
  t.same(
    (validatePhysicalActivity({ date: '2026-03-02', steps: 1 }, new Date('2026-03-01T09:59:59Z')) as { issues: unknown[] }).issues.length,
    1,
    'not yet 2 March anywhere',
  )
  t.same(pathsOf({ date: '2026-03-03', steps: 1 }), ['/date'])
})

t.test('moderate + vigorous minutes fit in active minutes', async (t) => {
  t.ok(validatePhysicalActivity({ date, active_minutes: 60, moderate_minutes: 40, vigorous_minutes: 20 }, now).ok)
  t.ok(validatePhysicalActivity({ date, active_minutes: 60, moderate_minutes: 40.4, vigorous_minutes: 20.4 }, now).ok, 'rounding slack of 0.5 min per value')
  t.same(pathsOf({ date, active_minutes: 60, moderate_minutes: 40, vigorous_minutes: 22 }), ['/active_minutes'])
  t.match(messagesOf({ date, active_minutes: 60, moderate_minutes: 40, vigorous_minutes: 22 })[0], 'active_minutes (60) must be at least moderate_minutes + vigorous_minutes (62)')
  t.same(pathsOf({ date, active_minutes: 30, vigorous_minutes: 45 }), ['/active_minutes'], 'applies with one intensity field')
  t.ok(validatePhysicalActivity({ date, moderate_minutes: 900, vigorous_minutes: 100 }, now).ok, 'no active_minutes: nothing to compare')
})

t.test('moderate + vigorous minutes fit in a day', async (t) => {
  t.ok(validatePhysicalActivity({ date, moderate_minutes: 1000, vigorous_minutes: 440 }, now).ok)
  t.same(pathsOf({ date, moderate_minutes: 1000, vigorous_minutes: 442 }), [''])
  t.match(messagesOf({ date, moderate_minutes: 1000, vigorous_minutes: 442 })[0], 'must not exceed the 1440 minutes of a day')
})

t.test('average heart rate ≤ maximum heart rate', async (t) => {
  t.ok(validatePhysicalActivity({ date, avg_heart_rate_bpm: 150, max_heart_rate_bpm: 150 }, now).ok)
  t.same(pathsOf({ date, avg_heart_rate_bpm: 151, max_heart_rate_bpm: 150 }), ['/avg_heart_rate_bpm'])
})

t.test('normalized value', async (t) => {
  const result = validatePhysicalActivity({ date, steps: 8421, distance_m: 6100.5 }, now)
  t.ok(result.ok)
  if (result.ok) {
    t.equal(result.value.date, date)
    t.equal(result.value.steps, 8421)
    t.equal(result.value.floors, null)
    t.same(Object.keys(result.value).sort(), ['date', ...PHYSICAL_ACTIVITY_FIELDS].sort())
  }
})
