/**
 * docker-compose.yml: valid for docker compose, starts in order (every service has a healthcheck
 * or is a one-shot that others wait for), the app services get a configuration the app accepts,
 * and the mounted files (nginx, Prometheus, Grafana) exist and are wired to the service names.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { repoRoot } from './lib/k8s.js'
import { appServices, composeEnv, parseCompose, read, type ComposeService } from './lib/sources.js'

const compose = parseCompose()
const services = compose.services
const dependsOn = (s: ComposeService): Record<string, { condition?: string }> =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {})
const hasHealthcheck = (s: ComposeService) => s.healthcheck !== undefined && s.healthcheck.disable !== true && s.healthcheck.test !== undefined
const waitedOnToComplete = (name: string) =>
  Object.values(services).some((s) => dependsOn(s)[name]?.condition === 'service_completed_successfully')

t.test('docker compose accepts the file', async (t) => {
  const clients: Array<[string, string[]]> = [
    ['docker-compose', ['config', '-q']],
    ['docker', ['compose', 'config', '-q']]
  ]
  let ran = 0
  for (const [bin, args] of clients) {
    const probe = spawnSync(bin, bin === 'docker' ? ['compose', 'version'] : ['version'], { encoding: 'utf8' })
    if (probe.status !== 0) continue
    ran++
    const r = spawnSync(bin, args, { cwd: repoRoot, encoding: 'utf8' })
    t.equal(r.status, 0, `${bin} ${args.join(' ')}: ${r.stderr.trim() || 'ok'}`)
  }
  if (ran === 0) t.skip('neither docker-compose nor `docker compose` is installed (apt-get install docker-compose)', () => {})
})

t.test('every service is health-checked or a one-shot others wait for', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    const oneShot = s.restart === 'no' && waitedOnToComplete(name)
    t.ok(hasHealthcheck(s) || oneShot, `${name}: ${oneShot ? 'one-shot (restart: "no", service_completed_successfully)' : 'healthcheck'}`)
  }
  t.equal(services.migrate?.restart, 'no', 'migrate is a one-shot')
})

t.test('depends_on makes `docker compose up` come up in order', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(dependsOn(s))) {
      t.ok(services[dep], `${name} -> ${dep} exists`)
      t.ok(['service_healthy', 'service_completed_successfully'].includes(spec.condition ?? ''), `${name} -> ${dep}: waits for a condition, not just a start`)
      if (spec.condition === 'service_healthy') t.ok(hasHealthcheck(services[dep]), `${dep} has the healthcheck ${name} waits for`)
      if (spec.condition === 'service_completed_successfully') t.equal(services[dep].restart, 'no', `${dep} runs once`)
    }
  }
  const chain = (from: string): string[] => Object.keys(dependsOn(services[from])).flatMap((d) => [d, ...chain(d)])
  for (const api of ['api-1', 'api-2', 'worker']) {
    t.ok(['db', 'redis', 'migrate'].every((d) => chain(api).includes(d)), `${api} starts after db, redis and migrate`)
  }
  t.ok(['api-1', 'api-2'].every((d) => chain('nginx').includes(d)), 'nginx starts after both API processes are healthy')
  t.ok(chain('grafana').includes('prometheus'), 'grafana starts after prometheus')
})

t.test('the app services', async (t) => {
  const apps = Object.fromEntries(appServices(compose))
  t.same(Object.keys(apps).sort(), ['api-1', 'api-2', 'migrate', 'worker'], 'one image: two APIs, the worker, migrations')
  const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>
  t.same(apps['api-1'].command, ['node', scripts.start.replace(/^tsx (\S+)\.ts$/, 'dist/$1.js')], 'API runs the compiled `npm start`')
  t.same(apps.worker.command, ['node', scripts.worker.replace(/^tsx (\S+)\.ts$/, 'dist/$1.js')], 'worker runs the compiled `npm run worker`')
  t.same(apps.migrate.command, ['node', scripts['db:migrate'].replace(/^tsx (\S+)\.ts$/, 'dist/$1.js')], 'migrate runs the compiled `npm run db:migrate`')
  for (const [name, s] of Object.entries(apps)) {
    const env = composeEnv(s)
    for (const required of ['DATABASE_URL', 'REDIS_URL', 'AUTH_JWT_SECRET']) t.ok(env[required], `${name}: ${required} is set`)
    t.doesNotThrow(() => loadConfig(env), `${name}: loadConfig accepts its environment`)
    t.match(env.DATABASE_URL, /@db:5432\//, `${name}: talks to the db service`)
    t.match(env.REDIS_URL, /^redis:\/\/redis:6379/, `${name}: talks to the redis service`)
    t.equal(env.MIGRATE_ON_START, 'false', `${name}: migrations only in the migrate service`)
  }
  t.equal(composeEnv(apps['api-1']).WORKER_ENABLED, 'false', 'the APIs leave scoring to the worker')
  t.equal(composeEnv(apps['api-2']).WORKER_ENABLED, 'false')
  t.not(composeEnv(apps.worker).WORKER_ENABLED, 'false', 'the worker is not told to stop working')
  const db = composeEnv(services.db)
  const url = new URL(composeEnv(apps.migrate).DATABASE_URL)
  t.same([url.username, url.password, url.pathname.slice(1)], [db.POSTGRES_USER, db.POSTGRES_PASSWORD, db.POSTGRES_DB], 'DATABASE_URL matches the db service credentials')
  t.match(services.db.image, /^timescale\/timescaledb:/, 'TimescaleDB')
})

const bindMounts = (s: ComposeService) =>
  (s.volumes ?? [])
    .map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]))
    .filter(([source]) => source.startsWith('./'))
    .map(([source, target]) => ({ source: source.slice(2), target }))

t.test('bind-mounted files exist', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    for (const { source } of bindMounts(s)) {
      t.ok(existsSync(path.join(repoRoot, source)), `${name}: ${source}`)
    }
  }
})

t.test('nginx balances the two API services', async (t) => {
  const mounts = Object.fromEntries(bindMounts(services.nginx).map((m) => [m.target, m.source]))
  t.equal(mounts['/etc/nginx/nginx.conf'], 'k8s/nginx/nginx.conf', 'the repo nginx.conf')
  t.equal(mounts['/etc/nginx/upstream.conf'], 'k8s/nginx/upstream.compose.conf', 'beside it as upstream.conf (its include)')
  const upstream = readFileSync(path.join(repoRoot, 'k8s/nginx/upstream.compose.conf'), 'utf8')
  const servers = [...upstream.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`)
  t.same(servers.sort(), ['api-1:3000', 'api-2:3000'])
  t.ok(services.nginx.ports?.some((p: unknown) => String(p).endsWith(':8080')), 'published on 8080 (nginx.conf listens there)')
})

/** Hostnames a service can be reached by: its name and its network aliases. */
const hostnames = new Set(
  Object.entries(services).flatMap(([name, s]) => [
    name,
    ...(Array.isArray(s.networks) ? [] : Object.values(s.networks ?? {}).flatMap((n) => n?.aliases ?? []))
  ])
)

