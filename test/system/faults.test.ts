/**
 * Dependency faults: the app (built like the server, in this process) reaches PostgreSQL and
 * Redis only through fault proxies (./fault-proxy.ts), which the test breaks on purpose.
 *
 * - Redis reset (down) and Redis paused (hanging): every route type still answers 2xx/4xx, never
 *   5xx, each within a bound; readiness stays 200 ("degraded"); a write made while Redis was away
 *   is visible after Redis is back (no stale cached read).
 * - PostgreSQL reset (down) and paused (hanging): the API answers 503 problem+json with
 *   Retry-After quickly, /readyz is 503, /healthz stays 200, and after resume it recovers by
 *   itself (polled, bounded).
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import type { FastifyInstance } from 'fastify'
import { adminAuth, auth, buildTestApp, createTestDatabase, createUser } from '../helper.js'
import { FaultProxy } from './fault-proxy.js'

/** every request must answer within this, whatever the fault (timeouts below are far smaller) */
const REQUEST_BOUND_MS = 2000
const REDIS_COMMAND_TIMEOUT_MS = 100
const DB_CONNECTION_TIMEOUT_MS = 500
const DB_STATEMENT_TIMEOUT_MS = 1000

interface Answer {
  status: number
  ms: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** inject with a hard deadline: a hanging request is a failure, not a stuck test */
async function timed(app: FastifyInstance, opts: Parameters<FastifyInstance['inject']>[0], deadlineMs = 10_000): Promise<Answer> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs)
  })
  try {
    const res = await Promise.race([app.inject(opts as never) as unknown as Promise<{ statusCode: number; headers: Answer['headers']; body: string }>, hang])
    return { status: res.statusCode, ms: Math.round(performance.now() - started), headers: res.headers, body: res.body }
  } finally {
    clearTimeout(timer)
  }
}

t.test('the fault proxy itself: forwards, hangs, resets, slows', async (t) => {
  const echo = net.createServer((s) => s.pipe(s))
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => echo.close(() => resolve())))
  const proxy = await FaultProxy.start('127.0.0.1', (echo.address() as net.AddressInfo).port)
  t.teardown(() => proxy.close())
  const roundTrip = (socket: net.Socket, text: string, waitMs: number) =>
    new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => { socket.off('data', onData); resolve(null) }, waitMs)
      const onData = (d: Buffer) => { clearTimeout(timer); socket.off('data', onData); resolve(d.toString()) }
      socket.on('data', onData)
      socket.write(text)
    })
  const socket = net.connect(proxy.port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  t.equal(await roundTrip(socket, 'a', 2000), 'a', 'forwards')
  proxy.pause()
  t.equal(await roundTrip(socket, 'b', 300), null, 'paused: nothing comes back')
  const late = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())))
  await proxy.resume()
  t.equal(await late, 'b', 'resume delivers what was held')
  proxy.slow(200)
  const started = performance.now()
  t.equal(await roundTrip(socket, 'c', 3000), 'c')
  t.ok(performance.now() - started >= 350, 'slow(200) delays each direction')
  const closed = new Promise((resolve) => socket.once('close', resolve))
  await proxy.reset()
  await closed
  t.pass('reset closes open connections')
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1')
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
    s.once('connect', () => { s.destroy(); resolve('connected') })
  })
  t.equal(refused, 'ECONNREFUSED', 'reset refuses new connections')
  await proxy.resume()
  const again = net.connect(proxy.port, '127.0.0.1')
  await new Promise((resolve) => again.once('connect', resolve))
  t.equal(await roundTrip(again, 'd', 2000), 'd', 'resume listens again on the same port')
  again.destroy()
})

