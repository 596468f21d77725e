/**
 * With production-like volume (≥ 200k rows in the largest table), every list and lookup query the
 * application issues uses an index, never a sequential scan. The queries are captured from the
 * real repository functions, then EXPLAINed with their parameters.
 */
import t from 'tap'
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely'
import pg from 'pg'
import { createTestDatabase } from '../helper.js'
import type { Database } from '../../src/repositories/database.js'
import * as records from '../../src/repositories/health-records.js'
import { listUsers, findUser } from '../../src/repositories/users.js'
import { listRejections } from '../../src/repositories/rejections.js'
import { listAudit } from '../../src/repositories/audit.js'
import { findScore, listScores, loadScoreInput } from '../../src/repositories/scores.js'
import { claimScoreJobs } from '../../src/repositories/score-jobs.js'
import { RESOURCES } from '../../src/services/health/specs.js'
import { BASELINE_CHECKED_FIELDS } from '../../src/domain/anomaly.js'

t.test('every list and lookup query uses an index at 200k rows', async (t) => {
  const url = await createTestDatabase(t)
  const captured: CompiledQuery[] = []
  // the database is dropped WITH (FORCE) at teardown, possibly before these connections close:
  // their termination must not surface as an unhandled 'error' event
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  pool.on('error', () => {})
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (e) => { if (e.level === 'query') captured.push(e.query) }
  })
  t.teardown(() => db.destroy())

  const USERS = 2000
  await sql`INSERT INTO users (user_uuid, email, email_normalized, created_at)
    SELECT md5('u' || i)::uuid, 'u' || i || '@example.com', 'u' || i || '@example.com', now() - make_interval(mins => i)
    FROM generate_series(1, ${USERS}) i`.execute(db)
  // 100 readings per user, 6 hours apart: 200 000 rows in the largest table
  await sql`INSERT INTO bio_metrics (user_uuid, recorded, resting_heart_rate_bpm, weight_kg)
    SELECT md5('u' || u)::uuid, timestamptz '2026-01-01' + make_interval(hours => 6 * r), 55 + (r % 10), 70
    FROM generate_series(1, ${USERS}) u, generate_series(1, 100) r`.execute(db)
  for (const table of ['physical_activity', 'sleep_activity']) {
    const metric = table === 'physical_activity' ? sql`steps` : sql`total_sleep_minutes`
    await sql`INSERT INTO ${sql.table(table)} (user_uuid, date, ${metric})
      SELECT md5('u' || u)::uuid, date '2026-01-01' + d, 400 + d FROM generate_series(1, ${USERS}) u, generate_series(1, 60) d`.execute(db)
  }
  await sql`INSERT INTO blood_tests (user_uuid, test_date, results)
    SELECT md5('u' || u)::uuid, date '2025-01-01' + 30 * d, '[]'::jsonb FROM generate_series(1, ${USERS}) u, generate_series(1, 10) d`.execute(db)
  await sql`INSERT INTO health_scores (user_uuid, date, algorithm_version, state, confidence, result, data_version)
    SELECT md5('u' || u)::uuid, date '2026-01-01' + d, 'v2', 'ok', 0.9, '{}'::jsonb, 0 FROM generate_series(1, ${USERS}) u, generate_series(1, 30) d`.execute(db)
  await sql`INSERT INTO ingest_rejections (user_uuid, resource, reason, created_at)
    SELECT md5('u' || (i % ${USERS}))::uuid, 'bio_metrics', 'implausible', now() - make_interval(secs => i) FROM generate_series(1, 50000) i`.execute(db)
  await sql`INSERT INTO audit_log (actor_sub, actor_role, action, target_user_uuid, method, route, status, at)
    SELECT md5('u' || (i % ${USERS}))::uuid, 'user', 'read', md5('u' || (i % ${USERS}))::uuid, 'GET', '/api/x', 200, now() - make_interval(secs => i) FROM generate_series(1, 50000) i`.execute(db)
  await sql`INSERT INTO score_jobs (user_uuid, from_date, run_after) SELECT md5('u' || u)::uuid, date '2026-01-01', now() + interval '1 day' FROM generate_series(1, ${USERS}) u`.execute(db)
  await sql`ANALYZE`.execute(db)
  // as autovacuum leaves a table that took its inserts a while ago: pages marked all-visible, so
  // an index holding every column a query needs answers it without visiting the table
  await sql`VACUUM bio_metrics, physical_activity, sleep_activity`.execute(db)

  const largest = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bio_metrics`.execute(db)
  t.ok(largest.rows[0]!.n >= 200_000, `${largest.rows[0]!.n} rows in bio_metrics`)

  const someone = (await sql<{ u: string }>`SELECT md5('u' || 777)::uuid::text AS u`.execute(db)).rows[0]!.u
  const other = (await sql<{ u: string }>`SELECT md5('u' || 778)::uuid::text AS u`.execute(db)).rows[0]!.u
  captured.length = 0
  for (const spec of RESOURCES) {
    await records.listRecords(db, spec, someone, { limit: 100 })
    await records.listRecords(db, spec, someone, { limit: 50, from: '2026-01-10', to: '2026-02-10' })
    await records.findRecord(db, spec, someone, spec.keyKind === 'timestamp' ? '2026-01-05T00:00:00.000Z' : '2026-01-05')
    if (spec.anomaly) await records.baselineRows(db, spec, [someone], '2026-01-01T00:00:00.000Z', '2026-01-29T00:00:00.000Z')
    // the fields the single writes ask for (services/health/records.ts)
    const fields = spec.anomaly ? BASELINE_CHECKED_FIELDS[spec.anomaly].map((rule) => rule.field) : []
    const window = spec.anomaly ? { from: '2026-01-01T00:00:00.000Z', to: '2026-01-29T00:00:00.000Z' } : null
    await records.writeContexts(db, spec, fields, [{ user_uuid: someone, window }, { user_uuid: other, window }])
    const stored = spec.keyKind === 'timestamp' ? '2026-01-05T00:00:00.000Z' : '2026-01-05'
    await records.findRecords(db, spec, [{ user_uuid: someone, key: stored }, { user_uuid: other, key: stored }])
    const key = spec.keyKind === 'timestamp' ? '2027-01-05T00:00:00.000Z' : '2027-01-05'
    const values = Object.fromEntries(spec.columns.filter((c) => c === 'weight_kg' || c === 'steps' || c === 'total_sleep_minutes').map((c) => [c, 70]))
    if (spec.name !== 'blood_tests') await records.insertRecordsWithEffects(db, spec, [someone, other].map((user_uuid) => ({ user_uuid, key, values, source: 'manual', quality: 'ok' as const, quality_reasons: [] })))
  }
  await loadScoreInput(db, someone, { activityFrom: '2025-12-24', sleepFrom: '2025-12-24', biometricsFrom: new Date('2025-12-23T10:00:00Z'), biometricsBefore: new Date('2026-01-21T12:00:00Z'), bloodFrom: '2025-01-20', to: '2026-01-20' })
  await findScore(db, someone, '2026-01-20', 'v2')
  await listScores(db, someone, 'v2', '2026-01-01', '2026-01-30', 366)
  await findUser(db, someone)
  await listUsers(db, { limit: 100 })
  await listRejections(db, { user_uuid: someone, limit: 100 })
  await listRejections(db, { limit: 100 })
  await listAudit(db, { user_uuid: someone, limit: 100 })
  await listAudit(db, { limit: 100 })
  await claimScoreJobs(db, 'plan-test', 5, 60)

  function scans(plan: Record<string, unknown>, out: string[] = []): string[] {
    if (plan['Node Type'] === 'Seq Scan') out.push(String(plan['Relation Name']))
    for (const child of (plan.Plans as Array<Record<string, unknown>> | undefined) ?? []) scans(child, out)
    return out
  }

  function indexOnly(plan: Record<string, unknown>, out: string[] = []): string[] {
    if (plan['Node Type'] === 'Index Only Scan') out.push(String(plan['Index Name']))
    for (const child of (plan.Plans as Array<Record<string, unknown>> | undefined) ?? []) indexOnly(child, out)
    return out
  }

  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  const selects = captured.filter((q) => /^\s*(select|update|with)/i.test(q.sql))
  t.ok(selects.length >= 25, `${selects.length} queries captured`)
  for (const [i, q] of selects.entries()) {
    t.test(q.sql.slice(0, 90), async (t) => {
      await client.query('BEGIN')
      const explained = await client.query(`EXPLAIN (FORMAT JSON) ${q.sql}`, q.parameters as unknown[])
      // repeated statements run prepared (plugins/db.ts); after five runs PostgreSQL may settle on
      // a generic plan, made without the parameters' values: that one must use the indexes too
      await client.query(`PREPARE plan_${i} AS ${q.sql}`)
      await client.query('SET LOCAL plan_cache_mode = force_generic_plan')
      // EXECUTE takes no bind parameters: the values as literals, in the text form pg sends
      const literal = (v: unknown): string => (v === null || v === undefined ? 'NULL' : client.escapeLiteral(v instanceof Date ? v.toISOString() : Array.isArray(v) ? `{${v.map((x) => (x === null ? 'NULL' : JSON.stringify(String(x)))).join(',')}}` : String(v)))
      const args = q.parameters.map(literal).join(', ')
      const generic = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE plan_${i}${args ? `(${args})` : ''}`)
      await client.query('ROLLBACK')
      await client.query(`DEALLOCATE plan_${i}`)
      const planOf = (rows: Array<Record<string, unknown>>) => (rows[0]!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan
      t.same(scans(planOf(explained.rows)), [], 'no sequential scan')
      t.same(scans(planOf(generic.rows)), [], 'no sequential scan in the generic plan either')
      // the baseline of a single write (writeContexts) is read from its covering index alone
      const table = RESOURCES.find((spec) => spec.anomaly && q.sql.includes('json_build_object') && q.sql.includes(`from "${spec.name}"`))?.name
      if (table) {
        for (const plan of [planOf(explained.rows), planOf(generic.rows)]) t.same(indexOnly(plan), [`${table}_baseline_idx`], `${table}: the baseline comes from an index-only scan of ${table}_baseline_idx`)
      }
    })
  }
})
