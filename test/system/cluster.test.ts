/**
 * Three API processes behind nginx (the repo's k8s/nginx/nginx.conf, upstream.conf generated like
 * docker-compose's upstream.compose.conf: `max_fails=0`), one shared fresh database, the score
 * worker in one process only:
 *
 * 1. kill -9 under write load: one process is killed mid-run and started again on the same port;
 *    clients retry (same Idempotency-Key, backoff, bounded). Every write answered 2xx is in the
 *    database exactly once, nothing is duplicated, no retry is answered "already exists".
 * 2. rolling restart with SIGTERM under write + read load: each process in turn drains
 *    (SHUTDOWN_DRAIN_MS), exits 0 and comes back before the next. Zero failed writes after the
 *    clients' own retries, zero failed reads (nginx retries GETs); raw failures are reported.
 * 3. overload: wearable syncs (batch POSTs of 200 readings, dear for the service and cheap for the
 *    generator) at twice the capacity measured with a closed loop, open loop for OVERLOAD_MS, once
 *    through a second nginx and once through the one the other scenarios use. Asserted
 *    unconditionally: the generator really offered the rate; the API processes shed the excess
 *    themselves (503 + Retry-After, problem+json) quickly; admitted requests keep a p99 within a
 *    small multiple of the capacity run's; goodput stays at least half the capacity; only 2xx and
 *    503 answers; every process stays under the RSS limit and alive.
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
import { ConfigSchema } from '../../src/config.js'
import { adminAuth, auth, createTestDatabase } from '../helper.js'
import { alive, apiEnv, nginxAvailable, percentile, request, restartApi, rssMiB, startApi, startNginx, stopApi, waitReady, type Api, type Nginx } from './harness.js'
import { batchSync, closedLoop, openLoop, readLoad, writeLoad, type Sample, type Write, type WriteRun } from './load.js'

// three processes, nginx and the load generator share 2 cores: this file needs minutes, not seconds
t.setTimeout(330_000)

/** resident memory a process may reach under overload (PRESSURE_MAX_HEAP_BYTES keeps the heap far below) */
const RSS_LIMIT_MIB = 512
const HEAP_LIMIT_BYTES = 256 * 1024 * 1024
/**
 * requests one process works on at once (PRESSURE_MAX_IN_FLIGHT): the service default, one per
 * database connection (DB_POOL_MAX=10). Past ~8 batch writes in flight per process the cluster's
 * throughput no longer grows while latency does (closed loop, cap off: 24 clients 108 batches/s
 * p99 0.45 s, 48: 104/s 0.66 s, 96: 104/s 1.1 s): what is admitted beyond that only waits. The
 * earlier default (48) admitted seconds of batch work per process, and the excess was shed late by
 * the event-loop checks instead (503 p99 up to 4.3 s, admitted p99 3.9–6.8 s; docs/resilience.md).
 */
const MAX_IN_FLIGHT = (ConfigSchema.properties.PRESSURE_MAX_IN_FLIGHT as unknown as { default: number }).default
/** readings per overload request: a wearable's ~3 h of minute readings in one batch POST */
const BATCH_ITEMS = 200
/** the closed loop that measures capacity: as many clients as the three processes admit at once */
const CAPACITY_CLIENTS = 3 * MAX_IN_FLIGHT
const CAPACITY_MS = 4000
/**
 * the shed answer must be quick: p99 of the 503s. Measured 90–330 ms with other test suites running
 * on the box, up to 1.3 s with six busy-loop processes competing for the 2 cores (a shed request
 * still waits for its process's event loop); unprotected, the same overload makes requests wait 5–9 s.
 */
const SHED_P99_BOUND_MS = 1500
/**
 * admitted requests under 2x overload: p99 at most ADMITTED_P99_FACTOR x the capacity runs' p99
 * (the higher of before and after), and never above ADMITTED_P99_BOUND_MS. The capacity run keeps the
 * cluster exactly full (CAPACITY_CLIENTS = the in-flight caps), which is where the caps hold it under
 * overload, so admitted requests should see about the same latency (measured: 0.9–1.7x); the factor
 * absorbs the drift of a shared machine. Unprotected (cap and event-loop checks off) the same
 * overload is absorbed by queueing: admitted p99 5.3 s and 9.2 s, 7–18x the capacity run's.
 */
const ADMITTED_P99_FACTOR = 3
const ADMITTED_P99_BOUND_MS = 4000
/** at 2x the measured capacity at least this share of the requests must have been shed: a real excess */
const MIN_SHED_SHARE = 0.1
/** the generator must have sent at least this share of rate x duration */
const OFFERED_MIN_SHARE = 0.95
/**
 * how late the generator may send against its schedule (p99; measured 30–230 ms). This shared box
 * stalls a process for 100–500 ms now and then; a generator that cannot keep up falls further behind
 * all run long.
 */
