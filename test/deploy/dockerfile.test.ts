/**
 * Dockerfile and .dockerignore: a multi-stage build on the current Node LTS image that runs the
 * compiled entrypoints of the npm scripts with plain node, production dependencies only, as a
 * non-root user, with a HEALTHCHECK; and a build context that holds what the build copies and
 * nothing secret. `docker build` itself runs where a Docker daemon answers.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { repoRoot } from './lib/k8s.js'
import { distEntry, dockerInstructions, read, readManifests } from './lib/sources.js'

const NODE_LTS_MAJOR = 24
const steps = dockerInstructions()
const stages = steps.filter((s) => s.op === 'FROM')
const last = stages.length - 1
const inStage = (stage: number, op: string) => steps.filter((s) => s.stage === stage && s.op === op)
const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>

t.test('multi-stage on the Node LTS image', async (t) => {
  t.ok(stages.length >= 2, `${stages.length} stages`)
  const args = Object.fromEntries(steps.filter((s) => s.op === 'ARG' && s.stage === -1).map((s) => s.args.split('=') as [string, string]))
  for (const from of stages) {
    const image = from.args.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? '')
    t.match(image, new RegExp(`^node:${NODE_LTS_MAJOR}(\\.\\d+)*-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$`), `${from.args}: node ${NODE_LTS_MAJOR} slim`)
  }
})

t.test('the runtime stage', async (t) => {
  const user = inStage(last, 'USER')
  t.equal(user.length, 1, 'one USER')
  t.match(user[0]?.args, /^[1-9]\d*(:[1-9]\d*)?$/, 'a numeric non-root uid (Kubernetes runAsNonRoot can verify it)')
  const health = inStage(last, 'HEALTHCHECK')
  t.equal(health.length, 1, 'a HEALTHCHECK')
  t.match(health[0]?.args, /\/healthz/, 'on the liveness route')
  t.same(JSON.parse(inStage(last, 'CMD')[0].args), ['node', distEntry(scripts.start)], 'runs the compiled `npm start` with node')
  t.match(inStage(last, 'EXPOSE')[0]?.args, /\b3000\b.*\b9464\b/, 'exposes the API and metrics ports')
  const runtimeText = steps.filter((s) => s.stage === last).map((s) => s.args).join('\n')
  t.notMatch(runtimeText, /\btsx\b/, 'no tsx at run time')
  t.notMatch(runtimeText, /npm (ci|install)/, 'nothing installed in the runtime stage itself')
  const copies = inStage(last, 'COPY').map((c) => c.args)
  const depsStage = copies.map((c) => /--from=(\S+)\s+(?:--\S+\s+)*\S*node_modules/.exec(c)?.[1]).find(Boolean)
  t.ok(depsStage, 'node_modules come from another stage')
  const depsIndex = stages.findIndex((s) => new RegExp(`\\bAS\\s+${depsStage}$`, 'i').test(s.args))
  const install = inStage(depsIndex, 'RUN').map((r) => r.args).join('\n')
  t.match(install, /npm ci\b[^\n]*--omit=dev/, 'that stage installs production dependencies only')
  t.ok(copies.some((c) => /--from=\S+\s+(?:--\S+\s+)*\S*dist\b/.test(c)), 'the compiled dist/ comes from the build stage')
  t.notOk(steps.some((s) => s.op === 'ENV' && /\bNODE_ENV\b/.test(s.args)), 'no NODE_ENV (config never branches on it; --omit=dev drops devDependencies)')
})

t.test('the build compiles where the entrypoints expect', async (t) => {
  const build = JSON.parse(read('tsconfig.build.json'))
  const base = JSON.parse(read('tsconfig.json'))
  const options = { ...base.compilerOptions, ...build.compilerOptions }
  t.equal(options.outDir, 'dist')
  t.equal(options.rootDir, '.', 'rootDir . keeps src/ and db/ apart under dist/')
  t.ok(['src', 'db'].every((d) => build.include.includes(d)), 'src and db are compiled')
  t.match(scripts.build, /tsc -p tsconfig\.build\.json/)
  const entries = ['start', 'worker', 'db:migrate'].map((s) => distEntry(scripts[s]))
  t.same(entries, ['dist/src/server.js', 'dist/src/worker/index.js', 'dist/db/migrate.js'])
  // every place that starts a process uses one of these entrypoints
  const commands = [
    ...Object.values<any>(parse(read('docker-compose.yml'), { merge: true }).services).map((s) => s.command).filter(Boolean),
    ...['k8s/base/deployment-api.yaml', 'k8s/base/deployment-worker.yaml', 'k8s/base/job-migrate.yaml'].map((f) => readManifests(path.join(repoRoot, f))[0].spec.template.spec.containers[0].command)
  ]
  for (const c of commands.filter((c) => c[0] === 'node')) t.ok(entries.includes(c[1]), `${c.join(' ')} is a compiled npm script entrypoint`)
})

/** Docker's .dockerignore semantics: last matching pattern wins; a pattern matching a parent matches. */
function dockerIgnored(patterns: string[], file: string): boolean {
  const toRegex = (p: string) => {
    let re = ''
    const glob = p.replace(/\/+$/, '')
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i]
      if (glob.startsWith('**/', i)) (re += '(?:.*/)?'), (i += 2)
      else if (glob.startsWith('**', i)) (re += '.*'), (i += 1)
      else if (c === '*') re += '[^/]*'
      else if (c === '?') re += '[^/]'
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
    return new RegExp(`^${re}$`)
  }
  const parents = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))
  let ignored = false
  for (const raw of patterns) {
    const negated = raw.startsWith('!')
    const re = toRegex(negated ? raw.slice(1) : raw)
    if (parents.some((p) => re.test(p))) ignored = !negated
  }
  return ignored
}

t.test('.dockerignore', async (t) => {
  const patterns = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  t.ok(dockerIgnored(['*', '!src/', '**/*.test.ts'], 'src/a.test.ts') && !dockerIgnored(['*', '!src/'], 'src/a.ts'), 'the matcher')
  const copied = steps
    .filter((s) => s.op === 'COPY' && !/--from=/.test(s.args))
    .flatMap((s) => s.args.replace(/--\S+/g, '').trim().split(/\s+/).slice(0, -1))
  t.ok(copied.length >= 4, `COPY sources: ${copied.join(', ')}`)
  for (const source of copied) t.notOk(dockerIgnored(patterns, source), `${source} is in the build context`)
  for (const file of ['src/server.ts', 'src/config.ts', 'db/migrate.ts', 'db/migrations/x.ts']) t.notOk(dockerIgnored(patterns, file), `${file} is sent`)
  for (const file of ['node_modules/fastify/package.json', '.git/HEAD', '.env', 'src/.env.local', '.data/postgres/PG_VERSION', 'dist/src/server.js', 'test/x.test.ts', 'k8s/base/kustomization.yaml', 'coverage/x']) {
    t.ok(dockerIgnored(patterns, file), `${file} stays out`)
  }
})

t.test('docker build', async (t) => {
  if (spawnSync('docker', ['info'], { encoding: 'utf8' }).status !== 0) {
    t.skip('no Docker daemon answers: image not built', () => {})
    return
  }
  const r = spawnSync('docker', ['build', '-q', '-t', 'health-tracker-api:test', '.'], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
})
