/**
 * k8s/nginx/nginx.conf: passes `nginx -t` run as in the system tests (temp prefix, generated
 * upstream.conf), and behaves as documented in front of real HTTP upstreams on 127.0.0.1:
 * request ids, forwarded headers, retries of idempotent requests only, keep-alive to the
 * upstreams, the body limit, and problem+json when no API process answers.
 * Skipped when nginx is not installed (apt-get install nginx).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { repoRoot } from './lib/k8s.js'

const confPath = path.join(repoRoot, 'k8s/nginx/nginx.conf')
const conf = readFileSync(confPath, 'utf8')
const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0 ? 'nginx' : null
const code = conf.replace(/#.*$/gm, '')

t.test('the config says what the deployment needs', async (t) => {
  t.match(code, /upstream\s+health_tracker_api\s*\{[^}]*include\s+upstream\.conf;/, 'upstream servers come from the relative include upstream.conf')
  t.notMatch(code, /^\s*server\s+[\w.-]+:\d+/m, 'no upstream server is hard-coded')
  t.match(code, /keepalive\s+\d+;/, 'keep-alive connections to the upstream')
  t.match(code, /proxy_http_version\s+1\.1;/)
  t.match(code, /proxy_set_header\s+Connection\s+"";/)
  t.match(code, /client_max_body_size\s+6m;/)
  t.match(code, /location\s+=\s+\/nginx-health/)
  t.match(code, /proxy_set_header\s+X-Request-Id\s+\$req_id;/)
  t.match(code, /proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/)
  t.match(code, /proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;/)
  t.match(code, /proxy_next_upstream\s+error timeout[^;]*http_503[^;]*;/, 'retries on error, timeout and 503')
  t.notMatch(code, /non_idempotent/, 'never retries a POST/PATCH that reached an upstream')
  for (const d of ['proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout', 'client_body_timeout']) t.match(code, new RegExp(`${d}\\s+\\d+s;`), d)
  t.match(code, /^pid\s+[^/][^;]*;/m, 'pid file relative to the prefix')
  t.match(code, /access_log\s+[^/\s;]+\s+main;/, 'access log relative to the prefix (a file, or stdout through the image link)')
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) t.match(code, new RegExp(`${d}_temp_path\\s+[^/][^;]*;`), `${d} temp path relative to the prefix`)
  t.notMatch(code, /^\s*(daemon|user)\s/m, 'no daemon/user directive (set with -g where needed)')
})

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

/** Copies nginx.conf into a temp prefix beside a generated upstream.conf, as the system tests do. */
function prefixWith(upstreamLines: string[], listenPort?: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'nginx-test-'))
  chmodSync(dir, 0o755) // as root, the workers run as an unprivileged user and need to reach it
  copyFileSync(confPath, path.join(dir, 'nginx.conf'))
  if (listenPort !== undefined) {
    // the only change: a free port instead of 8080
    const text = readFileSync(path.join(dir, 'nginx.conf'), 'utf8')
    writeFileSync(path.join(dir, 'nginx.conf'), text.replace(/listen 8080;/, `listen 127.0.0.1:${listenPort};`))
  }
  writeFileSync(path.join(dir, 'upstream.conf'), upstreamLines.join('\n') + '\n')
  return dir
}

t.test('nginx -t accepts it with a temp prefix', async (t) => {
  if (!nginx) {
    t.skip('nginx is not installed (apt-get install nginx)', () => {})
    return
  }
  const dir = prefixWith(['server 127.0.0.1:3001;', 'server 127.0.0.1:3002;', 'server 127.0.0.1:3003;'])
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = spawnSync('nginx', ['-t', '-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr.trim())
  t.match(r.stderr, /test is successful/)
})

interface Upstream {
  port: number
  seen: Array<{ method: string; headers: http.IncomingHttpHeaders }>
  sockets: number
  close(): Promise<void>
}

/** An HTTP server standing in for an API process: answers `status`, records what it saw. */
async function upstream(status: number): Promise<Upstream> {
  const u = { seen: [], sockets: 0 } as unknown as Upstream
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      u.seen.push({ method: req.method!, headers: req.headers })
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '1' } : {}) })
      res.end(JSON.stringify({ status, headers: req.headers }))
    })
  })
  server.keepAliveTimeout = 72_000
  server.on('connection', () => u.sockets++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  u.port = (server.address() as net.AddressInfo).port
  u.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  return u
}

