/**
 * The first command a newcomer runs: with no DATABASE_URL, `npm start` starts an embedded
 * PostgreSQL, migrates, answers /healthz, prints a dev admin token, and keeps data across restarts.
 */
import t from 'tap'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { freePort, httpOk, spawnService, waitFor } from './support.js'

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ht-embedded-'))
chmodSync(dataDir, 0o755) // as root, PostgreSQL runs as the `postgres` user and must reach it
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const port = await freePort()
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  PORT: String(port),
  HOST: '127.0.0.1',
  METRICS_PORT: String(await freePort()),
  EMBEDDED_PG_PORT: String(await freePort()),
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  SHUTDOWN_DRAIN_MS: '0'
}
const base = `http://127.0.0.1:${port}`

async function start() {
  const service = spawnService('src/server.ts', env)
  await waitFor(() => httpOk(`${base}/healthz`), 60_000, '/healthz of the embedded start')
  await waitFor(async () => /dev admin token/.test(service.output()), 5000, 'the token banner')
  return service
}

t.test('npm start with no DATABASE_URL', async (t) => {
  const first = await start()
  t.match(first.output(), new RegExp(`${base}/docs`), 'prints the docs URL')
  const token = /^\s+(ey[\w-]+\.[\w-]+\.[\w-]+)\s*$/m.exec(first.output())?.[1]
  t.ok(token, 'prints a dev admin token')
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const user_uuid = randomUUID()
  const created = await fetch(`${base}/api/users/`, { method: 'POST', headers, body: JSON.stringify({ user_uuid, email: 'first@example.com' }) })
  t.equal(created.status, 201)
  first.child.kill('SIGINT')
  t.equal(await first.exited, 0, 'Ctrl-C stops cleanly (embedded PostgreSQL too)')

  const second = await start()
  t.teardown(async () => {
    second.child.kill('SIGTERM')
    await second.exited
  })
  const token2 = /^\s+(ey[\w-]+\.[\w-]+\.[\w-]+)\s*$/m.exec(second.output())?.[1]
  const again = await fetch(`${base}/api/users/${user_uuid}`, { headers: { authorization: `Bearer ${token2}` } })
  t.equal(again.status, 200, 'the user survived the restart, and the kept secret still verifies new tokens')
  const old = await fetch(`${base}/api/users/${user_uuid}`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(old.status, 200, 'tokens minted before the restart stay valid (the secret is kept under DATA_DIR)')
})
