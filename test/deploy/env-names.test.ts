/**
 * Every environment variable the deploy files set is a setting of ConfigSchema (src/config.ts),
 * the one place that reads the environment: a misspelt or invented name would be silently ignored
 * by the app. Sources: docker-compose (app services), the Dockerfile, k8s/base (files and env
 * files), the kustomize overlays and their generators, the Helm chart (every values file and the
 * templates) and serverless.yml.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { ConfigSchema } from '../../src/config.js'
import { kubectlPath, kustomize, overlayDirs, parseEnvFile, repoRoot } from './lib/k8s.js'
import {
  appServices,
  chartDir,
  chartValueFiles,
  composeEnv,
  configObjectEnvNames,
  dockerInstructions,
  kustomizeGeneratorEnvNames,
  parseCompose,
  podEnvNames,
  read,
  readManifests,
  yamlFilesUnder,
  type EnvSource
} from './lib/sources.js'

const settings = new Set(Object.keys(ConfigSchema.properties))
/**
 * Names allowed besides ConfigSchema. Empty on purpose: config never branches on NODE_ENV, and
 * the Dockerfile does not set it (`npm ci --omit=dev` is what leaves the devDependencies out).
 * Add a name here only with a comment saying which tool reads it.
 */
const ALLOWED_EXTRA: string[] = []

function composeSources(text?: string): EnvSource[] {
  return appServices(parseCompose(text)).map(([name, s]) => ({ source: `docker-compose.yml ${name}`, names: Object.keys(composeEnv(s)) }))
}

function dockerfileSources(): EnvSource[] {
  const names = dockerInstructions()
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)[= ]/g)].map((m) => m[1]))
  return [{ source: 'Dockerfile ENV', names }]
}

function k8sSources(): EnvSource[] {
  const out: EnvSource[] = []
  for (const file of yamlFilesUnder(path.join(repoRoot, 'k8s/base'))) {
    if (path.basename(file) === 'kustomization.yaml') continue
    const ms = readManifests(file)
    out.push(...podEnvNames(ms, path.relative(repoRoot, file)), ...configObjectEnvNames(ms, path.relative(repoRoot, file)))
  }
  for (const dir of [path.join(repoRoot, 'k8s/base'), ...overlayDirs()]) out.push(...kustomizeGeneratorEnvNames(dir))
  for (const f of readdirSync(path.join(repoRoot, 'k8s/base')).filter((f) => f.endsWith('.env'))) {
    out.push({ source: `k8s/base/${f}`, names: Object.keys(parseEnvFile(read(`k8s/base/${f}`))) })
  }
  if (kubectlPath) {
    for (const dir of overlayDirs()) {
      const ms = kustomize(dir)
      const rel = path.relative(repoRoot, dir)
      out.push(...podEnvNames(ms, rel), ...configObjectEnvNames(ms, rel))
    }
  }
  return out
}

function chartSources(): EnvSource[] {
  const out: EnvSource[] = []
  for (const file of chartValueFiles()) {
    const v = parse(readFileSync(path.join(chartDir, file), 'utf8')) ?? {}
    out.push(
      { source: `${file} config`, names: Object.keys(v.config ?? {}) },
      { source: `${file} secret.values`, names: Object.keys(v.secret?.values ?? {}) },
      { source: `${file} api.env`, names: Object.keys(v.api?.env ?? {}) },
      { source: `${file} worker.env`, names: Object.keys(v.worker?.env ?? {}) }
    )
  }
  for (const file of yamlFilesUnder(path.join(chartDir, 'templates'))) {
    // literal `- name: X` entries in env lists (template expressions are checked through values)
    const names = [...readFileSync(file, 'utf8').matchAll(/^\s*-\s*name:\s*([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1])
    out.push({ source: path.relative(repoRoot, file), names })
  }
  return out
}

function serverlessSources(): EnvSource[] {
  const doc = parse(read('serverless.yml'))
  const out: EnvSource[] = [{ source: 'serverless.yml provider.environment', names: Object.keys(doc.provider?.environment ?? {}) }]
  for (const [name, fn] of Object.entries<any>(doc.functions ?? {})) out.push({ source: `serverless.yml functions.${name}`, names: Object.keys(fn.environment ?? {}) })
  return out
}

const unknownNames = (sources: EnvSource[]) =>
  sources.flatMap(({ source, names }) => names.filter((n) => !settings.has(n) && !ALLOWED_EXTRA.includes(n)).map((n) => `${source}: ${n}`))

t.test('the checker catches an invented name', async (t) => {
  const compose = read('docker-compose.yml').replace('LOG_LEVEL: info', 'LOG_LEVEL: info\n  LOG_LEVL: debug')
  t.match(unknownNames(composeSources(compose)), [/LOG_LEVL/], 'a misspelt compose variable')
  t.same(unknownNames([{ source: 'x', names: ['NODE_ENV', 'PORT'] }]), ['x: NODE_ENV'], 'NODE_ENV is not a setting')
})

const groups: Array<[string, () => EnvSource[]]> = [
  ['docker-compose.yml', composeSources],
  ['Dockerfile', dockerfileSources],
  ['k8s (base, overlays, generators)', k8sSources],
  ['Helm chart (values files and templates)', chartSources],
  ['serverless.yml', serverlessSources]
]
for (const [name, collect] of groups) {
  t.test(name, async (t) => {
    const sources = collect()
    const all = sources.flatMap((s) => s.names)
    if (name !== 'Dockerfile') t.ok(all.length > 0, `${all.length} names found`)
    t.same(unknownNames(sources), [], 'every name is a ConfigSchema setting')
    t.notOk(all.includes('NODE_ENV'), 'NODE_ENV is never set')
  })
}
if (!kubectlPath) t.comment('kubectl missing: rendered overlays not scanned (their files are)')
