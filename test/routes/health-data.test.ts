import t from 'tap'
import { randomUUID } from 'node:crypto'
import { adminAuth, auth, buildTestApp, createUser } from '../helper.js'

const { app } = await buildTestApp(t)
const user = await createUser(app, { sex: 'male' })
const me = auth(user)
const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)

t.test('blood tests: unit conversion, flags, 409, get, list, patch, delete', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: me, payload: { user_uuid: user, test_date: day(3), lab: 'Lab A', results: [{ marker: 'glucose', value: 5.5, unit: 'mmol/L' }, { marker: 'ldl', value: 3.0, unit: 'mmol/L' }] } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.headers.location, `/api/blood-tests/${user}/${day(3)}`)
  const glucose = res.json().results.find((r: { marker: string }) => r.marker === 'glucose')
  t.match(glucose, { loinc: '2345-7', value: 99.1, unit: 'mg/dL', original_value: 5.5, original_unit: 'mmol/L', flag: 'normal' })
  t.equal(res.json().source, 'manual')
  t.equal(res.json().quality, 'ok')
  const dup = await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: me, payload: { user_uuid: user, test_date: day(3), results: [{ marker: 'glucose', value: 90, unit: 'mg/dL' }] } })
  t.equal(dup.statusCode, 409)
  const unknown = await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: me, payload: { user_uuid: user, test_date: day(4), results: [{ marker: 'unobtainium', value: 1, unit: 'mg/dL' }] } })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json().errors, [{ path: '/body/results/0/marker', message: /glucose/ }])
  const badUnit = await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: me, payload: { user_uuid: user, test_date: day(4), results: [{ marker: 'glucose', value: 5, unit: 'furlongs' }] } })
  t.equal(badUnit.statusCode, 422)
  t.match(badUnit.json().errors, [{ path: '/body/results/0/unit', message: /mmol\/L/ }])
  const got = await app.inject({ method: 'GET', url: `/api/blood-tests/${user}/${day(3)}`, headers: me })
  t.equal(got.statusCode, 200)
  const patched = await app.inject({ method: 'PATCH', url: `/api/blood-tests/${user}/${day(3)}/update`, headers: me, payload: { results: [{ marker: 'glucose', value: 130, unit: 'mg/dL' }, { marker: 'hdl', value: 55, unit: 'mg/dL' }] } })
  t.equal(patched.statusCode, 200, patched.body)
  const results = patched.json().results as Array<{ marker: string; value: number; flag: string }>
  t.same(results.map((r) => r.marker).sort(), ['glucose', 'hdl', 'ldl'], 'results upserted by marker')
  t.match(results.find((r) => r.marker === 'glucose'), { value: 130, flag: 'high' })
  const missing = await app.inject({ method: 'GET', url: `/api/blood-tests/${user}/${day(30)}`, headers: me })
  t.equal(missing.statusCode, 404)
  const neither = await app.inject({ method: 'DELETE', url: `/api/blood-tests/${user}/delete`, headers: me })
  t.equal(neither.statusCode, 400)
  const del = await app.inject({ method: 'DELETE', url: `/api/blood-tests/${user}/delete?test_date=${day(3)}`, headers: me })
  t.equal(del.statusCode, 204)
  const again = await app.inject({ method: 'DELETE', url: `/api/blood-tests/${user}/delete?test_date=${day(3)}`, headers: me })
  t.equal(again.statusCode, 404)
})

