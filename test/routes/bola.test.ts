/**
 * Broken-object-level-authorization matrix, driven by the OpenAPI document so that a new route
 * cannot escape it: for every /api operation, user A's token on user B's resources gets 404
 * (or 403 for admin-only listings) and never B's data; no token gets 401.
 */
import t from 'tap'
import { buildTestApp, createUser, auth, adminAuth } from '../helper.js'
import { bolaCases, seedVictim } from './bola-fixtures.js'

const { app } = await buildTestApp(t)
const alice = await createUser(app, { email: 'alice@example.com' })
const bob = await createUser(app, { email: 'bob@example.com' })
const victim = await seedVictim(app, bob)

const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> }
const operations = Object.entries(doc.paths)
  .filter(([path]) => path.startsWith('/api'))
  .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
const cases = bolaCases(bob, victim)

t.test('every /api operation is in the matrix', async (t) => {
  for (const op of operations) t.ok(cases[op], `${op} has a BOLA case`)
})

for (const op of operations) {
  const c = cases[op]
  if (!c) continue
  t.test(op, async (t) => {
    const [method] = op.split(' ') as [string]
    const anonymous = await app.inject({ method: method as 'GET', url: c.url, payload: c.body as object | undefined })
    t.equal(anonymous.statusCode, 401, 'no token: 401')
    t.match(anonymous.headers['www-authenticate'], /^Bearer/)

    const asAlice = await app.inject({ method: method as 'GET', url: c.url, headers: auth(alice), payload: c.body as object | undefined })
    t.ok(c.expect.includes(asAlice.statusCode), `alice on bob's resource: ${asAlice.statusCode} in ${c.expect.join('/')}`)
    t.notMatch(asAlice.body, new RegExp(`bob@example\\.com|${c.secret ?? 'no-secret-expected'}`), 'never leaks bob\'s data')
    if (c.aliceBody) t.ok(c.aliceBody(asAlice.json()), 'nothing of bob\'s was written')

    // the owner (or an admin) still reaches it, so the case really points at bob's resource
    const owner = await app.inject({ method: method as 'GET', url: c.url, headers: c.adminOnly ? adminAuth() : auth(bob), payload: c.body as object | undefined })
    if (c.aliceBody) t.notOk(c.aliceBody(owner.json()), 'the owner\'s same request is accepted')
    t.ok(owner.statusCode < 300 || c.ownerExpect?.includes(owner.statusCode), `owner/admin gets ${owner.statusCode}`)
  })
}

t.test('bob\'s data survived the attacks', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/api/users/${bob}`, headers: auth(bob) })
  t.equal(res.statusCode, 200)
  t.equal(res.json().email, 'bob@example.com')
})
