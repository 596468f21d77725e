/**
 * A shared rate-limit store that asks Redis only when it matters. Each process counts a key's
 * requests locally and adds them to the shared Redis counter in the background (all due keys in
 * one script call every `flushMs`), so a request far from its limit costs no round trip. A key is
 * due once a quarter of its margin is counted and unsent, or `maxHoldMs` (5 s) after it was first
 * counted: a busy principal is sent within a flush interval, and the many keys of principals who
 * send a request every second or so are sent every few of their requests instead of every 100 ms
 * (with 10 000 active users that was a 100 KB script call ten times a second; a 1 s hold still sent
 * a key for nearly every read of users reading about once a second). A flush costs the keys it
 * sends, not the keys waiting (they wait in the order they become due). Close to the limit (the
 * last `margin` requests of the window) and for the first request of a key this process knows
 * nothing of, the request waits for Redis, so the 429 decision is made on the shared count. A key
 * whose window ended at no more than half its limit starts its next window locally (with 10 000
 * users and a one-minute window, waiting for Redis there was 170 round trips a second, one for
 * every user's minute). With one process the count is exact; with N processes a principal can
 * exceed the limit by what the other processes counted and not yet sent: per process, less than a
 * quarter of the margin plus one flush interval's requests.
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
  /** which queueing this is (the queue's entry for it carries the same number; older entries are stale) */
  queuedSeq: number
  /** queued: sent by the first flush at or after this time (local clock, ms)... */
  sendAt: number
  /** ...or once this many requests are pending (then it is also in the urgent list) */
  sendFrom: number
  urgent: boolean
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
  /** the longest a counted request waits to be sent when its key is far from the limit (default MAX_HOLD_MS) */
  maxHoldMs?: number
}

/** how often a flush also drops the keys whose window is over (the others look only at keys with counts to send) */
const SWEEP_EVERY_MS = 10_000
/**
 * how long a key far from its limit may hold its counts: the margin rule alone bounds what other
 * processes do not see yet, so this only sets how soon they see a light user's requests
 */
export const MAX_HOLD_MS = 5000
/** keys per script call of a flush */
export const KEYS_PER_CALL = 250

