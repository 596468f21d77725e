/**
 * What the process-level system tests share: API processes (`node --import tsx src/server.ts`)
 * started on free 127.0.0.1 ports and stopped at teardown, nginx in front of them with the repo's
 * k8s/nginx/nginx.conf and a generated upstream.conf, a timed HTTP client with a hard deadline
 * (fetch) and a cheaper one for load generators (node:http), percentiles and the RSS of a process.
 * Every wait here is bounded in time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TEST_SECRET } from '../helper.js'
import { freePort, spawnService, type Service } from './support.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

interface Tap {
  teardown(fn: () => unknown): void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------- HTTP ----------

export interface Answer {
  status: number
  ms: number
  headers: Headers
  text: string
  /** a network error or the deadline: status is 0 */
  error?: string
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: unknown
  timeoutMs?: number
}

/** fetch with a deadline; never throws: a network failure is status 0 with `error` */
export async function request(url: string, opts: RequestOptions = {}): Promise<Answer> {
  const started = performance.now()
  const headers: Record<string, string> = { ...(opts.headers ?? {}) }
  let body: string | undefined
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    headers['content-type'] ??= 'application/json'
  }
  try {
    const res = await fetch(url, { method: opts.method ?? 'GET', headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) })
    const text = await res.text()
    return { status: res.status, ms: performance.now() - started, headers: res.headers, text }
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } }
    return { status: 0, ms: performance.now() - started, headers: new Headers(), text: '', error: e.cause?.code ?? e.cause?.message ?? e.name ?? e.message }
  }
}

/**
 * The load generators' client: node:http on one keep-alive agent. Same answer as `request`, but
 * about 0.1 ms of CPU per request where fetch takes 0.6–0.9 ms (measured with a 20 KB body); the
 * generator shares the machine with the service it measures, so its CPU is taken from the service.
 * Never throws; the deadline covers the whole exchange.
 */
const loadAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

export function loadRequest(url: string, opts: RequestOptions = {}): Promise<Answer> {
  const started = performance.now()
  const headers: Record<string, string | number> = { ...(opts.headers ?? {}) }
  let body: string | undefined
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    headers['content-type'] ??= 'application/json'
    headers['content-length'] = Buffer.byteLength(body)
  }
  return new Promise((resolve) => {
    let done = false
    const finish = (a: Omit<Answer, 'ms'>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve({ ...a, ms: performance.now() - started })
    }
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: loadAgent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, headers: new Headers(), text: '', error: e.code ?? e.message }))
      res.on('end', () => {
        const answerHeaders = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) answerHeaders.set(k, Array.isArray(v) ? v.join(', ') : v)
        finish({ status: res.statusCode ?? 0, headers: answerHeaders, text: Buffer.concat(chunks).toString('utf8') })
      })
    })
    const timer = setTimeout(() => {
      finish({ status: 0, headers: new Headers(), text: '', error: 'TimeoutError' })
      req.destroy()
    }, opts.timeoutMs ?? 10_000)
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, headers: new Headers(), text: '', error: e.code ?? e.message }))
    req.end(body)
  })
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

// ---------- figures ----------

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10
}

/** resident set size of a process in MiB, from /proc (null when gone or not Linux) */
export function rssMiB(pid: number | undefined): number | null {
  if (!pid) return null
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Math.round(Number(kb) / 1024) : null
  } catch {
    return null
  }
}

// ---------- API processes ----------

export interface Api {
  name: string
  port: number
  base: string
  env: NodeJS.ProcessEnv
  service: Service
  /** the output of every incarnation of this process */
  log(): string
}

/** Settings every spawned API process gets; `extra` overrides. */
export function apiEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'error',
    MIGRATE_ON_START: 'false',
    WORKER_ENABLED: 'false',
    RATE_LIMIT_MAX: '1000000',
    SHUTDOWN_DRAIN_MS: '0',
    ...extra
  }
}

