// Which metric names do the dashboard and the alert rules depend on?
//
// `metricNamesUsed()` lists every metric the Grafana dashboard and the Prometheus rules read, as the
// name the service exports: histogram series (_bucket, _sum, _count) fold into their base name,
// recording rules defined in our own rule files are left out (they are derived, not exported), and
// so are the series Prometheus makes itself (`up`, `scrape_*`, `ALERTS`). A system test scrapes the
// live /metrics and checks that each name is there, so a renamed metric breaks a test instead of
// silently blanking a panel or an alert.
//
// The extractor is a small PromQL lexer, not a parser: it drops strings, comments, label matchers,
// range/subquery brackets, grouping clauses and Grafana variables, then keeps the identifiers that
// are neither keywords nor followed by "(" (functions and aggregations). That is enough for the
// queries we write and is unit-tested in metric-names.test.ts.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const monitoringDir = fileURLToPath(new URL('../../k8s/monitoring/', import.meta.url))
export const rulesDir = join(monitoringDir, 'prometheus', 'rules')
export const ruleTestsDir = join(monitoringDir, 'prometheus', 'tests')
export const dashboardsDir = join(monitoringDir, 'grafana', 'dashboards')

/** Exported only while REDIS_URL is set: a scrape of a Redis-less service will not show them. */
export const metricsRequiringRedis: readonly string[] = ['redis_up']

/** Series Prometheus records itself; no service exports them. */
const PROMETHEUS_GENERATED = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
])

/** Binary operators, modifiers and literals that look like identifiers. */
const PROMQL_KEYWORDS = new Set([
  'and', 'or', 'unless', 'atan2', 'bool', 'by', 'without', 'on', 'ignoring',
  'group_left', 'group_right', 'offset', 'inf', 'nan',
])

const HISTOGRAM_SERIES_SUFFIX = /_(bucket|sum|count)$/

/** Metric names read by one PromQL expression (histogram suffixes folded into the base name). */
export function metricNamesInPromQL(expr: string): string[] {
  const names = new Set<string>()
  // {__name__="foo"} names a metric inside a string; pick it up before strings go.
  for (const m of expr.matchAll(/__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g)) names.add(m[1])

  const stripped = expr
    // strings and comments, whichever starts first
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|#[^\n]*/g, ' ')
    // Grafana variables: ${DS}, $route, $__rate_interval
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    // label matchers and ranges / subqueries / offsets in brackets
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    // grouping and vector-matching label lists
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')

  // An identifier starts a token: not preceded by a word character, '.' or ':' (so 1e3, 5m and
  // 0x1f never count), and not followed by '(' (a function or aggregation call).
  for (const m of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w:])(?!\s*\()/g)) {
    const word = m[0]
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue
    names.add(word)
  }
  return [...new Set([...names].map((n) => n.replace(HISTOGRAM_SERIES_SUFFIX, '')))]
}

/**
 * Metric names read by a Grafana Prometheus variable query: `label_values(metric, label)` reads
 * `metric`, `label_values(label)` reads none, `query_result(expr)` reads what `expr` reads.
 */
export function metricNamesInVariableQuery(query: string): string[] {
  const labelValues = /^\s*label_values\s*\((.*)\)\s*$/s.exec(query)
  if (labelValues) {
    const args = labelValues[1]
    const lastComma = args.lastIndexOf(',')
    return lastComma === -1 ? [] : metricNamesInPromQL(args.slice(0, lastComma))
  }
  const queryResult = /^\s*query_result\s*\((.*)\)\s*$/s.exec(query)
  if (queryResult) return metricNamesInPromQL(queryResult[1])
  return [] // label_names(), metrics(regex): no metric read
}

interface Rule {
  record?: string
  alert?: string
  expr: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  for?: string
}

export interface RuleFile {
  path: string
  groups: { name: string; rules: Rule[] }[]
}

export function loadRuleFiles(dir = rulesDir): RuleFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ path: join(dir, f), ...(parse(readFileSync(join(dir, f), 'utf8')) as Omit<RuleFile, 'path'>) }))
}

export function loadDashboards(dir = dashboardsDir): { path: string; dashboard: any }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ path: join(dir, f), dashboard: JSON.parse(readFileSync(join(dir, f), 'utf8')) }))
}

/** Every `expr` anywhere in a dashboard: panel targets (also inside rows) and annotations. */
export function dashboardExpressions(dashboard: unknown): string[] {
  const exprs: string[] = []
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk)
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') exprs.push(value)
        else if (key !== 'templating') walk(value)
      }
    }
  }
  walk(dashboard)
  return exprs
}

/** Query strings of the dashboard's query variables. */
export function dashboardVariableQueries(dashboard: any): string[] {
  const variables: any[] = dashboard?.templating?.list ?? []
  return variables
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : v.query?.query))
    .filter((q): q is string => typeof q === 'string')
}

/** Metric names the dashboards and rules read, sorted; see the file header. */
export function metricNamesUsed(): string[] {
  const ruleFiles = loadRuleFiles()
  const rules = ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules))
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])))

  const names = new Set<string>()
  for (const rule of rules) metricNamesInPromQL(rule.expr).forEach((n) => names.add(n))
  for (const { dashboard } of loadDashboards()) {
    dashboardExpressions(dashboard).flatMap(metricNamesInPromQL).forEach((n) => names.add(n))
    dashboardVariableQueries(dashboard).flatMap(metricNamesInVariableQuery).forEach((n) => names.add(n))
  }
  return [...names].filter((n) => !recorded.has(n) && !PROMETHEUS_GENERATED.has(n)).sort()
}
