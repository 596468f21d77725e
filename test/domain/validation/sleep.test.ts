import t from 'tap'
import {
  MAX_TIME_IN_BED_MINUTES,
  SLEEP_METRIC_FIELDS,
  SLEEP_RANGES,
  type SleepInput,
  validateSleep,
} from '../../../src/domain/validation/index.js'

const now = new Date('2026-03-01T12:00:00Z')
// 8 h in bed (480 min), ending on 1 March local time (+01:00).
const night = { date: '2026-03-01', sleep_start: '2026-02-28T23:00:00+01:00', sleep_end: '2026-03-01T07:00:00+01:00' }

function issuesOf(input: SleepInput) {
  const result = validateSleep(input, now)
  return result.ok ? [] : result.issues
}
const pathsOf = (input: SleepInput) => issuesOf(input).map((i) => i.path)

t.test('every bound, from both sides', async (t) => {
  const date = '2026-03-01'
  for (const field of SLEEP_METRIC_FIELDS) {
    const { min, max, integer } = SLEEP_RANGES[field] as { min: number; max: number; integer?: boolean }
    const step = integer === true ? 1 : 0.01
    t.ok(validateSleep({ date, [field]: min }, now).ok, `${field} = ${min} accepted`)
    t.ok(validateSleep({ date, [field]: max }, now).ok, `${field} = ${max} accepted`)
    t.same(pathsOf({ date, [field]: min - step }), [`/${field}`], `${field} below min rejected`)
    t.same(pathsOf({ date, [field]: max + step }), [`/${field}`], `${field} above max rejected`)
  }
  t.same(pathsOf({ date, interruptions: 2.5 }), ['/interruptions'], 'interruptions are whole numbers')
})

t.test('at least one metric or the start/end pair', async (t) => {
  t.same(pathsOf({ date: '2026-03-01' }), [''])
  t.ok(validateSleep(night, now).ok, 'start and end alone are enough')
})

t.test('start and end come together, end after start, at most 24 h apart', async (t) => {
  t.same(pathsOf({ date: '2026-03-01', sleep_start: night.sleep_start }), ['/sleep_end'])
  t.match(issuesOf({ date: '2026-03-01', sleep_end: night.sleep_end })[0], {
    path: '/sleep_start',
    message: 'sleep_start is required when sleep_end is given',
  })
  t.same(pathsOf({ ...night, sleep_end: night.sleep_start }), ['/sleep_end'], 'zero-length sleep rejected')
  t.same(pathsOf({ ...night, sleep_start: night.sleep_end, sleep_end: night.sleep_start, date: '2026-02-28' }), ['/sleep_end'])
  t.equal(MAX_TIME_IN_BED_MINUTES, 1440)
  t.ok(validateSleep({ date: '2026-03-01', sleep_start: '2026-02-28T07:00:00Z', sleep_end: '2026-03-01T07:00:00Z' }, now).ok, 'exactly 24 h')
  const tooLong = issuesOf({ date: '2026-03-01', sleep_start: '2026-02-28T06:59:00Z', sleep_end: '2026-03-01T07:00:00Z' })
  t.same(tooLong.map((i) => i.path), ['/sleep_end'])
  t.match(tooLong[0].message, 'at most 24 h after sleep_start (got 24.02 h)')
  t.ok(validateSleep({ date: '2026-03-01', sleep_start: '2026-03-01T01:00:00+05:00', sleep_end: '2026-03-01T01:30:00+01:00' }, now).ok, 'offsets are compared as instants')
})

t.test('sleep_end not in the future beyond the clock skew', async (t) => {
  t.ok(validateSleep({ date: '2026-03-01', sleep_start: '2026-03-01T04:00:00Z', sleep_end: '2026-03-01T12:05:00Z' }, now).ok)
  t.same(pathsOf({ date: '2026-03-01', sleep_start: '2026-03-01T04:00:00Z', sleep_end: '2026-03-01T12:06:00Z' }), ['/sleep_end'])
})

t.test('date is the local date of sleep_end, ±1 day', async (t) => {
  t.ok(validateSleep({ ...night, date: '2026-03-01' }, now).ok)
  t.ok(validateSleep({ ...night, date: '2026-02-28' }, now).ok, 'a client that used the UTC date')
  t.same(pathsOf({ ...night, date: '2026-02-27' }), ['/date'])
  t.match(issuesOf({ ...night, date: '2026-02-27' })[0].message, 'date (2026-02-27) must be the day the sleep ended, but sleep_end is on 2026-03-01')
  // 23:30 in New York on 28 Feb is already 1 March in UTC; the own-offset date is what counts.
  const newYork = { sleep_start: '2026-02-28T15:30:00-05:00', sleep_end: '2026-02-28T23:30:00-05:00' }
  t.ok(validateSleep({ ...newYork, date: '2026-02-28' }, now).ok)
  t.ok(validateSleep({ ...newYork, date: '2026-03-01' }, now).ok)
  t.same(pathsOf({ ...newYork, date: '2026-02-26' }), ['/date'])
})

