/**
 * One scenario = a short warm-up, then a bounded closed-loop autocannon run (pipelining 1), each
 * request built by `next()` so paths, tokens and bodies rotate. Reported: req/s (responses / run
 * time), p50 and p99 latency in ms, and errors = non-2xx + socket errors (timeouts included) +
 * requests never answered (the server closed the connection; autocannon reconnects silently).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon, { type RequestParams } from 'autocannon'
import { REPO_ROOT, envInt } from './infra.js'

export const DURATION_S = envInt('BENCH_DURATION', 10)
export const WARMUP_S = envInt('BENCH_WARMUP', 2, 0)
export const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50)
/** interleaved measurements run in slices of about this many seconds (0: one run per scenario) */
export const SLICE_S = envInt('BENCH_SLICE', 2, 0)

export interface Scenario {
  name: string
  baseUrl: string
  next: () => RequestParams
  connections?: number
  duration?: number
  /** rows per request, for batch ingest: adds rows/s */
  itemsPerRequest?: number
  /** per-request timeout in seconds (10); a timed-out request counts as an error */
  timeout?: number
  /** the server's /metrics: adds database queries per request and the cache hit ratio */
  metricsUrl?: string
  /**
   * For slow requests (batches): a run of a fixed request count sized from the warm-up's latency
   * to take about the duration, instead of a timed run that would drop the requests in flight at
   * its end (a large share when one request takes seconds).
   */
  sizedByCount?: boolean
}

export interface Measured {
  name: string
  connections: number
  duration_s: number
  requests: number
  rps: number
  p50_ms: number
  p99_ms: number
  mean_ms: number
  errors: number
  non2xx: number
  socket_errors: number
  /** sent but never answered, e.g. the server closed the connection mid-request (autocannon silently reconnects) */
  unanswered: number
  timeouts: number
  statuses: Record<string, number>
  rows_per_s?: number
  /** db_query_duration_seconds_count delta ÷ requests (includes background work, e.g. the score worker) */
  db_queries_per_request?: number
  /** cache_requests_total: hits ÷ (hits + misses) during the run */
  cache_hit_ratio?: number
  /**
   * the server process's CPU time (process_cpu_seconds_total delta) ÷ requests, in µs: what a
   * request costs the server itself, much steadier than req/s on a shared, noisy machine
   */
  server_cpu_us_per_request?: number
}