t.test('bio-metrics: bounds from both sides (422 with field path), systolic > diastolic, future', async (t) => {
  const at = (m: number) => new Date(Date.now() - m * 60_000).toISOString()
  const post = (body: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: me, payload: { user_uuid: user, ...body } })
  t.equal((await post({ recorded: at(1), heart_rate_bpm: 25 })).statusCode, 201, 'just inside the lower bound')
  t.equal((await post({ recorded: at(2), heart_rate_bpm: 250 })).statusCode, 201, 'just inside the upper bound')
  const low = await post({ recorded: at(3), heart_rate_bpm: 24.9 })
  t.equal(low.statusCode, 422)
  t.match(low.json().errors, [{ path: '/body/heart_rate_bpm' }])
  const high = await post({ recorded: at(4), spo2_pct: 100.1 })
  t.equal(high.statusCode, 422)
  t.match(high.json().errors, [{ path: '/body/spo2_pct' }])
  const swapped = await post({ recorded: at(5), systolic_mmhg: 80, diastolic_mmhg: 120 })
  t.equal(swapped.statusCode, 422)
  t.match(swapped.json().errors, [{ path: '/body/systolic_mmhg' }])
  const future = await post({ recorded: new Date(Date.now() + 3_600_000).toISOString(), weight_kg: 70 })
  t.equal(future.statusCode, 422)
  const none = await post({ recorded: at(6) })
  t.equal(none.statusCode, 422)
  const wrongType = await post({ recorded: at(7), weight_kg: 'seventy' })
  t.equal(wrongType.statusCode, 400)
  const offset = await post({ recorded: '2026-01-10T08:30:00+02:00', weight_kg: 70.5 })
  t.equal(offset.statusCode, 201)
  t.equal(offset.json().recorded, '2026-01-10T06:30:00.000Z', 'stored and answered in UTC')
  const byUrl = await app.inject({ method: 'GET', url: `/api/bio-metrics/${user}/${encodeURIComponent('2026-01-10T08:30:00+02:00')}`, headers: me })
  t.equal(byUrl.statusCode, 200, 'an RFC 3339 key with an offset finds the same reading')
  const patch = await app.inject({ method: 'PATCH', url: `/api/bio-metrics/${user}/${encodeURIComponent('2026-01-10T06:30:00.000Z')}/update`, headers: me, payload: { weight_kg: 71 } })
  t.equal(patch.statusCode, 200)
  t.equal(patch.json().weight_kg, 71)
})

