import t from 'tap'
import { auth, buildTestApp, createUser } from '../helper.js'
import { MemoryStore, ResilientCache, type CacheStore } from '../../src/plugins/cache.js'
import { createMetrics } from '../../src/metrics.js'
import { acceptsGzip } from '../../src/plugins/http-cache.js'
import { gunzipSync } from 'node:zlib'

// a lease long enough that a loaded CI machine (PING replies later than the default 25 ms) does not
// end it between a test's check and its reads; one process, so no write waits it out
const { app } = await buildTestApp(t, { env: { CACHE_LOCAL_LEASE_MS: '1000' } })
const user = await createUser(app)
const h = auth(user)
const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)

t.test('ETag and 304; private vs public Cache-Control', async (t) => {
  await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: h, payload: { user_uuid: user, date: day(1), total_sleep_minutes: 400 } })
  const first = await app.inject({ method: 'GET', url: `/api/sleep-activity/${user}`, headers: h })
  t.equal(first.statusCode, 200)
  t.match(first.headers.etag, /^".+"$/)
  t.equal(first.headers['cache-control'], 'private, no-cache')
  const again = await app.inject({ method: 'GET', url: `/api/sleep-activity/${user}`, headers: { ...h, 'if-none-match': first.headers.etag as string } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  const algos = await app.inject({ method: 'GET', url: '/api/health-score/algorithms', headers: h })
  t.match(algos.headers['cache-control'], /^public, max-age=\d+/)
})

t.test('no read after a 2xx write returns pre-write data', async (t) => {
  const url = `/api/sleep-activity/${user}/${day(1)}`
  const before = await app.inject({ method: 'GET', url, headers: h })
  t.equal(before.json().total_sleep_minutes, 400)
  await app.inject({ method: 'GET', url, headers: h }) // now cached
  for (let i = 0; i < 5; i++) {
    const patched = await app.inject({ method: 'PATCH', url: `/api/sleep-activity/${user}/update`, headers: h, payload: { date: day(1), total_sleep_minutes: 401 + i } })
    t.equal(patched.statusCode, 200)
    const read = await app.inject({ method: 'GET', url, headers: h })
    t.equal(read.json().total_sleep_minutes, 401 + i, `read ${i} after the write sees it`)
    const list = await app.inject({ method: 'GET', url: `/api/sleep-activity/${user}`, headers: h })
    t.equal(list.json().items[0].total_sleep_minutes, 401 + i)
  }
  const hits = (await app.metrics.cacheRequests.get()).values.find((v) => v.labels.result === 'hit')?.value ?? 0
  t.ok(hits > 0, 'the cache is used')
})

t.test('a single record is stored from its second read; a list from its first', async (t) => {
  const hits = async () => (await app.metrics.cacheRequests.get()).values.find((v) => v.labels.result === 'hit')?.value ?? 0
  const date = day(3)
  t.equal((await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: h, payload: { user_uuid: user, date, total_sleep_minutes: 390 } })).statusCode, 201)
  const url = `/api/sleep-activity/${user}/${date}`
  const reads: number[] = []
  for (let i = 0; i < 4; i++) {
    const before = await hits()
    const res = await app.inject({ method: 'GET', url, headers: h })
    t.equal(res.json().total_sleep_minutes, 390, `read ${i + 1} answers the record`)
    reads.push((await hits()) - before)
  }
  t.same(reads, [0, 0, 1, 1], 'first read not stored, second stored, then hits')
  const list = `/api/sleep-activity/${user}?limit=3`
  const listReads: number[] = []
  for (let i = 0; i < 2; i++) {
    const before = await hits()
    await app.inject({ method: 'GET', url: list, headers: h })
    listReads.push((await hits()) - before)
  }
  t.same(listReads, [0, 1], 'a list is stored on its first read')
  const patched = await app.inject({ method: 'PATCH', url: `/api/sleep-activity/${user}/update`, headers: h, payload: { date, total_sleep_minutes: 391 } })
  t.equal(patched.statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url, headers: h })).json().total_sleep_minutes, 391, 'after a write: the new value (a seen key is stored again at once)')
  const before = await hits()
  t.equal((await app.inject({ method: 'GET', url, headers: h })).json().total_sleep_minutes, 391)
  t.equal((await hits()) - before, 1, 'and served from the cache')
})

