/**
 * One scenario = a short warm-up, then a bounded closed-loop autocannon run (pipelining 1), each
 * request built by `next()` so paths, tokens and bodies rotate. Reported: req/s (responses / run
 * time), p50 and p99 latency in ms, and errors = non-2xx + socket errors (timeouts included).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import autocannon, { type RequestParams } from 'autocannon'
import { REPO_ROOT, envInt } from './infra.js'

export const DURATION_S = envInt('BENCH_DURATION', 10)
export const WARMUP_S = envInt('BENCH_WARMUP', 2)
export const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50)

export interface Scenario {
  name: string
  baseUrl: string
  next: () => RequestParams
  connections?: number
  duration?: number
  /** rows per request, for batch ingest: adds rows/s */
  itemsPerRequest?: number
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
  timeouts: number
  statuses: Record<string, number>
  rows_per_s?: number
}

function run(scenario: Scenario, seconds: number, statuses?: Record<string, number>) {
  return autocannon({
    url: scenario.baseUrl,
    connections: scenario.connections ?? CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        setupRequest: (request) => {
          const built = scenario.next()
          return { ...request, ...built, headers: { ...request.headers, ...built.headers } }
        },
        onResponse: statuses ? (status) => void (statuses[status] = (statuses[status] ?? 0) + 1) : undefined
      }
    ]
  })
}

export async function measure(scenario: Scenario): Promise<Measured> {
  process.stdout.write(`  ${scenario.name} ... `)
  if (WARMUP_S > 0) await run(scenario, WARMUP_S)
  const statuses: Record<string, number> = {}
  const r = await run(scenario, scenario.duration ?? DURATION_S, statuses)
  const requests = r['2xx'] + r.non2xx
  const measured: Measured = {
    name: scenario.name,
    connections: scenario.connections ?? CONNECTIONS,
    duration_s: r.duration,
    requests,
    rps: requests / r.duration,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    mean_ms: r.latency.mean,
    errors: r.non2xx + r.errors,
    non2xx: r.non2xx,
    socket_errors: r.errors,
    timeouts: r.timeouts,
    statuses
  }
  if (scenario.itemsPerRequest) measured.rows_per_s = (r['2xx'] * scenario.itemsPerRequest) / r.duration
  console.log(`${fmt(measured.rps, 0)} req/s, p50 ${measured.p50_ms} ms, p99 ${measured.p99_ms} ms, errors ${measured.errors}${measured.errors ? ` ${JSON.stringify(statuses)}` : ''}`)
  return measured
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
    ['scenario', 'conns', 'req/s', 'rows/s', 'p50 ms', 'p99 ms', 'errors'],
    results.map((m) => [m.name, m.connections, fmt(m.rps, 0), m.rows_per_s === undefined ? '' : fmt(m.rows_per_s, 0), fmt(m.p50_ms, 1), fmt(m.p99_ms, 1), m.errors])
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
