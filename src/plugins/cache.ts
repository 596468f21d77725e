/**
 * The read cache: Redis (ioredis) when REDIS_URL is set, else an in-process LRU. Keys are scoped
 * by a per-user generation, so one bump on any write invalidates every cached read of that user on
 * every instance. In Redis mode each process also keeps a copy of the answers it served (by key,
 * with the generation they were made at, CACHE_LOCAL_MAX_MB, split evenly between answers up to
 * 8 KiB and larger ones; when full, one miss in 8 is kept),
 * served only at the user's current generation: as pushed to this process under a lease
 * (generation-feed.ts, no round trip), else as Redis answers it (the generation alone, so the body
 * does not cross the network again). Either
 * way no read after a write can return older data. Generations are random tokens, never reused:
 * a Redis restart cannot make an old copy current.
 * Redis errors or timeouts never fail a request: the call counts as `error`, and after repeated
 * failures a circuit breaker bypasses Redis for a cool-down.
 */
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { SplitFifoCache } from './fifo-cache.js'
import { DEFAULT_GENERATION_CHANNEL, GenerationFeed } from './generation-feed.js'
import type { Config } from '../config.js'
import type { Metrics } from '../metrics.js'

export interface CacheStore {
  readonly kind: 'redis' | 'memory'
  get(key: string): Promise<string | null>
  /**
   * A generation and an entry in one round trip (`key` null: the generation alone). The entry may
   * come back as bytes (Redis: no decoding of a body that is only written to a socket again).
   */
  getEntry(generationKey: string, key: string | null): Promise<[generation: string | null, entry: Buffer | string | null]>
  set(key: string, value: string | Buffer, ttlSeconds: number): Promise<void>
  /**
   * Give the generation a new value, never used before for this key (and, with Redis, publish it
   * to the processes that keep local copies: `receivers` counts the subscribed connections).
   */
  bump(key: string): Promise<{ generation: string; receivers: number }>
  del(keys: string[]): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

export class MemoryStore implements CacheStore {
  readonly kind = 'memory' as const
  private readonly lru: LRUCache<string, string | Buffer>
  // generations must not be evicted before the entries they guard: keep them apart, unbounded
  // by count but tiny (one number per active user)
  private readonly counters = new Map<string, number>()
  constructor(max: number) {
    this.lru = new LRUCache<string, string | Buffer>({ max, ttlAutopurge: false })
  }
  async get(key: string) {
    const counter = this.counters.get(key)
    if (counter !== undefined) return String(counter)
    return this.lru.get(key)?.toString() ?? null
  }
  async getEntry(generationKey: string, key: string | null): Promise<[string | null, Buffer | string | null]> {
    return [await this.get(generationKey), key === null ? null : (this.lru.get(key) ?? null)]
  }
  async set(key: string, value: string | Buffer, ttlSeconds: number) {
    this.lru.set(key, value, { ttl: ttlSeconds * 1000 })
  }
  async bump(key: string) {
    // in one process a counter never repeats (the map is never cleared while entries live)
    const next = (this.counters.get(key) ?? 0) + 1
    this.counters.set(key, next)
    return { generation: String(next), receivers: 0 }
  }
  async del(keys: string[]) {
    for (const key of keys) {
      this.lru.delete(key)
      this.counters.delete(key)
    }
  }
  async ping() {}
  async close() {
    this.lru.clear()
  }
}

export class RedisStore implements CacheStore {
  readonly kind = 'redis' as const
  /** `channel`: where generation bumps are published (generation-feed.ts) */
  constructor(readonly redis: Redis, private readonly channel = DEFAULT_GENERATION_CHANNEL) {
    if (!(redis as unknown as Record<string, unknown>).htBumpGeneration) {
      redis.defineCommand('htBumpGeneration', {
        numberOfKeys: 1,
        lua: `redis.call('SET', KEYS[1], ARGV[1]); return redis.call('PUBLISH', ARGV[2], ARGV[3])`
      })
    }
  }
  async get(key: string) {
    return this.redis.get(key)
  }
  /**
   * Lookups of one event-loop turn leave as one MGET (flushed by setImmediate, after the turn's
   * I/O callbacks): under load many requests share one write and one reply instead of one each.
   */
  getEntry(generationKey: string, key: string | null): Promise<[string | null, Buffer | null]> {
    return new Promise((resolve, reject) => {
      if (this.lookups.length === 0) setImmediate(() => this.sendLookups())
      this.lookups.push({ generationKey, key, resolve, reject })
    })
  }