t.test('a first read under a lease on the generation asks neither Redis nor stores; concurrent reads load once', { skip: app.cache.kind !== 'redis' && 'needs REDIS_URL (the generation feed)' }, async (t) => {
  const date = day(4)
  t.equal((await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: h, payload: { user_uuid: user, date, total_sleep_minutes: 380 } })).statusCode, 201)
  await app.inject({ method: 'GET', url: `/api/sleep-activity/${user}`, headers: h }) // learns the generation
  const lookups: Array<string | null> = []
  const store = app.cache.store
  const getEntry = store.getEntry.bind(store)
  store.getEntry = (generationKey, key) => (lookups.push(key), getEntry(generationKey, key))
  t.teardown(() => { store.getEntry = getEntry })
  for (let i = 0; i < 100 && app.cache.leasedGeneration(user) === undefined; i++) await new Promise((r) => setTimeout(r, 10))
  t.not(app.cache.leasedGeneration(user), undefined, 'this process holds a lease on the user\'s generation')
  const url = `/api/sleep-activity/${user}/${date}`
  const selects = async () => (await app.metrics.dbQueryDuration.get()).values.filter((v) => v.labels.operation === 'select' && v.metricName?.endsWith('_count')).reduce((n, v) => n + v.value, 0)
  const before = await selects()
  const reads = await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'GET', url, headers: h })))
  t.ok(reads.every((r) => r.json().total_sleep_minutes === 380), 'all answer the record')
  t.equal((await selects()) - before, 1, '20 concurrent reads, the first of them a first read: one database load')
  t.ok(lookups.filter((k) => k?.endsWith(url)).length <= 19, 'the first read made no Redis lookup')
  const patched = await app.inject({ method: 'PATCH', url: `/api/sleep-activity/${user}/update`, headers: h, payload: { date, total_sleep_minutes: 381 } })
  t.equal(patched.statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url, headers: h })).json().total_sleep_minutes, 381, 'a read after the write sees it')
  const fresh = `/api/sleep-activity/${user}/${day(40)}`
  lookups.length = 0
  t.equal((await app.inject({ method: 'GET', url: fresh, headers: h })).statusCode, 404, 'a first read of a missing record: 404')
  t.same(lookups.filter((k) => k?.endsWith(fresh)), [], 'without a Redis lookup')
})

