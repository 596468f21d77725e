import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { LOCAL_ADMIT_WHEN_FULL_ONE_IN, RedisStore, ResilientCache, ownBytes, type CacheStore } from '../../src/plugins/cache.js'
import { createMetrics } from '../../src/metrics.js'

const url = process.env.REDIS_URL
if (!url) {
  t.plan(0, 'REDIS_URL is not set: the local copies of shared entries need a Redis (CI provides one)')
} else {
  const redis = new Redis(url, { enableAutoPipelining: true })
  t.teardown(() => redis.disconnect())
  const text = (v: Buffer | string | null) => (v === null ? null : v.toString())

  /** A Redis store that records which keys each lookup asked for. */
  function recording(): { store: CacheStore; asked: Array<string | null> } {
    const inner = new RedisStore(redis)
    const asked: Array<string | null> = []
    const store = Object.assign(Object.create(inner) as CacheStore, {
      getEntry: (generationKey: string, key: string | null) => {
        asked.push(key)
        return inner.getEntry(generationKey, key)
      }
    })
    return { store, asked }
  }

  t.test('a local copy is served only at the user\'s current generation, on every process', async (t) => {
    const user = randomUUID()
    const key = `r2:${user}:test:/page`
    const a = recording()
    const b = recording()
    const A = new ResilientCache(a.store, createMetrics(), 60, Date.now, 1024 * 1024)
    const B = new ResilientCache(b.store, createMetrics(), 60, Date.now, 1024 * 1024)

    const first = await A.getForUser(user, key)
    t.equal(first.value, null, 'nothing cached yet')
    await A.setForUser(key, first.generation!, Buffer.from('etag\nbody-1'))
    const again = await A.getForUser(user, key)
    t.equal(text(again.value), 'etag\nbody-1')
    t.ok(Buffer.isBuffer(again.value), 'a local hit is served as bytes (it is not encoded again per request)')
    t.same(a.asked.slice(-1), [null], 'served from the local copy: only the generation was asked for')

    const fromB = await B.getForUser(user, key)
    t.equal(text(fromB.value), 'etag\nbody-1', 'another process reads the shared entry')
    t.same(b.asked, [key])

    await B.bumpGeneration(user) // a write on B
    const afterWrite = await A.getForUser(user, key)
    t.equal(afterWrite.value, null, 'after a write on another process the old copy is never served')
    t.same(a.asked.slice(-2), [null, key], 'the generation moved, so the shared entry was asked for too')

    await B.setForUser(key, (await B.getForUser(user, key)).generation!, Buffer.from('etag\nbody-2'))
    t.equal(text((await A.getForUser(user, key)).value), 'etag\nbody-2', 'the entry B made at the new generation is served by A')
  })

  t.test('a local copy holds memory of its own, not a shared pool slab or read buffer', async (t) => {
    const user = randomUUID()
    const A = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 1024 * 1024)
    const local = (A as unknown as { local: { get(key: string): { value: Buffer } | undefined } }).local
    const { generation } = await A.getForUser(user, `r2:${user}:x`)
    // Buffer.concat of a small answer is a view into Node's shared 8 KiB pool
    const made = Buffer.concat([Buffer.from('"etag"\n'), Buffer.from('x'.repeat(1200))])
    t.ok(made.buffer.byteLength > made.length, 'the made entry is a view into a larger slab')
    await A.setForUser(`r2:${user}:made`, generation!, made)
    const kept = local.get(`r2:${user}:made`)!.value
    t.equal(kept.buffer.byteLength, made.length, 'the kept copy owns exactly its bytes')
    t.equal(kept.toString(), made.toString())
    // an entry read from Redis arrives as a view into the socket's read buffer
    const other = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 1024 * 1024)
    const read = await other.getForUser(user, `r2:${user}:made`)
    t.equal(read.value?.toString(), made.toString())
    const copied = (other as unknown as { local: typeof local }).local.get(`r2:${user}:made`)!.value
    t.equal(copied.buffer.byteLength, copied.length, 'and so does a copy of an entry read from Redis')
    const whole = Buffer.allocUnsafeSlow(5000)
    t.equal(ownBytes(whole), whole, 'a buffer that already owns its memory is kept as is')
  })

  t.test('a Redis restart cannot make an old copy current: generations are never reused', async (t) => {
    const user = randomUUID()
    const key = `r2:${user}:test:/page`
    const A = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 1024 * 1024)
    await A.bumpGeneration(user) // the user wrote once
    const { generation } = await A.getForUser(user, key)
    await A.setForUser(key, generation!, Buffer.from('etag\nbefore'))
    t.equal(text((await A.getForUser(user, key)).value), 'etag\nbefore')
    await redis.del(`gen:${user}`, key) // Redis lost everything (restart without persistence)
    const B = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 1024 * 1024)
    await B.bumpGeneration(user) // the same number of writes again: with a counter, generation "1" again
    t.equal((await A.getForUser(user, key)).value, null, 'the copy made before the restart is not served')
  })

  t.test('without Redis the copies are not used (the generation cannot be checked)', async (t) => {
    const user = randomUUID()
    const key = `r2:${user}:test:/page`
    let down = false
    const inner = new RedisStore(redis)
    const store = Object.assign(Object.create(inner) as CacheStore, {
      getEntry: (g: string, k: string | null) => (down ? Promise.reject(new Error('down')) : inner.getEntry(g, k))
    })
    const A = new ResilientCache(store, createMetrics(), 60, Date.now, 1024 * 1024)
    const { generation } = await A.getForUser(user, key)
    await A.setForUser(key, generation!, Buffer.from('etag\nbody'))
    down = true
    const read = await A.getForUser(user, key)
    t.equal(read.generation, null, 'no generation: the caller serves from PostgreSQL, uncached')
    t.equal(read.value, null)
  })

  t.test('CACHE_LOCAL_MAX_MB bounds the copies', async (t) => {
    const user = randomUUID()
    const A = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 10_000)
    const { generation } = await A.getForUser(user, `r2:${user}:x`)
    for (let i = 0; i < 50; i++) await A.setForUser(`r2:${user}:${i}`, generation!, Buffer.from('x'.repeat(1000)))
    const local = (A as unknown as { local: { totalSize: number } }).local
    t.ok(local.totalSize <= 10_000 && local.totalSize > 0, `${local.totalSize} bytes kept`)
  })

  t.test('large answers (list pages) do not evict small ones (scores): each has half the budget', async (t) => {
    const user = randomUUID()
    const A = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 100_000)
    const local = (A as unknown as { local: { get(k: string): unknown; classSize(c: number): number } }).local
    const { generation } = await A.getForUser(user, `r2:${user}:x`)
    const small = Buffer.from('s'.repeat(2_600))
    const large = Buffer.from('l'.repeat(21_000))
    for (let i = 0; i < 10; i++) await A.setForUser(`r2:${user}:score${i}`, generation!, small)
    for (let i = 0; i < 40; i++) await A.setForUser(`r2:${user}:page${i}`, generation!, large)
    t.equal(Array.from({ length: 10 }, (_, i) => local.get(`r2:${user}:score${i}`)).filter(Boolean).length, 10, 'all ten small copies stay')
    t.ok(local.classSize(1) <= 50_000 && local.classSize(1) > 0, `the pages keep to their half (${local.classSize(1)} bytes)`)
  })

  t.test('when the copies are full, a miss is kept only now and then (no eviction per read), yet a key read often gets in', async (t) => {
    const user = randomUUID()
    // 40 000 bytes: half of it (20 000) for answers up to 8 KiB like these
    const A = new ResilientCache(new RedisStore(redis), createMetrics(), 60, Date.now, 40_000)
    const local = (A as unknown as { local: { totalSize: number; size: number; get(k: string): unknown } }).local
    const { generation } = await A.getForUser(user, `r2:${user}:x`)
    const body = Buffer.from('x'.repeat(1000))
    for (let i = 0; i < 15; i++) await A.setForUser(`r2:${user}:warm${i}`, generation!, body)
    t.equal(local.size, 15, 'while there is room, every entry is kept')
    let kept = 0
    for (let i = 0; i < 400; i++) {
      const key = `r2:${user}:cold${i}`
      await A.setForUser(key, generation!, body)
      if (local.get(key) !== undefined) kept++
    }
    t.ok(kept > 0 && kept < 150, `full: ${kept} of 400 new entries kept (1 in ${LOCAL_ADMIT_WHEN_FULL_ONE_IN} expected), not all 400`)
    t.ok(local.totalSize <= 20_000, 'still within the small answers\' half of the budget')
    let tries = 0
    while (local.get(`r2:${user}:hot`) === undefined && tries < 200) {
      tries++
      await A.setForUser(`r2:${user}:hot`, generation!, body)
    }
    t.ok(tries < 200, `a key written again and again is kept after ${tries} tries`)
    const served = await A.getForUser(user, `r2:${user}:cold399`)
    t.equal(text(served.value), 'x'.repeat(1000), 'an entry that was not kept is still served from Redis')
  })
}
