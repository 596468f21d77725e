/**
 * The benchmark's interleaved measurement (loadtest/bench/lib/load.ts, measureInterleaved): the
 * scenarios' runs really alternate in slices, and each scenario's figures add up its own slices.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { rmSync } from 'node:fs'
import t from 'tap'

process.env.BENCH_SLICE = '1'
process.env.BENCH_WARMUP = '0'
process.env.BENCH_CONNECTIONS = '4'
const { measureInterleaved } = await import('../../loadtest/bench/lib/load.js')
const { LOG_DIR } = await import('../../loadtest/bench/lib/infra.js')
t.teardown(() => rmSync(LOG_DIR, { recursive: true, force: true }))

t.test('two timed scenarios alternate slice by slice; a counted one runs after them', async (t) => {
  const served: string[] = []
  let bServed = 0
  const server = http.createServer((req, res) => {
    const route = req.url!.slice(1, 2)
    served.push(route)
    // every 10th request of b fails: its errors stay b's
    const fail = route === 'b' && ++bServed % 10 === 0
    res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const [a, b, c] = await measureInterleaved([
    { name: 'a', baseUrl, duration: 2, next: () => ({ method: 'GET', path: '/a' }) },
    { name: 'b', baseUrl, duration: 2, next: () => ({ method: 'GET', path: '/b' }) },
    { name: 'c', baseUrl, connections: 2, sizedByCount: true, next: () => ({ method: 'GET', path: '/c' }) }
  ])
  // the order the server saw, as runs of one route (a handful of stragglers may straddle a switch)
  const runs: Array<{ route: string; n: number }> = []
  for (const route of served) {
    const last = runs.at(-1)
    if (last?.route === route) last.n++
    else runs.push({ route, n: 1 })
  }
  const long = runs.filter((r) => r.n >= 20).map((r) => r.route)
  const merged = long.filter((r, i) => r !== long[i - 1])
  t.same(merged, ['a', 'b', 'a', 'b', 'c'], 'a, b, a, b (two 1 s slices each), then the counted c')
  const count = (route: string) => served.filter((r) => r === route).length
  for (const [m, route] of [[a!, 'a'], [b!, 'b']] as const) {
    t.ok(m.duration_s > 1.8 && m.duration_s < 3, `${route}: two slices add up to its 2 s (${m.duration_s})`)
    // the server also answered the few requests each slice left in flight at its end
    t.ok(m.requests <= count(route) && m.requests >= count(route) - 2 * 4, `${route}: responses counted from its own slices (${m.requests} of ${count(route)})`)
    t.equal(m.rps, m.requests / m.duration_s)
    t.ok(m.p50_ms > 0 && m.p99_ms >= m.p50_ms, `${route}: latencies from every slice`)
  }
  t.equal(a!.errors, 0, 'a has no errors of b')
  t.ok(b!.non2xx >= Math.floor(b!.requests / 10) - 1 && b!.non2xx <= Math.ceil(b!.requests / 10) + 1, `b's 500s are b's (${b!.non2xx} of ${b!.requests})`)
  t.equal(b!.statuses['500'], b!.non2xx)
  t.equal(c!.errors, 0)
  t.ok(c!.requests >= 4, 'the counted scenario ran')
})

t.test('one scenario runs once, whole', async (t) => {
  let n = 0
  const server = http.createServer((_req, res) => {
    n++
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const [only] = await measureInterleaved([{ name: 'only', baseUrl, duration: 1, next: () => ({ method: 'GET', path: '/' }) }])
  t.ok(only!.duration_s > 0.8 && only!.duration_s < 1.6)
  t.ok(only!.requests > 0 && only!.requests <= n)
})