t.test('rejections are logged and readable by admins only', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/api/ingest-rejections?user_uuid=${user}`, headers: adminAuth() })
  t.equal(res.statusCode, 200)
  const items = res.json().items as Array<{ resource: string; reason: string; user_uuid: string }>
  t.ok(items.some((i) => i.resource === 'bio_metrics' && i.reason === 'implausible'))
  t.ok(items.some((i) => i.resource === 'bio_metrics' && i.reason === 'validation'))
  t.ok(items.some((i) => i.resource === 'blood_tests'))
  const asUser = await app.inject({ method: 'GET', url: '/api/ingest-rejections', headers: me })
  t.equal(asUser.statusCode, 403)
})

t.test('physical activity and sleep: PATCH names the date in the body; pagination and filters', async (t) => {
  for (let i = 1; i <= 5; i++) {
    const a = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: me, payload: { user_uuid: user, date: day(i), steps: 8000 + i, active_minutes: 60, moderate_minutes: 30, vigorous_minutes: 10, source: 'garmin' } })
    t.equal(a.statusCode, 201, a.body)
  }
  const over = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: me, payload: { user_uuid: user, date: day(9), active_minutes: 1441 } })
  t.equal(over.statusCode, 422)
  const page1 = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}?limit=2`, headers: me })
  const p1 = page1.json()
  t.same(p1.items.map((i: { date: string }) => i.date), [day(1), day(2)], 'newest first')
  const page2 = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}?limit=2&cursor=${p1.next_cursor}`, headers: me })
  t.same(page2.json().items.map((i: { date: string }) => i.date), [day(3), day(4)])
  const filtered = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}?from=${day(4)}&to=${day(2)}`, headers: me })
  t.same(filtered.json().items.map((i: { date: string }) => i.date), [day(2), day(3), day(4)], 'from/to inclusive')
  const patch = await app.inject({ method: 'PATCH', url: `/api/physical-activity/${user}/update`, headers: me, payload: { date: day(1), steps: 12000 } })
  t.equal(patch.statusCode, 200, patch.body)
  t.equal(patch.json().steps, 12000)
  t.equal(patch.json().source, 'garmin')
  const sleep = await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: me, payload: { user_uuid: user, date: day(1), sleep_start: `${day(2)}T23:00:00Z`, sleep_end: `${day(1)}T07:00:00Z`, deep_minutes: 90, rem_minutes: 100, light_minutes: 250, awake_minutes: 20 } })
  t.equal(sleep.statusCode, 201, sleep.body)
  t.equal(sleep.json().total_sleep_minutes, 440, 'total is the sum of the asleep stages')
  const tooLong = await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: me, payload: { user_uuid: user, date: day(2), sleep_start: `${day(3)}T20:00:00Z`, sleep_end: `${day(2)}T07:00:00Z`, deep_minutes: 700 } })
  t.equal(tooLong.statusCode, 422)
  const all = await app.inject({ method: 'DELETE', url: `/api/physical-activity/${user}/delete?all=true`, headers: me })
  t.equal(all.statusCode, 204)
  const empty = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}`, headers: me })
  t.same(empty.json(), { items: [], next_cursor: null })
})

t.test('Idempotency-Key: replay, different body 422', async (t) => {
  const key = randomUUID()
  const body = { user_uuid: user, date: day(20), steps: 5000 }
  const first = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: { ...me, 'idempotency-key': key }, payload: body })
  t.equal(first.statusCode, 201)
  const replay = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: { ...me, 'idempotency-key': key }, payload: body })
  t.equal(replay.statusCode, 201)
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, first.body, 'the first response, byte for byte')
  t.equal(replay.headers.location, first.headers.location)
  const other = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: { ...me, 'idempotency-key': key }, payload: { ...body, steps: 6000 } })
  t.equal(other.statusCode, 422)
  const noKey = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: me, payload: body })
  t.equal(noKey.statusCode, 409, 'without a key, the duplicate natural key is a conflict')
  const rows = await app.db.writer.selectFrom('users').select('user_uuid').execute()
  t.ok(rows.length >= 1)
  const tooLong = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: { ...me, 'idempotency-key': 'x'.repeat(256) }, payload: body })
  t.equal(tooLong.statusCode, 400)
  // a key whose first request is still running
  await app.db.writer.insertInto('idempotency_keys' as never).values({ principal: `user:${user}`, key: 'running', request_hash: 'h', state: 'in_progress', expires_at: new Date(Date.now() + 3_600_000) } as never).execute()
  const running = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: { ...me, 'idempotency-key': 'running' }, payload: body })
  t.equal(running.statusCode, 409)
})

t.test('batch: mixed valid and invalid items, re-sent batch is all unchanged', async (t) => {
  const other = await createUser(app)
  const items = [
    { user_uuid: user, date: day(40), steps: 7000 },
    { user_uuid: user, date: day(41), steps: 200_000 },
    { user_uuid: user, date: day(42), steps: 'many' },
    { user_uuid: other, date: day(43), steps: 100 },
    { user_uuid: user, date: day(40), steps: 7000 },
    { user_uuid: user, date: day(44), steps: 9000 },
    { user_uuid: user, date: day(45), steps: 9000, source: 'dev\u0000ice' }
  ]
  const res = await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: me, payload: { items } })
  t.equal(res.statusCode, 200, res.body)
  const statuses = res.json().results.map((r: { status: string }) => r.status)
  t.same(statuses, ['created', 'rejected', 'rejected', 'rejected', 'rejected', 'created', 'rejected'])
  t.match(res.json().results[6].errors, [{ path: '/items/6/source' }], 'a NUL in an item is that item\'s error, not a failed batch')
  t.match(res.json().results[1].errors, [{ path: '/items/1/steps' }])
  t.match(res.json().results[2].errors, [{ path: '/items/2/steps' }])
  const resent = await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: me, payload: { items: [items[0], items[5]] } })
  t.same(resent.json().results.map((r: { status: string }) => r.status), ['unchanged', 'unchanged'])
  const changed = await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: me, payload: { items: [{ ...items[0], steps: 7100 }] } })
  t.same(changed.json().results.map((r: { status: string }) => r.status), ['updated'])
  const tooMany = await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: me, payload: { items: Array.from({ length: 1001 }, () => items[0]) } })
  t.equal(tooMany.statusCode, 400)
  const logged = await app.db.writer.selectFrom('ingest_rejections' as never).selectAll().where('resource' as never, '=', 'physical_activity' as never).execute()
  t.ok(logged.length >= 5, 'rejected batch items are in the rejection log')
  t.ok((logged as Array<{ source: string | null }>).some((r) => r.source === 'dev\uFFFDice'), 'a NUL in a logged source is shown as U+FFFD')
})

t.test('an admin batch for two users from two sources stores each row with its own user and source', async (t) => {
  const a = await createUser(app)
  const b = await createUser(app)
  const items = [
    { user_uuid: a, date: day(50), steps: 1000, source: 'watch' },
    { user_uuid: b, date: day(50), steps: 2000, source: 'phone' },
    { user_uuid: a, date: day(51), steps: 3000 },
    { user_uuid: b, date: day(51), steps: 4000, source: 'watch' },
  ]
  const res = await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: adminAuth(), payload: { items } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json().results.map((r: { status: string }) => r.status), ['created', 'created', 'created', 'created'])
  const rows = await app.db.writer.selectFrom('physical_activity' as never).select(['user_uuid', 'date', 'steps', 'source'] as never).where('user_uuid' as never, 'in', [a, b] as never).orderBy('steps' as never).execute()
  t.same(rows, [
    { user_uuid: a, date: day(50), steps: 1000, source: 'watch' },
    { user_uuid: b, date: day(50), steps: 2000, source: 'phone' },
    { user_uuid: a, date: day(51), steps: 3000, source: 'manual' },
    { user_uuid: b, date: day(51), steps: 4000, source: 'watch' },
  ])
})

t.test('anomaly: a 60-day series with one spike flags only the spike; PATCH quality ok confirms', async (t) => {
  const u = await createUser(app)
  const h = auth(u)
  const items = Array.from({ length: 60 }, (_, i) => ({
    user_uuid: u,
    recorded: new Date(Date.now() - (60 - i) * 86_400_000).toISOString(),
    resting_heart_rate_bpm: i === 45 ? 120 : 58 + ((i * 7) % 5) - 2
  }))
  const res = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: h, payload: { items } })
  t.equal(res.statusCode, 200)
  t.ok(res.json().results.every((r: { status: string }) => r.status === 'created'))
  const list = await app.inject({ method: 'GET', url: `/api/bio-metrics/${u}?limit=100`, headers: h })
  const suspect = (list.json().items as Array<{ recorded: string; quality: string; quality_reasons: string[] }>).filter((r) => r.quality === 'suspect')
  t.equal(suspect.length, 1, 'only the spike')
  t.equal(suspect[0]!.recorded, items[45]!.recorded)
  t.match(suspect[0]!.quality_reasons[0], /resting_heart_rate_bpm/)
  const again = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: h, payload: { items } })
  t.ok(again.json().results.every((r: { status: string }) => r.status === 'unchanged'), 're-sent: all unchanged')
  const confirm = await app.inject({ method: 'PATCH', url: `/api/bio-metrics/${u}/${encodeURIComponent(items[45]!.recorded)}/update`, headers: h, payload: { quality: 'ok' } })
  t.equal(confirm.statusCode, 200)
  t.equal(confirm.json().quality, 'ok')
  t.same(confirm.json().quality_reasons, [])
})

t.test('a batch judges every reading as single POSTs in time order would, window edges included', async (t) => {
  const DAY = 86_400_000
  const HOUR = 3_600_000
  const T0 = Date.now() - 80 * DAY
  const T1 = T0 + 60 * DAY
  const at = (ms: number, bpm: number) => ({ ms, bpm })
  const plan = [
    ...Array.from({ length: 7 }, (_, i) => at(T0 + i * HOUR, 60)),
    ...Array.from({ length: 7 }, (_, i) => at(T0 + 27 * DAY + i * HOUR, 70)),
    at(T0 + 28 * DAY, 120), // its window starts exactly at T0: 7 × 60 and 7 × 70, median 65
    at(T0 + 28 * DAY + 1, 120), // 1 ms later T0 has left the window: median 70
    ...Array.from({ length: 6 }, (_, i) => at(T1 + i * HOUR, 60)),
    at(T1 + 6 * HOUR - 1, 60), // the 7th point, 1 ms before the next reading: inside its window
    at(T1 + 6 * HOUR, 120), // judged (7 points), so flagged
  ]
  const body = (u: string, p: { ms: number; bpm: number }) => ({ user_uuid: u, recorded: new Date(p.ms).toISOString(), resting_heart_rate_bpm: p.bpm })
  const single = await createUser(app)
  for (const p of plan) {
    const res = await app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: auth(single), payload: body(single, p) })
    t.equal(res.statusCode, 201, res.body)
  }
  const judged = async (u: string) =>
    ((await app.inject({ method: 'GET', url: `/api/bio-metrics/${u}?limit=100`, headers: auth(u) })).json().items as Array<{ recorded: string; quality: string; quality_reasons: string[] }>)
      .map((r) => `${r.recorded} ${r.quality} ${r.quality_reasons.join(';')}`)
  const expected = await judged(single)
  const line = (ms: number) => expected.find((l) => l.startsWith(new Date(ms).toISOString())) ?? ''
  t.match(line(T0 + 28 * DAY), /suspect .*median 65,/, 'a reading exactly 28 days older is in the baseline')
  t.match(line(T0 + 28 * DAY + 1), /suspect .*median 70,/, 'one 28 days and 1 ms older is not')
  t.match(line(T1 + 6 * HOUR), /suspect .*median 60,/, 'one 1 ms older is')

  const batched = await createUser(app)
  const reversed = [...plan].reverse() // the order inside a batch does not matter
  const res = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: auth(batched), payload: { items: reversed.map((p) => body(batched, p)) } })
  t.equal(res.statusCode, 200, res.body)
  t.same(await judged(batched), expected, 'the batch gives every reading the same quality and reasons')
})

t.test('user erasure leaves no row behind', async (t) => {
  const u = await createUser(app)
  const h = auth(u)
  await app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: { ...h, 'idempotency-key': 'k1' }, payload: { user_uuid: u, recorded: new Date().toISOString(), weight_kg: 70 } })
  await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: h, payload: { user_uuid: u, test_date: day(1), results: [{ marker: 'hba1c', value: 5.2, unit: '%' }] } })
  await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: h, payload: { user_uuid: u, date: day(1), total_sleep_minutes: 420 } })
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: u, date: day(1), steps: 10 } })
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: u, date: day(2), steps: -1 } })
  const del = await app.inject({ method: 'DELETE', url: `/api/users/${u}`, headers: h })
  t.equal(del.statusCode, 204)
  const tables = await app.db.writer.selectFrom('information_schema.columns' as never).select(['table_name' as never]).where('column_name' as never, '=', 'user_uuid' as never).where('table_schema' as never, '=', 'public' as never).execute()
  for (const { table_name } of tables as Array<{ table_name: string }>) {
    const rows = await app.db.writer.selectFrom(table_name as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
    t.equal(rows.length, 0, `${table_name} holds nothing of the erased user`)
  }
})
