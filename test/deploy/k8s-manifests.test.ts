/**
 * Kubernetes manifests: every file of k8s/base and every rendered overlay is valid against the
 * Kubernetes schemas, with no unknown field, and the objects fit together the way the cluster
 * needs them to (selectors, probes, shutdown timing, security, network isolation).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { ConfigSchema, loadConfig } from '../../src/config.js'
import {
  byKind,
  crdShapeProblems,
  find,
  kubectlPath,
  kustomize,
  modelFor,
  overlayDirs,
  parseYamlDocuments,
  repoRoot,
  schemaError,
  unknownFields,
  validateManifests,
  type Manifest
} from './lib/k8s.js'
import { readManifests, yamlFilesUnder } from './lib/sources.js'

const defaults = ConfigSchema.properties as Record<string, { default?: unknown }>

t.test('the unknown-field check rejects what kubernetes-models lets through', async (t) => {
  const Deployment = (await modelFor('apps/v1', 'Deployment'))!
  const good = readManifests(path.join(repoRoot, 'k8s/base/deployment-api.yaml'))[0]
  t.same(unknownFields(Deployment, good), [], 'the real Deployment has no unknown field')

  const typo = structuredClone(good)
  const container = typo.spec.template.spec.containers[0]
  container.readinesProbe = container.readinessProbe // misspelt: the API server would drop it
  container.livenessProbe.httpGet.paht = '/healthz'
  typo.spec.template.spec.securityContext.runAsNonroot = true
  t.equal(schemaError(Deployment, typo), null, 'kubernetes-models alone accepts the typos')
  t.same(unknownFields(Deployment, typo).sort(), [
    'spec.template.spec.containers.0.livenessProbe.httpGet.paht',
    'spec.template.spec.containers.0.readinesProbe',
    'spec.template.spec.securityContext.runAsNonroot'
  ])
  const problems = await validateManifests([typo])
  t.equal(problems.length, 3, 'validateManifests reports each unknown field')

  const wrongType = structuredClone(good)
  wrongType.spec.revisionHistoryLimit = 'five'
  t.not(schemaError(Deployment, wrongType), null, 'a wrong type fails the schema')
  t.match(await validateManifests([{ apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } } as Manifest]), [{ problem: /no schema/ }])
})

t.test('the CRD shape check rejects unknown or missing fields', async (t) => {
  const [monitor] = readManifests(path.join(repoRoot, 'k8s/base/servicemonitor.yaml'))
  t.same(crdShapeProblems(monitor), [])
  const bad = structuredClone(monitor)
  bad.spec.endpoint = bad.spec.endpoints
  delete bad.spec.endpoints
  bad.spec.selector = {}
  t.match(crdShapeProblems(bad), ['unknown field spec.endpoint', /selector/, /endpoints/])
  const rule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', record: 'b', expr: 'up', label: {} }] }] } }
  t.match(crdShapeProblems(rule as Manifest), ['unknown field spec.groups.0.rules.0.label', /exactly one of record or alert/])
})

t.test('every manifest file in k8s/base is valid', async (t) => {
  const files = yamlFilesUnder(path.join(repoRoot, 'k8s/base')).filter((f) => path.basename(f) !== 'kustomization.yaml')
  t.ok(files.length >= 10, `${files.length} manifest files`)
  for (const file of files) {
    const manifests = readManifests(file)
    t.ok(manifests.length > 0, `${path.relative(repoRoot, file)} has objects`)
    t.same(await validateManifests(manifests), [], path.relative(repoRoot, file))
  }
})

const renders: Array<{ name: string; dir: string; manifests?: Manifest[] }> = []

t.test('rendered kustomizations', async (t) => {
  if (!kubectlPath) {
    t.skip('kubectl is not installed: overlays not rendered (install kubectl >= 1.27 to check them)', () => {})
    return
  }
  const overlays = overlayDirs()
  t.same(overlays.map((d) => path.basename(d)).sort(), ['dev', 'prod'], 'the dev and prod overlays')
  // prod with the optional custom-metric Component, through a throw-away kustomization
  const tmp = mkdtempSync(path.join(tmpdir(), 'kustomize-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const rel = path.relative(tmp, path.join(repoRoot, 'k8s/overlays'))
  writeFileSync(path.join(tmp, 'kustomization.yaml'), `resources: [${rel}/prod]\ncomponents: [${rel}/components/hpa-custom-metric]\n`)

  for (const [name, dir] of [['base', path.join(repoRoot, 'k8s/base')], ...overlays.map((d) => [path.basename(d), d]), ['prod+hpa-custom-metric', tmp]] as const) {
    const manifests = kustomize(dir)
    renders.push({ name, dir, manifests })
    t.same(await validateManifests(manifests), [], `${name}: every object is schema-valid with no unknown field`)
  }
})

const podSpecs = (manifests: Manifest[]) =>
  manifests.filter((m) => ['Deployment', 'Job'].includes(m.kind)).map((m) => ({ m, pod: m.spec.template.spec, labels: m.spec.template.metadata.labels }))

const matches = (selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }, labels: Record<string, string>) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every((e) =>
    e.operator === 'In' ? e.values!.includes(labels[e.key]) : e.operator === 'NotIn' ? !e.values!.includes(labels[e.key]) : e.operator === 'Exists' ? e.key in labels : !(e.key in labels)
  )

/** ConfigMap data + Secret data + literal env of one container, as the process would see them. */
function containerEnv(manifests: Manifest[], container: any, extraSecret?: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(manifests, 'ConfigMap', from.configMapRef.name)?.data ?? {})
    if (from.secretRef) {
      const secret = find(manifests, 'Secret', from.secretRef.name)
      if (secret) {
        for (const [k, v] of Object.entries<string>(secret.data ?? {})) env[k] = Buffer.from(v, 'base64').toString('utf8')
        Object.assign(env, secret.stringData ?? {})
      } else if (extraSecret) Object.assign(env, extraSecret)
    }
  }
  for (const e of container.env ?? []) env[e.name] = e.value
  return env
}

