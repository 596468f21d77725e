// Checks the monitoring artifacts under k8s/monitoring: the Prometheus config and rules (promtool),
// every rule unit test (promtool test rules), the Alertmanager example (amtool), the Grafana
// dashboard and its provisioning, and that every alert has a runbook section in docs/sre.md.
// promtool / amtool checks are skipped only when the binary is not installed; CI installs the
// Debian packages `prometheus` (promtool) and `prometheus-alertmanager` (amtool).
import t, { type Test } from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import client from 'prom-client'
import { parse } from 'yaml'
import {
  dashboardExpressions,
  dashboardVariableQueries,
  loadDashboards,
  loadRuleFiles,
  metricNamesUsed,
  monitoringDir,
  ruleTestsDir,
} from './metric-names.js'

const run = promisify(execFile)
const repoRoot = join(monitoringDir, '..', '..')
const prometheusDir = join(monitoringDir, 'prometheus')
const alertmanagerConfig = join(monitoringDir, 'alertmanager', 'alertmanager.yml')
const sreDoc = join(repoRoot, 'docs', 'sre.md')

function installed(binary: string): boolean {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' })
  return !(probe.error && (probe.error as NodeJS.ErrnoException).code === 'ENOENT')
}

/** Runs `fn` as a subtest, or records a skip saying which package provides the missing binary. */
function withBinary(binary: string, debianPackage: string, name: string, fn: (t: Test) => Promise<void>) {
  if (installed(binary)) t.test(name, fn)
  else t.skip(`${name}: ${binary} not found on PATH (apt-get install ${debianPackage})`, fn)
}

/** Runs a command; resolves with its exit code and output instead of throwing on failure. */
async function exec(cmd: string, args: string[], cwd = repoRoot) {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 })
    return { code: 0, output: stdout + stderr }
  } catch (err: any) {
    return { code: typeof err.code === 'number' ? err.code : 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}${err.message}` }
  }
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
}

const ruleFiles = loadRuleFiles()
const rules = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules))
const alerts = rules.filter((r) => r.alert)
const recordingRules = rules.filter((r) => r.record)
const ruleTestFiles = readdirSync(ruleTestsDir).filter((f) => f.endsWith('.test.yml')).sort()
const dashboards = loadDashboards()

// ---------------------------------------------------------------------------------------------
// promtool

withBinary('promtool', 'prometheus', 'promtool check config (and the rule files it loads)', async (t) => {
  const { code, output } = await exec('promtool', ['check', 'config', 'prometheus.yml'], prometheusDir)
  t.equal(code, 0, output)
  t.match(output, /SUCCESS: \d+ rules found/, 'the rules/*.yml glob loads the rules')
})

withBinary('promtool', 'prometheus', 'promtool check rules', async (t) => {
  for (const file of ruleFiles) {
    const { code, output } = await exec('promtool', ['check', 'rules', file.path])
    t.equal(code, 0, `${file.path}\n${output}`)
  }
})

withBinary('promtool', 'prometheus', 'promtool test rules', async (t) => {
  t.ok(ruleTestFiles.length > 0, 'there are rule unit tests')
  // Files run concurrently (the SLO tests replay hours of samples); results are asserted per file.
  const results = await Promise.all(
    ruleTestFiles.map((f) => exec('promtool', ['test', 'rules', f], ruleTestsDir).then((r) => ({ f, ...r }))),
  )
  for (const { f, code, output } of results) t.equal(code, 0, `${f}\n${output}`)
})

withBinary('promtool', 'prometheus', 'every dashboard query is valid PromQL', async (t) => {
  // promtool has no offline "check expression", so each query becomes a recording rule. Grafana
  // variables get a plausible value first.
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const substitute = (expr: string) =>
    expr
      .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
      .replace(/\$\{?route\}?/g, '/api/.*')
  const exprs = dashboards.flatMap(({ dashboard }) => dashboardExpressions(dashboard))
  t.ok(exprs.length > 20, `dashboards have queries (${exprs.length})`)
  const file = join(dir, 'dashboard.rules.yml')
  writeFileSync(
    file,
    JSON.stringify({ groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query:${i}`, expr: substitute(e) })) }] }),
  )
  const { code, output } = await exec('promtool', ['check', 'rules', file])
  t.equal(code, 0, output)
})

// ---------------------------------------------------------------------------------------------
// amtool

withBinary('amtool', 'prometheus-alertmanager', 'amtool check-config', async (t) => {
  const { code, output } = await exec('amtool', ['check-config', alertmanagerConfig])
  t.equal(code, 0, output)
})

