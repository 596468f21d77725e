import t from 'tap'
import { ConfigError, durationMs, loadConfig } from '../src/config.js'

t.test('defaults follow the contract', async (t) => {
  const c = loadConfig({})
  t.equal(c.PORT, 3000)
  t.equal(c.HOST, '0.0.0.0')
  t.equal(c.MIGRATE_ON_START, true)
  t.equal(c.METRICS_PORT, 9464)
  t.equal(c.RATE_LIMIT_MAX, 600)
  t.equal(c.RATE_LIMIT_WINDOW, '1 minute')
  t.equal(c.LOG_LEVEL, 'info')
  t.equal(c.DATABASE_URL, undefined)
})

t.test('a malformed setting names the variable', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), { name: 'ConfigError', message: /PORT="eighty"/ })
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x', AUTH_JWT_SECRET: 'x'.repeat(32) }), /DATABASE_URL/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL.*one of fatal/)
  t.throws(() => loadConfig({ MIGRATE_ON_START: 'maybe' }), /MIGRATE_ON_START/)
  t.throws(() => loadConfig({ AUTH_JWT_SECRET: 'short' }), /AUTH_JWT_SECRET.*32/)
  t.throws(() => loadConfig({ RATE_LIMIT_WINDOW: 'a while' }), /RATE_LIMIT_WINDOW/)
})

t.test('a real database needs a real secret', async (t) => {
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://h/db' }), ConfigError)
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://h/db' }), /AUTH_JWT_SECRET or AUTH_JWKS_URL/)
  t.ok(loadConfig({ DATABASE_URL: 'postgres://h/db', AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' }))
})

t.test('durations', async (t) => {
  t.equal(durationMs('1 minute'), 60_000)
  t.equal(durationMs('30 seconds'), 30_000)
  t.equal(durationMs('500ms'), 500)
  t.equal(durationMs('2 hours'), 7_200_000)
})
