/**
 * A shared rate-limit store that asks Redis only when it matters. Each process counts a key's
 * requests locally and adds them to the shared Redis counter in the background (all due keys in
 * one script call every `flushMs`), so a request far from its limit costs no round trip. A key is
 * due once a quarter of its margin is counted and unsent, or `maxHoldMs` (1 s) after it was first
 * counted: a busy principal is sent within a flush interval, and the many keys of principals who
 * send a request every second or so are sent about once a second instead of every 100 ms (with
 * 10 000 active users that was a 100 KB script call ten times a second). Close to the limit (the
 * last `margin` requests of the window) and for the first request of a window, the request waits
 * for Redis, so the 429 decision is made on the shared count. With one process the count is
 * exact; with N processes a principal can exceed the limit by what the other processes counted
 * and not yet sent: per process, less than a quarter of the margin plus one flush interval's
 * requests.
 *
 * Same contract as @fastify/rate-limit's RedisStore (`incr(key, cb, timeWindow, max)` answering
 * `{ current, ttl }`), same Redis key layout (INCR + PEXPIRE on the first increment of a window).
 * A Redis error fails the waiting request's `incr` (the plugin's skipOnError lets it pass); errors
 * of waiting requests and of background flushes are reported to `onError`, and flushed counts that
 * failed are dropped (the limit fails open, as it does without this store).
 */
import type { Redis } from 'ioredis'

/**
 * Add deltas to counters, each expiring one window after its first increment. KEYS are the keys,
 * ARGV their deltas then their windows; answers {current, ttl} pairs. One key for a request that
 * waits, every pending key for a background flush.
 */
const INCRBY_WINDOWS = `
  local n = #KEYS
  local out = {}
  for i = 1, n do
    local delta = tonumber(ARGV[i])
    local window = ARGV[n + i]
    local current = redis.call('INCRBY', KEYS[i], delta)
    if current == delta then redis.call('PEXPIRE', KEYS[i], window) end
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then redis.call('PEXPIRE', KEYS[i], window); ttl = tonumber(window) end
    out[2 * i - 1] = current
    out[2 * i] = ttl
  end
  return out`

type IncrMany = (keys: string[], args: Array<number>) => Promise<number[]>

interface KeyState {
  /** the key as given (the store's map key) */
  readonly key: string
  /** the counter's Redis key (the store's prefix and the key) */
  readonly redisKey: string
  /** the shared count as Redis last answered it (includes everything flushed before that answer) */
  shared: number
  /** counted here, not yet sent */
  pending: number
  /** sent, not yet answered */
  sending: number
  /** local clock (ms) at which the window ends, from Redis's PTTL */
  windowEnd: number
  windowMs: number
  /** in the list of keys the next flush sends */
  queued: boolean
  /** queued: sent by the first flush at or after this time (local clock, ms)... */
  sendAt: number
  /** ...or once this many requests are pending */
  sendFrom: number
}

export interface RateLimitResult {
  current: number
  ttl: number
}

export interface LocalFirstOptions {
  flushMs?: number
  /** requests before the limit from which every request waits for Redis (default: 10 % of max, at least 1) */
  margin?: (max: number) => number
  onError?: (error: unknown) => void
  now?: () => number
  /** the longest a counted request waits to be sent when its key is far from the limit (default 1000 ms) */
  maxHoldMs?: number
}

/** how often a flush also drops the keys whose window is over (the others look only at keys with counts to send) */
const SWEEP_EVERY_MS = 10_000

