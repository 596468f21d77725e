/**
 * Readers for the deploy files, shared by the tests: docker-compose.yml, the Dockerfile,
 * serverless.yml, the Helm values, and the names of environment variables each one sets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { parseEnvFile, parseYamlDocuments, repoRoot, type Manifest } from './k8s.js'

export const read = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8')

/** YAML 1.1 merge keys (`<<: *anchor`) as docker compose reads them. */
export const parseCompose = (text = read('docker-compose.yml')) => parse(text, { merge: true }) as ComposeFile

export interface ComposeService {
  image?: string
  build?: string | { context: string }
  command?: string[] | string
  environment?: Record<string, string | number | boolean | null> | string[]
  healthcheck?: { test?: string[] | string; disable?: boolean }
  depends_on?: string[] | Record<string, { condition?: string }>
  restart?: string
  ports?: Array<string | number>
  volumes?: Array<string | { type: string; source: string; target: string }>
  networks?: Record<string, { aliases?: string[] } | null> | string[]
}
export interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown>
}

/** The services that run this repository's image (built from the Dockerfile). */
export const appServices = (compose: ComposeFile) =>
  Object.entries(compose.services).filter(([, s]) => s.build !== undefined || s.image?.startsWith('health-tracker-api'))

export function composeEnv(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {}
  if (Array.isArray(service.environment)) {
    for (const item of service.environment) {
      const eq = item.indexOf('=')
      env[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1)
    }
  } else {
    for (const [k, v] of Object.entries(service.environment ?? {})) env[k] = v === null ? '' : String(v)
  }
  return env
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export function dockerInstructions(text = read('Dockerfile')): Array<{ op: string; args: string; stage: number }> {
  const out: Array<{ op: string; args: string; stage: number }> = []
  let stage = -1
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (pending === '' && /^\s*#/.test(line)) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' '
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    if (full === '' || full.startsWith('#')) continue
    const match = /^(\w+)\s+([\s\S]*)$/.exec(full)
    if (!match) continue
    const op = match[1].toUpperCase()
    if (op === 'FROM') stage++
    out.push({ op, args: match[2].trim(), stage })
  }
  return out
}

export const chartDir = path.join(repoRoot, 'k8s/helm/health-tracker')
export const chartValueFiles = () =>
  readdirSync(chartDir).filter((f) => /^values(-[\w-]+)?\.yaml$/.test(f)).sort()

/** Helm's merge of a values file over the defaults: maps merge recursively, anything else replaces. */
export function mergeValues(base: any, over: any): any {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return structuredClone(over)
  const out: Record<string, unknown> = { ...structuredClone(base) }
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeValues(out[k], v) : structuredClone(v)
  return out
}

export interface EnvSource {
  source: string
  names: string[]
}

/** Environment variable names set by pod specs (env and literal names; envFrom is by reference). */
export function podEnvNames(manifests: Manifest[], source: string): EnvSource[] {
  const out: EnvSource[] = []
  for (const m of manifests) {
    const pod = m.kind === 'Pod' ? m.spec : m.spec?.template?.spec
    if (!pod) continue
    for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
      out.push({ source: `${source} ${m.kind}/${m.metadata.name} container ${c.name}`, names: (c.env ?? []).map((e: { name: string }) => e.name) })
    }
  }
  return out
}

/** Keys of every ConfigMap and Secret: the pods load them all with envFrom. */
export function configObjectEnvNames(manifests: Manifest[], source: string): EnvSource[] {
  return manifests
    .filter((m) => m.kind === 'ConfigMap' || m.kind === 'Secret')
    .map((m) => ({ source: `${source} ${m.kind}/${m.metadata.name}`, names: [...Object.keys(m.data ?? {}), ...Object.keys(m.stringData ?? {})] }))
}

/** Names in the kustomize generators of a kustomization directory (literals and env files). */
export function kustomizeGeneratorEnvNames(dir: string): EnvSource[] {
  const file = path.join(dir, 'kustomization.yaml')
  if (!existsSync(file)) return []
  const k = parse(readFileSync(file, 'utf8')) ?? {}
  const out: EnvSource[] = []
  for (const gen of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) {
    const names = (gen.literals ?? []).map((l: string) => l.slice(0, l.indexOf('=')))
    for (const envFile of gen.envs ?? []) names.push(...Object.keys(parseEnvFile(readFileSync(path.join(dir, envFile), 'utf8'))))
    out.push({ source: `${path.relative(repoRoot, file)} generator ${gen.name}`, names })
  }
  return out
}

export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...yamlFilesUnder(p))
    else if (/\.ya?ml$/.test(entry.name)) out.push(p)
  }
  return out.sort()
}

export const readManifests = (file: string) => parseYamlDocuments(readFileSync(file, 'utf8'), file) as Manifest[]

/** The compiled entrypoint of an npm script: `tsx src/server.ts` -> `dist/src/server.js`. */
export function distEntry(script: string): string {
  const m = /^tsx\s+(\S+)\.ts$/.exec(script.trim())
  if (!m) throw new Error(`not a "tsx <file>.ts" script: ${script}`)
  return `dist/${m[1]}.js`
}
