import t from 'tap'
import {
  DEFAULT_TIMEZONE,
  isIanaTimeZone,
  MAX_AGE_YEARS,
  USER_RANGES,
  type UserInput,
  validateUser,
} from '../../../src/domain/validation/index.js'

const now = new Date('2026-03-01T12:00:00Z')
const email = 'ada@example.com'

function issuesOf(input: UserInput) {
  const result = validateUser(input, now)
  return result.ok ? [] : result.issues
}
const pathsOf = (input: UserInput) => issuesOf(input).map((i) => i.path)

t.test('email: required, trimmed, case kept for display, lowercased for uniqueness', async (t) => {
  const result = validateUser({ email: '  Ada.Lovelace@Example.COM ' }, now)
  t.ok(result.ok)
  if (result.ok) {
    t.equal(result.value.email, 'Ada.Lovelace@Example.COM')
    t.equal(result.value.email_normalized, 'ada.lovelace@example.com')
  }
  t.same(pathsOf({}), ['/email'])
  t.same(pathsOf({ email: null }), ['/email'])
  for (const bad of ['', 'ada', 'ada@', '@example.com', 'ada@example', 'ada @example.com', 'ada@example..com', 'ada@@example.com']) {
    t.same(pathsOf({ email: bad }), ['/email'], `${JSON.stringify(bad)} rejected`)
  }
  t.ok(validateUser({ email: `${'a'.repeat(64)}@example.com` }, now).ok, '64-character local part')
  t.same(pathsOf({ email: `${'a'.repeat(65)}@example.com` }), ['/email'])
  t.ok(validateUser({ email: `a@${'b'.repeat(248)}.com` }, now).ok, '254 characters')
  t.same(pathsOf({ email: `a@${'b'.repeat(249)}.com` }), ['/email'], '255 characters')
  const composed = validateUser({ email: 'Jose\u0301@example.com' }, now)
  t.equal(composed.ok && composed.value.email_normalized, 'jos\u00e9@example.com', 'NFC before lowercasing')
})

t.test('birth_date: real, not in the future, age at most 125 years', async (t) => {
  t.equal(MAX_AGE_YEARS, 125)
  t.ok(validateUser({ email, birth_date: '1990-05-17' }, now).ok)
  t.same(pathsOf({ email, birth_date: '1990-02-30' }), ['/birth_date'])
  t.ok(validateUser({ email, birth_date: '2026-03-02' }, now).ok, 'already 2 March in UTC+14')
  t.same(pathsOf({ email, birth_date: '2026-03-03' }), ['/birth_date'])
  // On 2026-03-01 someone born 1900-03-02 is 125 (accepted); born 1900-03-01 they turned 126.
  t.ok(validateUser({ email, birth_date: '1900-03-02' }, now).ok, 'age 125')
  const tooOld = issuesOf({ email, birth_date: '1900-03-01' })
  t.same(tooOld.map((i) => i.path), ['/birth_date'], 'age 126')
  t.match(tooOld[0].message, 'over 125 years (the oldest verified human lived to 122)')
})

t.test('height_cm bounds, both sides', async (t) => {
  t.same(USER_RANGES.height_cm, { min: 50, max: 275, unit: 'cm' })
  t.ok(validateUser({ email, height_cm: 50 }, now).ok)
  t.ok(validateUser({ email, height_cm: 275 }, now).ok)
  t.same(pathsOf({ email, height_cm: 49.99 }), ['/height_cm'])
  t.same(pathsOf({ email, height_cm: 275.01 }), ['/height_cm'])
})

t.test('sex is one of the contract values', async (t) => {
  for (const sex of ['female', 'male', 'other', 'unknown']) t.ok(validateUser({ email, sex }, now).ok, sex)
  t.match(issuesOf({ email, sex: 'F' }), [{ path: '/sex', message: "sex must be one of female, male, other, unknown (got 'F')" }])
})

t.test('timezone: an IANA name, UTC by default', async (t) => {
  const plain = validateUser({ email }, now)
  t.equal(plain.ok && plain.value.timezone, 'UTC')
  t.equal(DEFAULT_TIMEZONE, 'UTC')
  const nullZone = validateUser({ email, timezone: null }, now)
  t.equal(nullZone.ok && nullZone.value.timezone, 'UTC')
  for (const zone of ['Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati', 'Asia/Kolkata', 'Etc/GMT+5']) {
    t.ok(isIanaTimeZone(zone), zone)
  }
  const berlin = validateUser({ email, timezone: ' Europe/Berlin ' }, now)
  t.equal(berlin.ok && berlin.value.timezone, 'Europe/Berlin', 'trimmed, kept as given')
  for (const zone of ['Mars/Olympus', '+01:00', '-05:00', '', 'Z']) {
    t.notOk(isIanaTimeZone(zone), `${JSON.stringify(zone)} is not an IANA name`)
    t.same(pathsOf({ email, timezone: zone }), ['/timezone'])
  }
})

t.test('name: trimmed, not blank, at most 200 characters', async (t) => {
  const named = validateUser({ email, name: '  Ada Lovelace ' }, now)
  t.equal(named.ok && named.value.name, 'Ada Lovelace')
  t.same(pathsOf({ email, name: '   ' }), ['/name'])
  t.ok(validateUser({ email, name: 'x'.repeat(200) }, now).ok)
  t.same(pathsOf({ email, name: 'x'.repeat(201) }), ['/name'])
})

t.test('all issues at once; absent optional fields are null', async (t) => {
  t.same(pathsOf({ email: 'x', birth_date: '3000-01-01', height_cm: 10, timezone: 'Nowhere' }).sort(), [
    '/birth_date', '/email', '/height_cm', '/timezone',
  ])
  const result = validateUser({ email }, now)
  t.same(result.ok && result.value, {
    email, email_normalized: email, name: null, birth_date: null, sex: null, height_cm: null, timezone: 'UTC',
  })
})
