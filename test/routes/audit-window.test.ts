/**
 * Read rows are written once per AUDIT_READ_FLUSH_MS; changes within a second (the flush timer).
 */
import t from 'tap'
import { adminAuth, auth, buildTestApp, createUser } from '../helper.js'

const { app } = await buildTestApp(t, { env: { AUDIT_READ_FLUSH_MS: '300000' } })

t.test('the one-second flush writes the changes and keeps counting the reads; an explicit flush writes both', async (t) => {
  const user = await createUser(app)
  const h = auth(user)
  await app.audit.flush()
  const rows = async () =>
    (await app.db.writer.selectFrom('audit_log' as never).select(['action', 'count'] as never).where('target_user_uuid' as never, '=', user as never).execute()) as Array<{ action: string; count: number }>
  for (let i = 0; i < 4; i++) t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 200)
  t.equal((await app.inject({ method: 'PATCH', url: `/api/users/${user}`, headers: h, payload: { name: 'Ada' } })).statusCode, 200)
  // the timer's flush (every second) writes the change, not the reads
  for (let i = 0; i < 40 && !(await rows()).some((r) => r.action === 'update'); i++) await new Promise((r) => setTimeout(r, 100))
  const actions = (await rows()).map((r) => r.action)
  t.ok(actions.includes('update'), 'the change is written within a second')
  t.same(actions.filter((a) => a === 'read'), [], 'the reads are still being counted')
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 200)
  await app.audit.flush()
  const reads = (await rows()).filter((r) => r.action === 'read')
  t.same(reads.map((r) => r.count), [5], 'one row counting the five reads')
  // the audit log route writes what is buffered before it answers
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h })).statusCode, 200)
  const log = await app.inject({ method: 'GET', url: `/api/audit-log?user_uuid=${user}`, headers: adminAuth() })
  t.equal(log.json().items.filter((e: { action: string }) => e.action === 'read').length, 2, 'the audit log shows the read made just before')
})

t.test('one principal reading several users, routes and statuses: a row per (target, route, status), each counting its own reads', async (t) => {
  const [a, b] = [await createUser(app), await createUser(app)]
  const admin = adminAuth()
  await app.audit.flush()
  const sequence = [`/api/users/${a}`, `/api/users/${a}`, `/api/users/${b}`, `/api/users/${a}`, `/api/bio-metrics/${a}`, `/api/users/${b}`, `/api/bio-metrics/${a}`, `/api/users/${a}`]
  for (const url of sequence) t.equal((await app.inject({ method: 'GET', url, headers: admin })).statusCode, 200, url)
  // a 404 of the same route and target is a row of its own
  t.equal((await app.inject({ method: 'GET', url: `/api/bio-metrics/${a}/2020-01-01T00:00:00.000Z`, headers: admin })).statusCode, 404)
  await app.audit.flush()
  const rows = (await app.db.writer.selectFrom('audit_log' as never).select(['target_user_uuid', 'route', 'status', 'count'] as never)
    .where('action' as never, '=', 'read' as never).where('target_user_uuid' as never, 'in', [a, b] as never).execute()) as Array<{ target_user_uuid: string; route: string; status: number; count: number }>
  const counts = Object.fromEntries(rows.map((r) => [`${r.target_user_uuid === a ? 'a' : 'b'} ${r.route} ${r.status}`, r.count]))
  t.same(counts, {
    'a /api/users/:user_uuid 200': 4,
    'b /api/users/:user_uuid 200': 2,
    'a /api/bio-metrics/:user_uuid 200': 2,
    'a /api/bio-metrics/:user_uuid/:recorded 404': 1
  })
})

t.test('a principal cycling through more reads than it has recent slots: every row still counts each read once, window after window', async (t) => {
  const user = await createUser(app)
  const h = auth(user)
  await app.audit.flush()
  // five different rows (route, status) for one principal and target, more than the four remembered
  const urls = [`/api/users/${user}`, `/api/bio-metrics/${user}`, `/api/sleep-activity/${user}`, `/api/physical-activity/${user}`, `/api/bio-metrics/${user}/2020-01-01T00:00:00.000Z`]
  const readRows = async () =>
    (await app.db.writer.selectFrom('audit_log' as never).select(['route', 'count'] as never)
      .where('action' as never, '=', 'read' as never).where('target_user_uuid' as never, '=', user as never).orderBy('id' as never).execute()) as Array<{ route: string; count: number }>
  for (let cycle = 0; cycle < 3; cycle++) for (const url of urls) await app.inject({ method: 'GET', url, headers: h })
  await app.audit.flush()
  const first = await readRows()
  t.equal(first.length, 5, 'a row per route')
  t.same(first.map((r) => r.count), [3, 3, 3, 3, 3], 'each counting its three reads')
  for (let cycle = 0; cycle < 2; cycle++) for (const url of [...urls].reverse()) await app.inject({ method: 'GET', url, headers: h })
  await app.audit.flush()
  const second = (await readRows()).slice(5)
  t.equal(second.length, 5, 'the next window: a row per route again')
  t.same(second.map((r) => r.count), [2, 2, 2, 2, 2], 'each counting only that window\'s reads')
})