  private lookups: Array<{ generationKey: string; key: string | null; resolve: (value: [string | null, Buffer | null]) => void; reject: (error: unknown) => void }> = []

  private sendLookups(): void {
    const batch = this.lookups
    this.lookups = []
    const keys: string[] = []
    for (const lookup of batch) {
      keys.push(lookup.generationKey)
      if (lookup.key !== null) keys.push(lookup.key)
    }
    this.redis.mgetBuffer(...keys).then(
      (values) => {
        let i = 0
        for (const lookup of batch) {
          const generation = values[i++]
          const entry = lookup.key === null ? null : (values[i++] ?? null)
          lookup.resolve([generation ? generation.toString('latin1') : null, entry])
        }
      },
      (error: unknown) => {
        for (const lookup of batch) lookup.reject(error)
      }
    )
  }
  async set(key: string, value: string | Buffer, ttlSeconds: number) {
    await this.redis.set(key, value, 'EX', ttlSeconds)
  }
  /** this store's part of every generation it sets: random, so no other store (or process) sets the same */
  private readonly generationPrefix = randomBytes(9).toString('base64url')
  private bumps = 0
  async bump(key: string) {
    // not INCR: after a Redis restart a counter would count 1, 2, ... again and could match an
    // entry (or a process's local copy) made before the restart. A random prefix per store and a
    // count of its own bumps never repeats, without a random draw per write (randomBytes was 2.6 %
    // of the API's time under single POSTs). Set and published in one script, so no process can
    // see the new value without its message being on the way.
    const generation = `${this.generationPrefix}${(++this.bumps).toString(36)}`
    const user = key.startsWith('gen:') ? key.slice(4) : key
    const receivers = await (this.redis as Redis & { htBumpGeneration(key: string, value: string, channel: string, message: string): Promise<number> })
      .htBumpGeneration(key, generation, this.channel, `${user} ${generation}`)
    return { generation, receivers: Number(receivers) }
  }
  async del(keys: string[]) {
    if (keys.length) await this.redis.del(...keys)
  }
  async ping() {
    await this.redis.ping()
  }
  async close() {
    this.redis.disconnect()
  }
}

export function createRedis(url: string, config: Config, extra: { name: string; autoPipelining?: boolean }): Redis {
  return new Redis(url, {
    connectionName: extra.name,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    // fail fast while disconnected instead of queueing commands until the request times out
    enableOfflineQueue: false,
    // commands issued in the same tick (concurrent requests) leave in one write: far fewer syscalls
    // (not for a connection that only ever has one command out: a Pipeline per PING, several
    // objects each, was 12 % of what the 10 000-user benchmark promoted to the old generation)
    enableAutoPipelining: extra.autoPipelining ?? true,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000)
  })
}

/** Wait until the client is connected (commands fail fast while offline), at most `ms`. */
export async function waitReady(redis: Redis, ms = 2000): Promise<boolean> {
  if (redis.status === 'ready') return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms)
    const onReady = () => done(true)
    function done(ok: boolean) {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(ok)
    }
    redis.once('ready', onReady)
  })
}

/**
 * Cached entries are "<head>\n<rest>" (generation then answer; ETag then body), as text or bytes.
 * `before` is the head as text; `after` the rest, bytes staying bytes without a copy.
 */
