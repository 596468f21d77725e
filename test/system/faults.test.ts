/**
 * Dependency faults: one API process (`node --import tsx src/server.ts`, as deployed) reaches
 * PostgreSQL and Redis only through fault proxies (./fault-proxy.ts) that the test breaks.
 *
 * - Redis reset (down) and paused (hanging): every route type still answers 2xx/4xx, never 5xx,
 *   each within a bound; readiness stays 200 ("degraded"); a write made while Redis was away is
 *   visible once Redis is back (no stale cached page).
 * - PostgreSQL reset (down, also with queries in flight) and paused (hanging): the API answers 503
 *   problem+json with Retry-After within the configured timeouts, /readyz is 503, /healthz stays
 *   200, the process stays up, and after resume it recovers by itself (polled, bounded).
 * Finally SIGTERM stops it with exit code 0.
 */
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { adminAuth, auth, createTestDatabase } from '../helper.js'
import { FaultProxy } from './fault-proxy.js'
import { alive, apiEnv, request, restartApi, startApi, stopApi, type Answer } from './harness.js'

/** every request must answer within this, whatever the fault (the timeouts below are smaller) */
const REQUEST_BOUND_MS = 2000
const REDIS_COMMAND_TIMEOUT_MS = 100
const DB_CONNECTION_TIMEOUT_MS = 500
const DB_STATEMENT_TIMEOUT_MS = 1000
/** a query on a connection that hangs is abandoned after statement timeout + 1 s (src/plugins/db.ts) */
const DB_HANG_BOUND_MS = REQUEST_BOUND_MS + DB_STATEMENT_TIMEOUT_MS + 1000

// a process start, two fault rounds per dependency and bounded recoveries: more than tap's default 120 s on a busy box
t.setTimeout(240_000)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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


