/**
 * Three API processes behind nginx (the repo's k8s/nginx/nginx.conf, upstream.conf generated like
 * docker-compose's: `max_fails=3 fail_timeout=10s`), one shared fresh database, the score worker
 * in one process only:
 *
 * 1. kill -9 under write load: one process is killed mid-run and started again on the same port;
 *    clients retry (same Idempotency-Key, backoff, bounded). Every write answered 2xx is in the
 *    database exactly once, nothing is duplicated, no retry is answered "already exists".
 * 2. rolling restart with SIGTERM under write + read load: each process in turn drains
 *    (SHUTDOWN_DRAIN_MS), exits 0 and comes back before the next. Zero failed writes after the
 *    clients' own retries, zero failed reads (nginx retries GETs); raw failures are reported.
 * 3. overload at twice the measured capacity (open loop, 10 s), once through a second nginx with
 *    `max_fails=0` (what the API processes do on their own) and once through the deployed upstream
 *    settings: the excess is answered 503 + Retry-After quickly, admitted requests keep a bounded
 *    p99, goodput stays at least half the capacity, every process stays under the RSS limit and alive.
 *
 * Figures are printed (t.comment) and written to $TMPDIR/ht-cluster-<scenario>.json.
 * Skipped with a message when nginx is not installed.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { adminAuth, auth, createTestDatabase } from '../helper.js'
import { alive, apiEnv, nginxAvailable, percentile, request, restartApi, rssMiB, startApi, startNginx, stopApi, waitReady, type Api, type Nginx } from './harness.js'
import { closedLoop, openLoop, readLoad, writeLoad, type Write, type WriteRun } from './load.js'

// three processes, nginx and the load generator share 2 cores: this file needs minutes, not seconds
t.setTimeout(330_000)

/** resident memory a process may reach under overload (PRESSURE_MAX_HEAP_BYTES keeps the heap far below) */
const RSS_LIMIT_MIB = 512
const HEAP_LIMIT_BYTES = 256 * 1024 * 1024
/** the shed answer must be cheap: p99 of the 503s */
const SHED_P99_BOUND_MS = 1000
/** admitted requests under 2x overload */
const ADMITTED_P99_BOUND_MS = 3000
const OVERLOAD_MS = 8_000
const DRAIN_MS = 1500

/** nginx's error log since `from`, grouped by what happened (no live upstreams, refused, reset, ...) */
function nginxEvents(errors: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of errors.split('\n')) {
    const what = /\[(?:error|warn|crit|alert)\] \d+#\d+: \*?\d* ?(.*?)(?: while | client:|$)/.exec(line)?.[1]
    if (!what) continue
    const key = what.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ip:port').slice(0, 100)
    out[key] = (out[key] ?? 0) + 1
  }
  return out
}

/** what the API processes answered nginx (each try of a retried request counts), from the access log */
function upstreamStatuses(accessLog: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of accessLog.split('\n')) {
    const statuses = /"upstream_status":"([^"]*)"/.exec(line)?.[1]
    if (!statuses) continue
    for (const s of statuses.split(/[,:]\s*/)) if (s.trim()) out[s.trim()] = (out[s.trim()] ?? 0) + 1
  }
  return out
}

/** warn/error lines of the API processes since `from` (per process), grouped by message */
function apiEvents(apis: Api[], from: number[]): Record<string, number> {
  const out: Record<string, number> = {}
  apis.forEach((a, i) => {
    for (const line of a.log().slice(from[i]).split('\n')) {
      const msg = /"msg":"([^"]{0,80})/.exec(line)?.[1]
      const code = /"code":"([^"]{0,40})"/.exec(line)?.[1] ?? /"message":"([^"]{0,60})/.exec(line)?.[1]
      if (msg) out[`${msg}${code ? ` (${code})` : ''}`] = (out[`${msg}${code ? ` (${code})` : ''}`] ?? 0) + 1
    }
  })
  return out
}

