import t from 'tap'
import { randomUUID } from 'node:crypto'
import { auth, buildTestApp, createTestDatabase, createUser } from '../helper.js'

const url = await createTestDatabase(t)

t.test('rate limit per principal: 429 problem+json with Retry-After and rate-limit headers', async (t) => {
  const { app } = await buildTestApp(t, { databaseUrl: url, env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1 minute' } })
  const user = await createUser(app) // one request by the admin
  const h = auth(user)
  const answers = []
  for (let i = 0; i < 4; i++) answers.push(await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: h }))
  t.same(answers.map((a) => a.statusCode), [200, 200, 200, 429], JSON.stringify(answers.map((a) => [a.statusCode, a.body.slice(0, 120)])))
  t.notOk(answers[0]!.headers['x-ratelimit-remaining'], 'the rate-limit headers come with the 429, not with every answer')
  const limited = answers[3]!
  t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After in seconds')
  t.equal(limited.headers['x-ratelimit-limit'], '3')
  t.equal(limited.headers['x-ratelimit-remaining'], '0')
  t.match(limited.json(), { status: 429, type: '/problems/rate-limited' })
  const other = await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: auth(randomUUID(), 'admin') })
  t.equal(other.statusCode, 200, 'another principal has its own budget')
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'operational routes are never limited')
  const anonymous = []
  const remoteAddress = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7` // the Redis store outlives test runs
  for (let i = 0; i < 4; i++) anonymous.push((await app.inject({ method: 'GET', url: '/api/users/', remoteAddress })).statusCode)
  t.same(anonymous, [401, 401, 401, 429], `calls without a token are limited by IP (${JSON.stringify(anonymous)})`)
  t.equal((await app.metrics.rateLimited.get()).values[0]?.value, 2)
})

t.test('security headers, CORS allowlist, body limits', async (t) => {
  const { app } = await buildTestApp(t, { databaseUrl: url, env: { CORS_ORIGINS: 'https://app.example.com' } })
  const user = await createUser(app)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.ok(res.headers['strict-transport-security'])
  // helmet's headers (computed once) on every answer, errors included
  const missing = await app.inject({ method: 'GET', url: `/api/users/${randomUUID()}`, headers: auth(randomUUID(), 'admin') })
  t.equal(missing.statusCode, 404)
  t.match(missing.headers, { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cross-origin-resource-policy': 'same-site', 'referrer-policy': 'no-referrer', 'strict-transport-security': /max-age=\d+/ })
  for (const documentOnly of ['x-xss-protection', 'cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'content-security-policy']) {
    t.notOk(missing.headers[documentOnly], `${documentOnly}: only for documents, not on JSON answers (OWASP REST cheat sheet)`)
  }
  const docs = await app.inject({ method: 'GET', url: '/docs/' })
  t.match(docs.headers, { 'x-frame-options': 'SAMEORIGIN', 'x-xss-protection': '0', 'cross-origin-opener-policy': 'same-origin', 'x-content-type-options': 'nosniff' }, 'pages get helmet\'s document headers')
  const allowed = await app.inject({ method: 'OPTIONS', url: '/api/users/', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com')
  const denied = await app.inject({ method: 'OPTIONS', url: '/api/users/', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } })
  t.notOk(denied.headers['access-control-allow-origin'])
  const huge = await app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: { ...auth(user), 'content-type': 'application/json' }, payload: JSON.stringify({ user_uuid: user, recorded: new Date().toISOString(), weight_kg: 70, pad: 'x'.repeat(1_100_000) }) })
  t.equal(huge.statusCode, 413)
  t.equal(huge.headers['content-type'], 'application/problem+json; charset=utf-8')
  const items = Array.from({ length: 1000 }, (_, i) => ({ user_uuid: user, recorded: new Date(Date.now() - (i + 1) * 60_000).toISOString(), weight_kg: 70, source: 'x'.repeat(64) }))
  // whitespace between tokens is valid JSON: past 1 MiB with 1000 well-formed items
  const big = JSON.stringify({ items }).replace(/,/g, `,${' '.repeat(300)}`)
  t.ok(big.length > 1_048_576, `a ${big.length}-byte batch`)
  const batch = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: { ...auth(user), 'content-type': 'application/json' }, payload: big })
  t.equal(batch.statusCode, 200, 'batches may be up to 5 MiB')
  const tooBig = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers: { ...auth(user), 'content-type': 'application/json' }, payload: JSON.stringify({ items, pad: 'x'.repeat(5_300_000) }) })
  t.equal(tooBig.statusCode, 413)
})

t.test('in-flight cap: past PRESSURE_MAX_IN_FLIGHT, 503 at once with Retry-After', async (t) => {
  const { app } = await buildTestApp(t, { databaseUrl: url, env: { PRESSURE_MAX_IN_FLIGHT: '2' }, app: { pressureGraceMs: 0 } })
  const user = await createUser(app)
  const answers = await Promise.all(Array.from({ length: 12 }, () => app.inject({ method: 'GET', url: `/api/physical-activity/${user}`, headers: auth(user) })))
  const codes = answers.map((a) => a.statusCode)
  t.ok(codes.includes(200), 'some are served')
  t.ok(codes.includes(503), `the excess is shed (${codes.join(',')})`)
  const shed = answers.find((a) => a.statusCode === 503)!
  t.equal(shed.headers['retry-after'], '1')
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})

t.test('priority shedding: non-critical routes first, writes and the stored score keep flowing', async (t) => {
  const { app } = await buildTestApp(t, { databaseUrl: url, app: { pressureGraceMs: 0 } })
  const user = await createUser(app)
  const h = auth(user)
  const today = new Date().toISOString().slice(0, 10)
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: 9000 } })
  const fresh = await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: h })
  t.equal(fresh.json().stale, false)
  app.lifecycle.shedding = () => true
  const history = await app.inject({ method: 'GET', url: `/api/health-scores/${user}`, headers: h })
  t.equal(history.statusCode, 503)
  t.ok(history.headers['retry-after'])
  const bigList = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}?limit=500`, headers: h })
  t.equal(bigList.statusCode, 503)
  const smallList = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}?limit=20`, headers: h })
  t.equal(smallList.statusCode, 200)
  const write = await app.inject({ method: 'PATCH', url: `/api/physical-activity/${user}/update`, headers: h, payload: { date: today, steps: 12000 } })
  t.equal(write.statusCode, 200, 'writes are accepted')
  const stale = await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: h })
  t.equal(stale.statusCode, 200)
  t.equal(stale.json().stale, true, 'the last stored score, marked stale, instead of an inline recomputation')
  t.equal(stale.json().score, fresh.json().score)
})

t.test('under-pressure: past the event-loop delay threshold, 503 at once; /readyz 503; /healthz still 200', async (t) => {
  const { app } = await buildTestApp(t, { databaseUrl: url })
  const user = await createUser(app)
  // a second app whose heap threshold is always exceeded: deterministic pressure
  const { app: pressed } = await buildTestApp(t, { databaseUrl: url, env: { PRESSURE_MAX_HEAP_BYTES: '1' }, app: { pressureGraceMs: 0 } })
  await new Promise((r) => setTimeout(r, 600)) // the first samples
  const res = await pressed.inject({ method: 'GET', url: `/api/users/${user}`, headers: auth(user) })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '5')
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal((await pressed.inject({ method: 'GET', url: '/readyz' })).statusCode, 503)
  t.equal((await pressed.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/api/users/${user}`, headers: auth(user) })).statusCode, 200, 'without pressure: served')
})
