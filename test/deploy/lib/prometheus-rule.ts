/**
 * The alert and recording rules live once, in k8s/monitoring/prometheus/rules (owned by the
 * monitoring side). Prometheus Operator needs them inside a PrometheusRule object and Helm can only
 * read files inside its chart, so two copies are generated from that file, verbatim:
 *   k8s/base/prometheusrule.yaml                      (the rules file indented under `spec:`)
 *   k8s/helm/health-tracker/files/health-tracker.rules.yml  (a byte-for-byte copy)
 * test/deploy/prometheus-rules.test.ts fails when either drifts; regenerate both with
 *   UPDATE_PROMETHEUS_RULES=1 npx tap test/deploy/prometheus-rules.test.ts
 */
import path from 'node:path'
import { repoRoot } from './k8s.js'

export const rulesSource = path.join(repoRoot, 'k8s/monitoring/prometheus/rules/health-tracker.rules.yml')
export const baseRulePath = path.join(repoRoot, 'k8s/base/prometheusrule.yaml')
export const chartRulesPath = path.join(repoRoot, 'k8s/helm/health-tracker/files/health-tracker.rules.yml')

export function renderPrometheusRule(rulesText: string): string {
  const body = rulesText
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `  ${line}`))
    .join('\n')
  return [
    '# GENERATED from k8s/monitoring/prometheus/rules/health-tracker.rules.yml: do not edit here.',
    '# Regenerate: UPDATE_PROMETHEUS_RULES=1 npx tap test/deploy/prometheus-rules.test.ts',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: health-tracker',
    '  labels:',
    '    app.kubernetes.io/name: health-tracker',
    'spec:',
    body,
    ''
  ].join('\n')
}
