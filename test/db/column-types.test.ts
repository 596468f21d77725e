/**
 * Health records go to PostgreSQL as JSON arrays, each value cast to its column's type
 * (`jsonColumns` in repositories/health-records.ts, `insertJsonArrayRowsFrom`). The types are
 * declared in the repository: they must be the tables' own, and every kind of value must arrive
 * as it was sent (nulls, text arrays with awkward characters, jsonb, timestamps, integers).
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { DB } from '../../src/repositories/database.js'
import { insertRecordsWithEffects, jsonColumns, upsertRecords } from '../../src/repositories/health-records.js'
import { bioMetrics, bloodTests, physicalActivity, RESOURCES, sleepActivity } from '../../src/services/health/specs.js'
import { createTestDatabase } from '../helper.js'

t.test('every column a record carries is declared with its table\'s type', async (t) => {
  const url = await createTestDatabase(t)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  for (const spec of RESOURCES) {
    const columns = jsonColumns(spec)
    const declared = await client.query<{ name: string; type: string }>(
      'SELECT c.name, c.type::regtype::text AS type FROM unnest($1::text[], $2::text[]) AS c(name, type)',
      [columns.map(([c]) => c), columns.map(([, type]) => type)]
    )
    const actual = await client.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute
       WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname = ANY($2::text[])`,
      [spec.name, columns.map(([c]) => c)]
    )
    const byName = new Map(actual.rows.map((r) => [r.name, r.type]))
    for (const { name, type } of declared.rows) t.equal(type, byName.get(name), `${spec.name}.${name}`)
    t.equal(actual.rows.length, columns.length, `${spec.name}: every declared column exists`)
  }
})

t.test('values arrive as sent: nulls, trailing nulls, reasons with quotes and commas, jsonb, timestamps, integers', async (t) => {
  const url = await createTestDatabase(t)
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const db = new Kysely<never>({ dialect: new PostgresDialect({ pool }) }) as unknown as DB
  t.teardown(() => db.destroy())
  const user = randomUUID()
  await pool.query(`INSERT INTO users (user_uuid, email, email_normalized, sex, timezone) VALUES ($1, $2, $2, 'female', 'UTC')`, [user, `${user}@example.com`])
  const reasons = ['a "quoted", {braced} reason', 'ünïcode ✓ and a \\ backslash', '']
  const outcomes = await upsertRecords(db, bioMetrics, [
    { user_uuid: user, key: '2026-01-02T03:04:05.678Z', values: { weight_kg: 70.1, spo2_pct: 0.30000000000000004 }, source: 'watch', quality: 'suspect', quality_reasons: reasons },
    { user_uuid: user, key: '2026-01-02T03:04:06.000Z', values: {}, source: 'manual', quality: 'ok', quality_reasons: [] }
  ])
  t.same(outcomes.map((o) => [o.key, o.inserted]).sort(), [['2026-01-02T03:04:05.678Z', true], ['2026-01-02T03:04:06.000Z', true]])
  const bio = await pool.query(`SELECT to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at, weight_kg, spo2_pct, heart_rate_bpm, respiratory_rate_bpm, source, quality, quality_reasons
    FROM bio_metrics WHERE user_uuid = $1 ORDER BY recorded`, [user])
  t.same(bio.rows[0], { at: '2026-01-02T03:04:05.678', weight_kg: 70.1, spo2_pct: 0.30000000000000004, heart_rate_bpm: null, respiratory_rate_bpm: null, source: 'watch', quality: 'suspect', quality_reasons: reasons })
  t.same(bio.rows[1], { at: '2026-01-02T03:04:06.000', weight_kg: null, spo2_pct: null, heart_rate_bpm: null, respiratory_rate_bpm: null, source: 'manual', quality: 'ok', quality_reasons: [] }, 'all data null: the usual quality')

  await upsertRecords(db, bloodTests, [{ user_uuid: user, key: '2026-01-03', values: { lab: null, results: [{ marker: 'ldl', value: 2.8, unit: 'mmol/L', note: 'a "b" \\ c' }] }, source: 'lab', quality: 'ok', quality_reasons: [] }])
  const blood = await pool.query('SELECT test_date::text AS d, lab, results FROM blood_tests WHERE user_uuid = $1', [user])
  t.same(blood.rows, [{ d: '2026-01-03', lab: null, results: [{ marker: 'ldl', value: 2.8, unit: 'mmol/L', note: 'a "b" \\ c' }] }], 'jsonb as sent, a null text column NULL')

  await insertRecordsWithEffects(db, sleepActivity, [{ user_uuid: user, key: '2026-01-03', values: { sleep_start: '2026-01-02T22:30:00.000Z', sleep_end: '2026-01-03T06:15:30.250Z', interruptions: 3, total_sleep_minutes: 465.5 }, source: 'ring', quality: 'ok', quality_reasons: [] }])
  const sleep = await pool.query(`SELECT date::text AS d, to_char(sleep_start AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS s, to_char(sleep_end AT TIME ZONE 'UTC', 'HH24:MI:SS.MS') AS e, interruptions, total_sleep_minutes, deep_minutes FROM sleep_activity WHERE user_uuid = $1`, [user])
  t.same(sleep.rows, [{ d: '2026-01-03', s: '22:30:00.000', e: '06:15:30.250', interruptions: 3, total_sleep_minutes: 465.5, deep_minutes: null }])

  await insertRecordsWithEffects(db, physicalActivity, [{ user_uuid: user, key: '2026-01-03', values: { steps: 12345, floors: 0 }, source: 'phone', quality: 'ok', quality_reasons: [] }])
  const activity = await pool.query('SELECT steps, floors, distance_m FROM physical_activity WHERE user_uuid = $1', [user])
  t.same(activity.rows, [{ steps: 12345, floors: 0, distance_m: null }], 'integers, a zero kept, a missing value NULL')
})
