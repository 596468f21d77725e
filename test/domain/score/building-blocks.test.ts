import t from 'tap'
import { assembleComponent } from '../../../src/domain/score/component-assembly.js'
import * as curves from '../../../src/domain/score/curves.js'
import { scoreOnCurve, type ScoringCurve } from '../../../src/domain/score/curves.js'
import { addDays, ageInYears, localDayOf, parseIsoDay, subtractMonths } from '../../../src/domain/score/dates.js'
import { collapseDuplicateDays, median, winsorizedMean } from '../../../src/domain/score/robust-stats.js'
import { circularDistance, circularMedoid, sleepMidpointMinuteOfDay, stageShare } from '../../../src/domain/score/sleep.js'
import { moderateEquivalentMinutes } from '../../../src/domain/score/activity.js'

const allCurves = Object.entries(curves).filter((entry): entry is [string, ScoringCurve] => typeof entry[1] === 'object' && 'points' in (entry[1] as object))

t.test('curves: ascending x, scores within 0–100, cited, with a target', async (t) => {
  t.ok(allCurves.length >= 18)
  for (const [name, curve] of allCurves) {
    const xs = curve.points.map(([x]) => x)
    t.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]), `${name}: x ascending`)
    t.ok(curve.points.every(([, y]) => y >= 0 && y <= 100), `${name}: scores in 0–100`)
    t.ok(curve.source.length > 5 && curve.target.length > 2, `${name}: source and target`)
    t.ok(curve.points.some(([, y]) => y === 100), `${name}: reaches 100 at the target`)
  }
})

t.test('curves that must be monotone are', async (t) => {
  const nonIncreasing = ['SYSTOLIC_BLOOD_PRESSURE_CURVE', 'DIASTOLIC_BLOOD_PRESSURE_CURVE', 'LDL_CURVE', 'TRIGLYCERIDES_CURVE', 'TOTAL_CHOLESTEROL_CURVE', 'HBA1C_CURVE', 'RESTING_HEART_RATE_LEVEL_CURVE', 'SLEEP_REGULARITY_CURVE']
  const nonDecreasing = ['WEEKLY_ACTIVE_MINUTES_CURVE', 'STEPS_CURVE_UNDER_60', 'STEPS_CURVE_60_AND_OVER', 'HDL_CURVE', 'SPO2_CURVE', 'HRV_DEVIATION_CURVE', 'DEEP_SLEEP_SHARE_CURVE', 'REM_SLEEP_SHARE_CURVE']
  for (const [name, curve] of allCurves) {
    const ys = curve.points.map(([, y]) => y)
    if (nonIncreasing.includes(name)) t.ok(ys.every((y, i) => i === 0 || y <= ys[i - 1]), `${name} never rises`)
    if (nonDecreasing.includes(name)) t.ok(ys.every((y, i) => i === 0 || y >= ys[i - 1]), `${name} never falls`)
  }
})

t.test('scoreOnCurve interpolates and holds the ends', async (t) => {
  const curve: ScoringCurve = { points: [[0, 0], [10, 100]], target: 't', source: 's' }
  t.equal(scoreOnCurve(curve, -5), 0)
  t.equal(scoreOnCurve(curve, 2.5), 25)
  t.equal(scoreOnCurve(curve, 99), 100)
  t.equal(scoreOnCurve(curves.SYSTOLIC_BLOOD_PRESSURE_CURVE, 118), 100, 'normal blood pressure is full credit')
  t.equal(scoreOnCurve(curves.SLEEP_DURATION_CURVE, 8), 100, '8 h is full credit')
  t.equal(scoreOnCurve(curves.WEEKLY_ACTIVE_MINUTES_CURVE, 150), 80, 'meeting the WHO minimum')
})

t.test('robust statistics', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.throws(() => median([]), RangeError)
  t.equal(winsorizedMean([1, 2, 3, 4, 1000]), 3, 'the extremes count as their neighbours')
  t.equal(winsorizedMean([1000, 4, 3, 2, 1]), 3, 'order does not matter')
  t.equal(winsorizedMean([5, 7]), 6, 'fewer than three values: plain mean')
  const byDay = new Map([
    ['2026-03-02', [10]],
    ['2026-03-01', [12]],
    ['2026-03-03', [11, 500]],
  ])
  t.strictSame(collapseDuplicateDays(byDay), [12, 10, 11.5], 'a duplicate is pulled toward the window median, days in date order')
})

t.test('dates', async (t) => {
  t.equal(parseIsoDay('2026-02-29'), null, 'not a leap year')
  t.type(parseIsoDay('2024-02-29'), 'number')
  t.equal(addDays('2026-03-01', -1), '2026-02-28')
  t.equal(subtractMonths('2026-03-31', 1), '2026-02-28', 'clamped to the end of a shorter month')
  t.equal(subtractMonths('2026-03-31', 12), '2025-03-31')
  t.equal(ageInYears('1966-04-01', '2026-03-31'), 59)
  t.equal(ageInYears('1966-03-31', '2026-03-31'), 60)
  t.equal(ageInYears('2030-01-01', '2026-03-31'), null, 'born after the scored day')
  t.equal(localDayOf(Date.parse('2026-04-01T03:00:00Z'), 'America/New_York'), '2026-03-31')
  t.equal(localDayOf(Date.parse('2026-03-31T20:00:00Z'), 'Asia/Tokyo'), '2026-04-01')
  t.equal(localDayOf(0, 'Not/AZone'), null)
})

