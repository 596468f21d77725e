/**
 * Load for the cluster test: write clients that retry like a well-behaved mobile app (same
 * Idempotency-Key, backoff, bounded), a read loop, the overload request mix (batch syncs), and
 * closed- and open-loop generators; the open loop also reports whether the generator kept its
 * schedule. Each function returns figures that can be quoted; every loop is bounded in count and time.
 */
import { randomUUID } from 'node:crypto'
import { auth } from '../helper.js'
import { loadRequest, percentile, request, type Answer } from './harness.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface Write {
  user: string
  recorded: string
  heart_rate_bpm: number
  key: string
}

export interface WriteFigures {
  clients: number
  planned: number
  /** HTTP attempts, first tries and retries */
  requests_sent: number
  /** writes whose final answer was 2xx */
  acknowledged: number
  /** of those, answered by an idempotent replay of an earlier attempt */
  acknowledged_by_replay: number
  /** retried attempts */
  retries: number
  /** failures seen before the client's own retries, by kind */
  failures_seen: Record<string, number>
  /** writes that still failed after the retries (kind → count) */
  failed_after_retries: Record<string, number>
  /** 409 "already exists" after an earlier attempt of the same key: the replay did not happen */
  conflicts_instead_of_replay: number
  duration_ms: number
  write_p50_ms: number
  write_p99_ms: number
}

export interface WriteRun {
  figures: WriteFigures
  acknowledged: Write[]
  unacknowledged: Write[]
}

export interface WriteLoadOptions {
  base: string
  users: string[]
  clients: number
  /** at most this many writes */
  total: number
  /** stop starting new writes after this (retries of started ones may continue, bounded) */
  maxDurationMs: number
  /** keep going until this resolves (or maxDurationMs), e.g. the end of a rolling restart */
  until?: Promise<unknown>
  /** a different minute range per run: natural keys never collide across runs */
  runIndex: number
  /** per-write retry bound; 45 s covers the 30 s takeover of a key held by a killed process */
  retryForMs?: number
  onAcknowledged?: (count: number) => void
}

function kindOf(a: Answer): string | null {
  if (a.status === 0) return `network ${a.error}`
  if (a.status === 201) return null
  if (a.status === 409 && /in progress/i.test(a.text)) return '409 in progress'
  if (a.status === 409) return '409 conflict'
  return String(a.status)
}

const RETRYABLE = /^(network|409 in progress|429|502|503|504)/

/** Unique (user, recorded) per write, spread over the users; `recorded` in the past, whole seconds apart. */
export async function writeLoad(opts: WriteLoadOptions): Promise<WriteRun> {
  const started = Date.now()
  const figures: WriteFigures = {
    clients: opts.clients,
    planned: opts.total,
    requests_sent: 0,
    acknowledged: 0,
    acknowledged_by_replay: 0,
    retries: 0,
    failures_seen: {},
    failed_after_retries: {},
    conflicts_instead_of_replay: 0,
    duration_ms: 0,
    write_p50_ms: 0,
    write_p99_ms: 0
  }
  const acknowledged: Write[] = []
  const unacknowledged: Write[] = []
  const latencies: number[] = []
  let stop = false
  void opts.until?.finally(() => (stop = true))
  const base = Date.now() - 2 * 86_400_000 - opts.runIndex * 86_400_000
  let next = 0
  const retryForMs = opts.retryForMs ?? 45_000

  async function one(index: number): Promise<void> {
    const user = opts.users[index % opts.users.length]!
    const write: Write = { user, recorded: new Date(base + index * 1000).toISOString(), heart_rate_bpm: 55 + (index % 30), key: `${opts.runIndex}-${index}-${randomUUID()}` }
    const headers = { ...auth(user), 'idempotency-key': write.key }
    const body = { user_uuid: user, recorded: write.recorded, heart_rate_bpm: write.heart_rate_bpm }
    const began = performance.now()
    let lastKind = ''
    for (let attempt = 0; attempt < 80; attempt++) {
      if (attempt > 0) figures.retries++
      figures.requests_sent++
      const a = await request(`${opts.base}/api/bio-metrics/`, { method: 'POST', headers, body, timeoutMs: 20_000 })
      const kind = kindOf(a)
      if (kind === null) {
        figures.acknowledged++
        if (a.headers.get('idempotent-replayed') === 'true') figures.acknowledged_by_replay++
        latencies.push(performance.now() - began)
        acknowledged.push(write)
        return
      }
      figures.failures_seen[kind] = (figures.failures_seen[kind] ?? 0) + 1
      lastKind = kind
      if (kind === '409 conflict' && attempt > 0) figures.conflicts_instead_of_replay++
      if (!RETRYABLE.test(kind) || performance.now() - began > retryForMs) break
      // exponential backoff with jitter, capped; Retry-After honoured up to the cap
      const retryAfter = Number(a.headers.get('retry-after')) * 1000
      const backoff = Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2)
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 2000) : backoff)
    }
    figures.failed_after_retries[lastKind] = (figures.failed_after_retries[lastKind] ?? 0) + 1
    unacknowledged.push(write)
  }

  await Promise.all(Array.from({ length: opts.clients }, async () => {
    while (next < opts.total && Date.now() - started < opts.maxDurationMs && !(stop && opts.until)) {
      await one(next++)
      opts.onAcknowledged?.(figures.acknowledged)
    }
  }))
  figures.duration_ms = Date.now() - started
  figures.write_p50_ms = percentile(latencies, 50)
  figures.write_p99_ms = percentile(latencies, 99)
  return { figures, acknowledged, unacknowledged }
}

