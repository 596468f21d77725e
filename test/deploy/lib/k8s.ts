/**
 * Kubernetes manifest checks shared by the deploy tests.
 *
 * kubernetes-models validates with compiled JSON schemas that do NOT forbid unknown fields (the
 * upstream OpenAPI has no additionalProperties: false), so a typo such as `readinesProbe` or
 * `paht` passes `new Deployment(obj).validate()` and would be silently dropped by the API server.
 * `unknownFields` closes that gap by probing the same compiled schema: a field the schema knows is
 * type-checked, so replacing its value with a Symbol (a value no JSON schema type accepts) makes
 * validation fail; a field the schema does not know is ignored, so validation still passes.
 * Map-typed fields (labels, annotations, ConfigMap data) constrain their values too, so their
 * keys count as known, which is right: any key is allowed there.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export type Manifest = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any } }

interface ModelClass {
  new (data: unknown): { validate(): void }
}

/** Parses a multi-document YAML text into its non-empty documents; throws on a YAML error. */
export function parseYamlDocuments(text: string, source = 'yaml'): any[] {
  const docs = parseAllDocuments(text)
  const out: any[] = []
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`)
    const value = doc.toJS()
    if (value !== null && value !== undefined) out.push(value)
  }
  return out
}

/** `apps/v1` -> `kubernetes-models/apps/v1`, `v1` -> `kubernetes-models/v1`; undefined for CRDs. */
export async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const spec = `kubernetes-models/${apiVersion}`
  try {
    const mod = (await import(spec)) as Record<string, unknown>
    return mod[kind] as ModelClass | undefined
  } catch {
    return undefined
  }
}

/** Validates against the Kubernetes schema; returns the error message or null. */
export function schemaError(Model: ModelClass, obj: unknown): string | null {
  try {
    new Model(obj).validate()
    return null
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** Every field path of `obj` that the Kubernetes schema of its kind does not define. */
export function unknownFields(Model: ModelClass, obj: Record<string, unknown>): string[] {
  if (schemaError(Model, obj) !== null) throw new Error('unknownFields needs a schema-valid object')
  const root = structuredClone(obj)
  const unknown: string[] = []
  const walk = (node: unknown, at: Array<string | number>): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, [...at, i]))
      return
    }
    if (node === null || typeof node !== 'object') return
    const parent = node as Record<string, unknown>
    for (const key of Object.keys(parent)) {
      const value = parent[key]
      parent[key] = Symbol('not-a-json-value') // probe in place, restored right after
      const known = schemaError(Model, root) !== null
      parent[key] = value
      if (!known) {
        unknown.push([...at, key].join('.'))
        continue // nothing under an unknown field can be known
      }
      walk(value, [...at, key])
    }
  }
  walk(root, [])
  return unknown
}

export interface ManifestProblem {
  object: string
  problem: string
}

/**
 * Schema-validates each manifest with kubernetes-models plus the unknown-field check; the
 * Prometheus Operator CRDs (no schema in kubernetes-models) get a shape check of their own.
 */
export async function validateManifests(manifests: Manifest[]): Promise<ManifestProblem[]> {
  const problems: ManifestProblem[] = []
  for (let m of manifests) {
    const name = `${m?.kind}/${m?.metadata?.name}`
    if (!m || typeof m.apiVersion !== 'string' || typeof m.kind !== 'string' || typeof m.metadata?.name !== 'string') {
      problems.push({ object: name, problem: 'missing apiVersion, kind or metadata.name' })
      continue
    }
    if (m.apiVersion === 'monitoring.coreos.com/v1') {
      for (const problem of crdShapeProblems(m)) problems.push({ object: name, problem })
      continue
    }
    const Model = await modelFor(m.apiVersion, m.kind)
    if (m.kind === 'Secret' && m.data) {
      // kustomize wraps long base64 values over several lines; the API server (Go's base64
      // decoder) skips the line breaks, the "byte" format regex of the schema does not
      m = { ...m, data: Object.fromEntries(Object.entries<string>(m.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])) }
    }
    if (!Model) {
      problems.push({ object: name, problem: `no schema for ${m.apiVersion} ${m.kind}` })
      continue
    }
    const error = schemaError(Model, m)
    if (error) {
      problems.push({ object: name, problem: error })
      continue
    }
    for (const field of unknownFields(Model, m)) problems.push({ object: name, problem: `unknown field ${field}` })
  }
  return problems
}

const keysOutside = (obj: Record<string, unknown>, allowed: string[]) => Object.keys(obj).filter((k) => !allowed.includes(k))
const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A hand-written strict subset of the ServiceMonitor / PrometheusRule CRDs: what we use, typed. */
export function crdShapeProblems(m: Manifest): string[] {
  const problems: string[] = []
  for (const k of keysOutside(m, ['apiVersion', 'kind', 'metadata', 'spec'])) problems.push(`unknown field ${k}`)
  for (const k of keysOutside(m.metadata, ['name', 'namespace', 'labels', 'annotations'])) problems.push(`unknown field metadata.${k}`)
  if (!isMap(m.spec)) return [...problems, 'spec must be an object']
  if (m.kind === 'ServiceMonitor') {
    for (const k of keysOutside(m.spec, ['selector', 'endpoints', 'namespaceSelector', 'jobLabel'])) problems.push(`unknown field spec.${k}`)
    const sel = m.spec.selector
    if (!isMap(sel) || (!isMap(sel.matchLabels) && !Array.isArray(sel.matchExpressions))) problems.push('spec.selector needs matchLabels or matchExpressions')
    if (!Array.isArray(m.spec.endpoints) || m.spec.endpoints.length === 0) problems.push('spec.endpoints must be a non-empty list')
    for (const [i, ep] of (m.spec.endpoints ?? []).entries()) {
      if (!isMap(ep)) { problems.push(`spec.endpoints.${i} must be an object`); continue }
      for (const k of keysOutside(ep, ['port', 'path', 'interval', 'scrapeTimeout', 'scheme', 'honorLabels', 'relabelings', 'metricRelabelings'])) problems.push(`unknown field spec.endpoints.${i}.${k}`)
      if (typeof ep.port !== 'string') problems.push(`spec.endpoints.${i}.port must be a port name`)
      for (const d of ['interval', 'scrapeTimeout'] as const) {
        if (ep[d] !== undefined && !/^(\d+(ms|s|m|h))+$/.test(String(ep[d]))) problems.push(`spec.endpoints.${i}.${d} is not a duration`)
      }
    }
  } else if (m.kind === 'PrometheusRule') {
    for (const k of keysOutside(m.spec, ['groups'])) problems.push(`unknown field spec.${k}`)
    if (!Array.isArray(m.spec.groups) || m.spec.groups.length === 0) problems.push('spec.groups must be a non-empty list')
    for (const [i, g] of (m.spec.groups ?? []).entries()) {
      if (typeof g?.name !== 'string' || !Array.isArray(g.rules)) { problems.push(`spec.groups.${i} needs name and rules`); continue }
      for (const k of keysOutside(g, ['name', 'interval', 'rules', 'limit'])) problems.push(`unknown field spec.groups.${i}.${k}`)
      for (const [j, r] of g.rules.entries()) {
        const at = `spec.groups.${i}.rules.${j}`
        for (const k of keysOutside(r, ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'])) problems.push(`unknown field ${at}.${k}`)
        if ((typeof r.record === 'string') === (typeof r.alert === 'string')) problems.push(`${at} needs exactly one of record or alert`)
        if (typeof r.expr !== 'string' && typeof r.expr !== 'number') problems.push(`${at}.expr is missing`)
        for (const mapField of ['labels', 'annotations']) {
          if (r[mapField] !== undefined && (!isMap(r[mapField]) || Object.values(r[mapField]).some((v) => typeof v !== 'string'))) problems.push(`${at}.${mapField} must map to strings`)
        }
      }
    }
  } else {
    problems.push(`unexpected kind ${m.kind} for monitoring.coreos.com/v1`)
  }
  return problems
}

export const kubectlPath = (() => {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' })
  return r.status === 0 ? 'kubectl' : null
})()

/** `kubectl kustomize <dir>` parsed into manifests. */
export function kustomize(dir: string): Manifest[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 })
  return parseYamlDocuments(out, `kubectl kustomize ${dir}`) as Manifest[]
}

/** The overlays (directories with a kustomization of kind Kustomization) under k8s/overlays. */
export function overlayDirs(): string[] {
  const root = path.join(repoRoot, 'k8s/overlays')
  return readdirSync(root)
    .map((d) => path.join(root, d))
    .filter((d) => statSync(d).isDirectory() && existsSync(path.join(d, 'kustomization.yaml')))
    .filter((d) => (parseYamlDocuments(readFileSync(path.join(d, 'kustomization.yaml'), 'utf8'))[0]?.kind ?? 'Kustomization') === 'Kustomization')
}

/** Parses an env file (KEY=value lines, # comments) into a map. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) throw new Error(`not KEY=value: ${line}`)
    env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1)
  }
  return env
}

export const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind)
export const find = (manifests: Manifest[], kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name)