export function before(entry: Buffer | string, cut: number): string {
  return typeof entry === 'string' ? entry.slice(0, cut) : entry.toString('latin1', 0, cut)
}
export function after(entry: Buffer | string, cut: number): Buffer | string {
  return typeof entry === 'string' ? entry.slice(cut + 1) : entry.subarray(cut + 1)
}

/**
 * The bytes of `value` in memory of their own. A small Buffer (from Buffer.from, Buffer.concat or a
 * socket read) is a view into a shared 8 KiB pool slab or a read buffer, and keeping the view keeps
 * the whole slab: 20 000 local copies of ~1.2 KB held 13 000 slabs, 107 MB for 24 MB of answers
 * (heap snapshot, 10 000 users), uncounted by CACHE_LOCAL_MAX_MB and adding to V8's external memory
 * pressure. A copy the size of the answer, made once when the copy is kept.
 */
export function ownBytes(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.buffer.byteLength === value.length) return value
  const own = Buffer.allocUnsafeSlow(value.length)
  value.copy(own)
  return own
}

/** An entry cut at its first newline: the head as text, the rest as it came (bytes stay bytes). */
export interface SplitEntry {
  head: string
  body: Buffer | string
}
export function splitEntry(entry: Buffer | string): SplitEntry {
  const cut = typeof entry === 'string' ? entry.indexOf('\n') : entry.indexOf(10)
  return { head: before(entry, cut), body: after(entry, cut) }
}

/** a copy's `split` while its admission is decided; a kept copy always has its own */
const NOT_CUT: SplitEntry = Object.freeze({ head: '', body: '' })

interface LocalCopy {
  generation: string
  value: Buffer | string
  /** the value cut once, when the copy is kept, instead of on every hit */
  split: SplitEntry
  /** the feed's version when this copy was last found current (-1: never) */
  currentAt: number
}
/** local copies up to this size share one half of CACHE_LOCAL_MAX_MB, larger ones the other */
export const LOCAL_SMALL_BYTES = 8 * 1024
/** when the local copies are full, one miss in this many is admitted (the others are served, not kept) */
export const LOCAL_ADMIT_WHEN_FULL_ONE_IN = 8

/** After FAILURE_THRESHOLD consecutive errors, bypass the store for COOL_DOWN_MS, then try again. */
const FAILURE_THRESHOLD = 5
const COOL_DOWN_MS = 5000

export class ResilientCache {
  private failures = 0
  private openUntil = 0
  /** copies of shared entries with the generation they were made at (Redis mode) */
  private readonly local: SplitFifoCache<string, LocalCopy> | null
  constructor(
    readonly store: CacheStore,
    private readonly metrics: Metrics,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
    localMaxBytes = 0,
    /** pushed generations (Redis mode with local copies): hits without a Redis round trip */
    private readonly feed: GenerationFeed | null = null
  ) {
    metrics.cacheCircuitOpen.set(0)
    this.local =
      store.kind === 'redis' && localMaxBytes > 0
        ? new SplitFifoCache<string, LocalCopy>({
            // half the budget for small answers (scores, single records), half for large ones (list
            // pages): a stream of 21 KB pages must not evict the ~3 KB scores read most
            maxSizes: [localMaxBytes / 2, localMaxBytes / 2],
            sizeOf: (copy) => copy.value.length + copy.generation.length + 64,
            classOf: (_copy, size) => (size <= LOCAL_SMALL_BYTES ? 0 : 1)
          })
        : null
  }

  get kind() {
    return this.store.kind
  }

  private available(): boolean {
    if (this.openUntil === 0) return true
    if (this.now() >= this.openUntil) return true // half-open: let the next call probe
    return false
  }