t.test('?fields= narrows the answer', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/api/sleep-activity/${user}?fields=date,total_sleep_minutes`, headers: h })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.json().items[0]).sort(), ['date', 'total_sleep_minutes'])
  t.ok('next_cursor' in res.json())
  const one = await app.inject({ method: 'GET', url: `/api/users/${user}?fields=email`, headers: h })
  t.same(Object.keys(one.json()), ['email'])
})

t.test('gzip: a compressed representation of its own for clients that accept it', async (t) => {
  const owner = await createUser(app)
  const ho = auth(owner)
  for (let i = 1; i <= 12; i++) {
    t.equal((await app.inject({ method: 'POST', url: '/api/sleep-activity/', headers: ho, payload: { user_uuid: owner, date: day(i), total_sleep_minutes: 400 + i } })).statusCode, 201)
  }
  const url = `/api/sleep-activity/${owner}`
  const gz = { ...ho, 'accept-encoding': 'gzip, deflate, br' }
  const plain = await app.inject({ method: 'GET', url, headers: ho })
  t.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: identity')
  t.ok(plain.rawPayload.length >= 1024, `a page over the threshold (${plain.rawPayload.length} bytes)`)
  const hits = async () => (await app.metrics.cacheRequests.get()).values.find((v) => v.labels.result === 'hit')?.value ?? 0
  for (const read of ['miss', 'hit']) {
    const before = await hits()
    const zipped = await app.inject({ method: 'GET', url, headers: gz })
    t.equal((await hits()) - before, read === 'hit' ? 1 : 0, `${read} in the cache`)
    t.equal(zipped.statusCode, 200)
    t.equal(zipped.headers['content-encoding'], 'gzip', `${read}: gzip-coded`)
    t.ok(zipped.rawPayload.length < plain.rawPayload.length / 2, `${read}: ${zipped.rawPayload.length} bytes against ${plain.rawPayload.length}`)
    t.same(JSON.parse(gunzipSync(zipped.rawPayload).toString()), plain.json(), `${read}: decodes to the identity answer`)
    t.match(zipped.headers.vary, /Accept-Encoding/)
    t.match(zipped.headers.etag, /^".+-gz"$/)
    t.not(zipped.headers.etag, plain.headers.etag, 'a representation of its own: its own ETag')
    const notModified = await app.inject({ method: 'GET', url, headers: { ...gz, 'if-none-match': zipped.headers.etag as string } })
    t.equal(notModified.statusCode, 304)
    t.equal(notModified.headers['content-encoding'], undefined, '304: nothing to decode')
    t.equal((await app.inject({ method: 'GET', url, headers: { ...ho, 'if-none-match': zipped.headers.etag as string } })).statusCode, 200, 'the gzip ETag does not validate the identity form')
  }
  t.match(plain.headers.vary, /Accept-Encoding/, 'the identity answer varies too')

  // a write: the gzip form is made again at the new generation
  t.equal((await app.inject({ method: 'PATCH', url: `/api/sleep-activity/${owner}/update`, headers: ho, payload: { date: day(1), total_sleep_minutes: 333 } })).statusCode, 200)
  const after = await app.inject({ method: 'GET', url, headers: gz })
  t.equal(JSON.parse(gunzipSync(after.rawPayload).toString()).items[0].total_sleep_minutes, 333, 'a gzip read after a write sees it')

  const refused = await app.inject({ method: 'GET', url, headers: { ...ho, 'accept-encoding': 'gzip;q=0, deflate' } })
  t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0: identity')
  t.equal(refused.json().items[0].total_sleep_minutes, 333)
  const narrowed = await app.inject({ method: 'GET', url: `${url}?fields=date`, headers: gz })
  t.equal(narrowed.headers['content-encoding'], undefined, '?fields=: identity')
  t.same(Object.keys(narrowed.json().items[0]), ['date'])
  const small = await app.inject({ method: 'GET', url: `/api/sleep-activity/${owner}/${day(2)}`, headers: gz })
  t.equal(small.headers['content-encoding'], undefined, 'an answer under HTTP_GZIP_MIN_BYTES: identity')
  t.equal(small.json().total_sleep_minutes, 402)
})

t.test('acceptsGzip follows RFC 9110 §12.5.3', async (t) => {
  const cases: Array<[string | undefined, boolean]> = [
    [undefined, false], ['', false], ['identity', false], ['gzip', true], ['GZIP', true], ['x-gzip', true],
    ['gzip, deflate, br', true], ['br;q=1.0, gzip;q=0.8, *;q=0.1', true], ['gzip;q=0', false], ['gzip; q=0.000', false],
    ['deflate, br', false], ['*', true], ['*;q=0', false], ['gzip;q=0, *', false], ['*;q=0, gzip', true], ['gzip;q=abc', false],
    ['deflate, gzip;q=0.5', true]
  ]
  for (const [header, expected] of cases) {
    t.equal(acceptsGzip(header), expected, `${JSON.stringify(header)}`)
    t.equal(acceptsGzip(header), expected, `${JSON.stringify(header)} again (remembered)`)
  }
})

t.test('concurrent misses of one key hit the database once', async (t) => {
  let loads = 0
  const url = `/api/physical-activity/${user}`
  const before = (await app.metrics.dbQueryDuration.get()).values.filter((v) => v.labels.operation === 'select').reduce((n, v) => n + (v.metricName?.endsWith('_count') ? v.value : 0), 0)
  await app.cache.bumpGeneration(user)
  const results = await Promise.all(Array.from({ length: 20 }, () => app.inject({ method: 'GET', url, headers: h })))
  t.ok(results.every((r) => r.statusCode === 200))
  const after = (await app.metrics.dbQueryDuration.get()).values.filter((v) => v.labels.operation === 'select').reduce((n, v) => n + (v.metricName?.endsWith('_count') ? v.value : 0), 0)
  loads = after - before
  t.ok(loads <= 2, `20 concurrent cold reads ran ${loads} list queries`)
})

t.test('circuit breaker: a failing store is bypassed, never an error', async (t) => {
  let calls = 0
  const broken: CacheStore = {
    kind: 'redis',
    get: async () => { calls++; throw new Error('down') },
    getEntry: async () => { calls++; throw new Error('down') },
    set: async () => { calls++; throw new Error('down') },
    bump: async () => { calls++; throw new Error('down') },
    del: async () => {},
    ping: async () => { throw new Error('down') },
    close: async () => {}
  }
  let now = 0
  const metrics = createMetrics()
  const cache = new ResilientCache(broken, metrics, 60, () => now)
  for (let i = 0; i < 10; i++) t.equal(await cache.get('k'), null)
  t.ok(calls <= 5, `the breaker opened after repeated failures (${calls} calls)`)
  t.equal((await metrics.cacheCircuitOpen.get()).values[0]?.value, 1)
  now += 6000
  await cache.get('k')
  t.equal(calls, 6, 'half-open: one probe after the cool-down')
  const ok = new ResilientCache(new MemoryStore(10), metrics, 60)
  await ok.set('a', 'b')
  t.equal(await ok.get('a'), 'b')
})
