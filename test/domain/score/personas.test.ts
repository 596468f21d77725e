import t from 'tap'
import { addDays } from '../../../src/domain/score/dates.js'
import {
  ALGORITHMS,
  LATEST_ALGORITHM_VERSION,
  computeHealthScore,
  getAlgorithm,
  type AlgorithmDefinition,
  type HealthScoreInput,
  type HealthScoreResult,
} from '../../../src/domain/score/index.js'
import { HEALTHY_AVERAGE, PERSONAS, personaNamed } from './helpers/persona-catalog.js'
import { SCORED_DAY, buildPersonaInput, emptyReading } from './helpers/personas.js'

const latest = getAlgorithm(LATEST_ALGORITHM_VERSION) as AlgorithmDefinition
const v1 = getAlgorithm('v1') as AlgorithmDefinition
const v2 = getAlgorithm('v2') as AlgorithmDefinition
const v3 = getAlgorithm('v3') as AlgorithmDefinition
const SEEDS = [1, 2, 3]

const scoreOf = (name: string, seed = 1, algorithm = latest) =>
  computeHealthScore(buildPersonaInput(personaNamed(name), seed), algorithm).score as number

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm.version}: every persona lands in its expected band (60 days of data, seeds 1–3)`, async (t) => {
    t.ok(PERSONAS.length >= 10, 'at least ten personas')
    for (const { spec, expectedBand } of PERSONAS) {
      for (const seed of SEEDS) {
        const result = computeHealthScore(buildPersonaInput(spec, seed), algorithm)
        const where = `${spec.name}, seed ${seed}: score ${result.score}`
        t.equal(result.band, expectedBand, where)
        t.equal(result.state, expectedBand === null ? 'insufficient_data' : 'ok', where)
        if (expectedBand === null) t.equal(result.score, null, where)
      }
    }
  })
}

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm.version}: orderings between personas`, async (t) => {
    for (const seed of SEEDS) {
      const score = (name: string) => scoreOf(name, seed, algorithm)
      t.ok(score('athlete') > score('healthy-average'), `athlete > healthy average (seed ${seed})`)
      t.ok(score('elderly-walker') > score('healthy-average'), `elderly walker meeting the 60+ plateau > healthy average (seed ${seed})`)
      for (const worse of ['sedentary-short-sleeper', 'hypertensive', 'pre-diabetic', 'shift-worker', 'dyslipidemic', 'unwell-this-week']) {
        t.ok(score('healthy-average') > score(worse), `healthy average > ${worse} (seed ${seed})`)
      }
      t.ok(score('hypertensive') > score('sedentary-short-sleeper'), `hypertensive > sedentary short sleeper (seed ${seed})`)
    }
  })
}

t.test('all else equal: one changed factor moves the score the expected way', async (t) => {
  // dyslipidemic and unwell-this-week are healthy-average with only the lipids / the last week changed
  const base = computeHealthScore(buildPersonaInput(HEALTHY_AVERAGE, 1), latest)
  const dyslipidemic = computeHealthScore(buildPersonaInput(personaNamed('dyslipidemic'), 1), latest)
  t.strictSame(dyslipidemic.components.activity, base.components.activity, 'same activity')
  t.ok((dyslipidemic.components.blood?.score as number) < (base.components.blood?.score as number), 'worse blood component')

  const unwell = computeHealthScore(buildPersonaInput(personaNamed('unwell-this-week'), 1), latest)
  const contributor = (name: string) => unwell.components.biometrics?.contributors.find((c) => c.name === name)
  t.ok((contributor('resting_heart_rate')?.score as number) < 100, 'resting heart rate above baseline is penalised')
  t.ok((contributor('hrv')?.score as number) < 100, 'HRV below baseline is penalised')
  t.ok((contributor('resting_heart_rate')?.value as number) > (contributor('resting_heart_rate')?.baseline as number))
})

t.test('the answer explains itself', async (t) => {
  const result = computeHealthScore(buildPersonaInput(HEALTHY_AVERAGE, 1), latest)
  t.equal(result.date, SCORED_DAY)
  t.strictSame(result.window, { from: addDays(SCORED_DAY, -27), to: SCORED_DAY })
  t.equal(result.algorithm_version, LATEST_ALGORITHM_VERSION)
  t.equal(result.confidence, 1, 'every component with full coverage')
  t.strictSame(Object.keys(result.components), ['activity', 'sleep', 'biometrics', 'blood'])
  const weights = Object.values(result.components).map((c) => c.weight)
  t.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 0.005, 'effective weights sum to 1')
  for (const component of Object.values(result.components)) {
    for (const c of component.contributors) {
      t.ok(c.name.length > 0 && c.unit.length > 0 && c.source.length > 0, `${c.name} has a name, unit and source`)
      t.ok(typeof c.target === 'string' && c.target.length > 0, `${c.name} states its target`)
    }
  }
  const rhr = result.components.biometrics?.contributors.find((c) => c.name === 'resting_heart_rate')
  t.type(rhr?.baseline, 'number', 'baseline contributors report the baseline')
  const stalePanelIgnored = result.components.blood?.contributors.find((c) => c.name === 'ldl_cholesterol')
  t.equal(stalePanelIgnored?.value, 134, 'the 400-day-old panel is ignored; the 90-day-old one is used')
})