t.test('Prometheus and Grafana files are wired to the compose services', async (t) => {
  const promFile = path.join(repoRoot, 'k8s/monitoring/prometheus/prometheus.yml')
  t.ok(existsSync(promFile), 'k8s/monitoring/prometheus/prometheus.yml exists')
  const prom = parse(readFileSync(promFile, 'utf8'))
  const targets = (prom.scrape_configs ?? []).flatMap((c: any) => (c.static_configs ?? []).flatMap((s: any) => s.targets ?? []))
  for (const target of targets) {
    const host = String(target).split(':')[0]
    t.ok(host === 'localhost' || host === '127.0.0.1' || hostnames.has(host), `scrape target ${target} is a compose service`)
  }
  for (const sd of (prom.scrape_configs ?? []).flatMap((c: any) => c.dns_sd_configs ?? [])) {
    for (const n of sd.names ?? []) t.ok(hostnames.has(n), `DNS service discovery name ${n} is a compose service or alias`)
  }
  const rulesTarget = bindMounts(services.prometheus).find((m) => m.source === 'k8s/monitoring/prometheus/rules')!.target
  for (const glob of prom.rule_files ?? []) {
    const abs = path.posix.isAbsolute(glob) ? glob : path.posix.join('/etc/prometheus', glob)
    t.ok(abs.startsWith(rulesTarget + '/'), `rule_files ${glob} lies in the mounted rules folder ${rulesTarget}`)
  }
  for (const am of prom.alerting?.alertmanagers ?? []) {
    for (const target of (am.static_configs ?? []).flatMap((s: any) => s.targets ?? [])) t.ok(hostnames.has(String(target).split(':')[0]), `alertmanager ${target} is a compose service`)
  }
  const dsDir = path.join(repoRoot, 'k8s/monitoring/grafana/provisioning/datasources')
  const dbDir = path.join(repoRoot, 'k8s/monitoring/grafana/provisioning/dashboards')
  const provisioning = (dir: string) => (existsSync(dir) && statSync(dir).isDirectory() ? readdir(dir) : [])
  const dsFiles = provisioning(dsDir)
  t.ok(dsFiles.length > 0, 'a Grafana datasource provisioning file')
  for (const f of dsFiles) {
    for (const ds of parse(readFileSync(path.join(dsDir, f), 'utf8'))?.datasources ?? []) {
      if (ds.url) t.ok(hostnames.has(new URL(ds.url).hostname), `datasource ${ds.name} url ${ds.url} is a compose service`)
    }
  }
  const dashFiles = provisioning(dbDir)
  t.ok(dashFiles.length > 0, 'a Grafana dashboard provisioning file')
  const mountTargets = bindMounts(services.grafana).map((m) => m.target)
  for (const f of dashFiles) {
    for (const provider of parse(readFileSync(path.join(dbDir, f), 'utf8'))?.providers ?? []) {
      const p = provider.options?.path
      if (p) t.ok(mountTargets.some((target) => p === target || p.startsWith(target + '/')), `dashboard provider path ${p} is mounted`)
    }
  }
})

function readdir(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))
}