t.test('one API process with PostgreSQL and Redis behind fault proxies', async (t) => {
  const direct = await createTestDatabase(t)
  const dbUrl = new URL(direct)
  const pg = await FaultProxy.start(dbUrl.hostname, Number(dbUrl.port || 5432))
  t.teardown(() => pg.close())
  const redisUrl = process.env.REDIS_URL
  const redis = redisUrl ? await FaultProxy.start(new URL(redisUrl).hostname, Number(new URL(redisUrl).port || 6379)) : null
  if (redis) t.teardown(() => redis.close())

  const api = await startApi(t, 'api', apiEnv(pg.rewrite(direct), {
    ...(redis && redisUrl ? { REDIS_URL: redis.rewrite(redisUrl) } : {}),
    REDIS_COMMAND_TIMEOUT_MS: String(REDIS_COMMAND_TIMEOUT_MS),
    DB_CONNECTION_TIMEOUT_MS: String(DB_CONNECTION_TIMEOUT_MS),
    DB_STATEMENT_TIMEOUT_MS: String(DB_STATEMENT_TIMEOUT_MS),
    // the in-process score worker polls PostgreSQL too: it must not take the process down while it is away
    WORKER_ENABLED: 'true',
    WORKER_POLL_MS: '100',
    LOG_LEVEL: 'warn'
  }))
  const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
    request(`${api.base}${url}`, { method, headers, body, timeoutMs: 10_000 })

  const user = randomUUID()
  const created = await call('POST', '/api/users/', adminAuth(), { user_uuid: user, email: `faults-${user.slice(0, 8)}@example.com`, sex: 'female' })
  t.equal(created.status, 201, created.text)
  const me = auth(user)
  let minute = 0
  const recordedAt = () => new Date(Date.now() - 3_600_000 - ++minute * 60_000).toISOString()
  const seeded = recordedAt()
  const seed = await call('POST', '/api/bio-metrics/', me, { user_uuid: user, recorded: seeded, heart_rate_bpm: 61 })
  t.equal(seed.status, 201, seed.text)

  /** one request of every route type */
  const everyRoute = (): Array<{ name: string; run: () => Promise<Answer>; write: boolean }> => [
    { name: 'list GET', write: false, run: () => call('GET', `/api/bio-metrics/${user}`, me) },
    { name: 'single GET', write: false, run: () => call('GET', `/api/bio-metrics/${user}/${encodeURIComponent(seeded)}`, me) },
    { name: 'POST', write: true, run: () => call('POST', '/api/bio-metrics/', { ...me, 'idempotency-key': randomUUID() }, { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 62 }) },
    { name: 'PATCH', write: true, run: () => call('PATCH', `/api/bio-metrics/${user}/${encodeURIComponent(seeded)}/update`, me, { weight_kg: 70 }) },
    { name: 'batch POST', write: true, run: () => call('POST', '/api/bio-metrics/batch', me, { items: [{ user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 63 }] }) },
    { name: 'score GET', write: false, run: () => call('GET', `/api/get_health_score?user_uuid=${user}`, me) },
    { name: 'score history GET', write: false, run: () => call('GET', `/api/health-scores/${user}`, me) },
    { name: 'user GET', write: false, run: () => call('GET', `/api/users/${user}`, me) },
    { name: 'users list GET (admin)', write: false, run: () => call('GET', '/api/users/?limit=5', adminAuth()) },
    { name: 'DELETE', write: true, run: () => call('DELETE', `/api/bio-metrics/${user}/delete?recorded=${encodeURIComponent(recordedAt())}`, me) }
  ]

  /** false (and a failure with the log tail) when the process died; it is then started again so later scenarios still run */
  const stillUp = async (t: Test, when: string): Promise<boolean> => {
    if (!alive(api)) {
      const tail = api.log().split('\n').filter((l) => /error|exiting/i.test(l)).slice(-3).join('\n').slice(0, 2000)
      t.fail(`the process died ${when} (exit ${api.service.child.exitCode}): ${tail}`)
      pg.slow(0)
      await pg.resume()
      if (redis) await redis.resume()
      await restartApi(api)
      return false
    }
    const live = await call('GET', '/healthz', {})
    t.equal(live.status, 200, `the process is up and live (200) ${when}`)
    return true
  }

  t.test('Redis down (reset) and hanging (paused): no 5xx, bounded latency, ready and degraded', async (t) => {
    if (!redis) {
      t.skip('REDIS_URL is not set: the app uses its in-process cache, there is no Redis to break', () => {})
      return
    }
    for (const fault of ['reset', 'pause'] as const) {
      t.test(`Redis ${fault}`, async (t) => {
        // warm the cache with Redis up: this page must not be served after a write made while Redis is away
        t.equal((await call('GET', `/api/bio-metrics/${user}?limit=500`, me)).status, 200)
        if (fault === 'reset') await redis.reset()
        else redis.pause()
        const worst: Record<string, number> = {}
        // several rounds: the first calls time out, later ones meet the open circuit breaker
        for (let round = 0; round < 3; round++) {
          for (const route of everyRoute()) {
            const a = await route.run()
            worst[route.name] = Math.max(worst[route.name] ?? 0, Math.round(a.ms))
            t.ok(a.status > 0 && a.status < 500, `${route.name} round ${round}: ${a.status || a.error} is 2xx/4xx${a.status >= 500 ? ` ${a.text}` : ''}`)
            t.ok(a.ms < REQUEST_BOUND_MS, `${route.name} round ${round}: answered in ${Math.round(a.ms)} ms < ${REQUEST_BOUND_MS}`)
          }
        }
        t.comment(`slowest answer (ms) per route with Redis ${fault}: ${JSON.stringify(worst)}`)
        const ready = await call('GET', '/readyz', {})
        t.equal(ready.status, 200, 'readiness stays 200 without Redis')
        t.equal(ready.status === 200 ? JSON.parse(ready.text).status : ready.text, 'degraded', 'and reports degraded')
        t.ok(ready.ms < REQUEST_BOUND_MS, `readyz in ${Math.round(ready.ms)} ms`)
        const added = recordedAt()
        const write = await call('POST', '/api/bio-metrics/', me, { user_uuid: user, recorded: added, heart_rate_bpm: 64 })
        t.equal(write.status, 201, 'a write while Redis is away succeeds')
        await redis.resume()
        // ok again within the breaker's cool-down plus the reconnect backoff
        let status = ''
        for (let i = 0; i < 60 && status !== 'ok'; i++) {
          const r = await call('GET', '/readyz', {})
          status = r.status === 200 ? JSON.parse(r.text).status : String(r.status)
          if (status !== 'ok') await sleep(250)
        }
        t.equal(status, 'ok', 'readiness reports ok again after Redis is back')
        const list = await call('GET', `/api/bio-metrics/${user}?limit=500`, me)
        t.equal(list.status, 200)
        const recorded = list.status === 200 ? (JSON.parse(list.text).items as Array<{ recorded: string }>).map((i) => i.recorded) : []
        t.ok(recorded.includes(new Date(added).toISOString()), 'the write made while Redis was away is visible once Redis is back (no stale cached page)')
        await stillUp(t, `after Redis ${fault}`)
      })
    }
  })

  t.test('PostgreSQL down (reset) and hanging (paused): 503 problem+json with Retry-After, then recovery', async (t) => {
    for (const fault of ['reset', 'pause'] as const) {
      t.test(`PostgreSQL ${fault}`, async (t) => {
        let inflight: Array<Promise<Answer>> = []
        if (fault === 'reset') {
          // connections die under queries in flight (and under the worker's), not only while idle
          pg.slow(150)
          inflight = [...everyRoute(), ...everyRoute()].map((r) => r.run())
          await sleep(100) // let them reach the slowed proxy
          await pg.reset()
        } else {
          pg.pause()
        }
        const routes = everyRoute()
        // all at once: with a hanging database each waits for its timeout
        const answers = await Promise.all([...routes.map((r) => r.run()), ...inflight])
        const times: Record<string, number> = {}
        answers.forEach((a, i) => {
          const route = routes[i % routes.length]!
          const name = i < routes.length ? route.name : `${route.name} (in flight at the reset)`
          times[name] = Math.round(a.ms)
          t.ok(a.status > 0, `${name}: answered (${a.status || a.error})`)
          // a read may still be served from the cache (2xx): what none may do is hang or answer 500
          if (a.status >= 500) {
            t.equal(a.status, 503, `${name}: ${a.status} is 503`)
            t.match(String(a.headers.get('content-type')), /^application\/problem\+json/, `${name}: problem+json`)
            t.ok(Number(a.headers.get('retry-after')) > 0, `${name}: Retry-After ${a.headers.get('retry-after')}`)
            t.notMatch(a.text, /ECONN|stack|SELECT|INSERT|\.ts:\d/i, `${name}: no internals leak`)
          } else if (a.status > 0 && i < routes.length) {
            t.notOk(route.write, `${name}: only a read may be answered without the database (got ${a.status})`)
          }
          t.ok(a.ms < DB_HANG_BOUND_MS, `${name}: answered in ${Math.round(a.ms)} ms < ${DB_HANG_BOUND_MS}`)
        })
        t.comment(`answer time (ms) per route with PostgreSQL ${fault}: ${JSON.stringify(times)}`)
        if (!(await stillUp(t, `with PostgreSQL ${fault}`))) return
        const write = await call('POST', '/api/bio-metrics/', me, { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 65 })
        t.equal(write.status, 503, 'a write without the database is 503')
        const ready = await call('GET', '/readyz', {})
        t.equal(ready.status, 503, 'readiness is 503 without PostgreSQL')
        t.ok(ready.ms < DB_HANG_BOUND_MS, `readyz answered in ${Math.round(ready.ms)} ms`)
        if (!(await stillUp(t, `with PostgreSQL ${fault}`))) return

        await pg.resume()
        const started = Date.now()
        let last: Answer | null = null
        let tries = 0
        while (Date.now() - started < 20_000 && tries < 100) {
          tries++
          last = await call('POST', '/api/bio-metrics/', me, { user_uuid: user, recorded: recordedAt(), heart_rate_bpm: 66 })
          if (last.status === 201) break
          await sleep(200)
        }
        t.equal(last?.status, 201, `writes succeed again after PostgreSQL is back (${Date.now() - started} ms, ${tries} tries)`)
        t.equal((await call('GET', '/readyz', {})).status, 200, 'ready again')
        for (const route of everyRoute()) {
          const a = await route.run()
          t.ok(a.status > 0 && a.status < 500, `${route.name} after recovery: ${a.status || a.error}`)
        }
        await stillUp(t, `after PostgreSQL ${fault}`)
      })
    }
  })

  t.test('SIGTERM after all that: a clean exit', async (t) => {
    t.ok(alive(api), 'still running')
    t.equal(await stopApi(api, 'SIGTERM'), 0, 'exit code 0')
  })
})