t.test('a new user with 3 days gets insufficient_data with low confidence, never a made-up number', async (t) => {
  const result = computeHealthScore(buildPersonaInput(personaNamed('new-user-3-days'), 1), latest)
  t.equal(result.score, null)
  t.equal(result.band, null)
  t.equal(result.state, 'insufficient_data')
  t.ok(result.confidence < 0.2, `confidence ${result.confidence}`)
  t.notOk(result.components.activity, '3 days of activity are below the 4-day minimum')
  t.notOk(result.components.sleep)
})

t.test('a user with only a blood panel gets the blood component but no total', async (t) => {
  const result = computeHealthScore(buildPersonaInput(personaNamed('no-wearable-blood-only'), 1), latest)
  t.equal(result.state, 'insufficient_data')
  t.equal(result.score, null)
  t.strictSame(Object.keys(result.components), ['blood'])
  t.equal(result.confidence, 0.25)
})

t.test('a faulty device spike', async (t) => {
  const base = buildPersonaInput(HEALTHY_AVERAGE, 1)
  const baseline = computeHealthScore(base, latest)
  const spike = {
    ...emptyReading(`${addDays(SCORED_DAY, -1)}T03:12:00.000Z`),
    resting_heart_rate_bpm: 150,
    hrv_rmssd_ms: 3,
    systolic_mmhg: 230,
    diastolic_mmhg: 135,
    spo2_pct: 70,
    heart_rate_bpm: 240,
  }

  t.test('marked suspect: nothing changes but the exclusion count', async (t) => {
    const input: HealthScoreInput = { ...base, biometrics: [...base.biometrics, { ...spike, quality: 'suspect' }] }
    const result = computeHealthScore(input, latest)
    t.strictSame({ ...result, excluded_readings: 0 }, baseline)
    t.equal(result.excluded_readings, 1)
  })

  t.test('accepted as ok: the robust aggregation keeps the score within one point', async (t) => {
    for (const seed of SEEDS) {
      const seeded = buildPersonaInput(HEALTHY_AVERAGE, seed)
      const before = computeHealthScore(seeded, latest)
      const after = computeHealthScore({ ...seeded, biometrics: [...seeded.biometrics, spike] }, latest)
      t.ok(Math.abs((after.score as number) - (before.score as number)) <= 1, `seed ${seed}: ${before.score} → ${after.score}`)
      t.equal(after.band, before.band)
    }
  })
})

t.test('v1 and v2 give different answers, so a rollback is observable', async (t) => {
  let differing = 0
  for (const { spec, expectedBand } of PERSONAS) {
    if (expectedBand === null) continue
    const input = buildPersonaInput(spec, 1)
    const first = computeHealthScore(input, v1)
    const second = computeHealthScore(input, v2)
    t.equal(first.algorithm_version, 'v1')
    t.equal(second.algorithm_version, 'v2')
    const v1Names = first.components.biometrics?.contributors.map((c) => c.name) ?? []
    const v2Names = second.components.biometrics?.contributors.map((c) => c.name) ?? []
    t.notOk(v1Names.includes('resting_heart_rate_level'), `${spec.name}: v1 has no absolute RHR contributor`)
    t.ok(v2Names.includes('resting_heart_rate_level'), `${spec.name}: v2 adds it`)
    if (first.score !== second.score) differing++
  }
  t.ok(differing >= 3, `${differing} personas score differently under v1 and v2`)
  t.ok(scoreOf('sedentary-short-sleeper', 1, v2) < scoreOf('sedentary-short-sleeper', 1, v1), 'a high resting heart rate costs more in v2')
})

t.test('v2 and v3 give different answers, so a rollback is observable', async (t) => {
  let differing = 0
  for (const { spec, expectedBand } of PERSONAS) {
    if (expectedBand === null) continue
    const input = buildPersonaInput(spec, 1)
    const second = computeHealthScore(input, v2)
    const third = computeHealthScore(input, v3)
    t.equal(third.algorithm_version, 'v3')
    t.strictSame(third.components.biometrics, second.components.biometrics, `${spec.name}: same biometrics`)
    t.strictSame(third.components.blood, second.components.blood, `${spec.name}: same blood`)
    if (spec.activity !== null) {
      const steps = (r: HealthScoreResult) => r.components.activity?.contributors.find((c) => c.name === 'steps')?.value
      t.not(steps(third), steps(second), `${spec.name}: steps averaged over 28 days, not 7`)
    }
    if (second.score !== third.score) differing++
  }
  t.ok(differing >= 3, `${differing} personas score differently under v2 and v3`)
})

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm.version}: passing 60 days or only the windowed data gives the same answer`, async (t) => {
    const levelDays = Math.max(algorithm.windows.activityDays, algorithm.windows.dailyLevelDays ?? 0)
    for (const { spec } of PERSONAS) {
      const full = buildPersonaInput(spec, 2)
      const windowed: HealthScoreInput = {
        ...full,
        activity: full.activity.filter((d) => d.date >= addDays(SCORED_DAY, -(levelDays - 1))),
        sleep: full.sleep.filter((n) => n.date >= addDays(SCORED_DAY, -(levelDays - 1))),
        biometrics: full.biometrics.filter((r) => r.recorded >= `${addDays(SCORED_DAY, -27)}T00:00:00Z`),
        blood: full.blood.filter((p) => p.test_date >= addDays(SCORED_DAY, -365)),
      }
      t.strictSame(computeHealthScore(windowed, algorithm), computeHealthScore(full, algorithm), spec.name)
    }
  })
}