  private succeeded() {
    if (this.failures !== 0 || this.openUntil !== 0) {
      this.failures = 0
      this.openUntil = 0
      this.metrics.cacheCircuitOpen.set(0)
      if (this.store.kind === 'redis') this.metrics.redisUp.set({ role: 'cache' }, 1)
    }
  }

  private failed() {
    this.failures += 1
    if (this.store.kind === 'redis') this.metrics.redisUp.set({ role: 'cache' }, 0)
    if (this.failures >= FAILURE_THRESHOLD) {
      this.openUntil = this.now() + COOL_DOWN_MS
      this.metrics.cacheCircuitOpen.set(1)
    }
  }

  /** Run a store call; on error or open circuit return `fallback` and count it. */
  private async guard<T>(call: () => Promise<T>, fallback: T, countAs?: 'error' | 'bypass'): Promise<{ ok: boolean; value: T }> {
    if (!this.available()) {
      if (countAs) this.metrics.cacheRequests.inc({ result: 'bypass' })
      return { ok: false, value: fallback }
    }
    try {
      const value = await call()
      this.succeeded()
      return { ok: true, value }
    } catch {
      this.failed()
      if (countAs) this.metrics.cacheRequests.inc({ result: 'error' })
      return { ok: false, value: fallback }
    }
  }

  /** Generation of a user's cached reads; null when the store cannot be read (then: don't cache). */
  async generation(userUuid: string): Promise<string | null> {
    if (this.pendingBumps.size > 0 && !(await this.flushPendingBumps())) return null
    const result = await this.guard(() => this.store.get(`gen:${userUuid}`), null)
    if (!result.ok) return null
    return result.value ?? '0'
  }

  /**
   * Invalidate every cached read of the user, on every instance. Never throws. A bump that fails
   * (Redis away) is remembered and replayed before this instance reads the cache again, so a page
   * cached before the write is never served after it.
   */
  async bumpGeneration(userUuid: string): Promise<boolean> {
    const bumped = await this.guard(() => this.store.bump(`gen:${userUuid}`), null)
    if (!bumped.ok || !bumped.value) {
      this.pendingBumps.add(userUuid)
      this.scheduleReplay()
      return false
    }
    this.feed?.apply(userUuid, bumped.value.generation)
    // another process may answer from what it knows: the write answers only once every lease that
    // started before the publish has run out (generation-feed.ts)
    if (this.feed && bumped.value.receivers > 1) await new Promise((resolve) => setTimeout(resolve, this.feed!.leaseMs))
    return true
  }

  /** Failed bumps are also replayed every second, so other processes learn of the write soon after Redis is back. */
  private replayTimer: NodeJS.Timeout | null = null
  private scheduleReplay(): void {
    if (this.replayTimer) return
    this.replayTimer = setTimeout(() => {
      this.replayTimer = null
      void this.flushPendingBumps().then((done) => {
        if (!done) this.scheduleReplay()
      })
    }, 1000)
    this.replayTimer.unref()
  }

  private readonly pendingBumps = new Set<string>()

  /** Replay failed bumps; false while some are still pending (then the cache must not be read). */
  async flushPendingBumps(): Promise<boolean> {
    for (const userUuid of [...this.pendingBumps]) {
      const ok = (await this.guard(() => this.store.bump(`gen:${userUuid}`), null)).ok
      if (!ok) return false
      this.pendingBumps.delete(userUuid)
    }
    return true
  }

  async get(key: string): Promise<string | null> {
    const result = await this.guard(() => this.store.get(key), null, 'error')
    if (result.ok) this.metrics.cacheRequests.inc({ result: result.value === null ? 'miss' : 'hit' })
    return result.value
  }

  /**
   * The local copy, when it can be served without asking anyone: made at the generation pushed to
   * this process, under a lease (generation-feed.ts). Synchronous; undefined otherwise.
   */
  peekForUser(userUuid: string, key: string): SplitEntry | undefined {
    const copy = this.local?.get(key)
    if (!copy || !this.servesPushed(userUuid, copy)) return undefined
    this.localHit(copy)
    return copy.split
  }

