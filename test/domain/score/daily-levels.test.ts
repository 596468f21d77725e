/**
 * v3's aggregation of activity and sleep days (docs/health-score.md, "Activity and sleep levels"):
 * levels over 28 days, regularity as the mean of four weekly values, the current week still
 * deciding the minimum and the coverage. The generic properties (≤ 1 point per day, extreme days)
 * live in properties.test.ts.
 */
import t from 'tap'
import { addDays } from '../../../src/domain/score/dates.js'
import { winsorizedMean } from '../../../src/domain/score/robust-stats.js'
import { computeHealthScore, getAlgorithm, type AlgorithmDefinition, type HealthScoreInput, type HealthScoreResult } from '../../../src/domain/score/index.js'
import { applyDailyRecordChange, type DailyRecordChange } from './helpers/arbitraries.js'
import { HEALTHY_AVERAGE, personaNamed } from './helpers/persona-catalog.js'
import { SCORED_DAY, buildPersonaInput } from './helpers/personas.js'

const v2 = getAlgorithm('v2') as AlgorithmDefinition
const v3 = getAlgorithm('v3') as AlgorithmDefinition

const contributor = (result: HealthScoreResult, name: string) =>
  [...(result.components.activity?.contributors ?? []), ...(result.components.sleep?.contributors ?? [])].find((c) => c.name === name)
const within = (input: HealthScoreInput, days: number): HealthScoreInput => ({
  ...input,
  activity: input.activity.filter((d) => d.date >= addDays(SCORED_DAY, -(days - 1))),
  sleep: input.sleep.filter((n) => n.date >= addDays(SCORED_DAY, -(days - 1))),
})

t.test('the corrupted days that move v2 by 2 points move v3 by at most 1 (why v3 exists)', async (t) => {
  const cases: { persona: string; seed: number; change: DailyRecordChange; v2: number }[] = [
    // a night synced as 0 minutes (watch not worn)
    { persona: 'hypertensive', seed: 3, change: { stream: 'sleep', mode: 'replace', date: addDays(SCORED_DAY, -1), field: 'total_sleep_minutes', value: 0 }, v2: -2 },
    // a stuck sensor reporting the whole day as vigorous
    { persona: 'pre-diabetic', seed: 3, change: { stream: 'activity', mode: 'replace', date: SCORED_DAY, field: 'vigorous_minutes', value: 1440 }, v2: 2 },
    { persona: 'healthy-average', seed: 1, change: { stream: 'activity', mode: 'replace', date: SCORED_DAY, field: 'vigorous_minutes', value: 1440 }, v2: 2 },
  ]
  for (const { persona, seed, change, v2: expected } of cases) {
    const input = buildPersonaInput(personaNamed(persona), seed)
    const moved = (algorithm: AlgorithmDefinition) =>
      (computeHealthScore(applyDailyRecordChange(input, change), algorithm).score as number) - (computeHealthScore(input, algorithm).score as number)
    t.equal(moved(v2), expected, `${persona}, seed ${seed}, ${change.field} = ${change.value}: v2 moves ${expected}`)
    t.ok(Math.abs(moved(v3)) <= 1, `v3 moves ${moved(v3)}`)
  }
})

t.test('v3 levels are 1-winsorized means over the last 28 days', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const result = computeHealthScore(input, v3)
  const last28 = <T extends { date: string }>(items: T[]) => items.filter((d) => d.date >= addDays(SCORED_DAY, -27))
  const steps = last28(input.activity).map((d) => d.steps as number)
  t.equal(steps.length, 28)
  t.equal(contributor(result, 'steps')?.value, Math.round(winsorizedMean(steps)))
  const minutes = last28(input.activity).map((d) => (d.moderate_minutes as number) + 2 * (d.vigorous_minutes as number))
  t.equal(contributor(result, 'moderate_vigorous_minutes')?.value, Math.round(7 * winsorizedMean(minutes)), 'weekly minutes = 7 × the daily level')
  const hours = last28(input.sleep).map((n) => (n.total_sleep_minutes as number) / 60)
  t.equal(contributor(result, 'sleep_duration')?.value, Math.round(winsorizedMean(hours) * 100) / 100)
})

