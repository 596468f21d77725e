import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisStore, ResilientCache, type CacheStore } from '../../src/plugins/cache.js'
import { GenerationFeed, generationChannel } from '../../src/plugins/generation-feed.js'
import { createMetrics } from '../../src/metrics.js'

t.test('one channel per database: its name, without host or credentials', async (t) => {
  t.equal(generationChannel('postgres://user:secret@db.internal:5432/health_tracker'), 'ht:generations:health_tracker')
  t.equal(generationChannel('postgres://127.0.0.1/'), 'ht:generations:default')
  t.equal(generationChannel('not a url'), 'ht:generations:default')
})

const url = process.env.REDIS_URL
if (!url) {
  t.plan(0, 'REDIS_URL is not set: pushed generations need a Redis (CI provides one)')
} else {
  const LEASE = 40
  const CHANNEL = `ht:generations:test-${randomUUID()}`
  const connections: Redis[] = []
  const feeds: GenerationFeed[] = []
  t.teardown(() => {
    for (const f of feeds) f.close()
    for (const c of connections) c.disconnect()
  })
  const connect = () => {
    const c = new Redis(url, { enableAutoPipelining: true })
    connections.push(c)
    return c
  }
  const ready = (c: Redis) => new Promise<void>((resolve) => (c.status === 'ready' ? resolve() : c.once('ready', () => resolve())))

  /** One API process: its cache (a store that counts its Redis lookups) and its generation feed. */
  async function process_(options: { lease?: number } = {}) {
    const inner = new RedisStore(connect(), CHANNEL)
    let lookups = 0
    const store = Object.assign(Object.create(inner) as CacheStore, {
      getEntry: (g: string, k: string | null) => {
        lookups++
        return inner.getEntry(g, k)
      }
    })
    const sub = connect()
    await ready(sub)
    const feed = new GenerationFeed(sub, CHANNEL, { leaseMs: options.lease ?? LEASE, pingMs: 5 })
    feeds.push(feed)
    const cache = new ResilientCache(store, createMetrics(), 60, Date.now, 1024 * 1024, feed)
    // wait for the subscription and a first lease
    for (let i = 0; i < 100 && !feed.fresh(); i++) await new Promise((r) => setTimeout(r, 5))
    return { cache, feed, sub, lookups: () => lookups }
  }

  const text = (v: Buffer | string | null) => (v === null ? null : v.toString())

  t.test('under a lease a hit makes no Redis round trip; a write on another process is never missed', async (t) => {
    const A = await process_()
    const B = await process_()
    t.ok(A.feed.fresh() && B.feed.fresh(), 'both hold a lease')
    let stale = 0
    let roundTripFree = 0
    let leasedReads = 0
    for (let i = 0; i < 100; i++) {
      const user = randomUUID()
      const key = `r2:${user}:/page`
      const first = await B.cache.getForUser(user, key)
      await B.cache.setForUser(key, first.generation!, Buffer.from(`etag\nbefore-${i}`))
      const before = B.lookups()
      // on a loaded machine a PING reply can come later than the lease: then B asks Redis, rightly
      const leased = B.feed.fresh()
      t.equal(text((await B.cache.getForUser(user, key)).value), `etag\nbefore-${i}`)
      if (leased) {
        leasedReads++
        if (B.lookups() === before) roundTripFree++
      }
      // a write on A: its answer waits until B can no longer answer from what it knew before
      const started = performance.now()
      await A.cache.bumpGeneration(user)
      const waited = performance.now() - started
      if (i === 0) t.ok(waited >= LEASE, `the write waited out the lease (${waited.toFixed(1)} ms): another process listens`)
      const after = await B.cache.getForUser(user, key)
      if (after.value !== null) stale++
    }
    t.ok(leasedReads >= 50, `${leasedReads} of 100 repeated reads on B came under a lease`)
    t.equal(roundTripFree, leasedReads, 'every repeated read on B under a lease was answered without Redis')
    t.equal(stale, 0, 'no read on B after a completed write on A returned the old answer')
  })

  t.test('one process alone on its database: a write does not wait', async (t) => {
    const channel = `ht:generations:test-${randomUUID()}`
    const inner = new RedisStore(connect(), channel)
    const sub = connect()
    await ready(sub)
    const feed = new GenerationFeed(sub, channel, { leaseMs: LEASE, pingMs: 5 })
    feeds.push(feed)
    for (let i = 0; i < 100 && !feed.fresh(); i++) await new Promise((r) => setTimeout(r, 5))
    const alone = new ResilientCache(inner, createMetrics(), 60, Date.now, 1024 * 1024, feed)
    t.equal((await inner.bump(`gen:${randomUUID()}`)).receivers, 1, 'PUBLISH counts the listening processes: itself')
    const started = performance.now()
    await alone.bumpGeneration(randomUUID())
    t.ok(performance.now() - started < LEASE, 'no other process listens: the write answers at once')
  })

  t.test('generations never repeat: not within one store, not across stores (processes) on one Redis', async (t) => {
    const channel = `ht:generations:test-${randomUUID()}`
    const stores = [new RedisStore(connect(), channel), new RedisStore(connect(), channel)]
    const user = randomUUID()
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const { generation } = await stores[i % 2]!.bump(`gen:${user}`)
      t.notOk(seen.has(generation), `bump ${i} set a new generation`)
      seen.add(generation)
      // what the store set is what a reader of the key gets
      t.equal(await stores[(i + 1) % 2]!.get(`gen:${user}`), generation)
    }
    t.equal(seen.size, 200)
  })

  t.test('without a lease the process asks Redis', async (t) => {
    const A = await process_()
    const user = randomUUID()
    const key = `r2:${user}:/page`
    const first = await A.cache.getForUser(user, key)
    await A.cache.setForUser(key, first.generation!, Buffer.from('etag\nbody'))
    await A.cache.getForUser(user, key)
    A.feed.close() // no more pings: the lease runs out
    await new Promise((r) => setTimeout(r, LEASE + 20))
    t.notOk(A.feed.fresh())
    const before = A.lookups()
    t.equal(text((await A.cache.getForUser(user, key)).value), 'etag\nbody', 'still a hit')
    t.equal(A.lookups(), before + 1, 'but checked against Redis')
  })

  t.test('a lookup that raced with a message does not overwrite it', async (t) => {
    const sub = connect()
    await ready(sub)
    const feed = new GenerationFeed(sub, CHANNEL, { leaseMs: 1000, pingMs: 5 })
    feeds.push(feed)
    for (let i = 0; i < 100 && !feed.fresh(); i++) await new Promise((r) => setTimeout(r, 5))
    const mark = feed.mark()
    feed.apply('u1', 'new') // a message arrives while the lookup is in flight
    feed.learn('u1', 'old', mark) // the lookup's older answer
    t.equal(feed.current('u1'), 'new')
    feed.learn('u2', 'g2', feed.mark())
    t.equal(feed.current('u2'), 'g2', 'a lookup with no message in between is kept')
  })

  t.test('the version moves when an answer found current may no longer be, and only then', async (t) => {
    const sub = connect()
    await ready(sub)
    const feed = new GenerationFeed(sub, CHANNEL, { leaseMs: 1000, pingMs: 5, maxUsers: 3 })
    feeds.push(feed)
    let v = feed.version
    const moved = () => {
      const was = v
      v = feed.version
      return v !== was
    }
    feed.learn('u1', 'g1', feed.mark())
    feed.learn('u2', 'g1', feed.mark())
    t.notOk(moved(), 'users learned into free room')
    feed.learn('u1', 'g1', feed.mark())
    t.notOk(moved(), 'a lookup that confirms what was known')
    feed.learn('u1', 'g2', feed.mark())
    t.ok(moved(), 'a lookup that found a newer generation')
    feed.apply('u2', 'g3')
    t.ok(moved(), 'a message (a write)')
    feed.learn('u3', 'g1', feed.mark())
    t.notOk(moved(), 'the third user fills the room')
    feed.learn('u4', 'g1', feed.mark())
    t.ok(moved(), 'the fourth evicts the oldest')
    for (let i = 0; i < 100 && !feed.fresh(); i++) await new Promise((r) => setTimeout(r, 5))
    t.equal(feed.current('u1'), undefined, 'which is no longer known')
    t.equal(feed.current('u4'), 'g1')
  })

  t.test('a lost subscription forgets what it knew', async (t) => {
    const A = await process_()
    const user = randomUUID()
    A.feed.apply(user, 'g')
    t.equal(A.feed.current(user), 'g')
    A.sub.disconnect(true) // reconnects
    await new Promise((r) => setTimeout(r, 20))
    t.equal(A.feed.current(user), undefined)
  })
}
