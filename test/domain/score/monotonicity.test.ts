import fc from 'fast-check'
import t from 'tap'
import { ALGORITHMS, computeHealthScore, type AlgorithmDefinition, type HealthScoreInput } from '../../../src/domain/score/index.js'
import { SCORED_PERSONAS, dayInLastFourWeeks, dayInLastWeek, personaInput } from './helpers/arbitraries.js'
import { buildPersonaInput } from './helpers/personas.js'

/**
 * "All else equal" orderings: change one measurement in the direction a guideline calls better and
 * check that neither its component nor the total goes down.
 */
const RUNS = { numRuns: 50 }

/** One night or day of the current week, one of the 28-day window (v3 levels), or all of them. */
const oneOrAllDays = fc.oneof(dayInLastWeek, dayInLastFourWeeks, fc.constant('all' as const))

function scores(input: HealthScoreInput, algorithm: AlgorithmDefinition, component: 'activity' | 'sleep' | 'biometrics' | 'blood') {
  const result = computeHealthScore(input, algorithm)
  return { component: result.components[component]?.score ?? null, total: result.score }
}

/** Asserts b is at least as good as a, component and total. */
function notWorse(a: ReturnType<typeof scores>, b: ReturnType<typeof scores>, what: string): void {
  if (a.component === null || b.component === null) throw new Error(`${what}: component missing`)
  if (b.component < a.component) throw new Error(`${what}: component ${a.component} → ${b.component}`)
  if (a.total !== null && b.total !== null && b.total < a.total) throw new Error(`${what}: total ${a.total} → ${b.total}`)
}

const withSleepMinutes = (input: HealthScoreInput, date: string | 'all', minutes: number): HealthScoreInput => ({
  ...input,
  sleep: input.sleep.map((n) => (date === 'all' || n.date === date ? { ...n, total_sleep_minutes: minutes } : n)),
})

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm.version}: more sleep toward 7–9 h never lowers the sleep component`, async (t) => {
    const nights = oneOrAllDays
    fc.assert(
      fc.property(personaInput(SCORED_PERSONAS.filter((p) => p.spec.sleep !== null)), nights, fc.integer({ min: 0, max: 540 }), fc.integer({ min: 0, max: 540 }), ({ input }, date, a, b) => {
        const [less, more] = a <= b ? [a, b] : [b, a]
        notWorse(scores(withSleepMinutes(input, date, less), algorithm, 'sleep'), scores(withSleepMinutes(input, date, more), algorithm, 'sleep'), `${less} → ${more} min`)
      }),
      RUNS,
    )
    fc.assert(
      fc.property(personaInput(SCORED_PERSONAS.filter((p) => p.spec.sleep !== null)), nights, fc.integer({ min: 540, max: 1200 }), fc.integer({ min: 540, max: 1200 }), ({ input }, date, a, b) => {
        const [closer, farther] = a <= b ? [a, b] : [b, a]
        notWorse(scores(withSleepMinutes(input, date, farther), algorithm, 'sleep'), scores(withSleepMinutes(input, date, closer), algorithm, 'sleep'), `${farther} → ${closer} min`)
      }),
      RUNS,
    )
    t.pass('held below 7 h and above 9 h')
  })

  t.test(`${algorithm.version}: higher blood pressure never raises the biometrics component`, async (t) => {
    const withPressure = SCORED_PERSONAS.filter((p) => p.spec.biometrics?.bloodPressure !== undefined)
    const bp = fc.record({ field: fc.constantFrom('systolic_mmhg' as const, 'diastolic_mmhg' as const), index: fc.nat(), rise: fc.integer({ min: 1, max: 80 }), all: fc.boolean() })
    fc.assert(
      fc.property(personaInput(withPressure), bp, ({ input }, { field, index, rise, all }) => {
        const readings = input.biometrics.filter((r) => r[field] !== null)
        const target = readings[index % readings.length]
        const higher: HealthScoreInput = {
          ...input,
          biometrics: input.biometrics.map((r) => (r[field] !== null && (all || r === target) ? { ...r, [field]: (r[field] as number) + rise } : r)),
        }
        notWorse(scores(higher, algorithm, 'biometrics'), scores(input, algorithm, 'biometrics'), `${field} +${rise}`)
      }),
      RUNS,
    )
    t.pass('held for one reading and for all readings')
  })

  t.test(`${algorithm.version}: more steps (up to the plateau and beyond) never lower the activity component`, async (t) => {
    fc.assert(
      fc.property(personaInput(SCORED_PERSONAS.filter((p) => p.spec.activity !== null)), oneOrAllDays, fc.integer({ min: 1, max: 12_000 }), ({ input }, date, extra) => {
        const more: HealthScoreInput = {
          ...input,
          activity: input.activity.map((d) => (date === 'all' || d.date === date ? { ...d, steps: (d.steps as number) + extra } : d)),
        }
        notWorse(scores(input, algorithm, 'activity'), scores(more, algorithm, 'activity'), `+${extra} steps`)
      }),
      RUNS,
    )
    t.pass('held')
  })

  t.test(`${algorithm.version}: higher LDL never raises the blood component`, async (t) => {
    fc.assert(
      fc.property(personaInput(SCORED_PERSONAS.filter((p) => p.spec.blood?.ldl !== undefined)), fc.integer({ min: 30, max: 300 }), fc.integer({ min: 30, max: 300 }), ({ input }, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a]
        const withLdl = (value: number): HealthScoreInput => ({
          ...input,
          blood: input.blood.map((p) => ({ ...p, results: p.results.map((r) => (r.marker === 'ldl' ? { ...r, value } : r)) })),
        })
        notWorse(scores(withLdl(high), algorithm, 'blood'), scores(withLdl(low), algorithm, 'blood'), `LDL ${low} → ${high}`)
      }),
      RUNS,
    )
    t.pass('held')
  })
}

t.test('the orderings hold on a worked example too', async (t) => {
  const [persona] = SCORED_PERSONAS.filter((p) => p.spec.name === 'healthy-average')
  const input = buildPersonaInput(persona.spec, 1)
  const sleepAt = (hours: number) => computeHealthScore(withSleepMinutes(input, 'all', hours * 60), ALGORITHMS[ALGORITHMS.length - 1]).components.sleep?.score as number
  t.ok(sleepAt(5) < sleepAt(6) && sleepAt(6) < sleepAt(7), '5 h < 6 h < 7 h')
  t.equal(sleepAt(7), sleepAt(9), 'flat across 7–9 h')
  t.ok(sleepAt(11) < sleepAt(9), 'long sleep scores lower than 9 h')
})
