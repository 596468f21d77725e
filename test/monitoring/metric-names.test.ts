import t from 'tap'
import {
  metricNamesInPromQL,
  metricNamesInVariableQuery,
  metricNamesUsed,
  dashboardExpressions,
  metricsRequiringRedis,
} from './metric-names.js'

const names = (expr: string) => metricNamesInPromQL(expr).sort()

t.test('plain selectors and label matchers', async (t) => {
  t.same(names('up'), ['up'])
  t.same(names('redis_up{role="cache"} == 0'), ['redis_up'])
  // label names and values (even ones that look like metrics or contain braces) are not metrics
  t.same(names('db_pool_connections{state="waiting", pool=~"writer|reader", x="a}b"}'), ['db_pool_connections'])
  t.same(names('{__name__="cache_requests_total", result="hit"}'), ['cache_requests_total'])
})

t.test('histogram series fold into the base name', async (t) => {
  t.same(
    names('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="a"}[5m])))'),
    ['http_request_duration_seconds'],
  )
  t.same(
    names('rate(db_query_duration_seconds_sum[5m]) / rate(db_query_duration_seconds_count[5m])'),
    ['db_query_duration_seconds'],
  )
  t.same(names('score_jobs_total'), ['score_jobs_total'], '_total is a counter, not a histogram suffix')
})

t.test('functions, aggregations, keywords and grouping labels are not metrics', async (t) => {
  t.same(
    names(`
      sum without (instance, pod) (rate(score_jobs_total{result="failed"}[15m]))
      / ignoring (result) group_left (job)
      sum by (job) (rate(score_jobs_total[15m])) > bool 0.05
      and on (job) absent(up{job="x"} == 1)
      unless count_values("v", process_start_time_seconds) offset 1h
    `),
    ['process_start_time_seconds', 'score_jobs_total', 'up'],
  )
  t.same(names('sum(rate(cache_requests_total[5m])) by (result)'), ['cache_requests_total'], 'trailing by clause')
  t.same(names('topk(5, max_over_time(score_queue_depth[1h:1m]))'), ['score_queue_depth'], 'subquery')
  t.same(names('atan2 and Inf or NaN'), [], 'keywords and literals')
})

t.test('numbers, durations, strings, comments and Grafana variables are not metrics', async (t) => {
  t.same(names('1e3 * 0x1f + 5 > 14.4 * 0.001'), [])
  t.same(names('changes(process_start_time_seconds[30m] offset 5m) >= 2'), ['process_start_time_seconds'])
  t.same(names('label_replace(redis_up, "dst", "$1 foo_bar", "instance", "(.*)")'), ['redis_up'])
  t.same(names('# a comment naming fake_metric\nhttp_requests_in_flight'), ['http_requests_in_flight'])
  t.same(
    names('sum(rate(http_request_duration_seconds_count{route=~"$route"}[$__rate_interval])) * ${factor} + $offset'),
    ['http_request_duration_seconds'],
  )
})

t.test('recording rule names are kept by the expression extractor', async (t) => {
  // metricNamesUsed drops the ones our rules define; the PromQL extractor itself does not know them.
  t.same(names('job:http_request_errors:ratio_rate1h / 0.001'), ['job:http_request_errors:ratio_rate1h'])
})

t.test('Grafana variable queries', async (t) => {
  t.same(metricNamesInVariableQuery('label_values(http_request_duration_seconds_count{job="a"}, route)'), ['http_request_duration_seconds'])
  t.same(metricNamesInVariableQuery('label_values(route)'), [], 'label only')
  t.same(metricNamesInVariableQuery('label_names()'), [])
  t.same(metricNamesInVariableQuery('metrics(http_.*)'), [])
  t.same(metricNamesInVariableQuery('query_result(topk(3, sum by (source) (ingest_records_total)))'), ['ingest_records_total'])
})

t.test('dashboard expressions are found in rows and annotations, not in variables', async (t) => {
  const dashboard = {
    annotations: { list: [{ expr: 'changes(process_start_time_seconds[2m]) > 0' }] },
    templating: { list: [{ type: 'query', query: 'label_values(x, y)', expr: 'not_a_panel_query' }] },
    panels: [{ type: 'row', panels: [{ targets: [{ expr: 'score_queue_depth' }] }] }, { targets: [{ expr: 'redis_up' }] }],
  }
  t.same(dashboardExpressions(dashboard).sort(), ['changes(process_start_time_seconds[2m]) > 0', 'redis_up', 'score_queue_depth'])
})

t.test('metricNamesUsed on the shipped dashboard and rules', async (t) => {
  const used = metricNamesUsed()
  t.same(used, [...used].sort(), 'sorted')
  t.same(used, [...new Set(used)], 'no duplicates')
  for (const name of ['http_request_duration_seconds', 'ingest_records_total', 'process_start_time_seconds', 'nodejs_eventloop_lag_p99_seconds'])
    t.ok(used.includes(name), `${name} is used`)
  t.notOk(used.includes('up'), 'Prometheus-generated series are left out')
  t.notOk(used.some((n) => n.includes(':')), 'our recording rules are left out')
  t.notOk(used.some((n) => /_(bucket|sum|count)$/.test(n)), 'histogram series are folded')
  t.notOk(used.some((n) => ['route', 'le', 'job', 'result', 'source', 'pool', 'sum', 'rate'].includes(n)), 'no labels or functions')
  for (const name of metricsRequiringRedis) t.ok(used.includes(name), `${name} (Redis-only) is used`)
})