export interface ReadFigures {
  requests: number
  ok: number
  /** answers that were not 2xx/404, with no client retry (nginx may retry idempotent requests) */
  failures: Record<string, number>
  p99_ms: number
}

/** `clients` loops of GETs without any client retry, until `until` resolves (bounded by maxDurationMs). */
export async function readLoad(base: string, users: string[], clients: number, until: Promise<unknown>, maxDurationMs: number): Promise<ReadFigures> {
  const figures: ReadFigures = { requests: 0, ok: 0, failures: {}, p99_ms: 0 }
  const latencies: number[] = []
  let stop = false
  void until.finally(() => (stop = true))
  const started = Date.now()
  let i = 0
  await Promise.all(Array.from({ length: clients }, async () => {
    while (!stop && Date.now() - started < maxDurationMs) {
      const user = users[i++ % users.length]!
      const a = await request(`${base}/api/bio-metrics/${user}?limit=20`, { headers: auth(user), timeoutMs: 20_000 })
      figures.requests++
      latencies.push(a.ms)
      if (a.status === 200) figures.ok++
      else {
        const kind = a.status === 503 ? (/no API instance/.test(a.text) ? '503 nginx: no live upstream' : '503 api') : a.status ? String(a.status) : `network ${a.error}`
        figures.failures[kind] = (figures.failures[kind] ?? 0) + 1
        // a failing read is not retried, but the loop must not spin on instant errors
        await sleep(50)
      }
    }
  }))
  figures.p99_ms = percentile(latencies, 99)
  return figures
}

/** batches of one user lie this far apart: more than the 28-day anomaly baseline plus the batch's span */
const SYNC_SLOT_MS = 30 * 86_400_000
/** slots from here on (far from the recent days the write loads use), for at most SYNC_SLOTS slots per user */
const SYNC_EPOCH = Date.UTC(1990, 0, 1)
const SYNC_SLOTS = 360

/**
 * The overload request: a wearable syncing after about three hours offline — one batch POST
 * (`/api/bio-metrics/batch`, with an Idempotency-Key, as the mobile app sends it) of `items`
 * readings one minute apart (heart rate and HRV) of one user, users in turn.
 *
 * Expensive for the service, cheap for the generator: the API parses ~20 KB of JSON, validates
 * every item against the schema and the domain rules, loads the user's 28-day baseline and judges
 * every reading, and upserts the items, the outbox job, the data version and the idempotency
 * record in one transaction; the generator builds a string and makes one request (`loadRequest`).
 *
 * `recorded` is unique across every sender made from one `batchSync` (the counter is shared). A
 * user's batches lie 30 days apart, so each batch's baseline window holds only its own readings and
 * the cost of a request does not grow as the run adds rows (a real backlog would make later
 * batches dearer and skew "2x the capacity"). After SYNC_SLOTS rounds the slots are reused,
 * shifted by the batch's span, so keys still never collide.
 */
export function batchSync(users: string[], items: number): (base: string) => () => Promise<Answer> {
  const headers = new Map(users.map((u) => [u, auth(u)]))
  const run = randomUUID().slice(0, 8)
  let n = 0
  return (base) => () => {
    const i = n++
    const user = users[i % users.length]!
    const round = Math.floor(i / users.length)
    const start = SYNC_EPOCH + (round % SYNC_SLOTS) * SYNC_SLOT_MS + Math.floor(round / SYNC_SLOTS) * (items + 1) * 60_000
    const parts = new Array<string>(items)
    for (let k = 0; k < items; k++) {
      parts[k] = `{"user_uuid":"${user}","recorded":"${new Date(start + k * 60_000).toISOString()}","heart_rate_bpm":${55 + ((i + k * 7) % 40)},"hrv_rmssd_ms":${20 + (k % 50)},"source":"wearable-sync"}`
    }
    return loadRequest(`${base}/api/bio-metrics/batch`, {
      method: 'POST',
      headers: { ...headers.get(user)!, 'idempotency-key': `sync-${run}-${i}` },
      body: `{"items":[${parts.join(',')}]}`,
      timeoutMs: 15_000
    })
  }
}