export class LocalFirstRedisStore {
  /** by the key as given (without the prefix: a key the caller keeps is then hashed once, not per request) */
  private readonly keys = new Map<string, KeyState>()
  /**
   * Keys with counts to send, in the order they were queued, which is the order of their `sendAt`
   * (first count + maxHoldMs): a flush takes the due prefix and stops at the first key not due, so
   * it costs the keys it sends, not the keys waiting (10 000 with 10 000 users who read about once
   * a second: every 100 ms a walk over all of them held the event loop for milliseconds). A key
   * sent early (urgent, or by an explicit flush) leaves a stale entry behind, recognized by its
   * `queuedSeq`. The queue's arrays are reused and never shortened.
   */
  private queue: KeyState[] = []
  private queueSeqs: number[] = []
  private queueHead = 0
  private queueTail = 0
  /** keys queued and not yet sent */
  private queueLength = 0
  private nextSeq = 0
  /** queued keys with `sendFrom` requests pending: sent by the next flush, whatever their `sendAt` */
  private urgent: KeyState[] = []
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
    this.maxHoldMs = options.maxHoldMs ?? MAX_HOLD_MS
    this.sweptAt = this.now()
  }

  incr(key: string, cb: (error: Error | null, result: RateLimitResult | null) => void, timeWindow: number, max: number): void {
    const now = this.now()
    let state = this.keys.get(key)
    if (state && now >= state.windowEnd) {
      // the window is over: what is still pending belonged to it. A key whose window ended at no
      // more than half its limit starts the next one here, without waiting for Redis (the flush
      // that sends its first counts starts the window there); any other waits for the shared count
      if (state.sending === 0 && state.shared + state.pending <= max / 2) this.renew(state, now, timeWindow)
      else {
        this.keys.delete(key)
        state = undefined
      }
    }
    if (state) {
      const counted = state.shared + state.sending + state.pending + 1
      if (counted <= max - this.margin(max)) {
        state.pending++
        if (!state.queued) this.enqueue(state, now, max)
        if (!state.urgent && state.pending >= state.sendFrom) {
          state.urgent = true
          this.urgent.push(state)
        }
        this.schedule()
        cb(null, { current: counted, ttl: state.windowEnd - now })
        return
      }
    }
    // first request of a window, or near the limit: this one (and whatever is pending) now
    const s: KeyState = state ?? { key, redisKey: this.prefix + key, shared: 0, pending: 0, sending: 0, windowEnd: Number.POSITIVE_INFINITY, windowMs: timeWindow, queued: false, queuedSeq: 0, sendAt: 0, sendFrom: 1, urgent: false }
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
   * Send the pending counts (script calls of up to KEYS_PER_CALL keys): every key's (`all`, the
   * default: tests, shutdown), or only the due keys' (the timer; the others stay queued).
   */
  async flush(all = true): Promise<void> {
    this.timer = null
    const now = this.now()
    if (now - this.sweptAt >= SWEEP_EVERY_MS) {
      this.sweptAt = now
      // keys idle for a window after theirs ended: what they counted says nothing about the next
      for (const [k, s] of this.keys) if (now >= s.windowEnd + s.windowMs) this.keys.delete(k)
    }
    const batch: Array<{ state: KeyState; delta: number }> = []
    const take = (st: KeyState) => {
      st.queued = false
      st.urgent = false
      this.queueLength--
      if (now >= st.windowEnd) {
        // the window is over: what is still pending belonged to it (the key stays: its next request
        // may start the next window here, see incr; the sweep drops it a window later)
        st.pending = 0
        return
      }
      if (st.pending === 0) return
      batch.push({ state: st, delta: st.pending })
      st.sending += st.pending
      st.pending = 0
    }
    for (const st of this.urgent) if (st.urgent) take(st)
    this.urgent.length = 0
    let i = this.queueHead
    for (; i < this.queueTail; i++) {
      const st = this.queue[i]!
      if (!st.queued || st.queuedSeq !== this.queueSeqs[i]) continue // sent since it was queued
      if (!all && now < st.sendAt) break // and every key after it was queued later
      take(st)
    }
    this.queueHead = i
    if (this.queueHead === this.queueTail) this.queueHead = this.queueTail = 0
    else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queueTail) {
      // the waiting keys back to the front (in place): the arrays stay as long as the most ever queued
      this.queue.copyWithin(0, this.queueHead, this.queueTail)
      this.queueSeqs.copyWithin(0, this.queueHead, this.queueTail)
      this.queueTail -= this.queueHead
      this.queueHead = 0
    }
    if (this.queueLength > 0) this.schedule()
    // at most KEYS_PER_CALL keys per script call, one call after the other: a call's arguments are
    // built and encoded on the event loop, 10 000 keys at once held it for milliseconds
    for (let from = 0; from < batch.length; from += KEYS_PER_CALL) {
      const part = batch.slice(from, from + KEYS_PER_CALL)
      try {
        const answers = await this.incrWindows(part.map((b) => b.state.redisKey), [...part.map((b) => b.delta), ...part.map((b) => b.state.windowMs)])
        part.forEach((b, i) => {
          b.state.sending -= b.delta
          this.answered(b.state, Number(answers[2 * i]), Number(answers[2 * i + 1]))
        })
      } catch (error) {
        // this call's counts and those not sent yet are dropped (the limit fails open)
        for (const b of batch.slice(from)) b.state.sending -= b.delta
        this.options.onError?.(error)
        return
      }
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

  /**
   * A new window for a key whose last one ended far from its limit: counted from 0 here, its end
   * estimated a whole window ahead until Redis answers the first flush of its counts.
   */
  private renew(state: KeyState, now: number, timeWindow: number): void {
    state.shared = 0
    state.pending = 0
    state.windowEnd = now + timeWindow
    state.windowMs = timeWindow
  }

  private enqueue(state: KeyState, now: number, max: number): void {
    state.queued = true
    state.queuedSeq = ++this.nextSeq
    state.sendAt = now + this.maxHoldMs
    state.sendFrom = Math.max(1, Math.ceil(this.margin(max) / 4))
    this.queue[this.queueTail] = state
    this.queueSeqs[this.queueTail] = state.queuedSeq
    this.queueTail++
    this.queueLength++
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