t.test('sleep helpers', async (t) => {
  t.equal(circularDistance(1430, 10), 20, 'across midnight the short way')
  t.equal(circularMedoid([1430, 10, 20, 700]), 10, 'the medoid of clock times near midnight')
  const night = { date: '2026-03-31', sleep_start: '2026-03-30T23:00:00Z', sleep_end: '2026-03-31T07:00:00Z', total_sleep_minutes: 450, deep_minutes: 60, rem_minutes: 90, light_minutes: 300, awake_minutes: 30, quality: 'ok' as const }
  t.equal(sleepMidpointMinuteOfDay(night), 180, 'midpoint 03:00 UTC')
  t.equal(sleepMidpointMinuteOfDay({ ...night, sleep_end: night.sleep_start }), null, 'end must be after start')
  t.equal(stageShare(night, 'deep'), 60 / 450)
  t.equal(stageShare({ ...night, light_minutes: null }, 'rem'), null, 'shares need all three stages')
})

t.test('activity helpers', async (t) => {
  const day = { date: '2026-03-31', steps: 0, active_minutes: 45, moderate_minutes: 20, vigorous_minutes: 10, distance_m: null, calories_kcal: null, quality: 'ok' as const }
  t.equal(moderateEquivalentMinutes(day), 40, 'moderate + 2 × vigorous')
  t.equal(moderateEquivalentMinutes({ ...day, moderate_minutes: null, vigorous_minutes: null }), 45, 'falls back to active minutes')
  t.equal(moderateEquivalentMinutes({ ...day, moderate_minutes: null, vigorous_minutes: null, active_minutes: -3 }), null, 'negative is not data')
})

t.test('component assembly renormalizes over the contributors present', async (t) => {
  const contributor = (name: string, score: number) => ({ name, value: 1, unit: 'u', score, source: 's' })
  const component = assembleComponent([contributor('a', 100), null, contributor('c', 40)], { a: 0.5, b: 0.25, c: 0.25 }, 0.5)
  t.equal(component?.score, 80, '(0.5 × 100 + 0.25 × 40) / 0.75')
  t.equal(component?.contributorShare, 0.75)
  t.equal(component?.dataCoverage, 0.5)
  t.equal(assembleComponent([contributor('z', 50)], { a: 1 }, 1), null, 'a contributor without weight does not count')
  t.equal(assembleComponent([null], { a: 1 }, 1), null)
})

t.test('localDayOf (cached by quarter-hour slot) equals a fresh Intl formatting, around midnights and DST changes', (t) => {
  const fresh = (ms: number, timeZone: string) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]))
    return `${parts.year}-${parts.month}-${parts.day}`
  }
  // Monrovia kept -0:44:30 until 1972: its midnights fall inside a slot. Zones with DST at midnight (Havana, Santiago), half and quarter hours (Kolkata, Kathmandu,
  // Chatham), a day skipped at the date line (Apia 2011-12-30) and ordinary ones
  const zones = ['UTC', 'America/New_York', 'America/Havana', 'America/Santiago', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'Pacific/Apia', 'Europe/Amsterdam', 'Australia/Lord_Howe', 'Africa/Monrovia']
  const starts = ['2011-12-29T00:00:00Z', '2026-03-08T00:00:00Z', '2026-04-05T00:00:00Z', '2026-09-06T00:00:00Z', '2026-10-25T00:00:00Z', '2026-11-01T00:00:00Z', '1937-06-30T00:00:00Z', '1971-06-01T00:00:00Z']
  let checked = 0
  let mismatches = 0
  for (const zone of zones) {
    for (const start of starts) {
      // every 7 minutes 13 seconds over three days: crosses every slot boundary at varying phases
      for (let ms = Date.parse(start); ms < Date.parse(start) + 3 * 86_400_000; ms += 433_000) {
        const probes = [ms, ms + 1]
        if (fresh(ms, zone) !== fresh(ms + 433_000, zone)) {
          // a local midnight lies in between: find its exact millisecond and probe right around it
          let lo = ms
          let hi = ms + 433_000
          while (hi - lo > 1) {
            const mid = Math.floor((lo + hi) / 2)
            if (fresh(mid, zone) === fresh(ms, zone)) lo = mid
            else hi = mid
          }
          probes.push(lo - 1000, lo, hi, hi + 1000)
        }
        for (const p of probes) {
          checked++
          if (localDayOf(p, zone) !== fresh(p, zone)) mismatches++
        }
      }
    }
  }
  t.equal(mismatches, 0, `${checked} instants in ${zones.length} zones`)
  t.end()
})