export interface Sample {
  status: number
  ms: number
  /** who answered a 503: the API (its problem type) or nginx (no process available) */
  source: 'api' | 'nginx' | ''
  retryAfter: boolean
  /** Content-Type application/problem+json */
  problemJson: boolean
  /** when it was sent, ms after the open loop started */
  at: number
}

/** Closed loop: `concurrency` clients back to back for `durationMs`; returns 2xx per second. */
export async function closedLoop(send: () => Promise<Answer>, concurrency: number, durationMs: number): Promise<{ rps: number; p50: number; p99: number; statuses: Record<string, number> }> {
  const started = Date.now()
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let ok = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let n = 0; n < 1_000_000 && Date.now() - started < durationMs; n++) {
      const a = await send()
      statuses[a.status] = (statuses[a.status] ?? 0) + 1
      if (a.status >= 200 && a.status < 300) {
        ok++
        latencies.push(a.ms)
      }
    }
  }))
  return { rps: ok / ((Date.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses }
}

export interface OpenLoopRun {
  samples: Sample[]
  /** requests that were due but not sent because the generator's own in-flight cap was reached */
  notSent: number
  sent: number
  /** wall time from the first request to the last one due, ms */
  durationMs: number
  /** how late the generator sent requests against their schedule (request k is due at k / rate), ms */
  sendLagP99Ms: number
  sendLagMaxMs: number
  /** the generator's own event-loop utilization (0..1) while sending: near 1 it is busy or starved of CPU */
  generatorElu: number
  /** the generator's CPU time (user + system) per request sent, ms */
  generatorCpuMsPerRequest: number
}

/**
 * Open loop: `rate` requests per second for `durationMs`, whatever the answers (in flight capped
 * at `maxInFlight`; past it a due request is counted as not sent). Also reports whether the
 * generator kept its schedule, so a saturated generator can be told from a slow service.
 */
export async function openLoop(send: () => Promise<Answer>, rate: number, durationMs: number, maxInFlight: number): Promise<OpenLoopRun> {
  const samples: Sample[] = []
  const pending = new Set<Promise<void>>()
  const lags: number[] = []
  let notSent = 0
  let sent = 0
  const elu = performance.eventLoopUtilization()
  const cpu = process.cpuUsage()
  const started = performance.now()
  const tickMs = 10
  for (let tick = 0; tick < Math.ceil(durationMs / tickMs) + 1; tick++) {
    const elapsed = Math.min(performance.now() - started, durationMs)
    const due = Math.floor((rate * elapsed) / 1000)
    while (sent + notSent < due) {
      if (pending.size >= maxInFlight) {
        notSent++
        continue
      }
      lags.push(performance.now() - started - ((sent + notSent) * 1000) / rate)
      sent++
      const at = Math.round(performance.now() - started)
      const p = send().then((a) => {
        let source: Sample['source'] = ''
        if (a.status === 503) source = /service-unavailable/.test(a.text) ? 'api' : /no API instance/.test(a.text) ? 'nginx' : ''
        samples.push({ status: a.status, ms: a.ms, source, retryAfter: Number(a.headers.get('retry-after')) > 0, problemJson: /^application\/problem\+json/.test(a.headers.get('content-type') ?? ''), at })
      })
      pending.add(p)
      void p.finally(() => pending.delete(p))
    }
    if (performance.now() - started >= durationMs) break
    await sleep(tickMs)
  }
  const sendingMs = performance.now() - started
  const generatorElu = performance.eventLoopUtilization(elu).utilization
  // bounded: every request has its own deadline
  await Promise.all(pending)
  const used = process.cpuUsage(cpu)
  return {
    samples,
    notSent,
    sent,
    durationMs: Math.round(sendingMs),
    sendLagP99Ms: percentile(lags, 99),
    sendLagMaxMs: percentile(lags, 100),
    generatorElu: Math.round(generatorElu * 100) / 100,
    generatorCpuMsPerRequest: sent ? Math.round(((used.user + used.system) / 1000 / sent) * 100) / 100 : 0
  }
}
