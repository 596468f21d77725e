/**
 * `npm test`: type-check, lint the committed OpenAPI document, then run every tap test.
 * With DATABASE_URL set the tests use that server (each test file creates and drops its own
 * database); without it an embedded PostgreSQL is started in a temporary folder for the run.
 * Extra arguments go to tap (`npm test -- test/routes/users.test.ts`).
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../src/embedded.js'

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  console.log(`\n$ ${command} ${args.join(' ')}`)
  const result = spawnSync(command, args, { stdio: 'inherit', env })
  return result.status ?? 1
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

async function main(): Promise<number> {
  const tapArgs = process.argv.slice(2)
  const only = tapArgs.length > 0
  if (!only) {
    if (run('npx', ['tsc', '--noEmit']) !== 0) return 1
    // the k6 scenarios are typed against @types/k6 (no k6 binary here): they must compile
    if (run('npx', ['tsc', '-p', 'loadtest/k6/tsconfig.json']) !== 0) return 1
    if (run('npx', ['spectral', 'lint', '--quiet', '--fail-severity=error', '--ruleset', 'openapi/.spectral.yaml', 'openapi/openapi.json']) !== 0) return 1
  }
  const env = { ...process.env }
  let stop = async () => {}
  if (!env.DATABASE_URL) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ht-test-pg-'))
    chmodSync(dir, 0o755) // as root, PostgreSQL runs as the `postgres` user and must reach it
    const port = await freePort()
    const db = await startEmbeddedPostgres(path.join(dir, 'data'), port, { info: (m) => console.log(m) }, false)
    env.DATABASE_URL = db.url
    stop = async () => {
      await db.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    console.log('DATABASE_URL unset: tests run against an embedded PostgreSQL')
  } else {
    console.log(`tests run against ${new URL(env.DATABASE_URL).host}${env.REDIS_URL ? ` and Redis at ${new URL(env.REDIS_URL).host}` : ''}`)
  }
  try {
    if (only) return run('npx', ['tap', ...tapArgs], env)
    // system tests spawn processes, nginx and load of their own: they run after the rest, one at a
    // time, so their timing-sensitive assertions don't compete with other test files for 2 cores
    const main = run('npx', ['tap', '--exclude=test/system/**'], env)
    const system = run('npx', ['tap', '--jobs=1', 'test/system/*.test.ts'], env)
    return main || system
  } finally {
    await stop()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
