/**
 * Graceful shutdown: on SIGTERM readiness turns 503 while the listener still serves (the drain
 * lets the load balancer notice), in-flight requests finish, then the process exits 0.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createTestDatabase, TEST_SECRET, token } from '../helper.js'
import { freePort, httpOk, spawnService, waitFor } from './support.js'

t.test('SIGTERM: readiness 503 during the drain, in-flight requests finish, exit 0', async (t) => {
  const url = await createTestDatabase(t)
  const port = await freePort()
  const service = spawnService('src/server.ts', {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: url,
    REDIS_URL: process.env.REDIS_URL,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: String(port),
    HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    SHUTDOWN_DRAIN_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '60000',
    WORKER_ENABLED: 'true'
  })
  const base = `http://127.0.0.1:${port}`
  await waitFor(() => httpOk(`${base}/readyz`), 60_000, 'readiness')
  const user = randomUUID()
  const headers = { authorization: `Bearer ${token(user, 'admin')}`, 'content-type': 'application/json' }
  t.equal((await fetch(`${base}/api/users/`, { method: 'POST', headers, body: JSON.stringify({ user_uuid: user, email: `${user}@example.com` }) })).status, 201)

  service.child.kill('SIGTERM')
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, 1000, 'readiness to turn 503')
  const during = await fetch(`${base}/api/users/${user}`, { headers })
  t.equal(during.status, 200, 'requests are still served during the drain')
  // a burst of writes in flight as the listener closes: each one completes
  const writes = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    fetch(`${base}/api/physical-activity/`, { method: 'POST', headers, body: JSON.stringify({ user_uuid: user, date: new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10), steps: 1000 + i }) })
      .then((r) => r.status)
      .catch(() => 'refused' as const)))
  t.ok(writes.every((s) => s === 201), `in-flight writes finish (${writes.join(',')})`)
  const code = await service.exited
  t.equal(code, 0, `exit 0 (${service.output().slice(-1500)})`)
  t.notMatch(service.output(), /"level":(50|60)/, 'no error logged while shutting down')
})