export class LocalFirstRedisStore {
  /** by the key as given (without the prefix: a key the caller keeps is then hashed once, not per request) */
  private readonly keys = new Map<string, KeyState>()
  /**
   * keys with counts to send (the first `queueLength` of `queue`): a flush looks at these only, not at
   * every key of the window (10 000s with many users). Two arrays used in turn and never shortened,
   * so a flush every 100 ms allocates nothing: a list regrown from empty each time (and a pair per
   * key, as before) was new memory that, with 10 000 users queued, lived through young-generation
   * collections and was copied by each.
   */
  private queue: KeyState[] = []
  private queueLength = 0
  private spare: KeyState[] = []
  private sweptAt: number
  private timer: NodeJS.Timeout | null = null
  private readonly incrWindows: IncrMany
  private readonly flushMs: number
  private readonly margin: (max: number) => number
  private readonly maxHoldMs: number
  private readonly now: () => number

  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly options: LocalFirstOptions = {}) {
    const many = redis as Redis & { htRateLimitIncrByMany?: (...args: Array<string | number>) => Promise<number[]> }
    if (!many.htRateLimitIncrByMany) redis.defineCommand('htRateLimitIncrByMany', { lua: INCRBY_WINDOWS })
    // the key count goes first when numberOfKeys is not fixed
    this.incrWindows = (keys, args) => many.htRateLimitIncrByMany!(keys.length, ...keys, ...args)
    this.flushMs = options.flushMs ?? 100
    this.margin = options.margin ?? ((max) => Math.max(1, Math.ceil(max / 10)))
    this.now = options.now ?? Date.now
    this.maxHoldMs = options.maxHoldMs ?? 1000
    this.sweptAt = this.now()
  }

  incr(key: string, cb: (error: Error | null, result: RateLimitResult | null) => void, timeWindow: number, max: number): void {
    const now = this.now()
    let state = this.keys.get(key)
    if (state && now >= state.windowEnd) {
      // the window is over: what is still pending belonged to it
      this.keys.delete(key)
      state = undefined
    }
    if (state) {
      const counted = state.shared + state.sending + state.pending + 1
      if (counted <= max - this.margin(max)) {
        state.pending++
        if (!state.queued) {
          state.queued = true
          state.sendAt = now + this.maxHoldMs
          state.sendFrom = Math.max(1, Math.ceil(this.margin(max) / 4))
          this.queue[this.queueLength++] = state
        }
        this.schedule()
        cb(null, { current: counted, ttl: state.windowEnd - now })
        return
      }
    }
    // first request of a window, or near the limit: this one (and whatever is pending) now
    const s: KeyState = state ?? { key, redisKey: this.prefix + key, shared: 0, pending: 0, sending: 0, windowEnd: Number.POSITIVE_INFINITY, windowMs: timeWindow, queued: false, sendAt: 0, sendFrom: 1 }
    if (!state) this.keys.set(key, s)
    const delta = s.pending + 1
    s.pending = 0
    s.sending += delta
    this.incrWindows([s.redisKey], [delta, timeWindow]).then(
      ([current, ttl]) => {
        s.sending -= delta
        this.answered(s, Number(current), Number(ttl))
        // Redis's count after this request (the last of its delta): its place in the window
        cb(null, { current: Number(current), ttl: Math.max(0, Number(ttl)) })
      },
      (error: Error) => {
        s.sending -= delta
        if (s.shared === 0 && s.sending === 0 && s.pending === 0 && this.keys.get(key) === s) this.keys.delete(key)
        this.options.onError?.(error)
        cb(error, null)
      }
    )
  }

  /**
   * Send the pending counts in one script call: every key's (`all`, the default: tests, shutdown),
   * or only the due keys' (the timer; the others stay queued).
   */
  async flush(all = true): Promise<void> {
    this.timer = null
    const now = this.now()
    if (now - this.sweptAt >= SWEEP_EVERY_MS) {
      this.sweptAt = now
      for (const [k, s] of this.keys) if (now >= s.windowEnd) this.keys.delete(k)
    }
    const list = this.queue
    const n = this.queueLength
    this.queue = this.spare
    this.queueLength = 0
    const batch: Array<{ state: KeyState; delta: number }> = []
    for (let i = 0; i < n; i++) {
      const s = list[i]!
      if (!all && now < s.sendAt && s.pending < s.sendFrom && now < s.windowEnd) {
        this.queue[this.queueLength++] = s
        continue
      }
      s.queued = false
      if (now >= s.windowEnd) {
        // the window is over: what is still pending belonged to it
        if (this.keys.get(s.key) === s) this.keys.delete(s.key)
        continue
      }
      if (s.pending === 0) continue
      batch.push({ state: s, delta: s.pending })
      s.sending += s.pending
      s.pending = 0
    }
    this.spare = list
    if (this.queueLength > 0) this.schedule()
    if (batch.length === 0) return
    try {
      const answers = await this.incrWindows(batch.map((b) => b.state.redisKey), [...batch.map((b) => b.delta), ...batch.map((b) => b.state.windowMs)])
      batch.forEach((b, i) => {
        b.state.sending -= b.delta
        this.answered(b.state, Number(answers[2 * i]), Number(answers[2 * i + 1]))
      })
    } catch (error) {
      for (const b of batch) b.state.sending -= b.delta
      this.options.onError?.(error)
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  child(routeOptions: { routeInfo: { method: string; url: string } }): LocalFirstRedisStore {
    return new LocalFirstRedisStore(
      this.redis,
      `${this.prefix}${routeOptions.routeInfo.method}${routeOptions.routeInfo.url}-`,
      this.options
    )
  }

  private answered(s: KeyState, current: number, ttl: number): void {
    const end = this.now() + Math.max(0, ttl)
    // answers can arrive out of order: within one window the count only grows
    if (current < s.shared && end <= s.windowEnd + this.flushMs) return
    s.shared = current
    s.windowEnd = end
  }

  private schedule(): void {
    if (this.timer) return
    this.timer = setTimeout(() => void this.flush(false), this.flushMs)
    this.timer.unref()
  }
}