/** Start `node --import tsx src/server.ts` on a free (or the given) port; resolves once /readyz is 200. */
export async function startApi(t: Tap, name: string, env: NodeJS.ProcessEnv, port?: number): Promise<Api> {
  const apiPort = port ?? (await freePort())
  const metricsPort = await freePort()
  const fullEnv = { ...env, PORT: String(apiPort), METRICS_PORT: String(metricsPort) }
  const service = spawnService(path.join(REPO_ROOT, 'src/server.ts'), fullEnv)
  const api: Api = { name, port: apiPort, base: `http://127.0.0.1:${apiPort}`, env: fullEnv, service, log: () => service.output() }
  // whatever incarnation is running at the end
  t.teardown(() => stopApi(api, 'SIGKILL'))
  await waitReady(api)
  return api
}

export async function waitReady(api: Api, timeoutMs = 60_000): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (api.service.child.exitCode !== null) throw new Error(`${api.name} exited with ${api.service.child.exitCode} while starting:\n${api.service.output().slice(-3000)}`)
    const ready = await request(`${api.base}/readyz`, { timeoutMs: 2000 })
    if (ready.status === 200) return Date.now() - started
    await sleep(100)
  }
  throw new Error(`${api.name} was not ready within ${timeoutMs} ms:\n${api.service.output().slice(-3000)}`)
}

/** Start a new incarnation of `api` on the same port with the same settings. */
export async function restartApi(api: Api): Promise<number> {
  const earlier = api.log()
  const service = spawnService(path.join(REPO_ROOT, 'src/server.ts'), api.env)
  api.service = service
  api.log = () => `${earlier}\n--- ${api.name} restarted ---\n${service.output()}`
  return waitReady(api)
}

/** Send `signal`; resolves with the exit code (null when killed by a signal), bounded. */
export async function stopApi(api: Api, signal: NodeJS.Signals, timeoutMs = 30_000): Promise<number | null> {
  const child: ChildProcess = api.service.child
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  try {
    return await api.service.exited
  } finally {
    clearTimeout(timer)
  }
}

export function alive(api: Api): boolean {
  const child = api.service.child
  return child.exitCode === null && child.signalCode === null
}

// ---------- nginx ----------

export function nginxAvailable(): boolean {
  return spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0
}

export interface Nginx {
  port: number
  base: string
  dir: string
  /** nginx's stderr */
  errors(): string
  accessLog(): string
}

/** nginx with the repo's config copied into a temp prefix, upstream.conf listing `ports`, on a free port. */
export async function startNginx(t: Tap, ports: number[], upstreamOptions = ''): Promise<Nginx> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ht-nginx-'))
  chmodSync(dir, 0o755) // as root the workers run unprivileged and must reach the prefix
  copyFileSync(path.join(REPO_ROOT, 'k8s/nginx/nginx.conf'), path.join(dir, 'nginx.conf'))
  const conf = readFileSync(path.join(dir, 'nginx.conf'), 'utf8')
  if (!/listen 8080;/.test(conf)) throw new Error('k8s/nginx/nginx.conf no longer has `listen 8080;` to replace')
  writeFileSync(path.join(dir, 'nginx.conf'), conf.replace(/listen 8080;/, `listen 127.0.0.1:${port};`))
  writeFileSync(path.join(dir, 'upstream.conf'), ports.map((p) => `server 127.0.0.1:${p}${upstreamOptions ? ` ${upstreamOptions}` : ''};`).join('\n') + '\n')
  const child = spawn('nginx', ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 1_000_000) stderr += d.toString()
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGQUIT')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
  })
  const nginx: Nginx = {
    port,
    base: `http://127.0.0.1:${port}`,
    dir,
    errors: () => stderr,
    accessLog: () => {
      try {
        return readFileSync(path.join(dir, 'access.log'), 'utf8')
      } catch {
        return ''
      }
    }
  }
  const started = Date.now()
  while (Date.now() - started < 10_000) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`)
    if ((await request(`${nginx.base}/nginx-health`, { timeoutMs: 1000 })).status === 200) return nginx
    await sleep(50)
  }
  throw new Error(`nginx did not start: ${stderr}`)
}