async function startNginx(t: { teardown(fn: () => unknown): void }, upstreamLines: string[]): Promise<number> {
  const port = await freePort()
  const dir = prefixWith(upstreamLines, port)
  const child: ChildProcess = spawn('nginx', ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))
    rmSync(dir, { recursive: true, force: true })
  })
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/nginx-health`)
      if (r.ok) return port
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('behaviour in front of API processes', async (t) => {
  if (!nginx) {
    t.skip('nginx is not installed (apt-get install nginx)', () => {})
    return
  }
  // `failing` answers 503 (a draining or overloaded process), `healthy` answers 200; max_fails=0
  // keeps both in rotation so every request really chooses between them
  const failing = await upstream(503)
  const healthy = await upstream(200)
  t.teardown(() => Promise.all([failing.close(), healthy.close()]))
  const port = await startNginx(t, [`server 127.0.0.1:${failing.port} max_fails=0;`, `server 127.0.0.1:${healthy.port} max_fails=0;`])
  const base = `http://127.0.0.1:${port}`

  const health = await fetch(`${base}/nginx-health`)
  t.equal(health.status, 200)
  t.equal(await health.text(), 'ok\n')

  t.test('idempotent requests are retried on the next process', async (t) => {
    const before = failing.seen.length
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${base}/api/users/x`)
      t.equal(r.status, 200, `GET ${i} answered by the healthy process`)
      await r.arrayBuffer()
    }
    t.ok(failing.seen.length > before, 'some GETs went to the failing process first and were passed on')
  })

  t.test('POST is never sent twice', async (t) => {
    const failedBefore = failing.seen.filter((s) => s.method === 'POST').length
    const okBefore = healthy.seen.filter((s) => s.method === 'POST').length
    const statuses: number[] = []
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${base}/api/users/`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
      statuses.push(r.status)
      await r.arrayBuffer()
    }
    const failedPosts = failing.seen.filter((s) => s.method === 'POST').length - failedBefore
    const okPosts = healthy.seen.filter((s) => s.method === 'POST').length - okBefore
    t.ok(failedPosts > 0, 'some POSTs reached the failing process')
    t.equal(statuses.filter((s) => s === 503).length, failedPosts, 'each of them answered its 503 to the client')
    t.equal(okPosts + failedPosts, 10, 'no POST reached two processes')
  })

  t.test('request ids and forwarded headers', async (t) => {
    const r1 = await fetch(`${base}/api/x`)
    const body1 = (await r1.json()) as { headers: Record<string, string> }
    t.match(body1.headers['x-request-id'], /^[0-9a-f]{32}$/, 'a request id is minted when absent')
    t.equal(r1.headers.get('x-request-id'), body1.headers['x-request-id'], 'and returned to the client')
    t.equal(body1.headers['x-forwarded-for'], '127.0.0.1')
    t.equal(body1.headers['x-forwarded-proto'], 'http')
    const r2 = await fetch(`${base}/api/x`, { headers: { 'x-request-id': 'client-chosen-id', 'x-forwarded-for': '203.0.113.9' } })
    const body2 = (await r2.json()) as { headers: Record<string, string> }
    t.equal(body2.headers['x-request-id'], 'client-chosen-id', "the caller's id is kept")
    t.equal(r2.headers.get('x-request-id'), 'client-chosen-id')
    t.equal(body2.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1', 'the proxy appends the peer address')
  })

  t.test('connections to the upstream are kept alive', async (t) => {
    const socketsBefore = healthy.sockets
    const seenBefore = healthy.seen.length
    for (let i = 0; i < 20; i++) await (await fetch(`${base}/api/y`)).arrayBuffer()
    const requests = healthy.seen.length - seenBefore
    t.ok(healthy.sockets - socketsBefore < requests / 2, `${requests} requests over ${healthy.sockets - socketsBefore} new connections`)
  })

  t.test('body limit', async (t) => {
    const big = await fetch(`${base}/api/blood-tests/batch`, { method: 'POST', body: 'x'.repeat(7 * 1024 * 1024) })
    t.equal(big.status, 413, '7 MiB is refused')
    await big.arrayBuffer()
    const batch = await fetch(`${base}/api/blood-tests/batch`, { method: 'POST', body: 'x'.repeat(5 * 1024 * 1024 + 1000) })
    t.not(batch.status, 413, 'a 5 MiB batch body passes')
    await batch.arrayBuffer()
  })
})

t.test('no API process reachable: 503 problem+json', async (t) => {
  if (!nginx) {
    t.skip('nginx is not installed (apt-get install nginx)', () => {})
    return
  }
  const dead = await freePort() // nothing listens there
  const port = await startNginx(t, [`server 127.0.0.1:${dead};`])
  const r = await fetch(`http://127.0.0.1:${port}/api/users/`, { headers: { 'x-request-id': 'abc' } })
  t.equal(r.status, 503)
  t.match(r.headers.get('content-type'), /application\/problem\+json/)
  t.ok(r.headers.get('retry-after'), 'Retry-After')
  t.equal(r.headers.get('x-request-id'), 'abc')
  t.match(await r.json(), { status: 503, title: 'Service Unavailable' })
})
