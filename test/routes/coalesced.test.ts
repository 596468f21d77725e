/**
 * Single POSTs of one event-loop turn share their two statements, and single-record GETs their one
 * (services/health/records.ts, repositories/coalescer.ts). Each request must still get exactly the
 * answer it would get alone: its own 201 and row, its own 409 or 404, its own quality; nothing
 * accepted is lost and no write's effects (data version, score job) are skipped.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { adminAuth, auth, buildTestApp, createUser } from '../helper.js'
import { insertGroup } from '../../src/services/health/records.js'
import { bioMetrics, physicalActivity } from '../../src/services/health/specs.js'

const { app } = await buildTestApp(t)
const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString()
const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)

async function statements(): Promise<number> {
  const values = (await app.metrics.dbQueryDuration.get()).values
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0)
}

const post = (user: string, body: Record<string, unknown>, path = 'bio-metrics') => app.inject({ method: 'POST', url: `/api/${path}/`, headers: auth(user), payload: { user_uuid: user, ...body } })

t.test('concurrent POSTs share statements; each gets its own 201, Location and row, and every effect happens', async (t) => {
  const users = [await createUser(app), await createUser(app), await createUser(app)]
  const versionsBefore = await app.db.writer.selectFrom('users').select(['user_uuid', 'data_version']).where('user_uuid', 'in', users).execute()
  const requests = users.flatMap((u, n) => Array.from({ length: 10 }, (_, i) => ({ u, recorded: at(60 * 24 * (i + 1) + n), rhr: 50 + i })))
  const before = await statements()
  const responses = await Promise.all(requests.map((r) => post(r.u, { recorded: r.recorded, resting_heart_rate_bpm: r.rhr })))
  const used = (await statements()) - before
  t.same(responses.map((r) => r.statusCode), requests.map(() => 201))
  responses.forEach((res, i) => {
    const r = requests[i]!
    t.equal(res.headers.location, `/api/bio-metrics/${r.u}/${encodeURIComponent(r.recorded)}`)
    t.match(res.json(), { user_uuid: r.u, recorded: r.recorded, resting_heart_rate_bpm: r.rhr, quality: 'ok' })
  })
  t.ok(used < requests.length, `${used} statements for ${requests.length} POSTs (alone: ${2 * requests.length})`)
  for (const r of requests) {
    const got = await app.inject({ method: 'GET', url: `/api/bio-metrics/${r.u}/${encodeURIComponent(r.recorded)}`, headers: auth(r.u) })
    t.equal(got.json().resting_heart_rate_bpm, r.rhr, 'stored')
  }
  const versionsAfter = await app.db.writer.selectFrom('users').select(['user_uuid', 'data_version']).where('user_uuid', 'in', users).execute()
  for (const u of users) {
    const was = Number(versionsBefore.find((v) => v.user_uuid === u)!.data_version)
    t.ok(Number(versionsAfter.find((v) => v.user_uuid === u)!.data_version) > was, 'data version bumped: scores made before are stale')
  }
  const jobs = await sql<{ user_uuid: string; from_date: string }>`SELECT user_uuid::text, from_date::text FROM score_jobs WHERE user_uuid = ANY(${users}::uuid[])`.execute(app.db.writer)
  t.same(jobs.rows.map((j) => j.user_uuid).sort(), [...users].sort(), 'a score job per user')
  for (const j of jobs.rows) {
    const earliest = requests.filter((r) => r.u === j.user_uuid).map((r) => r.recorded.slice(0, 10)).sort()[0]
    t.equal(j.from_date, earliest, 'from the earliest affected date')
  }
  const score = await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${users[0]}`, headers: auth(users[0]!) })
  t.equal(score.statusCode, 200, 'the score reads the new data')
})

t.test('in one group: an existing key answers 409, a key sent twice one 201 and one 409, a missing user 404; the rest are written', async (t) => {
  const u = await createUser(app)
  const existing = at(500)
  t.equal((await post(u, { recorded: existing, weight_kg: 70 })).statusCode, 201)
  const twice = at(600)
  const ghost = randomUUID()
  const [dupOld, fresh1, dupA, dupB, fresh2, missing] = await Promise.all([
    post(u, { recorded: existing, weight_kg: 71 }),
    post(u, { recorded: at(700), weight_kg: 72 }),
    post(u, { recorded: twice, weight_kg: 73 }),
    post(u, { recorded: twice, weight_kg: 74 }),
    post(u, { recorded: at(800), weight_kg: 75 }),
    app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: adminAuth(), payload: { user_uuid: ghost, recorded: at(900), weight_kg: 76 } })
  ])
  t.equal(dupOld!.statusCode, 409)
  t.match(dupOld!.json(), { status: 409, errors: [{ path: '/body/recorded' }] })
  t.equal(fresh1!.statusCode, 201)
  t.equal(fresh2!.statusCode, 201)
  t.same([dupA!.statusCode, dupB!.statusCode], [201, 409], 'the first of a twice-sent key wins, as one after the other')
  t.equal(missing!.statusCode, 404)
  const stored = await (app.db.writer as unknown as Kysely<any>).selectFrom('bio_metrics').select(['recorded', 'weight_kg']).where('user_uuid', '=', u).orderBy('recorded').execute()
  t.same(stored.map((r) => Number(r.weight_kg)), [75, 72, 73, 70], 'the existing reading kept its value; the twice-sent key holds the first')
})

t.test('concurrent POSTs are judged against the stored baseline as if each came alone', async (t) => {
  const u = await createUser(app)
  const history = Array.from({ length: 30 }, (_, i) => ({ user_uuid: u, recorded: new Date(Date.now() - (40 - i) * 86_400_000).toISOString(), resting_heart_rate_bpm: 58 + ((i * 7) % 5) - 2 }))
  t.equal((await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: auth(u), payload: { items: history } })).statusCode, 200)
  const [normal, spike, other] = await Promise.all([
    post(u, { recorded: at(60 * 24 * 5), resting_heart_rate_bpm: 59 }),
    post(u, { recorded: at(60 * 24 * 4), resting_heart_rate_bpm: 120 }),
    post(u, { recorded: at(60 * 24 * 3), resting_heart_rate_bpm: 57 })
  ])
  t.equal(normal!.json().quality, 'ok')
  t.equal(spike!.json().quality, 'suspect')
  t.match(spike!.json().quality_reasons[0], /resting_heart_rate_bpm/)
  t.equal(other!.json().quality, 'ok', 'a suspect reading of the same group is no part of the others\' baselines')
})

t.test('date-keyed resources coalesce too (activity), with 409 on an existing date', async (t) => {
  const u = await createUser(app)
  const responses = await Promise.all([1, 2, 3, 2].map((d, i) => post(u, { date: day(d), steps: 1000 * (i + 1) }, 'physical-activity')))
  t.same(responses.map((r) => r.statusCode), [201, 201, 201, 409])
  t.equal(responses[1]!.headers.location, `/api/physical-activity/${u}/${day(2)}`)
})

t.test('a row that fails the group statement is retried alone: only its request gets the error', async (t) => {
  const u = await createUser(app)
  const gone = randomUUID() // no such user: the foreign key fails the group's statement
  const row = (user: string, recorded: string, weight: number) => ({ user_uuid: user, key: recorded, values: { weight_kg: weight }, source: 'manual', quality: 'ok' as const, quality_reasons: [] as string[] })
  const outcomes = await insertGroup(app.db.writer, bioMetrics, [row(u, at(1000), 60), row(gone, at(1001), 61), row(u, at(1002), 62)])
  t.match(outcomes[0], { row: { weight_kg: 60 } })
  t.match(outcomes[1], { error: { code: '23503' } })
  t.match(outcomes[2], { row: { weight_kg: 62 } })
  const alone = await insertGroup(app.db.writer, physicalActivity, [{ user_uuid: gone, key: day(1), values: { steps: 1 }, source: 'manual', quality: 'ok', quality_reasons: [] }])
  t.match(alone[0], { error: { code: '23503' } }, 'a group of one reports its error without a retry')
})

t.test('a POST with an Idempotency-Key still commits with its key (its own transaction)', async (t) => {
  const u = await createUser(app)
  const key = randomUUID()
  const recorded = at(30)
  const send = () => app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: { ...auth(u), 'idempotency-key': key }, payload: { user_uuid: u, recorded, weight_kg: 70 } })
  const first = await send()
  const replay = await send()
  t.equal(first.statusCode, 201)
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, first.body)
})

t.test('concurrent single-record GETs share a statement; each gets its own record or 404', async (t) => {
  const users = [await createUser(app), await createUser(app)]
  const written: Array<{ u: string; recorded: string; weight: number }> = []
  for (const [n, u] of users.entries()) {
    for (let i = 0; i < 8; i++) {
      const r = { u, recorded: at(60 * (i + 1) + n), weight: 60 + i + 10 * n }
      t.equal((await post(u, { recorded: r.recorded, weight_kg: r.weight })).statusCode, 201)
      written.push(r)
    }
  }
  const get = (u: string, recorded: string, headers = auth(u)) => app.inject({ method: 'GET', url: `/api/bio-metrics/${u}/${encodeURIComponent(recorded)}`, headers })
  const before = await statements()
  const responses = await Promise.all([
    ...written.map((r) => get(r.u, r.recorded)),
    get(users[0]!, at(5000)), // no such record
    get(users[1]!.toUpperCase(), written[9]!.recorded, auth(users[1]!)), // the uuid in another case
    get(users[0]!, written[9]!.recorded, auth(users[0]!)) // user 1's timestamp under user 0: not theirs
  ])
  const used = (await statements()) - before
  written.forEach((r, i) => {
    t.equal(responses[i]!.statusCode, 200)
    t.match(responses[i]!.json(), { user_uuid: r.u, recorded: r.recorded, weight_kg: r.weight })
  })
  const [missing, upper, crossed] = responses.slice(written.length)
  t.equal(missing!.statusCode, 404)
  t.equal(upper!.statusCode, 200, upper!.body)
  t.equal(upper!.json().weight_kg, written[9]!.weight)
  t.equal(crossed!.statusCode, 404)
  t.ok(used < written.length, `${used} statements for ${responses.length} reads`)
})

t.test('a date PostgreSQL refuses fails only its own read', async (t) => {
  const u = await createUser(app)
  t.equal((await post(u, { date: day(1), steps: 1234 }, 'physical-activity')).statusCode, 201)
  const [good, bad] = await Promise.all([
    app.inject({ method: 'GET', url: `/api/physical-activity/${u}/${day(1)}`, headers: auth(u) }),
    app.inject({ method: 'GET', url: `/api/physical-activity/${u}/2026-02-30`, headers: auth(u) })
  ])
  t.equal(good.statusCode, 200)
  t.equal(good.json().steps, 1234)
  t.equal(bad.statusCode, 400, 'the impossible date is refused')
})
