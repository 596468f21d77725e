/** The Lambda handler answers API Gateway HTTP API (v2) events for one route of each function group. */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createTestDatabase, TEST_SECRET, token } from '../helper.js'
import { buildLambdaProxy } from '../../src/lambda.js'

const url = await createTestDatabase(t)
const proxy = await buildLambdaProxy({ DATABASE_URL: url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', REDIS_URL: process.env.REDIS_URL })
t.teardown(() => proxy.close())
const user = randomUUID()
const bearer = `Bearer ${token(user)}`
const today = new Date().toISOString().slice(0, 10)

function event(method: string, path: string, body?: unknown, query = '') {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: { authorization: bearer, 'content-type': 'application/json', host: 'api.example.com' },
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' }, requestId: randomUUID(), stage: '$default', timeEpoch: Date.now() },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false
  }
}

type Result = { statusCode: number; body: string; headers: Record<string, string> }
const call = async (e: unknown) => (await proxy(e, {})) as Result

t.test('one route of each function group', async (t) => {
  const users = await call(event('POST', '/api/users/', { user_uuid: user, email: `lambda-${user}@example.com` }))
  t.equal(users.statusCode, 201, users.body)
  const blood = await call(event('POST', '/api/blood-tests/', { user_uuid: user, test_date: today, results: [{ marker: 'glucose', value: 5.5, unit: 'mmol/L' }] }))
  t.equal(blood.statusCode, 201, blood.body)
  t.equal(JSON.parse(blood.body).results[0].value, 99.1)
  const bio = await call(event('POST', '/api/bio-metrics/', { user_uuid: user, recorded: new Date().toISOString(), resting_heart_rate_bpm: 58 }))
  t.equal(bio.statusCode, 201, bio.body)
  const activity = await call(event('POST', '/api/physical-activity/', { user_uuid: user, date: today, steps: 9000 }))
  t.equal(activity.statusCode, 201)
  const sleep = await call(event('GET', `/api/sleep-activity/${user}`))
  t.equal(sleep.statusCode, 200)
  t.same(JSON.parse(sleep.body).items, [])
  const score = await call(event('GET', '/api/get_health_score', undefined, `user_uuid=${user}`))
  t.equal(score.statusCode, 200, score.body)
  t.equal(JSON.parse(score.body).user_uuid, user)
  const anonymous = await call({ ...event('GET', `/api/users/${user}`), headers: {} })
  t.equal(anonymous.statusCode, 401)
})
