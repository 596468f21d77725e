/**
 * The PrometheusRule objects (kustomize base and Helm chart) carry exactly the rules of
 * k8s/monitoring/prometheus/rules/health-tracker.rules.yml. UPDATE_PROMETHEUS_RULES=1 rewrites
 * both copies from that file (like tap's snapshot update) instead of failing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { crdShapeProblems, parseYamlDocuments, type Manifest } from './lib/k8s.js'
import { baseRulePath, chartRulesPath, renderPrometheusRule, rulesSource } from './lib/prometheus-rule.js'

if (!existsSync(rulesSource)) {
  t.fail(`${rulesSource} is missing: the PrometheusRule copies cannot be checked`)
} else {
  const rulesText = readFileSync(rulesSource, 'utf8')
  if (process.env.UPDATE_PROMETHEUS_RULES === '1') {
    writeFileSync(baseRulePath, renderPrometheusRule(rulesText))
    mkdirSync(path.dirname(chartRulesPath), { recursive: true })
    writeFileSync(chartRulesPath, rulesText)
    t.comment('rewrote k8s/base/prometheusrule.yaml and the chart copy of the rules')
  }
  const rules = parse(rulesText) as { groups: unknown[] }

  t.test('the kustomize PrometheusRule embeds the rules file', async (t) => {
    const [rule] = parseYamlDocuments(readFileSync(baseRulePath, 'utf8')) as Manifest[]
    t.same(crdShapeProblems(rule), [], 'valid PrometheusRule shape')
    t.same(rule.spec.groups, rules.groups, 'same groups, rules, expressions, labels and annotations')
    t.equal(readFileSync(baseRulePath, 'utf8'), renderPrometheusRule(rulesText), 'generated text is current')
  })

  t.test('the Helm chart carries a verbatim copy of the rules file', async (t) => {
    t.equal(readFileSync(chartRulesPath, 'utf8'), rulesText)
    const template = readFileSync(path.join(path.dirname(chartRulesPath), '../templates/prometheusrule.yaml'), 'utf8')
    t.match(template, /\.Files\.Get "files\/health-tracker\.rules\.yml"/, 'the template embeds the copy')
  })

  t.test('the comparison notices a changed rule', async (t) => {
    const edited = rulesText.replace(/> \(14\.4 \* 0\.001\)/, '> (15 * 0.001)')
    t.not(edited, rulesText, 'the fixture edit applied')
    const [rule] = parseYamlDocuments(renderPrometheusRule(edited)) as Manifest[]
    t.notSame(rule.spec.groups, rules.groups)
  })
}
