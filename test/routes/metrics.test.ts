/**
 * Every metric name the Grafana dashboard and the alert rules use is actually exported by the
 * running service, after real traffic: no panel or alert on a metric that does not exist.
 */
import t from 'tap'
import { buildTestApp, auth, createUser } from '../helper.js'
import { metricNamesUsed, metricsRequiringRedis } from '../monitoring/metric-names.js'
import { freePort } from '../system/support.js'
import { ScoreWorker } from '../../src/worker/score-worker.js'

const port = await freePort()
const { app } = await buildTestApp(t, { app: { metricsPort: port } })
const user = await createUser(app)
const h = auth(user)
const today = new Date().toISOString().slice(0, 10)
await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: 4000, source: 'garmin' } })
await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: -5 } })
await app.inject({ method: 'GET', url: `/api/physical-activity/${user}`, headers: h })
await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: h })
await new ScoreWorker(app, { concurrency: 1, pollMs: 10, maxAttempts: 2 }).drainOnce()
app.metrics.shedRequests.inc({ reason: 'pressure' }, 0)
app.metrics.rateLimited.inc(0)

t.test('scraped over HTTP on METRICS_PORT', async (t) => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.status, 200)
  const text = await res.text()
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!))
  for (const name of metricNamesUsed()) {
    if (!process.env.REDIS_URL && metricsRequiringRedis.includes(name)) continue
    t.ok(exported.has(name), `${name} is exported`)
  }
  t.match(text, /http_request_duration_seconds_bucket\{[^}]*route="\/api\/physical-activity\/:user_uuid"/, 'route templates, not raw URLs')
  t.match(text, /ingest_records_total\{resource="physical_activity",source="garmin"\} 1/)
  t.match(text, /ingest_rejections_total\{resource="physical_activity",reason="implausible"\} 1/)
  t.match(text, /db_coalesced_group_size_count\{statement="insert"\} [1-9]/, 'the POST\'s insert went through a coalesced statement')
  t.notMatch(text, new RegExp(user), 'no user ids in label values')
})