t.test('v3 regularity is the mean of the weekly regularity of the last four weeks', async (t) => {
  for (const name of ['shift-worker', 'sedentary-short-sleeper', 'healthy-average']) {
    const input = buildPersonaInput(personaNamed(name), 2)
    const weekly = [0, 7, 14, 21].map((back) => contributor(computeHealthScore({ ...input, date: addDays(SCORED_DAY, -back) }, v2), 'sleep_regularity')?.value as number)
    const mean = weekly.reduce((a, b) => a + b, 0) / weekly.length
    const value = contributor(computeHealthScore(input, v3), 'sleep_regularity')?.value as number
    t.ok(Math.abs(value - mean) <= 1, `${name}: ${value} min vs the weekly values ${weekly.join(', ')} (rounded)`)
  }
})

t.test('given only the current week, v3 scores exactly like v2', async (t) => {
  // What a caller that still loads 7 days of activity and sleep gets: v2's answer under v3's name.
  for (const name of ['athlete', 'healthy-average', 'shift-worker', 'sedentary-short-sleeper']) {
    const input = within(buildPersonaInput(personaNamed(name), 1), 7)
    t.strictSame({ ...computeHealthScore(input, v3), algorithm_version: 'v2' }, computeHealthScore(input, v2), name)
  }
})

t.test('the current week decides whether activity and sleep are scored, and the coverage', async (t) => {
  const input = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const gap = (days: number): HealthScoreInput => ({
    ...input,
    activity: input.activity.filter((d) => d.date < addDays(SCORED_DAY, -6) || d.date >= addDays(SCORED_DAY, -(days - 1))),
    sleep: input.sleep.filter((n) => n.date < addDays(SCORED_DAY, -6) || n.date >= addDays(SCORED_DAY, -(days - 1))),
  })
  for (const algorithm of [v2, v3]) {
    const three = computeHealthScore(gap(3), algorithm)
    t.notOk(three.components.activity, `${algorithm.version}: 3 days this week (and 21 before) are not enough`)
    t.notOk(three.components.sleep)
    t.ok(computeHealthScore(gap(4), algorithm).components.activity, `${algorithm.version}: 4 days this week are`)
  }
  t.equal(computeHealthScore(gap(4), v3).confidence, computeHealthScore(gap(4), v2).confidence, 'same confidence: coverage is the current week’s')
})

t.test('a once-a-week exerciser is credited (v2 under-credits them)', async (t) => {
  const base = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const weekly: HealthScoreInput = {
    ...base,
    activity: base.activity.map((d, i, all) => {
      const sessionDay = (all.length - 1 - i) % 7 === 3 // one 150-minute session each week
      return { ...d, moderate_minutes: sessionDay ? 150 : 0, vigorous_minutes: 0, active_minutes: sessionDay ? 150 : 0 }
    }),
  }
  t.equal(contributor(computeHealthScore(weekly, v2), 'moderate_vigorous_minutes')?.value, 0, 'v2: the week’s one session is winsorized away')
  t.equal(contributor(computeHealthScore(weekly, v3), 'moderate_vigorous_minutes')?.value, 150, 'v3: four sessions in 28 days are 150 min/week')
  t.equal(contributor(computeHealthScore(weekly, v3), 'moderate_vigorous_minutes')?.score, 80, 'WHO minimum met')
})

t.test('the trade-off: a change of habits shows over four weeks, not one', async (t) => {
  const base = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const lazyWeek: HealthScoreInput = {
    ...base,
    activity: base.activity.map((d) => (d.date >= addDays(SCORED_DAY, -6) ? { ...d, steps: 1500 } : d)),
  }
  const steps = (algorithm: AlgorithmDefinition) => contributor(computeHealthScore(lazyWeek, algorithm), 'steps')?.value as number
  t.equal(steps(v2), 1500, 'v2 reflects this week only')
  t.ok(steps(v3) > 4000 && steps(v3) < 5000, `v3 averages it with the three weeks before: ${steps(v3)} steps/day`)
  t.ok((computeHealthScore(lazyWeek, v3).score as number) > (computeHealthScore(lazyWeek, v2).score as number), 'so v3 scores such a week higher')
})
