import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { KEYS_PER_CALL, LocalFirstRedisStore, MAX_HOLD_MS, type RateLimitResult } from '../../src/plugins/rate-limit-store.js'

const url = process.env.REDIS_URL
if (!url) {
  t.plan(0, 'REDIS_URL is not set: the shared rate-limit store needs a Redis (CI provides one)')
} else {
  const redis = new Redis(url, { enableAutoPipelining: true })
  t.teardown(() => redis.disconnect())
  const incr = (store: LocalFirstRedisStore, key: string, windowMs: number, max: number) =>
    new Promise<RateLimitResult>((resolve, reject) => store.incr(key, (error, result) => (error ? reject(error) : resolve(result!)), windowMs, max))
  // commands sent by this test's own connection (the server's totals also count parallel test files)
  const counted = new Redis(url, { enableAutoPipelining: false })
  t.teardown(() => counted.disconnect())
  let sent = 0
  const send = counted.sendCommand.bind(counted)
  counted.sendCommand = ((command: Parameters<typeof send>[0], stream?: Parameters<typeof send>[1]) => {
    sent++
    return send(command, stream)
  }) as typeof counted.sendCommand
  const commands = async () => sent

  t.test('one process: the count is exact, and the limit falls on the max+1st request', async (t) => {
    for (const max of [1, 3, 50, 600]) {
      const store = new LocalFirstRedisStore(redis, `test-rl:${randomUUID()}:`, { flushMs: 20 })
      const seen: number[] = []
      for (let i = 0; i < max + 3; i++) seen.push((await incr(store, 'sub:a', 60_000, max)).current)
      t.same(seen, Array.from({ length: max + 3 }, (_, i) => i + 1), `max ${max}: every request gets its own place in the window`)
      await store.flush()
      t.equal(Number(await redis.get(`${(store as unknown as { prefix: string }).prefix}sub:a`)), max + 3, 'and Redis holds the same count')
      store.close()
    }
  })

  t.test('far from the limit no request waits for Redis; near it every request does', async (t) => {
    const store = new LocalFirstRedisStore(counted, `test-rl:${randomUUID()}:`, { flushMs: 60_000 })
    await incr(store, 'k', 60_000, 1000) // the first of a window asks Redis
    const before = await commands()
    for (let i = 0; i < 500; i++) await incr(store, 'k', 60_000, 1000)
    const during = (await commands()) - before
    t.equal(during, 0, `500 requests far from the limit: ${during} Redis commands`)
    const store2 = new LocalFirstRedisStore(counted, `test-rl:${randomUUID()}:`, { flushMs: 60_000 })
    await incr(store2, 'k', 60_000, 10)
    const start = await commands()
    for (let i = 0; i < 15; i++) await incr(store2, 'k', 60_000, 10)
    // max 10, margin 1: requests 2–9 are counted here, 10–16 each ask Redis
    t.equal((await commands()) - start, 7, 'within the margin (10 %, at least 1) each request is counted in Redis first')
    store.close()
    store2.close()
  })

  t.test('two processes share the budget: the overshoot is bounded by one flush interval', async (t) => {
    const prefix = `test-rl:${randomUUID()}:`
    const a = new LocalFirstRedisStore(redis, prefix, { flushMs: 10 })
    const b = new LocalFirstRedisStore(redis, prefix, { flushMs: 10 })
    const max = 200
    let admitted = 0
    for (let i = 0; i < 400; i++) {
      const r = await incr(i % 2 === 0 ? a : b, 'sub:shared', 60_000, max)
      if (r.current <= max) admitted++
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 15)) // flushes happen
    }
    t.ok(admitted >= max * 0.9, `admitted ${admitted}: the budget is not split in half`)
    t.ok(admitted <= max + 20, `admitted ${admitted}: at most one flush interval of requests past ${max}`)
    await a.flush()
    await b.flush()
    t.equal(Number(await redis.get(`${prefix}sub:shared`)), 400, 'every request was counted once in Redis')
    a.close()
    b.close()
  })

  t.test('a new window starts with the key\'s expiry', async (t) => {
    const store = new LocalFirstRedisStore(redis, `test-rl:${randomUUID()}:`, { flushMs: 5 })
    for (let i = 0; i < 3; i++) await incr(store, 'w', 150, 3)
    t.equal((await incr(store, 'w', 150, 3)).current, 4, 'over the limit inside the window')
    await new Promise((resolve) => setTimeout(resolve, 200))
    const fresh = await incr(store, 'w', 150, 3)
    t.equal(fresh.current, 1, 'counted from 1 again after the window')
    t.ok(fresh.ttl > 0 && fresh.ttl <= 150, `with the new window's ttl (${fresh.ttl} ms)`)
    store.close()
  })

  t.test('a key whose window ended at no more than half its limit starts the next one without waiting for Redis', async (t) => {
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(counted, prefix, { flushMs: 60_000 })
    const window = 150
    for (let i = 0; i < 5; i++) await incr(store, 'light', window, 10) // 5 of 10: half the limit
    for (let i = 0; i < 6; i++) await incr(store, 'heavy', window, 10) // 6 of 10
    await store.flush()
    t.same(await Promise.all(['light', 'heavy'].map((k) => redis.get(`${prefix}${k}`))), ['5', '6'])
    await new Promise((resolve) => setTimeout(resolve, window + 50)) // both windows are over, in Redis too
    const before = await commands()
    const light = await incr(store, 'light', window, 10)
    t.equal((await commands()) - before, 0, 'the light key\'s first request of the new window asked no one')
    t.same(light, { current: 1, ttl: window }, 'counted from 1, the window estimated whole')
    t.equal(await redis.get(`${prefix}light`), null, 'Redis has not heard of it yet')
    const heavy = await incr(store, 'heavy', window, 10)
    t.equal((await commands()) - before, 1, 'the heavy key\'s (6 of 10 last window) asked Redis')
    t.equal(heavy.current, 1)
    t.equal(await redis.get(`${prefix}heavy`), '1', 'and Redis counted it at once')
    for (let i = 0; i < 3; i++) await incr(store, 'light', window, 10)
    await store.flush()
    t.equal(await redis.get(`${prefix}light`), '4', 'the flush started the light key\'s window in Redis with its counts')
    const ttl = await redis.pttl(`${prefix}light`)
    t.ok(ttl > 0 && ttl <= window, `expiring one window after (${ttl} ms)`)
    // the limit still holds in the renewed window: within the margin every request asks Redis
    const seen: number[] = []
    for (let i = 0; i < 8; i++) seen.push((await incr(store, 'light', window, 10)).current)
    t.same(seen, [5, 6, 7, 8, 9, 10, 11, 12], 'the count goes on from what Redis holds')
    store.close()
  })

  t.test('a flush sends only the keys counted since the last one; keys of ended windows are dropped', async (t) => {
    let now = 1_000_000
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(redis, prefix, { flushMs: 60_000, now: () => now })
    const state = store as unknown as { keys: Map<string, unknown>; queueLength: number }
    for (let u = 0; u < 50; u++) for (let i = 0; i < 3; i++) await incr(store, `u${u}`, 5_000, 1000)
    t.equal(state.queueLength, 50, 'each key counted locally is queued once')
    await store.flush()
    t.equal(state.queueLength, 0)
    t.same(await Promise.all([0, 49].map((u) => redis.get(`${prefix}u${u}`))), ['3', '3'], 'the counts reached Redis')
    await incr(store, 'u7', 5_000, 1000)
    t.equal(state.queueLength, 1, 'the next flush sends one key, not the window\'s 50')
    await store.flush()
    t.equal(await redis.get(`${prefix}u7`), '4')
    t.equal(state.keys.size, 50)
    now += 11_000 // past every window, and past the sweep interval
    await store.flush()
    t.equal(state.keys.size, 0, 'the sweep dropped the keys whose window is over')
    store.close()
  })

  t.test('the timer sends a key once a quarter of its margin is pending, or MAX_HOLD_MS after its first count', async (t) => {
    let now = 1_000_000
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(redis, prefix, { flushMs: 60_000, now: () => now })
    const state = store as unknown as { queueLength: number }
    // max 1000: margin 100, a key is due with 25 pending
    for (const key of ['slow', 'busy']) await incr(store, key, 60_000, 1000) // the first of a window asks Redis
    await incr(store, 'slow', 60_000, 1000)
    for (let i = 0; i < 25; i++) await incr(store, 'busy', 60_000, 1000)
    await store.flush(false)
    t.same(await Promise.all(['slow', 'busy'].map((k) => redis.get(`${prefix}${k}`))), ['1', '26'], 'the busy key went at once; the slow one is held')
    t.equal(state.queueLength, 1, 'and stays queued')
    now += MAX_HOLD_MS - 1
    await store.flush(false)
    t.equal(await redis.get(`${prefix}slow`), '1', `held for up to ${MAX_HOLD_MS} ms`)
    now += 1
    await store.flush(false)
    t.equal(await redis.get(`${prefix}slow`), '2', `sent ${MAX_HOLD_MS} ms after its first count`)
    t.equal(state.queueLength, 0)
    for (let i = 0; i < 3; i++) await incr(store, 'busy', 60_000, 1000)
    await store.flush()
    t.equal(await redis.get(`${prefix}busy`), '29', 'an explicit flush (shutdown) sends every key')
    store.close()
  })

  t.test('a timed flush takes the keys in the order they became due and stops at the first not due', async (t) => {
    let now = 1_000_000
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(redis, prefix, { flushMs: 60_000, now: () => now, maxHoldMs: 1000 })
    const state = store as unknown as { queueLength: number; queueHead: number; queueTail: number; queue: unknown[] }
    const get = (k: string) => redis.get(`${prefix}${k}`)
    // max 1000: margin 100, due with 25 pending; the first request of a key's window asks Redis
    for (const k of ['a', 'b', 'busy']) await incr(store, k, 60_000, 1000)
    await incr(store, 'a', 60_000, 1000) // queued at t, due at t + 1 s
    now += 400
    await incr(store, 'b', 60_000, 1000) // queued at t + 0.4 s
    await incr(store, 'busy', 60_000, 1000) // queued after b...
    for (let i = 0; i < 24; i++) await incr(store, 'busy', 60_000, 1000) // ...and urgent from its 25th
    await store.flush(false)
    t.same(await Promise.all(['a', 'b', 'busy'].map(get)), ['1', '1', '26'], 'only the urgent key went, ahead of its turn')
    t.equal(state.queueLength, 2)
    for (let i = 0; i < 3; i++) await incr(store, 'busy', 60_000, 1000) // queued again, behind b
    now += 600
    await store.flush(false)
    t.same(await Promise.all(['a', 'b', 'busy'].map(get)), ['2', '1', '26'], 'a is due; b, queued later, is not')
    now += 400
    await store.flush(false)
    t.same(await Promise.all(['a', 'b', 'busy'].map(get)), ['2', '2', '29'], 'then b, and busy\'s second queueing (its first entry was stale)')
    t.equal(state.queueLength, 0)
    t.equal(state.queueHead, 0, 'an empty queue starts over at the front')
    t.equal(state.queueTail, 0)
    store.close()
  })

  t.test('a queue that never empties is moved to the front instead of growing', async (t) => {
    let now = 1_000_000
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(redis, prefix, { flushMs: 60_000, now: () => now })
    const state = store as unknown as { queueLength: number; queue: unknown[] }
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`)
    for (const k of keys) await incr(store, k, 600_000, 1_000_000) // first of the window: asks Redis
    // 40 steps of 100 ms: each step counts the 400 keys once more; each key waits a second to be sent
    let expected = 1
    for (let step = 0; step < 40; step++) {
      for (const k of keys) await incr(store, k, 600_000, 1_000_000)
      expected++
      now += 100
      await store.flush(false)
      t.ok(state.queueLength <= keys.length, 'each key queued at most once')
    }
    t.ok(state.queue.length <= 3 * keys.length, `the queue's array stays bounded (${state.queue.length} slots for ${keys.length} keys)`)
    await store.flush()
    t.same(new Set(await Promise.all(keys.map((k) => redis.get(`${prefix}${k}`)))), new Set([String(expected)]), 'every count reached Redis once')
    store.close()
  })

  t.test('a flush of more keys than one script call takes sends them all', async (t) => {
    const prefix = `test-rl:${randomUUID()}:`
    const store = new LocalFirstRedisStore(redis, prefix, { flushMs: 60_000 })
    const n = 2 * KEYS_PER_CALL + 7
    for (let u = 0; u < n; u++) for (let i = 0; i < 2; i++) await incr(store, `u${u}`, 60_000, 1000)
    const before = await commands()
    await store.flush()
    t.equal((await commands()) - before, 0, 'the store\'s connection is not this test\'s counted one')
    const values = await Promise.all(Array.from({ length: n }, (_, u) => redis.get(`${prefix}u${u}`)))
    t.same(new Set(values), new Set(['2']), `all ${n} keys' counts arrived`)
    store.close()
  })

  t.test('Redis away: the waiting request fails (the plugin lets it pass) and the error is reported', async (t) => {
    const dead = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    dead.on('error', () => {})
    let errors = 0
    const store = new LocalFirstRedisStore(dead, 'test-rl:dead:', { onError: () => errors++ })
    await t.rejects(incr(store, 'x', 60_000, 10))
    t.equal(errors, 1)
    store.close()
    dead.disconnect()
  })
}
