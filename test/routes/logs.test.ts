/**
 * Logs: pino JSON, the request id on every line of a request, route/status/duration on completion,
 * a warn line with the reason for rejected input, and never a token or a health value.
 * LOG_FORMAT=ecs switches to Elastic Common Schema.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import app, { serverOptions } from '../../src/app.js'
import { createTestDatabase, testConfig, TEST_SECRET, token } from '../helper.js'
import { randomUUID } from 'node:crypto'

const url = await createTestDatabase(t)

async function appWithCapturedLogs(env: Record<string, string>) {
  const lines: string[] = []
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb() } })
  const config = testConfig(url, { LOG_LEVEL: 'info', ...env })
  const options = serverOptions(config)
  const fastify = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await fastify.register(app, { config, databaseUrl: url, jwtSecret: TEST_SECRET, metricsPort: null })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return { fastify, lines }
}

t.test('pino JSON: request ids, no tokens, no health values', async (t) => {
  const { fastify, lines } = await appWithCapturedLogs({})
  const user = randomUUID()
  const bearer = token(user, 'user')
  const h = { authorization: `Bearer ${bearer}`, 'x-request-id': 'req-under-test-1' }
  await fastify.inject({ method: 'POST', url: '/api/users/', headers: h, payload: { user_uuid: user, email: 'logged@example.com', height_cm: 177.77 } })
  await fastify.inject({ method: 'POST', url: '/api/bio-metrics/', headers: { ...h, 'x-request-id': 'req-under-test-2' }, payload: { user_uuid: user, recorded: new Date().toISOString(), systolic_mmhg: 123.45, diastolic_mmhg: 81.23 } })
  await fastify.inject({ method: 'POST', url: '/api/bio-metrics/', headers: { ...h, 'x-request-id': 'req-under-test-3' }, payload: { user_uuid: user, recorded: new Date().toISOString(), spo2_pct: 187.65 } })
  await fastify.inject({ method: 'GET', url: `/api/bio-metrics/${user}`, headers: { ...h, 'x-request-id': 'req-under-test-4' } })
  const all = lines.join('\n')
  t.ok(lines.length > 0)
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line), 'every line is JSON')
  t.notMatch(all, new RegExp(bearer.split('.')[1]!), 'no token (not even its payload)')
  t.notMatch(all, /Bearer /)
  for (const value of ['123.45', '81.23', '187.65', '177.77', 'logged@example.com']) t.notMatch(all, new RegExp(value.replace('.', '\\.')), `no health value or personal data: ${value}`)
  for (const id of ['req-under-test-1', 'req-under-test-2', 'req-under-test-3', 'req-under-test-4']) {
    const mine = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === id)
    t.ok(mine.length >= 2, `${id}: incoming and completed lines carry the request id`)
    const done = mine.find((l) => l.responseTime !== undefined)
    t.ok(done?.res?.statusCode, `${id}: status on completion`)
  }
  const rejected = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-under-test-3' && l.level === 40)
  t.ok(rejected, 'a warn line for rejected input')
  t.match(rejected?.fields, ['/body/spo2_pct'], 'with the reason (field paths only)')
  const incoming = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-under-test-4' && l.req)
  t.equal(incoming?.req?.route, '/api/bio-metrics/:user_uuid', 'the route template is logged')
})

t.test('LOG_FORMAT=ecs writes Elastic Common Schema', async (t) => {
  const { fastify, lines } = await appWithCapturedLogs({ LOG_FORMAT: 'ecs' })
  await fastify.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'ecs-1' } })
  const parsed = lines.map((l) => JSON.parse(l))
  t.ok(parsed.length > 0)
  t.ok(parsed.every((l) => typeof l['@timestamp'] === 'string' && l['ecs.version']), 'ECS fields on every line')
  t.ok(parsed.some((l) => l['log.level'] === 'info'))
})