/** only these scenarios when CLUSTER_SCENARIOS is set (e.g. "overload"), for working on one */
const only = (name: string) => !process.env.CLUSTER_SCENARIOS || process.env.CLUSTER_SCENARIOS.split(',').includes(name)

function report(name: string, figures: unknown): string {
  const file = path.join(os.tmpdir(), `ht-cluster-${name}.json`)
  writeFileSync(file, JSON.stringify(figures, null, 2))
  console.log(`cluster ${name}: ${JSON.stringify(figures)}`)
  return file
}

t.test('three API processes behind nginx', async (t) => {
  if (!nginxAvailable()) {
    t.skip('nginx is not installed (apt-get install nginx): the cluster scenarios need it as the load balancer', () => {})
    return
  }
  const databaseUrl = await createTestDatabase(t) // migrated once here; the processes run MIGRATE_ON_START=false
  const common = apiEnv(databaseUrl, {
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '100',
    PRESSURE_MAX_HEAP_BYTES: String(HEAP_LIMIT_BYTES),
    DB_POOL_MAX: '10',
    LOG_LEVEL: 'warn'
  })
  const apis: Api[] = await Promise.all([
    startApi(t, 'api-1', { ...common, WORKER_ENABLED: 'true' }),
    startApi(t, 'api-2', common),
    startApi(t, 'api-3', common)
  ])
  const nginx = await startNginx(t, apis.map((a) => a.port), 'max_fails=0') // as docker-compose's upstream.compose.conf
  t.teardown(() => writeFileSync(path.join(os.tmpdir(), 'ht-cluster-nginx-errors.log'), nginx.errors()))
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  t.teardown(() => db.end())

  const users: string[] = []
  for (let i = 0; i < 24; i++) {
    const user_uuid = randomUUID()
    const r = await request(`${nginx.base}/api/users/`, { method: 'POST', headers: adminAuth(), body: { user_uuid, email: `cluster-${i}-${user_uuid.slice(0, 6)}@example.com`, sex: i % 2 ? 'male' : 'female' } })
    if (r.status !== 201) throw new Error(`creating users through nginx: ${r.status} ${r.text}`)
    users.push(user_uuid)
  }

  const marks = () => ({ errors: nginx.errors().length, access: nginx.accessLog().length, logs: apis.map((a) => a.log().length) })
  const since = (m: ReturnType<typeof marks>) => ({
    nginx_events: nginxEvents(nginx.errors().slice(m.errors)),
    upstream_statuses: upstreamStatuses(nginx.accessLog().slice(m.access)),
    api_events: apiEvents(apis, m.logs),
    load_average: os.loadavg().map((l) => Number(l.toFixed(1)))
  })

  /** what the database holds for a run's writes */
  async function verify(run: WriteRun) {
    const rows = await db.query<{ user_uuid: string; recorded: Date; heart_rate_bpm: number; n: string }>(
      `SELECT user_uuid, recorded, min(heart_rate_bpm) AS heart_rate_bpm, count(*) AS n FROM bio_metrics WHERE user_uuid = ANY($1) GROUP BY 1, 2`,
      [users]
    )
    const found = new Map(rows.rows.map((r) => [`${r.user_uuid}|${r.recorded.toISOString()}`, r]))
    const key = (w: Write) => `${w.user}|${w.recorded}`
    let present = 0
    let missing = 0
    let wrongValue = 0
    for (const w of run.acknowledged) {
      const row = found.get(key(w))
      if (!row) missing++
      else {
        present++
        if (Number(row.heart_rate_bpm) !== w.heart_rate_bpm) wrongValue++
      }
    }
    const duplicates = rows.rows.filter((r) => Number(r.n) > 1).length
    // written although the client never got a 2xx (it gave up): allowed, but counted
    const writtenUnacknowledged = run.unacknowledged.filter((w) => found.has(key(w))).length
    const stuckKeys = await db.query<{ n: string }>(`SELECT count(*) AS n FROM idempotency_keys WHERE state = 'in_progress' AND key = ANY($1)`, [[...run.acknowledged, ...run.unacknowledged].map((w) => w.key)])
    return { found_in_database: present, missing, wrong_value: wrongValue, duplicate_keys: duplicates, written_but_unacknowledged: writtenUnacknowledged, idempotency_keys_left_in_progress: Number(stuckKeys.rows[0]!.n) }
  }

  t.test('kill -9 one process under write load, start it again on the same port', { skip: !only('kill9') }, async (t) => {
    const mark = marks()
    const victim = apis[1]!
    let killedAt = 0
    let restartedAfterMs = 0
    let resolveKilled: () => void = () => {}
    const killed = new Promise<void>((resolve) => (resolveKilled = resolve))
    const run = writeLoad({
      base: nginx.base,
      users,
      clients: 8,
      total: 1000,
      maxDurationMs: 35_000,
      runIndex: 1,
      onAcknowledged: (n) => {
        if (n >= 300 && !killedAt) {
          killedAt = Date.now()
          victim.service.child.kill('SIGKILL')
          resolveKilled()
        }
      }
    })
    await Promise.race([killed, run])
    t.ok(killedAt > 0, 'the victim was killed mid-run (after 300 acknowledged writes)')
    if (killedAt) {
      await victim.service.exited
      await restartApi(victim)
      restartedAfterMs = Date.now() - killedAt
    }
    const result = await run
    const found = await verify(result)
    const figures = { scenario: 'kill -9 one of three processes mid-run, restart on the same port', ...result.figures, killed: victim.name, restarted_ready_after_ms: restartedAfterMs, ...found, ...since(mark) }
    t.comment(`figures: ${report('kill9', figures)}`)
    t.ok(result.figures.acknowledged > 0, `${result.figures.acknowledged} writes acknowledged`)
    t.equal(found.missing, 0, 'every write answered 2xx is in the database')
    t.equal(found.wrong_value, 0, 'with the value that was sent')
    t.equal(found.duplicate_keys, 0, 'nothing is stored twice')
    t.equal(result.figures.conflicts_instead_of_replay, 0, 'no retry was answered "already exists" instead of the replayed 201')
    t.same(result.figures.failed_after_retries, {}, 'no write failed after the client retries (every started write was acknowledged)')
    t.ok(apis.every(alive), 'all three processes are running')
  })

  t.test('rolling restart with SIGTERM under write and read load', { skip: !only('rolling') }, async (t) => {
    const mark = marks()
    const exits: Array<{ name: string; code: number | null; stop_ms: number; ready_after_ms: number }> = []
    let finish: () => void = () => {}
    const restartsDone = new Promise<void>((resolve) => (finish = resolve))
    const writes = writeLoad({ base: nginx.base, users, clients: 8, total: 20_000, maxDurationMs: 60_000, until: restartsDone, runIndex: 2 })
    const reads = readLoad(nginx.base, users, 2, restartsDone, 60_000)
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000)) // load running before the first stop
      for (const api of apis) {
        const began = Date.now()
        const code = await stopApi(api, 'SIGTERM', 30_000)
        const stopMs = Date.now() - began
        const ready = await restartApi(api)
        exits.push({ name: api.name, code, stop_ms: stopMs, ready_after_ms: ready })
      }
      await new Promise((resolve) => setTimeout(resolve, 1000)) // and a moment of load after the last
    } finally {
      finish()
    }
    const [run, read] = await Promise.all([writes, reads])
    const found = await verify(run)
    const rawFailures = Object.values(run.figures.failures_seen).reduce((a, b) => a + b, 0)
    const figures = {
      scenario: 'rolling restart (SIGTERM, SHUTDOWN_DRAIN_MS=1500) of three processes under load',
      ...run.figures,
      raw_write_failures_before_retry: rawFailures,
      zero_failures_needs_client_retries: rawFailures > 0,
      reads: read,
      exits,
      ...found,
      ...since(mark)
    }
    t.comment(`figures: ${report('rolling', figures)}`)
    for (const e of exits) {
      t.equal(e.code, 0, `${e.name} exited 0 after SIGTERM`)
      // idle keep-alive connections from nginx must not hold the shutdown until SHUTDOWN_TIMEOUT_MS
      t.ok(e.stop_ms <= DRAIN_MS + 5000, `${e.name} stopped in ${e.stop_ms} ms <= drain ${DRAIN_MS} + 5000`)
    }
    t.ok(run.figures.acknowledged > 100, `${run.figures.acknowledged} writes acknowledged during the restarts`)
    t.same(run.figures.failed_after_retries, {}, 'zero failed writes after the clients\' retries')
    t.equal(found.missing, 0, 'every acknowledged write is stored')
    t.equal(found.duplicate_keys, 0, 'nothing is stored twice')
    t.equal(run.figures.conflicts_instead_of_replay, 0, 'no retry was answered "already exists"')
    t.same(read.failures, {}, `zero failed reads without client retries (${read.requests} reads)`)
    t.ok(apis.every(alive), 'all three processes are running')
  })

  t.test('overload at twice the measured capacity', { skip: !only('overload') }, async (t) => {
    // a second nginx in front of the same processes with max_fails=0: it never takes a process out
    // of rotation, so what the clients see there is the API's own shedding
    const direct = await startNginx(t, apis.map((a) => a.port), 'max_fails=0')
    const sender = (base: string) => {
      const byUser = users.map((u) => ({ url: `${base}/api/bio-metrics/${u}?limit=50`, headers: auth(u) }))
      let i = 0
      return () => {
        const target = byUser[i++ % byUser.length]!
        return request(target.url, { headers: target.headers, timeoutMs: 15_000 })
      }
    }
    // capacity: after a warm-up (JIT, cache), a closed loop that keeps every process busy
    await closedLoop(sender(direct.base), 32, 2000)
    const capacity = await closedLoop(sender(direct.base), 64, 4000)
    const rate = Math.max(50, Math.round(capacity.rps * 2))
    t.comment(`capacity ${Math.round(capacity.rps)} req/s (p99 ${capacity.p99} ms, ${JSON.stringify(capacity.statuses)}); offering ${rate} req/s`)

    async function overload(name: string, via: Nginx, upstream: string) {
      for (const a of apis) await waitReady(a, 30_000)
      const mark = { errors: via.errors().length, access: via.accessLog().length, logs: apis.map((a) => a.log().length) }
      const rss: Record<string, number> = Object.fromEntries(apis.map((a) => [a.name, rssMiB(a.service.child.pid) ?? 0]))
      const sampler = setInterval(() => {
        for (const a of apis) rss[a.name] = Math.max(rss[a.name]!, rssMiB(a.service.child.pid) ?? 0)
      }, 250)
      let open
      try {
        open = await openLoop(sender(via.base), rate, OVERLOAD_MS, 4000)
      } finally {
        clearInterval(sampler)
      }
      const { samples, notSent, sent } = open
      const admitted = samples.filter((s) => s.status >= 200 && s.status < 300)
      const shed = samples.filter((s) => s.status === 503)
      const statuses: Record<string, number> = {}
      for (const s of samples) statuses[s.status || 'network'] = (statuses[s.status || 'network'] ?? 0) + 1
      const figures = {
        scenario: `open loop at 2x the closed-loop capacity for ${OVERLOAD_MS / 1000} s through nginx, upstream ${upstream}`,
        capacity_rps: Math.round(capacity.rps),
        capacity_p99_ms: capacity.p99,
        offered_rps: rate,
        sent,
        not_sent_generator_saturated: notSent,
        statuses,
        admitted: admitted.length,
        goodput_rps: Math.round(admitted.length / (OVERLOAD_MS / 1000)),
        admitted_p50_ms: percentile(admitted.map((s) => s.ms), 50),
        admitted_p99_ms: percentile(admitted.map((s) => s.ms), 99),
        shed_503: shed.length,
        shed_by_api: shed.filter((s) => s.source === 'api').length,
        shed_by_nginx_no_live_upstream: shed.filter((s) => s.source === 'nginx').length,
        shed_p50_ms: percentile(shed.map((s) => s.ms), 50),
        shed_p99_ms: percentile(shed.map((s) => s.ms), 99),
        shed_without_retry_after: shed.filter((s) => !s.retryAfter).length,
        max_rss_mib: rss,
        rss_limit_mib: RSS_LIMIT_MIB,
        nginx_events: nginxEvents(via.errors().slice(mark.errors)),
        upstream_statuses: upstreamStatuses(via.accessLog().slice(mark.access)),
        api_events: apiEvents(apis, mark.logs),
        load_average: os.loadavg().map((l) => Number(l.toFixed(1)))
      }
      t.comment(`figures: ${report(name, figures)}`)
      t.equal(statuses.network ?? 0, 0, `${name}: no connection failed outright`)
      t.equal(statuses['500'] ?? 0, 0, `${name}: no 500`)
      t.equal(figures.shed_without_retry_after, 0, `${name}: every 503 carries Retry-After`)
      for (const a of apis) t.ok(rss[a.name]! < RSS_LIMIT_MIB, `${name}: ${a.name} max RSS ${rss[a.name]} MiB < ${RSS_LIMIT_MIB}`)
      t.ok(apis.every(alive), `${name}: no process died`)
      // goodput must not collapse: at twice the capacity the cluster still serves at least half of it
      t.ok(figures.goodput_rps >= capacity.rps / 2, `${name}: goodput ${figures.goodput_rps} req/s >= half the capacity (${Math.round(capacity.rps / 2)})`)
      return figures
    }

    const api = await overload('overload-api', direct, 'max_fails=0 (the API processes\' own shedding)')
    // the closed-loop capacity can underestimate what the cluster absorbs: shedding is only owed
    // when there was an excess (goodput clearly below what was offered)
    const excess = api.goodput_rps < 0.9 * (api.sent / (OVERLOAD_MS / 1000))
    t.ok(api.shed_p99_ms <= SHED_P99_BOUND_MS, `503s are quick: p99 ${api.shed_p99_ms} ms <= ${SHED_P99_BOUND_MS}`)
    if (excess) {
      t.ok(api.shed_by_api > 0, `the API processes shed the excess themselves: ${api.shed_by_api} x 503`)
      t.ok(api.admitted_p99_ms <= ADMITTED_P99_BOUND_MS, `admitted requests keep a bounded p99: ${api.admitted_p99_ms} ms <= ${ADMITTED_P99_BOUND_MS}`)
    } else {
      // on 2 shared cores the load generator saturates before the three processes do: its own
      // queue then dominates the latency it reports, which says nothing about the service
      t.comment(`no overload reached: the cluster served ${api.goodput_rps} req/s of the ${Math.round(api.sent / (OVERLOAD_MS / 1000))} offered (admitted p99 ${api.admitted_p99_ms} ms includes the generator's own queue)`)
    }

    // the deployed setting (docker-compose's upstream.compose.conf): a process that answers 503
    // 503s never take a process out of rotation (max_fails=0)
    const deployed = await overload('overload-nginx', nginx, 'max_fails=0 (as docker-compose)')
    t.ok(deployed.shed_by_nginx_no_live_upstream <= deployed.sent / 10, `nginx does not take every process out of rotation because of their shed 503s (${deployed.shed_by_nginx_no_live_upstream} of ${deployed.sent} answered "no live upstreams")`)

    for (const a of apis) await waitReady(a, 30_000)
    t.pass('every process is ready again after the overload')
  })
})