/** Sums of the counters the benchmark reads from a /metrics page. */
async function scrape(url: string | undefined): Promise<{ queries: number; hits: number; misses: number; cpu: number } | null> {
  if (!url) return null
  const text = await fetch(url).then((r) => r.text(), () => '')
  const sum = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
  return { queries: sum(/^db_query_duration_seconds_count/), hits: sum(/^cache_requests_total\{.*result="hit"/), misses: sum(/^cache_requests_total\{.*result="miss"/), cpu: sum(/^process_cpu_seconds_total /) }
}

/**
 * Response times in ms as autocannon measures them (process.hrtime, fractions of a ms), kept whole:
 * autocannon's own histogram records whole milliseconds, so at a p99 of 10–16 ms one millisecond
 * of rounding moved a large/small ratio by 0.1.
 */
class Latencies {
  private values = new Float64Array(1 << 16)
  private n = 0
  add(ms: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.n++] = ms
  }
  /** p50, p99 (nearest rank) and mean, rounded to 0.01 ms; null without samples */
  summary(): { p50: number; p99: number; mean: number } | null {
    if (this.n === 0) return null
    const sorted = this.values.slice(0, this.n).sort()
    const rank = (q: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!
    let sum = 0
    for (const v of sorted) sum += v
    const r2 = (x: number) => Math.round(x * 100) / 100
    return { p50: r2(rank(0.5)), p99: r2(rank(0.99)), mean: r2(sum / this.n) }
  }
}

/** What the runs of one scenario add up to: one run, or the slices of an interleaved measurement. */
interface Tally {
  seconds: number
  answered: number
  ok: number
  non2xx: number
  socketErrors: number
  unanswered: number
  timeouts: number
  statuses: Record<string, number>
  latencies: Latencies
  /** server counters, summed over the runs (null: the scenario has no metrics URL) */
  counters: { queries: number; hits: number; misses: number; cpu: number } | null
}

const newTally = (scenario: Scenario): Tally => ({
  seconds: 0, answered: 0, ok: 0, non2xx: 0, socketErrors: 0, unanswered: 0, timeouts: 0, statuses: {}, latencies: new Latencies(),
  counters: scenario.metricsUrl ? { queries: 0, hits: 0, misses: 0, cpu: 0 } : null
})

/**
 * One autocannon run. `seconds` is measured here, from the start to the last response: autocannon
 * reports a counted run (`amount`) only at its next one-second tick, so its own `duration` rounds
 * a 1.1 s run up to 2 s and understated every counted scenario's rate by up to a second. Latencies
 * are taken from its `response` events (every response, as its own histogram counts them). With a
 * tally, the run's responses, latencies and statuses are added to it.
 */
async function run(scenario: Scenario, length: { seconds: number } | { amount: number }, tally?: Tally) {
  const started = process.hrtime.bigint()
  let last = started
  const instance = autocannon({
    url: scenario.baseUrl,
    connections: scenario.connections ?? CONNECTIONS,
    pipelining: 1,
    ...('amount' in length ? { amount: length.amount } : { duration: length.seconds }),
    timeout: scenario.timeout ?? 10,
    requests: [
      {
        setupRequest: (request) => {
          const built = scenario.next()
          return { ...request, ...built, headers: { ...request.headers, ...built.headers } }
        },
        onResponse: (status) => {
          last = process.hrtime.bigint()
          if (tally) tally.statuses[status] = (tally.statuses[status] ?? 0) + 1
        }
      }
    ]
  })
  if (tally) instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => tally.latencies.add(ms))
  const result = await instance
  const seconds = 'amount' in length ? Number(last - started) / 1e9 : result.duration
  return { ...result, duration: seconds > 0 ? seconds : result.duration }
}

/** The warm-up; returns the length of the measured run (a counted one for `sizedByCount`). */
async function warmUp(scenario: Scenario): Promise<{ seconds: number } | { amount: number }> {
  const seconds = scenario.duration ?? DURATION_S
  const connections = scenario.connections ?? CONNECTIONS
  if (scenario.sizedByCount) {
    // two requests per connection (the first ones are cold), timed by the second pair
    await run(scenario, { amount: connections })
    const perRequest = Math.max((await run(scenario, { amount: connections })).duration, 0.001)
    return { amount: connections * Math.min(Math.max(Math.round(seconds / perRequest), 2), 10_000) }
  }
  if (WARMUP_S > 0) await run(scenario, { seconds: WARMUP_S })
  return { seconds }
}

/** One measured run of `length`, added to `tally` with the server's counters around it. */
async function measuredRun(scenario: Scenario, length: { seconds: number } | { amount: number }, tally: Tally): Promise<void> {
  const before = await scrape(scenario.metricsUrl)
  const r = await run(scenario, length, tally)
  const after = await scrape(scenario.metricsUrl)
  const answered = r['2xx'] + r.non2xx
  // a timed run ends with up to one request per connection in flight; a counted run with none
  const inFlight = 'amount' in length ? 0 : scenario.connections ?? CONNECTIONS
  tally.unanswered += Math.max(0, (r.requests.sent ?? answered) - answered - r.errors - inFlight)
  tally.seconds += r.duration
  tally.answered += answered
  tally.ok += r['2xx']
  tally.non2xx += r.non2xx
  tally.socketErrors += r.errors
  tally.timeouts += r.timeouts
  if (tally.counters && before && after) {
    tally.counters.queries += after.queries - before.queries
    tally.counters.hits += after.hits - before.hits
    tally.counters.misses += after.misses - before.misses
    tally.counters.cpu += after.cpu - before.cpu
  }
}

function measured(scenario: Scenario, tally: Tally): Measured {
  const requests = tally.answered
  const latency = tally.latencies.summary() ?? { p50: 0, p99: 0, mean: 0 }
  const m: Measured = {
    name: scenario.name,
    connections: scenario.connections ?? CONNECTIONS,
    duration_s: tally.seconds,
    requests,
    rps: tally.seconds > 0 ? requests / tally.seconds : 0,
    p50_ms: latency.p50,
    p99_ms: latency.p99,
    mean_ms: latency.mean,
    errors: tally.non2xx + tally.socketErrors + tally.unanswered,
    non2xx: tally.non2xx,
    socket_errors: tally.socketErrors,
    unanswered: tally.unanswered,
    timeouts: tally.timeouts,
    statuses: tally.statuses
  }
  if (scenario.itemsPerRequest) m.rows_per_s = (tally.ok * scenario.itemsPerRequest) / tally.seconds
  const c = tally.counters
  if (c && requests > 0) {
    m.db_queries_per_request = c.queries / requests
    m.server_cpu_us_per_request = (c.cpu * 1e6) / requests
    if (c.hits + c.misses > 0) m.cache_hit_ratio = c.hits / (c.hits + c.misses)
  }
  return m
}

const report = (m: Measured) =>
  `${fmt(m.rps, m.rps < 10 ? 2 : 0)} req/s, p50 ${m.p50_ms} ms, p99 ${m.p99_ms} ms, errors ${m.errors}${m.errors ? ` ${JSON.stringify(m.statuses)}` : ''}`

/** One scenario: a warm-up, then one measured run of BENCH_DURATION (or the sized count). */
export async function measure(scenario: Scenario): Promise<Measured> {
  process.stdout.write(`  ${scenario.name} ... `)
  const tally = newTally(scenario)
  await measuredRun(scenario, await warmUp(scenario), tally)
  const m = measured(scenario, tally)
  console.log(report(m))
  return m
}

/**
 * Scenarios compared with each other, measured interleaved: after each one's warm-up, their runs
 * are cut into slices of about BENCH_SLICE seconds (2) taken in turn — a, b, c, a, b, c, ... —
 * until each has run BENCH_DURATION. This machine's speed drifts by up to 2× within minutes (the
 * same code's server CPU per request doubles); back-to-back 10 s runs put a scenario and its
 * ceiling in different phases, slices put both in every phase alike. Each figure sums its slices
 * (req/s = responses ÷ time, p50/p99 over every response). One scenario, counted runs
 * (`sizedByCount`) or BENCH_SLICE=0: run one after the other, as `measure`.
 */
export async function measureInterleaved(scenarios: Scenario[]): Promise<Measured[]> {
  const timed = scenarios.filter((s) => !s.sizedByCount)
  if (SLICE_S <= 0 || timed.length < 2) {
    const out: Measured[] = []
    for (const s of scenarios) out.push(await measure(s))
    return out
  }
  const tallies = new Map(timed.map((s) => [s, newTally(s)]))
  for (const s of timed) await warmUp(s)
  const seconds = Math.max(...timed.map((s) => s.duration ?? DURATION_S))
  const slices = Math.max(1, Math.round(seconds / SLICE_S))
  console.log(`  interleaved in ${slices} slices: ${timed.map((s) => s.name).join(', ')}`)
  for (let k = 0; k < slices; k++) {
    for (const s of timed) await measuredRun(s, { seconds: (s.duration ?? DURATION_S) / slices }, tallies.get(s)!)
  }
  const results = new Map<Scenario, Measured>()
  for (const s of timed) {
    const m = measured(s, tallies.get(s)!)
    console.log(`  ${s.name} ... ${report(m)}`)
    results.set(s, m)
  }
  // counted runs after the slices, each whole
  for (const s of scenarios) if (s.sizedByCount) results.set(s, await measure(s))
  return scenarios.map((s) => results.get(s)!)
}

/** The median of the defined values (the mean of the middle two for an even count); undefined for none. */
export function median(values: ReadonlyArray<number | undefined>): number | undefined {
  const xs = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  if (!xs.length) return undefined
  const mid = xs.length >> 1
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2
}

/** Several rounds of one scenario: medians of the rates and latencies, sums of the counts. */
export function combine(rounds: Measured[]): Measured {
  if (rounds.length === 1) return rounds[0]!
  const med = (pick: (m: Measured) => number | undefined) => median(rounds.map(pick))
  const sum = (pick: (m: Measured) => number) => rounds.reduce((n, m) => n + pick(m), 0)
  const statuses: Record<string, number> = {}
  for (const m of rounds) for (const [k, v] of Object.entries(m.statuses)) statuses[k] = (statuses[k] ?? 0) + v
  return {
    ...rounds[0]!,
    duration_s: sum((m) => m.duration_s), requests: sum((m) => m.requests),
    rps: med((m) => m.rps)!, p50_ms: med((m) => m.p50_ms)!, p99_ms: med((m) => m.p99_ms)!, mean_ms: med((m) => m.mean_ms)!,
    errors: sum((m) => m.errors), non2xx: sum((m) => m.non2xx), socket_errors: sum((m) => m.socket_errors), unanswered: sum((m) => m.unanswered), timeouts: sum((m) => m.timeouts),
    statuses, rows_per_s: med((m) => m.rows_per_s), db_queries_per_request: med((m) => m.db_queries_per_request), cache_hit_ratio: med((m) => m.cache_hit_ratio),
    server_cpu_us_per_request: med((m) => m.server_cpu_us_per_request)
  }
}

export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** A Markdown table (pasted as-is into docs/benchmarks.md). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => (r[i] ?? '').length), 3))
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  return [line(cells[0]!), `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...cells.slice(1).map(line)].join('\n')
}

export function scenarioTable(results: Measured[]): string {
  return table(
    ['scenario', 'conns', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/req', 'db queries/req', 'cache hits'],
    results.map((m) => [
      m.name, m.connections, fmt(m.rps, 0), m.rows_per_s === undefined ? '' : fmt(m.rows_per_s, 0), fmt(m.p50_ms, 1), fmt(m.p99_ms, 1), m.errors,
      fmt(m.server_cpu_us_per_request, 0), fmt(m.db_queries_per_request, 1), m.cache_hit_ratio === undefined ? '' : `${fmt(m.cache_hit_ratio * 100, 0)} %`
    ])
  )
}

export interface Check {
  check: string
  value: number
  target: string
  pass: boolean
}

export const atLeast = (check: string, value: number, min: number): Check => ({ check, value, target: `≥ ${min}`, pass: value >= min })
export const atMost = (check: string, value: number, max: number): Check => ({ check, value, target: `≤ ${max}`, pass: value <= max })

/** BENCH_STRICT=1: a missed target fails the script (exit 1), e.g. for a CI gate on a quiet runner. */
export function enforce(checks: Check[]): void {
  const missed = checks.filter((c) => !c.pass)
  if (process.env.BENCH_STRICT === '1' && missed.length) throw new Error(`targets missed: ${missed.map((c) => c.check).join('; ')}`)
}

export function checkTable(checks: Check[]): string {
  return table(['ratio', 'measured', 'target', ''], checks.map((c) => [c.check, fmt(c.value), c.target, c.pass ? 'pass' : 'FAIL']))
}

export function environment(database: string): Record<string, unknown> {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    database,
    redis: process.env.REDIS_URL ? 'redis' : 'in-process',
    duration_s: DURATION_S,
    warmup_s: WARMUP_S,
    connections: CONNECTIONS,
    db_pool_max: process.env.DB_POOL_MAX ?? '10 (default)',
    log_level: process.env.BENCH_LOG_LEVEL ?? 'warn'
  }
}

/** Saves loadtest/bench/results/<kind>-<timestamp>.json (git-ignored) and returns its path. */
export function saveResult(kind: string, data: unknown): string {
  const dir = path.join(REPO_ROOT, 'loadtest/bench/results')
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return path.relative(REPO_ROOT, file)
}