t.test('stage minutes fit in the time in bed', async (t) => {
  const stages = { deep_minutes: 90, rem_minutes: 100, light_minutes: 250, awake_minutes: 40 } // 480
  t.ok(validateSleep({ ...night, ...stages }, now).ok, 'exactly the time in bed')
  t.ok(validateSleep({ ...night, ...stages, awake_minutes: 42.5 }, now).ok, 'within 0.5 min of rounding per value')
  const over = issuesOf({ ...night, ...stages, awake_minutes: 43 })
  t.same(over.map((i) => i.path), [''])
  t.match(over[0].message, 'deep_minutes + rem_minutes + light_minutes + awake_minutes (483 min) must not exceed the time in bed between sleep_start and sleep_end (480 min)')
  t.same(pathsOf({ date: '2026-03-01', deep_minutes: 1000, awake_minutes: 442 }), [''], 'without start/end: at most 24 h of stages')
})

t.test('total sleep fits in the time in bed', async (t) => {
  t.ok(validateSleep({ ...night, total_sleep_minutes: 480 }, now).ok)
  t.same(pathsOf({ ...night, total_sleep_minutes: 482 }), ['/total_sleep_minutes'])
})

t.test('asleep stages fit in the total; awake is not sleep', async (t) => {
  const stages = { deep_minutes: 90, rem_minutes: 100, light_minutes: 250 } // 440 asleep
  t.ok(validateSleep({ ...night, ...stages, awake_minutes: 40, total_sleep_minutes: 440 }, now).ok)
  t.ok(validateSleep({ ...night, ...stages, awake_minutes: 40, total_sleep_minutes: 450 }, now).ok, 'total may exceed known stages')
  const short = issuesOf({ ...night, ...stages, total_sleep_minutes: 400 })
  t.same(short.map((i) => i.path), ['/total_sleep_minutes'])
  t.match(short[0].message, 'total_sleep_minutes (400) must be at least deep_minutes + rem_minutes + light_minutes (440); awake_minutes is not counted as sleep')
  t.ok(validateSleep({ ...night, ...stages, awake_minutes: 40, total_sleep_minutes: 439 }, now).ok, 'rounding slack: 4 values × 0.5 min')
  t.same(pathsOf({ ...night, ...stages, total_sleep_minutes: 437.9 }), ['/total_sleep_minutes'])
})

t.test('the total is derived from a complete set of asleep stages', async (t) => {
  const full = validateSleep({ ...night, deep_minutes: 90, rem_minutes: 100, light_minutes: 250, awake_minutes: 40 }, now)
  t.equal(full.ok && full.value.total_sleep_minutes, 440, 'deep + rem + light, awake excluded')
  const partial = validateSleep({ ...night, deep_minutes: 90, rem_minutes: 100 }, now)
  t.equal(partial.ok && partial.value.total_sleep_minutes, null, 'a partial set would understate the total')
  const given = validateSleep({ ...night, deep_minutes: 90, rem_minutes: 100, light_minutes: 250, total_sleep_minutes: 445 }, now)
  t.equal(given.ok && given.value.total_sleep_minutes, 445, 'a given total wins')
  t.same(pathsOf({ date: '2026-03-01', deep_minutes: 500, rem_minutes: 500, light_minutes: 300 }), [''], 'a derived total above 20 h is rejected')
})

t.test('normalized value', async (t) => {
  const result = validateSleep({ ...night, interruptions: 2 }, now)
  t.ok(result.ok)
  if (!result.ok) return
  t.equal(result.value.sleep_start, '2026-02-28T22:00:00.000Z')
  t.equal(result.value.sleep_end, '2026-03-01T06:00:00.000Z')
  t.equal(result.value.interruptions, 2)
  t.equal(result.value.deep_minutes, null)
  const minimal = validateSleep({ date: '2026-03-01', total_sleep_minutes: 420 }, now)
  t.same(minimal.ok && [minimal.value.sleep_start, minimal.value.sleep_end], [null, null])
})
