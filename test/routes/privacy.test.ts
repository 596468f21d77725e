import t from 'tap'
import { randomUUID } from 'node:crypto'
import { adminAuth, auth, buildTestApp, createUser } from '../helper.js'
import { ROWS_PER_STATEMENT } from '../../src/plugins/audit.js'

const { app } = await buildTestApp(t)

t.test('export returns all of the user\'s data (GDPR Art. 20)', async (t) => {
  const user = await createUser(app, { email: 'portable@example.com' })
  const h = auth(user)
  const today = new Date().toISOString().slice(0, 10)
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: 4242 } })
  await app.inject({ method: 'POST', url: '/api/blood-tests/', headers: h, payload: { user_uuid: user, test_date: today, results: [{ marker: 'ldl', value: 101, unit: 'mg/dL' }] } })
  await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: h })
  const res = await app.inject({ method: 'GET', url: `/api/users/${user}/export`, headers: h })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-disposition'], /attachment/)
  const data = res.json()
  t.equal(data.user.email, 'portable@example.com')
  t.equal(data.physical_activity[0].steps, 4242)
  t.equal(data.blood_tests[0].results[0].marker, 'ldl')
  t.ok(data.health_scores.length >= 1)
  t.same(data.sleep_activity, [])
})

t.test('audit log: who read or changed whose data; append-only; kept after erasure; no health values', async (t) => {
  const user = await createUser(app)
  const h = auth(user)
  const today = new Date().toISOString().slice(0, 10)
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: 31337 } })
  await app.audit.flush()
  for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: `/api/physical-activity/${user}`, headers: h })
  await app.inject({ method: 'GET', url: `/api/physical-activity/${user}/2000-01-01`, headers: h }) // 404: a row of its own
  await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: adminAuth() })
  await app.inject({ method: 'DELETE', url: `/api/users/${user}`, headers: h })
  const res = await app.inject({ method: 'GET', url: `/api/audit-log?user_uuid=${user}`, headers: adminAuth() })
  t.equal(res.statusCode, 200, res.body)
  const entries = res.json().items as Array<{ action: string; actor_role: string; route: string; status: number; count: number; at: string; last_at: string | null; request_id: string }>
  t.ok(entries.some((e) => e.action === 'create' && e.route === '/api/physical-activity' && e.actor_role === 'user' && e.count === 1 && e.last_at === null))
  const listReads = entries.filter((e) => e.action === 'read' && e.route === '/api/physical-activity/:user_uuid')
  t.equal(listReads.length, 1, 'three reads of one page by one actor within a flush interval: one row')
  t.equal(listReads[0]?.count, 3, 'that counts them')
  t.ok(listReads[0]!.last_at !== null && Date.parse(listReads[0]!.last_at) >= Date.parse(listReads[0]!.at), 'from the first read (at) to the last (last_at)')
  t.ok(listReads[0]!.request_id, 'with the first request\'s id')
  const missing = entries.filter((e) => e.action === 'read' && e.route === '/api/physical-activity/:user_uuid/:date')
  t.same(missing.map((e) => [e.status, e.count]), [[404, 1]], 'another route or status is another row')
  t.ok(entries.some((e) => e.action === 'read' && e.actor_role === 'admin'))
  t.ok(entries.some((e) => e.action === 'delete' && e.status === 204), 'the erasure itself is audited and the log survives it')
  t.notMatch(res.body, /31337/, 'no health values in the audit log')
  await t.rejects(app.db.writer.updateTable('audit_log' as never).set({ status: 1 } as never).execute(), /append-only/)
  await t.rejects(app.db.writer.deleteFrom('audit_log' as never).execute(), /append-only/)
  t.equal((await app.inject({ method: 'GET', url: '/api/audit-log', headers: h })).statusCode, 403)
})

t.test('erasure removes cached reads too', async (t) => {
  const user = await createUser(app)
  const h = auth(user)
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 200) // cached
  t.equal((await app.inject({ method: 'DELETE', url: `/api/users/${user}`, headers: h })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 404, 'no cached copy survives')
})

t.test('a flush of more rows than one statement takes writes them all', async (t) => {
  await app.audit.flush()
  const targets = Array.from({ length: 2 * ROWS_PER_STATEMENT + 37 }, () => randomUUID())
  // each target is a key of its own: one read row each (404: the users do not exist)
  for (const target of targets) t.equal((await app.inject({ method: 'GET', url: `/api/users/${target}`, headers: adminAuth() })).statusCode, 404)
  await app.audit.flush()
  const rows = await app.db.writer.selectFrom('audit_log' as never).select((eb) => eb.fn.countAll<string>().as('n')).where('target_user_uuid' as never, 'in', targets as never).executeTakeFirstOrThrow()
  t.equal(Number((rows as { n: string }).n), targets.length, 'every read row is written')
})
