/**
 * Renders the Helm chart without helm: test/deploy/helm-render/main.go executes the templates with
 * Go's text/template, sprig and Helm's include/required/toYaml, as Helm's engine does. Each render
 * (defaults, the dev and prod examples, and toggled options) must parse, pass the Kubernetes
 * schemas with no unknown field, and make the same objects as the kustomize base.
 * Skipped unless Go and Debian's sprig and yaml.v3 sources are installed:
 *   apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config.js'
import { find, kubectlPath, kustomize, parseYamlDocuments, repoRoot, validateManifests, type Manifest } from './lib/k8s.js'
import { rulesSource } from './lib/prometheus-rule.js'
import { chartDir, mergeValues, readManifests, yamlFilesUnder } from './lib/sources.js'

const GOPATH = '/usr/share/gocode'
const goReady =
  spawnSync('go', ['version']).status === 0 &&
  existsSync(path.join(GOPATH, 'src/github.com/Masterminds/sprig')) &&
  existsSync(path.join(GOPATH, 'src/gopkg.in/yaml.v3'))

if (!goReady) {
  t.skip('Go with Debian sprig/yaml.v3 sources is not installed: chart not rendered (apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)', () => {})
} else {
  const bin = path.join(mkdtempSync(path.join(tmpdir(), 'helm-render-')), 'helm-render')
  t.teardown(() => rmSync(path.dirname(bin), { recursive: true, force: true }))
  execFileSync('go', ['build', '-o', bin, '.'], {
    cwd: path.join(repoRoot, 'test/deploy/helm-render'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '' },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const defaults = parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'))
  const fileValues = (f: string) => parse(readFileSync(path.join(chartDir, f), 'utf8'))

  function render(values: unknown, release = 'health-tracker'): { manifests: Manifest[]; notes: string } {
    const out = execFileSync(bin, [chartDir, release, 'health-tracker'], { input: JSON.stringify(values), encoding: 'utf8' })
    const files = JSON.parse(out) as Record<string, string>
    const manifests: Manifest[] = []
    for (const [file, text] of Object.entries(files)) {
      if (file.endsWith('NOTES.txt')) continue
      manifests.push(...(parseYamlDocuments(text, file) as Manifest[]))
    }
    return { manifests, notes: files['templates/NOTES.txt'] }
  }

  const base = kubectlPath ? kustomize(path.join(repoRoot, 'k8s/base')) : yamlFilesUnder(path.join(repoRoot, 'k8s/base')).filter((f) => !f.endsWith('kustomization.yaml') && !f.endsWith('secret.example.yaml')).flatMap(readManifests)

  const variants: Array<[string, unknown]> = [
    ['values.yaml', defaults],
    ['values-dev.yaml', mergeValues(defaults, fileValues('values-dev.yaml'))],
    ['values-prod.yaml', mergeValues(defaults, fileValues('values-prod.yaml'))],
    [
      'options flipped',
      mergeValues(defaults, {
        worker: { enabled: false },
        autoscaling: { enabled: false },
        pdb: { enabled: false },
        ingress: { enabled: false },
        networkPolicy: { postgres: { enabled: false }, redis: { enabled: false } },
        metrics: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
        migrations: { enabled: false },
        serviceAccount: { create: false },
        imagePullSecrets: [{ name: 'registry' }]
      })
    ],
    ['in-flight autoscaling', mergeValues(defaults, { autoscaling: { inFlightRequests: { enabled: true } } })]
  ]

  for (const [name, values] of variants) {
    t.test(`render: ${name}`, async (t) => {
      const { manifests, notes } = render(values)
      t.ok(manifests.length > 0, `${manifests.length} objects`)
      t.same(await validateManifests(manifests), [], 'every object is schema-valid with no unknown field')
      t.match(notes, /helm test health-tracker/, 'NOTES.txt renders')
      const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`)
      t.same(names.filter((n, i) => names.indexOf(n) !== i), [], 'no duplicate object')
      const testPod = manifests.find((m) => m.metadata.annotations?.['helm.sh/hook'] === 'test')
      t.ok(testPod, 'the helm test pod')
      t.match(testPod?.spec.containers[0].command.join(' '), /http:\/\/health-tracker-api:80\/readyz/, 'checks /readyz through the API Service')
    })
  }

  t.test('the defaults make the same objects as the kustomize base', async (t) => {
    const { manifests } = render(defaults)
    const chartOnly = (m: Manifest) => m.metadata.annotations?.['helm.sh/hook'] === 'test'
    const key = (m: Manifest) => `${m.kind}/${m.metadata.name.replace(/-migrate-\d+$/, '-migrate').replace(/^health-tracker-config-\w+$/, 'health-tracker-config')}`
    t.same(manifests.filter((m) => !chartOnly(m)).map(key).sort(), base.map(key).sort(), 'the same kinds and names')
    const pick = (m: Manifest) => {
      const pod = m.spec?.template?.spec
      if (!pod) return m.kind === 'HorizontalPodAutoscaler' || m.kind === 'PodDisruptionBudget' ? { ...m.spec, selector: undefined } : undefined
      return {
        terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
        securityContext: pod.securityContext,
        automount: pod.automountServiceAccountToken,
        spread: (pod.topologySpreadConstraints ?? []).map((s: any) => s.topologyKey),
        volumes: pod.volumes,
        containers: pod.containers.map((c: any) => ({ ...c, image: undefined, envFrom: undefined }))
      }
    }
    for (const m of base) {
      const twin = manifests.find((c) => key(c) === key(m))
      if (!twin || !pick(m)) continue
      t.same(pick(twin), pick(m), `${key(m)}: same pod spec / autoscaling / disruption settings`)
    }
    const chartIngress = find(manifests, 'Ingress', 'health-tracker-api')!
    const baseIngress = find(base, 'Ingress', 'health-tracker-api')!
    t.same(chartIngress.metadata.annotations, baseIngress.metadata.annotations, 'same ingress annotations')
    const chartConfig = manifests.find((m) => m.kind === 'ConfigMap')!.data
    const baseConfig = base.find((m) => m.kind === 'ConfigMap')!.data
    t.same(chartConfig, baseConfig, 'same settings in the ConfigMap')
  })

  t.test('the chart PrometheusRule carries the monitoring rules', async (t) => {
    const { manifests } = render(defaults)
    const rule = manifests.find((m) => m.kind === 'PrometheusRule')!
    t.same(rule.spec.groups, parse(readFileSync(rulesSource, 'utf8')).groups)
  })

  t.test('the dev values give the processes a working configuration', async (t) => {
    const { manifests } = render(mergeValues(defaults, fileValues('values-dev.yaml')))
    const config = manifests.find((m) => m.kind === 'ConfigMap')!.data
    const secret = manifests.find((m) => m.kind === 'Secret')!.stringData
    const api = find(manifests, 'Deployment', 'health-tracker-api')!.spec.template.spec.containers[0]
    const env = { ...config, ...secret, ...Object.fromEntries(api.env.map((e: any) => [e.name, e.value])) }
    t.doesNotThrow(() => loadConfig(env), 'loadConfig accepts ConfigMap + Secret + env')
    t.equal(env.WORKER_ENABLED, 'false')
  })

  t.test('a missing existingSecret stops the render', async (t) => {
    const r = spawnSync(bin, [chartDir, 'health-tracker', 'ns'], { input: JSON.stringify(mergeValues(defaults, { secret: { existingSecret: '' } })), encoding: 'utf8' })
    t.not(r.status, 0)
    t.match(r.stderr, /secret\.existingSecret is required/)
  })

  t.test('another release name renames the objects but keeps the metrics job names', async (t) => {
    const { manifests } = render(defaults, 'ht-staging')
    t.ok(find(manifests, 'Deployment', 'ht-staging-health-tracker-api'), 'release-scoped names')
    const jobs = manifests.filter((m) => m.kind === 'Service').map((m) => m.metadata.labels['health-tracker/metrics-job'])
    t.same(jobs.sort(), ['health-tracker-api', 'health-tracker-worker'])
  })
}