withBinary('amtool', 'prometheus-alertmanager', 'Alertmanager routes critical to PagerDuty, the rest to the webhook', async (t) => {
  const cases: [string[], string][] = [
    [['severity=critical', 'alertname=ApiErrorBudgetBurnFast', 'job=health-tracker-api'], 'pagerduty,team-webhook'],
    [['severity=warning', 'alertname=ScoreQueueLagging'], 'team-webhook'],
    [['alertname=SomethingUnlabelled'], 'team-webhook'],
  ]
  for (const [labels, receivers] of cases) {
    const { code, output } = await exec('amtool', [
      'config', 'routes', 'test', `--config.file=${alertmanagerConfig}`, `--verify.receivers=${receivers}`, ...labels,
    ])
    t.equal(code, 0, `${labels.join(' ')} -> ${receivers}\n${output}`)
  }
})

// ---------------------------------------------------------------------------------------------
// rules: structure, runbooks, test coverage

t.test('every alert is labelled, annotated and has a runbook section', async (t) => {
  const doc = readFileSync(sreDoc, 'utf8')
  const anchors = new Set([...doc.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1])))
  const names = alerts.map((a) => a.alert)
  t.same(names, [...new Set(names)], 'alert names are unique')
  t.ok(alerts.length >= 10, `there are alerts (${alerts.length})`)
  for (const alert of alerts) {
    const name = alert.alert!
    t.match(alert.labels?.severity, /^(critical|warning)$/, `${name}: severity`)
    t.ok(alert.annotations?.summary?.trim(), `${name}: summary`)
    t.ok(alert.annotations?.description?.trim(), `${name}: description`)
    t.equal(alert.annotations?.runbook_url, `docs/sre.md#${name.toLowerCase()}`, `${name}: runbook_url`)
    t.ok(anchors.has(name.toLowerCase()), `${name}: docs/sre.md has a "${name}" heading`)
  }
})

t.test('recording rules follow level:metric:operation naming', async (t) => {
  for (const rule of recordingRules) t.match(rule.record, /^[a-z_]+:[a-z_]+:[a-z0-9_]+$/, rule.record!)
})

t.test('every alert has a promtool case where it fires and one where it does not', async (t) => {
  const firing = new Set<string>()
  const quiet = new Set<string>()
  for (const f of ruleTestFiles) {
    const doc = parse(readFileSync(join(ruleTestsDir, f), 'utf8'))
    for (const ruleFile of doc.rule_files ?? []) t.ok(existsSync(join(ruleTestsDir, ruleFile)), `${f}: ${ruleFile} exists`)
    for (const test of doc.tests ?? []) {
      for (const c of test.alert_rule_test ?? []) (c.exp_alerts?.length ? firing : quiet).add(c.alertname)
    }
  }
  for (const alert of alerts) {
    t.ok(firing.has(alert.alert!), `${alert.alert} fires in a test`)
    t.ok(quiet.has(alert.alert!), `${alert.alert} stays quiet in a test`)
  }
})

t.test('rules and dashboard read only metrics the service or prom-client export', async (t) => {
  // The fixed names agreed with the service (src/plugins/metrics), plus prom-client's defaults
  // as a fresh registry reports them.
  const serviceMetrics = [
    'http_request_duration_seconds', 'http_requests_in_flight',
    'db_query_duration_seconds', 'db_pool_connections', 'db_pool_max', 'db_coalesced_group_size',
    'cache_requests_total', 'redis_up', 'cache_circuit_open',
    'score_queue_depth', 'score_queue_oldest_job_age_seconds', 'score_jobs_total', 'score_computation_duration_seconds',
    'ingest_records_total', 'ingest_rejections_total', 'readings_flagged_suspect_total',
    'rate_limited_requests_total', 'rate_limit_store_errors_total', 'shed_requests_total',
  ]
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  const defaults = (await registry.getMetricsAsJSON()).map((m) => m.name)
  const allowed = new Set([...serviceMetrics, ...defaults])
  const used = metricNamesUsed()
  t.ok(used.length >= serviceMetrics.length, `metrics used: ${used.join(', ')}`)
  t.same(used.filter((n) => !allowed.has(n)), [], 'no unknown metric names')
  // Every service metric shows up somewhere: a metric nobody looks at is a dashboard gap.
  t.same(serviceMetrics.filter((n) => !used.includes(n)), [], 'every service metric is on the dashboard or in a rule')
})

// ---------------------------------------------------------------------------------------------
// Grafana

