import t from 'tap'
import { randomUUID } from 'node:crypto'
import { adminAuth, auth, buildTestApp, createUser } from '../helper.js'

const { app } = await buildTestApp(t)

t.test('create, read, update, list, delete', async (t) => {
  const user_uuid = randomUUID()
  const created = await app.inject({
    method: 'POST', url: '/api/users/', headers: auth(user_uuid),
    payload: { user_uuid, email: 'Ada@Example.com', name: 'Ada', birth_date: '1985-12-10', sex: 'female', height_cm: 168, timezone: 'Europe/London' }
  })
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.headers.location, `/api/users/${user_uuid}`)
  const body = created.json()
  t.match(body, { user_uuid, email: 'Ada@Example.com', name: 'Ada', birth_date: '1985-12-10', sex: 'female', height_cm: 168, timezone: 'Europe/London' })
  t.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.notOk('email_normalized' in body, 'internal columns are not exposed')
  t.notOk('data_version' in body)

  const got = await app.inject({ method: 'GET', url: `/api/users/${user_uuid}`, headers: auth(user_uuid) })
  t.equal(got.statusCode, 200)
  t.same(got.json(), body)

  const patched = await app.inject({ method: 'PATCH', url: `/api/users/${user_uuid}`, headers: auth(user_uuid), payload: { name: 'Ada L.', height_cm: 169 } })
  t.equal(patched.statusCode, 200, patched.body)
  t.equal(patched.json().name, 'Ada L.')
  t.equal(patched.json().email, 'Ada@Example.com', 'untouched fields stay')

  const deleted = await app.inject({ method: 'DELETE', url: `/api/users/${user_uuid}`, headers: auth(user_uuid) })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  const gone = await app.inject({ method: 'GET', url: `/api/users/${user_uuid}`, headers: adminAuth() })
  t.equal(gone.statusCode, 404)
  t.equal(gone.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(gone.json(), { type: '/problems/not-found', title: 'Not Found', status: 404 })
  const again = await app.inject({ method: 'DELETE', url: `/api/users/${user_uuid}`, headers: adminAuth() })
  t.equal(again.statusCode, 404)
})

t.test('server generates user_uuid for admins, defaults to sub for users', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: `gen-${randomUUID()}@example.com` } })
  t.equal(res.statusCode, 201)
  t.match(res.json().user_uuid, /^[0-9a-f-]{36}$/)
  t.equal(res.json().timezone, 'UTC', 'timezone defaults to UTC')
  t.equal(res.json().sex, 'unknown')
  const sub = randomUUID()
  const own = await app.inject({ method: 'POST', url: '/api/users/', headers: auth(sub), payload: { email: `own-${sub}@example.com` } })
  t.equal(own.statusCode, 201)
  t.equal(own.json().user_uuid, sub)
})

t.test('a user token may only create itself', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/api/users/', headers: auth(randomUUID()), payload: { user_uuid: randomUUID(), email: 'x@example.com' } })
  t.equal(res.statusCode, 403)
})

t.test('email is unique case-insensitively: 409', async (t) => {
  await createUser(app, { email: 'dup@example.com' })
  const res = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'DUP@example.COM' } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { status: 409, errors: [{ path: '/body/email' }] })
  const other = await createUser(app)
  const patch = await app.inject({ method: 'PATCH', url: `/api/users/${other}`, headers: adminAuth(), payload: { email: 'Dup@Example.com' } })
  t.equal(patch.statusCode, 409)
  const sameUuid = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { user_uuid: other, email: `new-${randomUUID()}@example.com` } })
  t.equal(sameUuid.statusCode, 409)
})

t.test('validation: 400 for wrong types and unknown fields, 422 for implausible values, with field paths', async (t) => {
  const missing = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { name: 'x' } })
  t.equal(missing.statusCode, 400)
  t.match(missing.json().errors, [{ path: '/body/email' }])
  const wrongType = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'a@example.com', height_cm: '180' } })
  t.equal(wrongType.statusCode, 400)
  t.match(wrongType.json().errors, [{ path: '/body/height_cm' }])
  const unknown = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'a@example.com', favourite_colour: 'blue' } })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.json().errors, [{ path: '/body/favourite_colour' }])
  const badJson = await app.inject({ method: 'POST', url: '/api/users/', headers: { ...adminAuth(), 'content-type': 'application/json' }, payload: '{"email":' })
  t.equal(badJson.statusCode, 400)
  t.equal(badJson.headers['content-type'], 'application/problem+json; charset=utf-8')
  const tall = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'tall@example.com', height_cm: 300 } })
  t.equal(tall.statusCode, 422)
  t.match(tall.json().errors, [{ path: '/body/height_cm' }])
  const tz = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'tz@example.com', timezone: 'Mars/Olympus' } })
  t.equal(tz.statusCode, 422)
  t.match(tz.json().errors, [{ path: '/body/timezone' }])
  const future = await app.inject({ method: 'POST', url: '/api/users/', headers: adminAuth(), payload: { email: 'f@example.com', birth_date: '2999-01-01' } })
  t.equal(future.statusCode, 422)
  const badUuid = await app.inject({ method: 'GET', url: '/api/users/not-a-uuid', headers: adminAuth() })
  t.equal(badUuid.statusCode, 400)
})

t.test('listing users: admin pages newest first; a user gets 403', async (t) => {
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push(await createUser(app))
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject({ method: 'GET', url: `/api/users/?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: adminAuth() })
    t.equal(res.statusCode, 200)
    const page = res.json() as { items: Array<{ user_uuid: string; created_at: string }>; next_cursor: string | null }
    t.ok(page.items.length <= 2)
    seen.push(...page.items.map((u) => u.user_uuid))
    cursor = page.next_cursor
  } while (cursor)
  t.equal(new Set(seen).size, seen.length, 'no user twice across pages')
  for (const id of ids) t.ok(seen.includes(id))
  const asUser = await app.inject({ method: 'GET', url: '/api/users/', headers: auth(ids[0]!) })
  t.equal(asUser.statusCode, 403)
  const badCursor = await app.inject({ method: 'GET', url: '/api/users/?cursor=garbage', headers: adminAuth() })
  t.equal(badCursor.statusCode, 400)
  const service = await app.inject({ method: 'GET', url: '/api/users/?limit=1', headers: auth(randomUUID(), 'service') })
  t.equal(service.statusCode, 200)
})

t.test('auth: 401 with WWW-Authenticate', async (t) => {
  const none = await app.inject({ method: 'GET', url: '/api/users/' })
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /^Bearer/)
  const bad = await app.inject({ method: 'GET', url: '/api/users/', headers: { authorization: 'Bearer abc.def.ghi' } })
  t.equal(bad.statusCode, 401)
  t.match(bad.headers['www-authenticate'], /invalid_token/)
  const basic = await app.inject({ method: 'GET', url: '/api/users/', headers: { authorization: 'Basic Zm9vOmJhcg==' } })
  t.equal(basic.statusCode, 401)
})

t.test('request id is accepted and echoed', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } })
  t.equal(res.headers['x-request-id'], 'abc-123')
  const gen = await app.inject({ method: 'GET', url: '/healthz' })
  t.match(gen.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})
