import t from 'tap'
import { buildTestApp } from '../helper.js'

const { app } = await buildTestApp(t)

t.test('liveness and readiness', async (t) => {
  const live = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200, ready.body)
  t.match(ready.json(), { checks: { database: 'ok', migrations: 'ok' } })
})

t.test('operational routes need no token; /api routes do', async (t) => {
  for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
    const res = await app.inject({ method: 'GET', url })
    t.ok(res.statusCode < 400, `${url} answers ${res.statusCode}`)
  }
  const doc = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(doc.json().openapi, '3.1.0')
  t.match(doc.headers['cache-control'], /public, max-age=\d+/)
})

t.test('readiness turns 503 while draining', async (t) => {
  app.lifecycle.draining = true
  t.teardown(() => { app.lifecycle.draining = false })
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.ok(res.headers['retry-after'])
})

t.test('unknown routes are problem+json 404', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/nope' })
  t.equal(res.statusCode, 404)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('a 5xx never leaks internals', async (t) => {
  const { mapError } = await import('../../src/plugins/errors.js')
  const mapped = mapError(Object.assign(new Error('relation "secret_table" does not exist at SELECT * FROM secret_table'), { code: '42P01' }))
  t.equal(mapped.status, 500)
  t.notMatch(JSON.stringify(mapped.body), /secret_table|SELECT|at /)
  const down = mapError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
  t.equal(down.status, 503)
  t.equal(down.headers['retry-after'], '5')
  t.notMatch(JSON.stringify(down.body), /5432|ECONNREFUSED/)
})