  /**
   * The user's current generation when this process may act on it without asking Redis: pushed to
   * it under a lease (generation-feed.ts), as for serving a local copy. Undefined otherwise.
   */
  leasedGeneration(userUuid: string): string | undefined {
    return this.pushedFeed()?.current(userUuid)
  }

  /** The feed, when what it pushed may be acted on: no bump waiting for replay, the store not cooling down. */
  private pushedFeed(): GenerationFeed | null {
    return this.feed === null || this.pendingBumps.size > 0 || !this.available() ? null : this.feed
  }

  private servesPushed(userUuid: string, copy: LocalCopy): boolean {
    const feed = this.pushedFeed()
    if (feed === null || !feed.fresh()) return false
    // nothing this process knows about generations changed since the copy was last found current:
    // it still is, without looking the user up (with 10 000 users, a lookup in a cold map)
    if (copy.currentAt === feed.version) return true
    if (feed.current(userUuid) !== copy.generation) return false
    copy.currentAt = feed.version
    return true
  }

  private localHit<C>(copy: C): C {
    this.metrics.cacheRequests.inc({ result: 'hit' })
    return copy
  }

  /**
   * A user-scoped read: the user's generation and the entry (stored as "<generation>\n<body>"),
   * in one round trip at most (none for a local copy under the feed's lease; the generation alone
   * for a local copy otherwise). The entry counts only if it was made at the current generation.
   * Returns null generation when the store can't be read (then: don't cache).
   */
  async getForUser(userUuid: string, key: string): Promise<{ generation: string | null; value: Buffer | string | null }> {
    if (this.pendingBumps.size > 0 && !(await this.flushPendingBumps())) {
      this.metrics.cacheRequests.inc({ result: 'bypass' })
      return { generation: null, value: null }
    }
    const generationKey = `gen:${userUuid}`
    const copy = this.local?.get(key)
    if (copy && this.servesPushed(userUuid, copy)) return this.localHit(copy)
    const mark = this.feed?.mark() ?? 0
    // with a local copy, only the generation is asked for
    let result = await this.guard(() => this.store.getEntry(generationKey, copy ? null : key), null, 'error')
    if (!result.ok || !result.value) return { generation: null, value: null }
    this.feed?.learn(userUuid, result.value[0] ?? '0', mark)
    if (copy) {
      if (copy.generation === (result.value[0] ?? '0')) return this.localHit(copy)
      // written since: the shared entry may already be the current one (made by another process)
      this.local!.delete(key)
      result = await this.guard(() => this.store.getEntry(generationKey, key), null, 'error')
      if (!result.ok || !result.value) return { generation: null, value: null }
    }
    const generation = result.value[0] ?? '0'
    const stored = result.value[1]
    // "<generation>\n<rest>": the rest counts only if it was made at the current generation
    const cut = stored ? stored.indexOf('\n') : -1
    const made = stored && cut > 0 ? before(stored, cut) : null
    const value = stored && made === generation ? after(stored, cut) : null
    this.metrics.cacheRequests.inc({ result: value === null ? 'miss' : 'hit' })
    // copied: a view would keep the whole socket read buffer alive
    if (value !== null && this.local) this.keepLocal(key, generation, value)
    return { generation, value }
  }