t.test('dashboard JSON', async (t) => {
  t.ok(dashboards.length >= 1, 'a dashboard exists')
  for (const { path, dashboard } of dashboards) {
    t.test(path, async (t) => {
      t.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion} >= 39`)
      t.match(dashboard.uid, /^[\w-]{1,40}$/, 'uid')
      t.ok(dashboard.title, 'title')

      const variables: any[] = dashboard.templating.list
      const ds = variables.find((v) => v.name === 'DS_PROMETHEUS')
      t.match(ds, { type: 'datasource', query: 'prometheus', current: { value: 'prometheus' } }, 'datasource variable')
      const route = variables.find((v) => v.name === 'route')
      t.match(route, { type: 'query', multi: true, includeAll: true }, 'route variable')
      t.match(dashboardVariableQueries(dashboard).join('\n'), /label_values\(http_request_duration_seconds_count\{.*\}, route\)/)

      const flat: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])])
      const ids = flat.map((p) => p.id)
      t.same(ids, [...new Set(ids)], 'panel ids are unique')
      const panels = flat.filter((p) => p.type !== 'row')
      t.ok(panels.length >= 20, `panels (${panels.length})`)
      for (const p of panels) {
        const where = `panel "${p.title}"`
        t.same(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, `${where}: datasource`)
        t.ok(p.gridPos.x + p.gridPos.w <= 24 && p.gridPos.h > 0, `${where}: fits the grid`)
        t.ok(p.targets?.length > 0, `${where}: has queries`)
        const refIds = p.targets.map((q: any) => q.refId)
        t.same(refIds, [...new Set(refIds)], `${where}: refIds unique`)
        for (const q of p.targets) {
          t.ok(q.expr?.trim(), `${where} ${q.refId}: expr`)
          t.equal(q.datasource?.uid, '${DS_PROMETHEUS}', `${where} ${q.refId}: datasource`)
        }
      }
      const titles = panels.map((p) => p.title.toLowerCase()).join('\n')
      for (const topic of ['rate by route', '5xx ratio by route', 'latency percentiles', 'cache hit ratio', 'pool in use', 'queue lag', 'rejection'])
        t.match(titles, topic, `a "${topic}" panel`)
    })
  }
})

t.test('Grafana provisioning for docker-compose', async (t) => {
  const datasources = parse(readFileSync(join(monitoringDir, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'))
  t.match(datasources.datasources, [{ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' }])
  const providers = parse(readFileSync(join(monitoringDir, 'grafana/provisioning/dashboards/health-tracker.yml'), 'utf8'))
  t.match(providers.providers, [{ type: 'file', options: { path: '/var/lib/grafana/dashboards' } }])
})

// ---------------------------------------------------------------------------------------------
// Prometheus, Alertmanager and Kubernetes files (structure; promtool/amtool check syntax above)

t.test('Prometheus scrapes the API and the worker on 9464 and loads the rules', async (t) => {
  const config = parse(readFileSync(join(prometheusDir, 'prometheus.yml'), 'utf8'))
  t.same(config.rule_files, ['rules/*.yml'])
  const jobs = Object.fromEntries(config.scrape_configs.map((j: any) => [j.job_name, j]))
  t.match(jobs['health-tracker-api'], { dns_sd_configs: [{ names: ['api'], port: 9464 }] })
  t.match(jobs['health-tracker-worker'], { dns_sd_configs: [{ names: ['worker'], port: 9464 }] })
})

t.test('Alertmanager example keeps the PagerDuty key out of the file and inhibits', async (t) => {
  const config = parse(readFileSync(alertmanagerConfig, 'utf8'))
  const pagerduty = config.receivers.find((r: any) => r.pagerduty_configs)
  t.ok(pagerduty.pagerduty_configs[0].routing_key_file, 'routing key read from a file')
  t.notOk(pagerduty.pagerduty_configs[0].routing_key, 'no inline routing key')
  t.ok(config.receivers.find((r: any) => r.webhook_configs), 'a webhook receiver')
  t.ok(config.inhibit_rules?.length > 0, 'inhibit rules')
})

t.test('kustomization ships files that exist', async (t) => {
  const kustomization = parse(readFileSync(join(monitoringDir, 'kustomization.yaml'), 'utf8'))
  const files: string[] = kustomization.configMapGenerator.flatMap((g: any) => g.files)
  t.ok(files.some((f) => f.endsWith('.json')), 'the dashboard is shipped')
  for (const f of files) t.ok(existsSync(join(monitoringDir, f)), f)
})