t.test('the rendered objects fit together', async (t) => {
  if (renders.length === 0) {
    t.skip('nothing rendered (kubectl missing)', () => {})
    return
  }
  const example = readManifests(path.join(repoRoot, 'k8s/base/secret.example.yaml'))[0].stringData as Record<string, string>

  for (const { name, manifests } of renders) {
    const ms = manifests!
    t.test(name, async (t) => {
      const api = find(ms, 'Deployment', 'health-tracker-api')!
      const worker = find(ms, 'Deployment', 'health-tracker-worker')!
      const job = find(ms, 'Job', 'health-tracker-migrate')!
      t.ok(api && worker && job, 'API and worker Deployments and the migration Job')
      if (name !== 'base') {
        const ns = find(ms, 'Namespace', ms.find((m) => m.metadata.namespace)!.metadata.namespace)
        t.ok(ns, 'the overlay creates its namespace')
        t.same(ms.filter((m) => m.kind !== 'Namespace' && !m.metadata.namespace).map((m) => m.kind), [], 'every object is namespaced')
      }

      t.test('pods are locked down', async (t) => {
        for (const { m, pod } of podSpecs(ms)) {
          const where = `${m.kind}/${m.metadata.name}`
          t.equal(pod.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`)
          t.ok(pod.securityContext?.runAsUser > 0, `${where}: numeric non-root uid`)
          t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp`)
          t.equal(pod.automountServiceAccountToken, false, `${where}: no service account token`)
          for (const c of pod.containers) {
            const sc = c.securityContext ?? {}
            t.equal(sc.readOnlyRootFilesystem, true, `${where}/${c.name}: read-only root filesystem`)
            t.equal(sc.allowPrivilegeEscalation, false, `${where}/${c.name}: no privilege escalation`)
            t.ok(sc.capabilities?.drop?.includes('ALL'), `${where}/${c.name}: drops all capabilities`)
            for (const kind of ['requests', 'limits']) {
              t.ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `${where}/${c.name}: cpu and memory ${kind}`)
            }
            const tmp = c.volumeMounts?.find((v: { mountPath: string }) => v.mountPath === '/tmp')
            t.ok(tmp && pod.volumes.find((v: any) => v.name === tmp.name)?.emptyDir, `${where}/${c.name}: writable /tmp is an emptyDir`)
            t.equal(c.image, api.spec.template.spec.containers[0].image, `${where}/${c.name}: the one app image`)
            if (name === 'prod') t.notMatch(c.image, /:latest$|^[^:]+$/, `${where}: prod pins a tag`)
          }
        }
      })

      t.test('API probes, shutdown timing and spreading', async (t) => {
        const pod = api.spec.template.spec
        const c = pod.containers[0]
        t.same(c.command, ['node', 'dist/src/server.js'])
        t.notOk('replicas' in api.spec, 'the HPA owns the replica count')
        t.match(c.startupProbe, { httpGet: { path: '/healthz', port: 'http' } })
        t.match(c.readinessProbe, { httpGet: { path: '/readyz', port: 'http' } })
        t.match(c.livenessProbe, { httpGet: { path: '/healthz', port: 'http' } })
        t.ok(c.ports.find((p: any) => p.name === 'http' && p.containerPort === 3000), 'http on 3000')
        t.ok(c.ports.find((p: any) => p.name === 'metrics' && p.containerPort === 9464), 'metrics on 9464')
        const env = containerEnv(ms, c)
        t.equal(env.WORKER_ENABLED, 'false', 'the worker runs in its own Deployment')
        t.equal(env.PORT ?? String(defaults.PORT.default), '3000')
        t.equal(env.METRICS_PORT ?? String(defaults.METRICS_PORT.default), '9464')

        const preStop = c.lifecycle?.preStop?.exec?.command as string[]
        t.equal(preStop?.[0], 'sleep', 'preStop sleeps while endpoints drop the pod')
        const sleep = Number(preStop?.[1])
        const drain = Number(env.SHUTDOWN_DRAIN_MS ?? defaults.SHUTDOWN_DRAIN_MS.default) / 1000
        const hard = Number(env.SHUTDOWN_TIMEOUT_MS ?? defaults.SHUTDOWN_TIMEOUT_MS.default) / 1000
        t.ok(sleep > 0 && pod.terminationGracePeriodSeconds > sleep + drain, 'grace period longer than preStop + drain')
        t.ok(pod.terminationGracePeriodSeconds > sleep + hard, `grace ${pod.terminationGracePeriodSeconds}s > preStop ${sleep}s + SHUTDOWN_TIMEOUT_MS ${hard}s`)
        const wpod = worker.spec.template.spec
        t.ok(wpod.terminationGracePeriodSeconds > Number(containerEnv(ms, wpod.containers[0]).SHUTDOWN_TIMEOUT_MS ?? 25000) / 1000, 'worker grace > SHUTDOWN_TIMEOUT_MS')
        t.same(wpod.containers[0].command, ['node', 'dist/src/worker/index.js'])
        t.same(job.spec.template.spec.containers[0].command, ['node', 'dist/db/migrate.js'])
        t.equal(job.spec.template.spec.restartPolicy, 'Never')

        const spread = pod.topologySpreadConstraints ?? []
        t.ok(spread.some((s: any) => s.topologyKey === 'topology.kubernetes.io/zone'), 'spread over zones')
        t.ok(spread.some((s: any) => s.topologyKey === 'kubernetes.io/hostname'), 'spread over nodes')
        for (const s of spread) t.ok(matches(s.labelSelector, api.spec.template.metadata.labels), `${s.topologyKey} spread selects the API pods`)
      })

      t.test('the processes accept their configuration', async (t) => {
        for (const { m, pod } of podSpecs(ms)) {
          for (const c of pod.containers) {
            for (const ref of c.envFrom ?? []) {
              if (ref.configMapRef) t.ok(find(ms, 'ConfigMap', ref.configMapRef.name), `${m.metadata.name}: ConfigMap ${ref.configMapRef.name} exists`)
            }
            // prod has no Secret in git: check it with the keys of the documented example
            const env = containerEnv(ms, c, example)
            t.doesNotThrow(() => loadConfig(env), `${m.metadata.name}/${c.name}: loadConfig accepts ConfigMap + Secret + env`)
            t.ok(env.DATABASE_URL && env.AUTH_JWT_SECRET, `${m.metadata.name}/${c.name}: database and token settings present`)
            t.equal(env.MIGRATE_ON_START, 'false', `${m.metadata.name}: migrations run in the Job only`)
          }
        }
        if (name === 'prod') t.same(byKind(ms, 'Secret'), [], 'prod renders no Secret: it is created out of band')
        if (name === 'dev') t.equal(byKind(ms, 'Secret').length, 1, 'dev generates its throw-away Secret')
      })

      t.test('Service, HPA, PDB, Ingress and monitoring select the right pods', async (t) => {
        const apiLabels = api.spec.template.metadata.labels
        const workerLabels = worker.spec.template.metadata.labels
        const svc = find(ms, 'Service', 'health-tracker-api')!
        t.ok(matches({ matchLabels: svc.spec.selector }, apiLabels) && !matches({ matchLabels: svc.spec.selector }, workerLabels), 'API Service selects API pods only')
        const wsvc = find(ms, 'Service', 'health-tracker-worker')!
        t.ok(matches({ matchLabels: wsvc.spec.selector }, workerLabels), 'worker metrics Service selects worker pods')

        const hpa = find(ms, 'HorizontalPodAutoscaler', 'health-tracker-api')!
        t.equal(hpa.apiVersion, 'autoscaling/v2')
        t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: api.metadata.name })
        t.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas, `replicas ${hpa.spec.minReplicas}-${hpa.spec.maxReplicas}`)
        t.ok(hpa.spec.metrics.some((x: any) => x.type === 'Resource' && x.resource.name === 'cpu' && x.resource.target.type === 'Utilization'), 'CPU utilization target')
        const inflight = hpa.spec.metrics.some((x: any) => x.type === 'Pods' && x.pods.metric.name === 'http_requests_in_flight')
        t.equal(inflight, name === 'prod+hpa-custom-metric', 'the in-flight metric only with the Component')
        if (name === 'prod') t.ok(hpa.spec.minReplicas >= 3, 'prod keeps at least 3 API pods')

        const pdb = find(ms, 'PodDisruptionBudget', 'health-tracker-api')!
        t.ok(matches(pdb.spec.selector, apiLabels), 'PDB covers the API pods')
        t.ok(pdb.spec.maxUnavailable !== undefined || pdb.spec.minAvailable !== undefined)

        const ing = find(ms, 'Ingress', 'health-tracker-api')!
        t.equal(ing.spec.ingressClassName, 'nginx')
        const backend = ing.spec.rules[0].http.paths[0].backend.service
        t.equal(backend.name, svc.metadata.name)
        t.ok(svc.spec.ports.some((p: any) => p.name === backend.port.name), 'Ingress port exists on the Service')
        for (const a of ['limit-rps', 'limit-connections', 'proxy-body-size', 'proxy-connect-timeout', 'proxy-read-timeout', 'proxy-send-timeout']) {
          t.ok(ing.metadata.annotations[`nginx.ingress.kubernetes.io/${a}`], `annotation ${a}`)
        }
        t.equal(ing.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size'], '6m')

        const monitor = find(ms, 'ServiceMonitor', 'health-tracker')!
        const rule = find(ms, 'PrometheusRule', 'health-tracker')!
        for (const s of [svc, wsvc]) {
          t.ok(matches(monitor.spec.selector, s.metadata.labels), `ServiceMonitor selects Service ${s.metadata.name}`)
          t.ok(s.spec.ports.some((p: any) => p.name === monitor.spec.endpoints[0].port), `${s.metadata.name} has the scraped port`)
          const job = s.metadata.labels[monitor.spec.jobLabel]
          t.ok(job && JSON.stringify(rule.spec.groups).includes(job), `job ${job} is what the rules select on`)
        }
      })

      t.test('network policies isolate the database and Redis', async (t) => {
        const policies = byKind(ms, 'NetworkPolicy')
        t.ok(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress), 'default deny ingress')
        const allowed = (target: Record<string, string>, from: Record<string, string>, port: number) =>
          policies.some(
            (p) =>
              matches(p.spec.podSelector, target) &&
              (p.spec.ingress ?? []).some(
                (rule: any) =>
                  (rule.from ?? []).some((peer: any) => peer.podSelector && !peer.namespaceSelector && matches(peer.podSelector, from)) &&
                  (rule.ports ?? []).some((p: any) => p.port === port)
              )
          )
        const pg = { 'app.kubernetes.io/name': 'postgres' }
        const redis = { 'app.kubernetes.io/name': 'redis' }
        const labelsOf = (m: Manifest) => m.spec.template.metadata.labels
        t.ok(allowed(pg, labelsOf(api), 5432) && allowed(pg, labelsOf(worker), 5432) && allowed(pg, labelsOf(job), 5432), 'API, worker and migrations reach PostgreSQL')
        t.ok(allowed(redis, labelsOf(api), 6379) && allowed(redis, labelsOf(worker), 6379), 'API and worker reach Redis')
        const stranger = { 'app.kubernetes.io/name': 'something-else' }
        const lookalike = { 'app.kubernetes.io/name': 'health-tracker', 'app.kubernetes.io/component': 'debug' }
        for (const who of [stranger, lookalike]) {
          t.notOk(allowed(pg, who, 5432), `${JSON.stringify(who)} cannot reach PostgreSQL`)
          t.notOk(allowed(redis, who, 6379), `${JSON.stringify(who)} cannot reach Redis`)
        }
        t.notOk(allowed(redis, labelsOf(job), 6379), 'the migration Job does not reach Redis')
        const apiPolicy = policies.find((p) => matches(p.spec.podSelector, labelsOf(api)) && p.spec.ingress)!
        t.ok(apiPolicy.spec.ingress.some((r: any) => r.from.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx')), 'ingress-nginx reaches the API')
      })
    })
  }
})

t.test('the example Secret holds placeholders only', async (t) => {
  const text = readFileSync(path.join(repoRoot, 'k8s/base/secret.example.yaml'), 'utf8')
  const [secret] = parseYamlDocuments(text) as Manifest[]
  for (const [k, v] of Object.entries<string>(secret.stringData)) t.match(v, /CHANGE_ME/, `${k} is a placeholder`)
  const kustomization = parseYamlDocuments(readFileSync(path.join(repoRoot, 'k8s/base/kustomization.yaml'), 'utf8'))[0]
  t.notOk(kustomization.resources.includes('secret.example.yaml'), 'the example is not deployed by the base')
})
