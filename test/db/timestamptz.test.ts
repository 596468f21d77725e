/**
 * The timestamptz parser (repositories/timestamptz.ts) gives exactly what pg's own parser
 * (postgres-date) gives: on generated values of every shape and on what PostgreSQL itself prints.
 */
import { createRequire } from 'node:module'
import t from 'tap'
import fc from 'fast-check'
import pg from 'pg'
import { parseTimestamptz } from '../../src/repositories/timestamptz.js'
import { createTestDatabase } from '../helper.js'

const require = createRequire(import.meta.url)
const postgresDate = require('postgres-date') as (value: string) => unknown

const same = (value: string) => {
  const ours = parseTimestamptz(value, postgresDate)
  const theirs = postgresDate(value)
  const key = (v: unknown) => (v instanceof Date ? `date:${v.getTime()}` : `other:${String(v)}`)
  if (key(ours) !== key(theirs)) throw new Error(`${JSON.stringify(value)}: ${key(ours)} ≠ ${key(theirs)}`)
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

t.test('the UTC form, every field range and fraction length (property)', async (t) => {
  const value = fc
    .tuple(
      fc.integer({ min: 0, max: 12_000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }),
      fc.option(fc.stringMatching(/^[0-9]{1,7}$/), { nil: undefined }),
      fc.constantFrom('+00', '+00', '+00', '+02', '-05:30', '+05:45:10', 'Z', '', ' BC', '+00 BC', '+0')
    )
    .map(([y, mo, d, h, mi, s, frac, tz]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac === undefined ? '' : `.${frac}`}${tz}`)
  fc.assert(fc.property(value, (v) => same(v)), { numRuns: 20_000 })
  t.pass()
})

t.test('every millisecond fraction of 1 to 6 digits, and odd inputs', async (t) => {
  for (let i = 0; i < 1000; i++) {
    for (const frac of [String(i), pad(i, 3), `${pad(i, 3)}999`, `${pad(i, 3)}5`]) same(`2026-11-26 21:46:45.${frac}+00`)
  }
  for (const v of ['infinity', '-infinity', '2026-11-26', '2026-11-26 21:46:45+00', '2026-11-26 21:46:45.+00', '2026-11-26T21:46:45.5+00',
    '2026-1-26 21:46:45+00', '0099-01-01 00:00:00+00', '0999-12-31 23:59:59.999999+00', '12026-01-01 00:00:00+00', '2026-11-26 21:46:45.5+00 BC',
    'x026-11-26 21:46:45+00', '2026-11-26 21:46:4x+00', '2026-02-30 00:00:00+00', '']) same(v)
  t.pass()
})

t.test('what PostgreSQL prints for timestamptz', async (t) => {
  const url = await createTestDatabase(t)
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  for (const zone of ['UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'America/St_Johns']) {
    await client.query(`SET TimeZone = '${zone}'`)
    const res = await client.query<{ v: string }>(`SELECT (timestamptz '1970-01-01 00:00:00+00' + make_interval(secs => s * 9876.543219))::text AS v
      FROM generate_series(0, 200000, 997) s UNION ALL SELECT unnest(ARRAY['0001-01-01 00:00:00+00', '2000-02-29 12:00:00.000001+00', '9999-12-31 23:59:59.999999+00', 'infinity', '-infinity']::timestamptz[])::text`)
    for (const { v } of res.rows) same(v)
    t.ok(res.rows.length > 200, `${zone}: ${res.rows.length} values as PostgreSQL prints them`)
  }
})