t.test('API with PostgreSQL and Redis behind fault proxies', async (t) => {
  const direct = await createTestDatabase(t)
  const dbUrl = new URL(direct)
  const pg = await FaultProxy.start(dbUrl.hostname, Number(dbUrl.port || 5432))
  t.teardown(() => pg.close())
  const redisUrl = process.env.REDIS_URL
  const redis = redisUrl ? await FaultProxy.start(new URL(redisUrl).hostname, Number(new URL(redisUrl).port || 6379)) : null
  if (redis) t.teardown(() => redis.close())

  const { app } = await buildTestApp(t, {
    databaseUrl: pg.rewrite(direct),
    env: {
      ...(redis && redisUrl ? { REDIS_URL: redis.rewrite(redisUrl) } : {}),
      REDIS_COMMAND_TIMEOUT_MS: String(REDIS_COMMAND_TIMEOUT_MS),
      DB_CONNECTION_TIMEOUT_MS: String(DB_CONNECTION_TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: String(DB_STATEMENT_TIMEOUT_MS),
      // the in-process score worker polls PostgreSQL too: it must not crash the process while it is away
      WORKER_ENABLED: 'true',
      WORKER_POLL_MS: '100'
    }
  })
  const user = await createUser(app, { sex: 'female' })
  const me = auth(user)
  let minute = 0
  const recordedAt = () => new Date(Date.now() - 3_600_000 - ++minute * 60_000).toISOString()
  const seeded = recordedAt()
  const seed = await app.inject({ method: 'POST', url: '/api/bio-metrics/', headers: me, payload: { user_uuid: user, recorded: seeded, heart_rate_bpm: 61 } })
  t.equal(seed.statusCode, 201, seed.body)

  /** one request of every route type; each answer is checked by `expect` */
  const everyRoute = () => [
    { name: 'list GET', opts: { method: 'GET', url: `/api/bio-metrics/${user}`, headers: me } },
    { name: 'single GET', opts: { method: 'GET', url: `/api/bio-metrics/${user}/${encodeURIComponent(seeded)}`, headers: me } },
    { name: 'POST', opts: { method: 'POST', url: '/api/bio-metrics/', headers: { ...me, 'idempotency-key': randomUUID() }, payload: { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 62 } } },
    { name: 'PATCH', opts: { method: 'PATCH', url: `/api/bio-metrics/${user}/${encodeURIComponent(seeded)}/update`, headers: me, payload: { weight_kg: 70 } } },
    { name: 'batch POST', opts: { method: 'POST', url: '/api/bio-metrics/batch', headers: me, payload: { items: [{ user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 63 }] } } },
    { name: 'score GET', opts: { method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: me } },
    { name: 'score history GET', opts: { method: 'GET', url: `/api/health-scores/${user}`, headers: me } },
    { name: 'user GET', opts: { method: 'GET', url: `/api/users/${user}`, headers: me } },
    { name: 'users list GET (admin)', opts: { method: 'GET', url: '/api/users/?limit=5', headers: adminAuth() } },
    { name: 'DELETE', opts: { method: 'DELETE', url: `/api/bio-metrics/${user}/delete?recorded=${encodeURIComponent(recordedAt())}`, headers: me } }
  ] as const

  t.test('Redis down (reset) and hanging (paused): no 5xx, bounded latency, ready and degraded', async (t) => {
    if (!redis) {
      t.skip('REDIS_URL is not set: the app uses its in-process cache, there is no Redis to break')
      return
    }
    // warm the cache with Redis up: a read cached now must not be served after a write made while Redis is away
    const warm = await timed(app, { method: 'GET', url: `/api/bio-metrics/${user}`, headers: me })
    t.equal(warm.status, 200)
    for (const fault of ['reset', 'pause'] as const) {
      t.test(`Redis ${fault}`, async (t) => {
        if (fault === 'reset') await redis.reset()
        else redis.pause()
        const worst: Record<string, number> = {}
        // several rounds: the first calls time out, later ones meet the open circuit breaker
        for (let round = 0; round < 3; round++) {
          for (const route of everyRoute()) {
            const a = await timed(app, route.opts as never)
            worst[route.name] = Math.max(worst[route.name] ?? 0, a.ms)
            t.ok(a.status < 500, `${route.name} round ${round}: ${a.status} is not 5xx ${a.status >= 500 ? a.body : ''}`)
            t.ok(a.ms < REQUEST_BOUND_MS, `${route.name} round ${round}: answered in ${a.ms} ms < ${REQUEST_BOUND_MS}`)
          }
        }
        t.comment(`slowest answer per route with Redis ${fault}: ${JSON.stringify(worst)}`)
        const ready = await timed(app, { method: 'GET', url: '/readyz' })
        t.equal(ready.status, 200, 'readiness stays 200 without Redis')
        t.equal(JSON.parse(ready.body).status, 'degraded', 'and reports degraded')
        t.ok(ready.ms < REQUEST_BOUND_MS, `readyz in ${ready.ms} ms`)
        const added = recordedAt()
        const write = await timed(app, { method: 'POST', url: '/api/bio-metrics/', headers: me, payload: { user_uuid: user, recorded: added, heart_rate_bpm: 64 } })
        t.equal(write.status, 201, 'a write while Redis is away succeeds')
        await redis.resume()
        // back to normal within the breaker's cool-down plus reconnect backoff
        const deadline = Date.now() + 15_000
        let status = ''
        while (Date.now() < deadline) {
          status = JSON.parse((await timed(app, { method: 'GET', url: '/readyz' })).body).status
          if (status === 'ok') break
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        t.equal(status, 'ok', 'readiness reports ok again after Redis is back')
        const list = await timed(app, { method: 'GET', url: `/api/bio-metrics/${user}?limit=500`, headers: me })
        t.equal(list.status, 200)
        const recorded = (JSON.parse(list.body).items as Array<{ recorded: string }>).map((i) => i.recorded)
        t.ok(recorded.includes(new Date(added).toISOString()), 'the write made while Redis was away is visible once Redis is back (no stale cached page)')
      })
    }
  })

  t.test('PostgreSQL down (reset) and hanging (paused): 503 problem+json with Retry-After, then recovery', async (t) => {
    for (const fault of ['reset', 'pause'] as const) {
      t.test(`PostgreSQL ${fault}`, async (t) => {
        if (fault === 'reset') await pg.reset()
        else pg.pause()
        const worst: Record<string, number> = {}
        for (const route of everyRoute()) {
          const a = await timed(app, route.opts as never)
          worst[route.name] = a.ms
          // a route may still answer from the cache (2xx): what it must never do is hang or answer 500
          if (a.status >= 500) {
            t.equal(a.status, 503, `${route.name}: 503, not ${a.status}`)
            t.match(String(a.headers['content-type']), /^application\/problem\+json/, `${route.name}: problem+json`)
            t.ok(Number(a.headers['retry-after']) > 0, `${route.name}: Retry-After ${a.headers['retry-after']}`)
            t.notMatch(a.body, /ECONN|stack|SELECT|INSERT|at .*\.ts/i, `${route.name}: no internals leak`)
          } else {
            t.ok(route.opts.method === 'GET', `${route.name}: only a read may be answered without the database (got ${a.status})`)
          }
          t.ok(a.ms < REQUEST_BOUND_MS + DB_STATEMENT_TIMEOUT_MS, `${route.name}: answered in ${a.ms} ms`)
        }
        t.comment(`answer time per route with PostgreSQL ${fault}: ${JSON.stringify(worst)}`)
        const writeNoCache = await timed(app, { method: 'POST', url: '/api/bio-metrics/', headers: me, payload: { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 65 } })
        t.equal(writeNoCache.status, 503, 'a write without the database is 503')
        const ready = await timed(app, { method: 'GET', url: '/readyz' })
        t.equal(ready.status, 503, 'readiness is 503 without PostgreSQL')
        t.ok(ready.ms < REQUEST_BOUND_MS + DB_STATEMENT_TIMEOUT_MS, `readyz in ${ready.ms} ms`)
        const live = await timed(app, { method: 'GET', url: '/healthz' })
        t.equal(live.status, 200, 'liveness stays 200: restarting the process would not help')

        await pg.resume()
        const started = Date.now()
        let last = 0
        let polls = 0
        while (Date.now() - started < 20_000 && polls < 200) {
          polls++
          last = (await timed(app, { method: 'POST', url: '/api/bio-metrics/', headers: me, payload: { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 66 } })).status
          if (last === 201) break
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
        t.equal(last, 201, `writes succeed again after PostgreSQL is back (${Date.now() - started} ms, ${polls} tries)`)
        const readyAgain = await timed(app, { method: 'GET', url: '/readyz' })
        t.equal(readyAgain.status, 200, 'ready again')
        for (const route of everyRoute()) {
          const a = await timed(app, route.opts as never)
          t.ok(a.status < 500, `${route.name} after recovery: ${a.status}`)
        }
      })
    }
  })
})
