import t from 'tap'
import fc from 'fast-check'
import {
  addDays,
  CLOCK_SKEW_ALLOWANCE_MS,
  type FieldIssue,
  latestLocalDateOnEarth,
  MAX_UTC_OFFSET_AHEAD_MINUTES,
  parseCalendarDate,
  parseTimestamp,
  readDateField,
  readTimestampField,
} from '../../../src/domain/validation/index.js'

t.equal(CLOCK_SKEW_ALLOWANCE_MS, 300_000, 'five minutes of clock skew')
t.equal(MAX_UTC_OFFSET_AHEAD_MINUTES, 840, 'UTC+14')

t.test('calendar dates are real dates', async (t) => {
  for (const date of ['2026-02-28', '2024-02-29', '2000-02-29', '2026-12-31', '2026-04-30']) {
    t.ok(parseCalendarDate(date).ok, `${date} exists`)
  }
  for (const date of ['2026-02-30', '2026-02-29', '1900-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '2026-01-00']) {
    const parsed = parseCalendarDate(date)
    t.notOk(parsed.ok, `${date} does not exist`)
    if (!parsed.ok) t.match(parsed.reason, /is not a calendar date/)
  }
  for (const text of ['2026-3-1', '20260301', '2026-03-01T00:00:00Z', ' 2026-03-01', '']) {
    t.notOk(parseCalendarDate(text).ok, `${JSON.stringify(text)} is not YYYY-MM-DD`)
  }
})

t.test('RFC 3339 timestamps with an offset', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['2026-03-01T07:30:00Z', '2026-03-01T07:30:00.000Z', '2026-03-01'],
    ['2026-03-01t07:30:00z', '2026-03-01T07:30:00.000Z', '2026-03-01'],
    ['2026-03-01 07:30:00+01:00', '2026-03-01T06:30:00.000Z', '2026-03-01'],
    ['2026-02-28T23:30:00-05:00', '2026-03-01T04:30:00.000Z', '2026-02-28'],
    ['2026-03-01T00:15:00+0530', '2026-02-28T18:45:00.000Z', '2026-03-01'],
    ['2026-03-01T00:15:00+14', '2026-02-28T10:15:00.000Z', '2026-03-01'],
    ['2026-03-01T07:30:00.123456789Z', '2026-03-01T07:30:00.123Z', '2026-03-01'],
    ['2026-03-01T07:30:00.5Z', '2026-03-01T07:30:00.500Z', '2026-03-01'],
    ['0099-03-01T07:30:00Z', '0099-03-01T07:30:00.000Z', '0099-03-01'],
  ]
  for (const [text, iso, localDate] of cases) {
    const parsed = parseTimestamp(text)
    t.ok(parsed.ok, `${text} parses`)
    if (!parsed.ok) continue
    t.equal(parsed.value.iso, iso, `${text} is ${iso}`)
    t.equal(parsed.value.localDate, localDate, `${text} is on ${localDate} locally`)
  }
  t.equal((parseTimestamp('2026-03-01T07:30:00-05:30') as { value: { offsetMinutes: number } }).value.offsetMinutes, -330)
  for (const text of [
    '2026-03-01T07:30:00', '2026-03-01', '2026-02-30T07:30:00Z', '2026-03-01T24:00:00Z',
    '2026-03-01T07:60:00Z', '2026-03-01T23:59:60Z', '2026-03-01T07:30:00+24:00', '2026-03-01T07:30Z',
    'March 1 2026', '',
  ]) {
    t.notOk(parseTimestamp(text).ok, `${JSON.stringify(text)} is rejected`)
  }
})

t.test('any instant, written in any offset, parses back to itself and to its ISO form', async (t) => {
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0')
  fc.assert(
    fc.property(
      fc.integer({ min: -62_167_219_200_000, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
      fc.constantFrom('Z', 'offset'),
      (ms, offset, form) => {
        const instant = new Date(ms)
        if (instant.getUTCFullYear() < 0) return
        const iso = instant.toISOString()
        const shifted = new Date(ms + offset * 60_000)
        if (shifted.getUTCFullYear() < 0 || shifted.getUTCFullYear() > 9999) return
        const text = form === 'Z' ? iso : `${shifted.toISOString().slice(0, 23)}${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
        const parsed = parseTimestamp(text)
        if (!parsed.ok) throw new Error(`${text} rejected: ${parsed.reason}`)
        if (parsed.value.instant.getTime() !== ms) throw new Error(`${text} parsed as ${parsed.value.instant.toISOString()}, not ${iso}`)
        if (parsed.value.iso !== iso) throw new Error(`${text}: iso ${parsed.value.iso}, not ${iso}`)
      },
    ),
    { numRuns: 2000 },
  )
  t.pass('2000 generated timestamps')
})

t.test('the latest local date on Earth is the UTC date 14 h ahead', async (t) => {
  t.equal(latestLocalDateOnEarth(new Date('2026-03-01T09:59:59.999Z')), '2026-03-01')
  t.equal(latestLocalDateOnEarth(new Date('2026-03-01T10:00:00.000Z')), '2026-03-02')
  t.equal(latestLocalDateOnEarth(new Date('2026-12-31T23:00:00Z')), '2027-01-01')
})

t.test('addDays crosses months, years and leap days', async (t) => {
  t.equal(addDays('2024-02-28', 1), '2024-02-29')
  t.equal(addDays('2026-03-01', -1), '2026-02-28')
  t.equal(addDays('2026-12-31', 1), '2027-01-01')
})

t.test('readDateField', async (t) => {
  const now = new Date('2026-03-01T12:00:00Z')
  const read = (value: unknown, required = true) => {
    const issues: FieldIssue[] = []
    return { value: readDateField(issues, 'date', value, now, required), issues }
  }
  t.equal(read('2026-03-02').value, '2026-03-02', 'tomorrow in UTC is today in Kiribati')
  t.match(read('2026-03-03').issues, [{ path: '/date', message: /must not be in the future.*2026-03-02/ }])
  t.match(read('1899-12-31').issues, [{ path: '/date', message: /must not be before 1900-01-01/ }])
  t.equal(read('1900-01-01').value, '1900-01-01')
  t.match(read(null).issues, [{ path: '/date', message: 'date is required (YYYY-MM-DD)' }])
  t.same(read(undefined, false), { value: null, issues: [] })
  t.match(read(20260301).issues, [{ path: '/date', message: /must be a string/ }])
})

t.test('readTimestampField', async (t) => {
  const now = new Date('2026-03-01T12:00:00Z')
  const read = (value: unknown) => {
    const issues: FieldIssue[] = []
    return { value: readTimestampField(issues, 'at', value, now, true), issues }
  }
  t.equal(read('2026-03-01T12:05:00Z').value?.iso, '2026-03-01T12:05:00.000Z')
  t.match(read('2026-03-01T12:05:01Z').issues, [{ path: '/at', message: /must not be in the future/ }])
  t.match(read('1899-12-31T23:59:59Z').issues, [{ path: '/at', message: /before 1900-01-01/ }])
  t.match(read('9999-12-31T23:59:59-23:59').issues, [{ path: '/at', message: /future/ }], 'year 10000 in UTC is the future')
  t.ok(read('x'.repeat(1000)).issues[0].message.length < 200, 'long input is shortened in messages')
})