  /**
   * Keep a copy of an entry, unless the copies are full and this entry loses the admission draw.
   * When more users are active than the copies hold (CACHE_LOCAL_MAX_MB), admitting every miss
   * evicts another copy each time: a stream of 20 KB copies and frees that made such reads slower
   * than with no copies at all (bench:scale, 10 000 users). Admitting one miss in
   * LOCAL_ADMIT_WHEN_FULL_ONE_IN keeps the churn low; a key read often still gets in after a few
   * misses, and while the copies have room every entry is kept.
   */
  private keepLocal(key: string, generation: string, value: Buffer | string): void {
    if (!this.local) return
    // cut only once admitted (below): until then the copy carries the shared NOT_CUT
    const copy: LocalCopy = { generation, value, split: NOT_CUT, currentAt: -1 }
    if (!this.local.fits(copy) && Math.random() * LOCAL_ADMIT_WHEN_FULL_ONE_IN >= 1) {
      this.local.delete(key) // an older copy of the key is never served again: free it
      return
    }
    if (typeof value !== 'string') copy.value = ownBytes(value)
    // cut now, on the miss that made the copy, not on its first hit: the hits stay allocation-free,
    // and 20 000 copies cut during a read burst were new objects surviving young collections
    copy.split = splitEntry(copy.value)
    this.local.set(key, copy)
  }

  /** `entry` as bytes: a hit on the local copy then neither measures nor encodes it again */
  async setForUser(key: string, generation: string, entry: Buffer): Promise<void> {
    this.keepLocal(key, generation, entry)
    await this.set(key, Buffer.concat([Buffer.from(`${generation}\n`, 'latin1'), entry]))
  }

  async set(key: string, value: string | Buffer, ttlSeconds = this.ttlSeconds): Promise<void> {
    await this.guard(() => this.store.set(key, value, ttlSeconds), undefined)
  }

  async health(): Promise<'ok' | 'memory' | 'down'> {
    if (this.store.kind === 'memory') return 'memory'
    try {
      await this.store.ping()
      this.succeeded()
      this.metrics.redisUp.set({ role: 'cache' }, 1)
      return 'ok'
    } catch {
      this.metrics.redisUp.set({ role: 'cache' }, 0)
      return 'down'
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    cache: ResilientCache
  }
}

export interface CachePluginOptions {
  config: Config
  /** the generation channel of the processes that share this database */
  channel?: string
}

export default fp<CachePluginOptions>(
  async (fastify, opts) => {
    const store: CacheStore = opts.config.REDIS_URL
      ? new RedisStore(createRedis(opts.config.REDIS_URL, opts.config, { name: 'health-tracker-cache' }), opts.channel)
      : new MemoryStore(opts.config.CACHE_MAX_ENTRIES)
    if (store instanceof RedisStore) {
      store.redis.on('error', () => {}) // reported through redis_up and the breaker, not as crashes
      store.redis.on('ready', () => fastify.metrics.redisUp.set({ role: 'cache' }, 1))
      store.redis.on('close', () => fastify.metrics.redisUp.set({ role: 'cache' }, 0))
      // start degraded rather than not at all when Redis is away
      if (!(await waitReady(store.redis))) fastify.log.warn('Redis is not reachable: serving uncached until it is')
    }
    let feed: GenerationFeed | null = null
    if (store instanceof RedisStore && opts.config.CACHE_LOCAL_MAX_MB > 0 && opts.config.CACHE_LOCAL_LEASE_MS > 0) {
      // its own connection: a subscribed connection takes no other commands
      const sub = createRedis(opts.config.REDIS_URL!, opts.config, { name: 'health-tracker-cache-feed', autoPipelining: false })
      sub.on('error', () => {})
      const lease = opts.config.CACHE_LOCAL_LEASE_MS
      feed = new GenerationFeed(sub, opts.channel ?? DEFAULT_GENERATION_CHANNEL, { leaseMs: lease, pingMs: Math.max(1, Math.floor(lease / 5)) })
      fastify.addHook('onClose', async () => {
        feed!.close()
        sub.disconnect()
      })
    }
    fastify.decorate('cache', new ResilientCache(store, fastify.metrics, opts.config.CACHE_TTL_SECONDS, Date.now, opts.config.CACHE_LOCAL_MAX_MB * 1024 * 1024, feed))
    fastify.addHook('onClose', async () => store.close())
  },
  { name: 'cache', dependencies: ['metrics'] }
)
