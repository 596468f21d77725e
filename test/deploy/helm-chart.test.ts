/**
 * The Helm chart k8s/helm/health-tracker, checked without a helm binary: the values files against
 * values.schema.json, every `.Values.x` a template reads exists in values.yaml, template blocks
 * balance, and the chart makes the same kinds of object as the kustomize base.
 * (test/deploy/helm-render.test.ts renders it for real when Go is installed.)
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import t from 'tap'
import { parse } from 'yaml'
import { ConfigSchema } from '../../src/config.js'
import { kubectlPath, kustomize, repoRoot } from './lib/k8s.js'
import { chartDir, chartValueFiles, mergeValues, readManifests, yamlFilesUnder } from './lib/sources.js'

const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8'))
const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false })
;(addFormats as unknown as (a: Ajv) => void)(ajv)
const validate = ajv.compile(schema)
const defaults = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'))
const errorsOf = (values: unknown) => (validate(values) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`))

const templateFiles = (dir = path.join(chartDir, 'templates')): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))

t.test('Chart.yaml', async (t) => {
  const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'))
  t.match(chart, { apiVersion: 'v2', name: 'health-tracker', type: 'application', version: /^\d+\.\d+\.\d+$/, appVersion: /\S/ })
})

t.test('every values file validates against values.schema.json', async (t) => {
  const files = chartValueFiles()
  t.same(files, ['values-dev.yaml', 'values-prod.yaml', 'values.yaml'], 'defaults plus the dev and prod examples')
  for (const file of files) {
    const own = parse(readFileSync(path.join(chartDir, file), 'utf8'))
    // Helm validates the defaults merged with the user's file
    t.same(errorsOf(file === 'values.yaml' ? own : mergeValues(defaults, own)), [], file)
  }
})

t.test('the schema rejects mistakes', async (t) => {
  const bad = (patch: unknown, why: string) => t.not(errorsOf(mergeValues(defaults, patch)).length, 0, why)
  bad({ replicaCount: 3 }, 'unknown top-level key')
  bad({ api: { replica: 3 } }, 'unknown nested key')
  bad({ config: { LOGLEVEL: 'debug' } }, 'a setting that ConfigSchema does not have')
  bad({ secret: { values: { DB_PASSWORD: 'x' } } }, 'a secret key that ConfigSchema does not have')
  bad({ worker: { env: { NODE_ENV: 'production' } } }, 'NODE_ENV is not a setting')
  bad({ config: { PORT: 3000 } }, 'an unquoted number (env values are strings)')
  bad({ containerSecurityContext: { readOnlyRootFilesystem: false } }, 'a writable root filesystem')
  bad({ podSecurityContext: { runAsNonRoot: false } }, 'running as root')
  bad({ secret: { create: false, existingSecret: '' } }, 'no Secret at all')
  bad({ autoscaling: { targetCPUUtilizationPercentage: 150 } }, 'CPU target above 100 %')
  bad({ metrics: { serviceMonitor: { interval: '15 seconds' } } }, 'a malformed scrape interval')
})

t.test('the schema lists exactly the settings of ConfigSchema', async (t) => {
  t.same(
    [...schema.definitions.settingName.enum].sort(),
    Object.keys(ConfigSchema.properties).sort(),
    'definitions.settingName.enum in values.schema.json must equal the keys of ConfigSchema (src/config.ts): add or remove the changed names there'
  )
})

/** `.Values.a.b` paths in template text (also `$.Values`), without a trailing method or index. */
function valuesPaths(text: string): string[] {
  return [...text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => m[1].slice(1))
}
const hasPath = (values: any, dotted: string) =>
  dotted.split('.').every((key) => {
    if (values === null || typeof values !== 'object' || !(key in values)) return false
    values = values[key]
    return true
  })

t.test('every .Values path a template uses exists in values.yaml', async (t) => {
  t.same(valuesPaths('{{ .Values.a.b | quote }} {{ $.Values.c }} {{- with .Values.d_e }}'), ['a.b', 'c', 'd_e'], 'the extractor')
  t.notOk(hasPath(defaults, 'api.replicaz'), 'a misspelt path is caught')
  let count = 0
  for (const file of templateFiles()) {
    for (const p of valuesPaths(readFileSync(file, 'utf8'))) {
      count++
      t.ok(hasPath(defaults, p), `${path.relative(chartDir, file)}: .Values.${p}`)
    }
  }
  t.ok(count > 50, `${count} value references checked`)
})

t.test('template blocks balance and includes resolve', async (t) => {
  const helpers = readFileSync(path.join(chartDir, 'templates/_helpers.tpl'), 'utf8')
  const defined = new Set([...helpers.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)].map((m) => m[1]))
  for (const file of templateFiles()) {
    const text = readFileSync(file, 'utf8')
    const rel = path.relative(chartDir, file)
    const actions = [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)].map((m) => m[1])
    t.equal(text.split('{{').length, text.split('}}').length, `${rel}: every {{ has its }}`)
    const opens = actions.filter((a) => /^(if|range|with|define)\b/.test(a)).length
    const ends = actions.filter((a) => /^end\b/.test(a)).length
    t.equal(opens, ends, `${rel}: if/range/with/define blocks are closed`)
    for (const m of text.matchAll(/include\s+"([^"]+)"/g)) t.ok(defined.has(m[1]), `${rel}: include "${m[1]}" is defined`)
    for (const m of text.matchAll(/\.Files\.Get\s+"([^"]+)"/g)) t.ok(readdirSync(path.join(chartDir, path.dirname(m[1]))).includes(path.basename(m[1])), `${rel}: ${m[1]} is in the chart`)
  }
})

t.test('the chart makes the kustomize base objects, a test pod and notes', async (t) => {
  const kindsIn = (text: string) => [...text.matchAll(/^kind:\s*(\w+)/gm)].map((m) => m[1])
  const chartKinds = new Set(templateFiles().filter((f) => !f.includes('/tests/')).flatMap((f) => kindsIn(readFileSync(f, 'utf8'))))
  const baseKinds = new Set(
    kubectlPath
      ? kustomize(path.join(repoRoot, 'k8s/base')).map((m) => m.kind)
      : yamlFilesUnder(path.join(repoRoot, 'k8s/base')).flatMap((f) => (path.basename(f) === 'kustomization.yaml' ? [] : readManifests(f).map((m) => m.kind)))
  )
  t.same([...baseKinds].filter((k) => !chartKinds.has(k)), [], 'every kind of the base is in the chart')
  t.same([...chartKinds].filter((k) => !baseKinds.has(k) && k !== 'Secret'), [], 'and nothing else (but the optional dev Secret)')

  const testPod = readFileSync(path.join(chartDir, 'templates/tests/test-readyz.yaml'), 'utf8')
  t.match(testPod, /helm\.sh\/hook: test/, 'a helm test hook')
  t.match(testPod, /\/readyz/, 'that checks readiness through the Service')
  t.match(readFileSync(path.join(chartDir, 'templates/NOTES.txt'), 'utf8'), /helm test/)
})
