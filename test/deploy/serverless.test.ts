/**
 * serverless.yml: six function groups on one handler (the compiled src/lambda.ts), routes that
 * cover the contract's resource prefixes without overlap, settings that are ConfigSchema names
 * whose secret values come from SSM / Secrets Manager, and a VPC.
 */
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { read } from './lib/sources.js'

const doc = parse(read('serverless.yml'))
const functions = doc.functions as Record<string, { handler: string; events: Array<{ httpApi?: { method: string; path: string } }> }>
const routes = Object.entries(functions).flatMap(([fn, f]) => f.events.filter((e) => e.httpApi).map((e) => ({ fn, ...e.httpApi! })))

const expected: Record<string, string[]> = {
  users: ['/api/users/{proxy+}'],
  'blood-tests': ['/api/blood-tests/{proxy+}'],
  'bio-metrics': ['/api/bio-metrics/{proxy+}'],
  'physical-activity': ['/api/physical-activity/{proxy+}'],
  'sleep-activity': ['/api/sleep-activity/{proxy+}'],
  'health-score': ['/api/get_health_score', '/api/health-scores/{proxy+}', '/api/health-score/{proxy+}']
}

t.test('six function groups on one handler', async (t) => {
  t.same(Object.keys(functions).sort(), Object.keys(expected).sort())
  for (const [name, f] of Object.entries(functions)) t.equal(f.handler, 'dist/src/lambda.handler', `${name}: the compiled src/lambda.ts, export handler`)
  t.match(doc.provider.runtime, /^nodejs24\.x$/, 'the Node LTS major of the image')
  t.ok(doc.package.patterns.includes('dist/src/**'), 'the compiled code is packaged')
})

t.test('routes', async (t) => {
  for (const [fn, paths] of Object.entries(expected)) {
    for (const p of paths) t.ok(routes.some((r) => r.fn === fn && r.path === p), `${fn} serves ${p}`)
  }
  const keys = routes.map((r) => `${r.method} ${r.path}`)
  t.same(keys.filter((k, i) => keys.indexOf(k) !== i), [], 'no route is declared twice')
  for (const r of routes) t.match(r.path, /^\/api\//, `${r.path} is under /api`)
  // batch ingest and every resource route of the contract reach a function
  const covered = (path: string) => routes.some((r) => (r.path.endsWith('{proxy+}') ? path.startsWith(r.path.replace('{proxy+}', '')) : path === r.path))
  for (const p of ['/api/users/abc', '/api/blood-tests/batch', '/api/bio-metrics/u/2026-01-01T00:00:00Z', '/api/physical-activity/u/update', '/api/sleep-activity/u/delete', '/api/get_health_score', '/api/health-scores/u', '/api/health-score/algorithms', '/api/ingest-rejections']) {
    t.ok(covered(p), `${p} is routed`)
  }
})

t.test('settings from SSM and Secrets Manager', async (t) => {
  const env = doc.provider.environment as Record<string, string>
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'AUTH_JWT_SECRET']) t.match(env[key], /^\$\{ssm:\/.+\}$/, `${key} comes from SSM`)
  t.match(env.AUTH_JWT_SECRET, /\/aws\/reference\/secretsmanager\//, 'the JWT secret from Secrets Manager')
  t.equal(env.WORKER_ENABLED, 'false', 'no background worker inside a function')
  t.equal(env.MIGRATE_ON_START, 'false', 'migrations run before deploy, not per cold start')
  // with the SSM references replaced by plausible values, the app accepts the environment
  const resolved = { ...env, DATABASE_URL: 'postgres://u:p@proxy:5432/db', DATABASE_READ_URL: 'postgres://u:p@replica:5432/db', REDIS_URL: 'rediss://cache:6379', AUTH_JWT_SECRET: 'x'.repeat(32) }
  t.doesNotThrow(() => loadConfig(resolved))
  t.ok(doc.provider.vpc?.securityGroupIds && doc.provider.vpc?.subnetIds, 'runs in the VPC')
  t.match(read('serverless.yml'), /VPC:/, 'with a note on what the VPC means (NAT, RDS Proxy)')
})