const SEND_LAG_P99_BOUND_MS = 1000
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
    // the request mix: wearable syncs, one batch POST of BATCH_ITEMS readings each (load.ts
    // batchSync) — dear for the service, cheap for the generator, so the generator can offer 2x
    const sync = batchSync(users, BATCH_ITEMS)
    type Capacity = Awaited<ReturnType<typeof closedLoop>>
    /**
     * Capacity: a closed loop on the same mix with as many clients as the cluster admits at once
     * (in-flight cap x processes): the throughput and latency of a cluster that is full but not
     * over-full. Measured right before and right after each overload: this box is shared and its
     * speed drifts within a minute, so each run is judged against the capacity around it.
     */
    const measureCapacity = (via: Nginx) => closedLoop(sync(via.base), CAPACITY_CLIENTS, CAPACITY_MS)
    // warm-up at full concurrency (JIT, pools, keep-alive connections), then the planner statistics
    // a live database has: with 2 s at half concurrency and no ANALYZE the first capacity run came
    // out 20-50 % below the later ones, and the first overload offered too little
    await closedLoop(sync(direct.base), CAPACITY_CLIENTS, 3000)
    await db.query('ANALYZE')

    async function overload(name: string, via: Nginx, upstream: string, before: Capacity): Promise<Capacity> {
      for (const a of apis) await waitReady(a, 30_000)
      const rate = Math.round(before.rps * 2)
      t.comment(`${name}: capacity ${Math.round(before.rps)} batches/s (p50 ${before.p50} ms, p99 ${before.p99} ms, ${JSON.stringify(before.statuses)}); offering ${rate} batches/s for ${OVERLOAD_MS / 1000} s`)
      const mark = { errors: via.errors().length, access: via.accessLog().length, logs: apis.map((a) => a.log().length) }
      const rss: Record<string, number> = Object.fromEntries(apis.map((a) => [a.name, rssMiB(a.service.child.pid) ?? 0]))
      const sampler = setInterval(() => {
        for (const a of apis) rss[a.name] = Math.max(rss[a.name]!, rssMiB(a.service.child.pid) ?? 0)
      }, 250)
      let open
      try {
        open = await openLoop(sync(via.base), rate, OVERLOAD_MS, 4000)
      } finally {
        clearInterval(sampler)
      }
      const logs = { nginx_events: nginxEvents(via.errors().slice(mark.errors)), upstream_statuses: upstreamStatuses(via.accessLog().slice(mark.access)), api_events: apiEvents(apis, mark.logs) }
      const after = await measureCapacity(via)
      const { samples, notSent, sent } = open
      const admitted = samples.filter((s) => s.status >= 200 && s.status < 300)
      const shed = samples.filter((s) => s.status === 503)
      const statuses: Record<string, number> = {}
      for (const s of samples) statuses[s.status || 'network'] = (statuses[s.status || 'network'] ?? 0) + 1
      const seconds = OVERLOAD_MS / 1000
      const capacityLow = Math.min(before.rps, after.rps)
      const bySecond = (xs: Sample[], f: (xs: Sample[]) => number) => Array.from({ length: seconds }, (_, i) => f(xs.filter((x) => x.at >= i * 1000 && x.at < (i + 1) * 1000)))
      const admittedBound = Math.round(Math.min(ADMITTED_P99_FACTOR * Math.max(before.p99, after.p99), ADMITTED_P99_BOUND_MS))
      const figures = {
        scenario: `open loop at 2x the closed-loop capacity for ${seconds} s through nginx, upstream ${upstream}; each request a batch POST of ${BATCH_ITEMS} bio-metric readings`,
        max_in_flight_per_process: MAX_IN_FLIGHT,
        capacity_clients: CAPACITY_CLIENTS,
        capacity_before: { rps: Math.round(before.rps), p50_ms: before.p50, p99_ms: before.p99, statuses: before.statuses },
        capacity_after: { rps: Math.round(after.rps), p50_ms: after.p50, p99_ms: after.p99, statuses: after.statuses },
        offered_rps: rate,
        sent,
        not_sent_generator_saturated: notSent,
        generator_send_lag_p99_ms: open.sendLagP99Ms,
        generator_send_lag_max_ms: open.sendLagMaxMs,
        generator_event_loop_utilization: open.generatorElu,
        generator_cpu_ms_per_request: open.generatorCpuMsPerRequest,
        statuses,
        admitted: admitted.length,
        goodput_rps: Math.round(admitted.length / seconds),
        goodput_readings_per_s: Math.round((admitted.length * BATCH_ITEMS) / seconds),
        admitted_p50_ms: percentile(admitted.map((s) => s.ms), 50),
        admitted_p99_ms: percentile(admitted.map((s) => s.ms), 99),
        admitted_p99_bound_ms: admittedBound,
        // per second of the run (by send time): a queue that grows would show here
        admitted_p99_ms_by_second: bySecond(admitted, (xs) => percentile(xs.map((x) => x.ms), 99)),
        shed_by_second: bySecond(shed, (xs) => xs.length),
        shed_503: shed.length,
        shed_share: Math.round((shed.length / Math.max(1, sent)) * 100) / 100,
        shed_by_api: shed.filter((s) => s.source === 'api').length,
        shed_by_nginx_no_live_upstream: shed.filter((s) => s.source === 'nginx').length,
        shed_p50_ms: percentile(shed.map((s) => s.ms), 50),
        shed_p99_ms: percentile(shed.map((s) => s.ms), 99),
        shed_without_retry_after: shed.filter((s) => !s.retryAfter).length,
        shed_not_problem_json: shed.filter((s) => !s.problemJson).length,
        max_rss_mib: rss,
        rss_limit_mib: RSS_LIMIT_MIB,
        ...logs,
        load_average: os.loadavg().map((l) => Number(l.toFixed(1)))
      }
      t.comment(`figures: ${report(name, figures)}`)

      // the generator really offered the rate: otherwise what follows measures the generator
      t.ok(before.rps >= 5, `${name}: a capacity was measured: ${Math.round(before.rps)} batches/s of ${BATCH_ITEMS} readings`)
      t.equal(notSent, 0, `${name}: the generator sent every request that was due (none held back by its own in-flight cap)`)
      t.ok(sent >= OFFERED_MIN_SHARE * rate * seconds, `${name}: the generator offered the rate: ${sent} sent >= ${OFFERED_MIN_SHARE} x ${rate}/s x ${seconds} s`)
      t.ok(open.sendLagP99Ms <= SEND_LAG_P99_BOUND_MS, `${name}: the generator kept its schedule: send lag p99 ${open.sendLagP99Ms} ms <= ${SEND_LAG_P99_BOUND_MS}`)

      // every answer is a 2xx or the API's shed 503: no connection failed, no 500, no other error
      t.equal(statuses.network ?? 0, 0, `${name}: no connection failed outright`)
      t.equal(statuses['500'] ?? 0, 0, `${name}: no 500`)
      t.same(Object.fromEntries(Object.entries(statuses).filter(([k]) => !/^2\d\d$|^503$/.test(k))), {}, `${name}: nothing but 2xx and 503`)

      // a real excess, shed by the API processes themselves, quickly, in the documented shape
      t.ok(figures.shed_by_api >= MIN_SHED_SHARE * sent, `${name}: the API processes shed the excess themselves: ${figures.shed_by_api} x 503 of ${sent} (>= ${MIN_SHED_SHARE * 100} %)`)
      t.equal(figures.shed_by_api, shed.length, `${name}: every 503 came from an API process (nginx never ran out of processes)`)
      t.equal(figures.shed_without_retry_after, 0, `${name}: every 503 carries Retry-After`)
      t.equal(figures.shed_not_problem_json, 0, `${name}: every 503 is application/problem+json`)
      t.ok(figures.shed_p99_ms <= SHED_P99_BOUND_MS, `${name}: 503s are quick: p99 ${figures.shed_p99_ms} ms <= ${SHED_P99_BOUND_MS}`)

      // what was admitted is served in bounded time, and the cluster keeps serving
      t.ok(figures.admitted_p99_ms <= admittedBound, `${name}: admitted requests keep a bounded p99: ${figures.admitted_p99_ms} ms <= ${admittedBound} ms (${ADMITTED_P99_FACTOR} x the capacity runs' p99, at most ${ADMITTED_P99_BOUND_MS})`)
      // goodput must not collapse: at twice the capacity the cluster still serves at least half of it
      t.ok(figures.goodput_rps >= capacityLow / 2, `${name}: goodput ${figures.goodput_rps} batches/s >= half the capacity (${Math.round(capacityLow / 2)}, the lower of before and after)`)
      for (const a of apis) t.ok(rss[a.name]! < RSS_LIMIT_MIB, `${name}: ${a.name} max RSS ${rss[a.name]} MiB < ${RSS_LIMIT_MIB}`)
      t.ok(apis.every(alive), `${name}: no process died`)
      return after
    }

    const first = await measureCapacity(direct)
    const between = await overload('overload-api', direct, 'max_fails=0 (the API processes\' own shedding)', first)
    // the deployed setting: docker-compose's upstream.compose.conf (max_fails=0), through the nginx
    // every other scenario uses
    await overload('overload-nginx', nginx, 'max_fails=0 (as docker-compose)', between)

    for (const a of apis) await waitReady(a, 30_000)
    t.pass('every process is ready again after the overload')
  })
})
