import t from 'tap'
import { isIsoDay } from '../../../src/domain/score/dates.js'
import { ALGORITHMS, LATEST_ALGORITHM_VERSION, getAlgorithm, type AlgorithmDefinition } from '../../../src/domain/score/index.js'

const sum = (weights: Readonly<Record<string, number | undefined>>) => Object.values(weights).reduce<number>((a, w) => a + (w ?? 0), 0)

t.test('the registry', async (t) => {
  t.ok(ALGORITHMS.length >= 2, 'at least two versions')
  t.strictSame(
    ALGORITHMS.map((a) => a.version),
    [...new Set(ALGORITHMS.map((a) => a.version))],
    'versions are unique',
  )
  t.equal(LATEST_ALGORITHM_VERSION, ALGORITHMS[ALGORITHMS.length - 1].version, 'the latest is the last one')
  t.equal(getAlgorithm('v1')?.version, 'v1')
  t.equal(getAlgorithm('v2')?.version, 'v2')
  t.equal(getAlgorithm('v3')?.version, 'v3')
  t.equal(getAlgorithm('v0'), undefined)
  t.equal(getAlgorithm(''), undefined)
})

t.test('every version is documented and consistent', async (t) => {
  let previousRelease = ''
  for (const algorithm of ALGORITHMS) {
    t.ok(isIsoDay(algorithm.released), `${algorithm.version} released on a calendar day`)
    t.ok(algorithm.released >= previousRelease, `${algorithm.version} released after its predecessor`)
    previousRelease = algorithm.released
    t.ok(algorithm.changelog.length > 40, `${algorithm.version} has a changelog entry`)
    t.ok(Math.abs(sum(algorithm.componentWeights) - 1) < 1e-9, `${algorithm.version} component weights sum to 1`)
    for (const [component, weights] of Object.entries(algorithm.contributorWeights)) {
      t.ok(Math.abs(sum(weights) - 1) < 1e-9, `${algorithm.version} ${component} contributor weights sum to 1`)
    }
    const { excellent, good, fair } = algorithm.bands
    t.ok(100 >= excellent && excellent > good && good > fair && fair > 0, `${algorithm.version} bands are ordered`)
    t.ok(algorithm.minimums.components >= 2, 'a total needs at least two components')
  }
})

t.test('released versions are frozen', async (t) => {
  const v1 = getAlgorithm('v1') as AlgorithmDefinition
  t.ok(Object.isFrozen(ALGORITHMS))
  t.throws(() => {
    ;(v1.componentWeights as Record<string, number>).activity = 1
  }, TypeError)
  t.throws(() => {
    ;(v1.contributorWeights.biometrics as Record<string, number>).hrv = 1
  }, TypeError)
})

t.test('v2 differs from v1 in a documented way', async (t) => {
  const v1 = getAlgorithm('v1') as AlgorithmDefinition
  const v2 = getAlgorithm('v2') as AlgorithmDefinition
  t.equal(v1.contributorWeights.biometrics.resting_heart_rate_level, undefined, 'v1 does not score the resting heart rate level')
  t.equal(v2.contributorWeights.biometrics.resting_heart_rate_level, 0.15, 'v2 does')
  t.match(v2.changelog, /Zhang/, 'the changelog cites its source')
  t.strictSame(v2.componentWeights, v1.componentWeights, 'component weights unchanged')
})

t.test('v3 differs from v2 in a documented way: only how activity and sleep days are aggregated', async (t) => {
  const v1 = getAlgorithm('v1') as AlgorithmDefinition
  const v2 = getAlgorithm('v2') as AlgorithmDefinition
  const v3 = getAlgorithm('v3') as AlgorithmDefinition
  t.equal(v1.windows.dailyLevelDays, undefined, 'v1 averages activity and sleep over the week')
  t.equal(v2.windows.dailyLevelDays, undefined, 'so does v2')
  t.equal(v3.windows.dailyLevelDays, 28, 'v3 over 28 days')
  t.strictSame({ ...v3.windows, dailyLevelDays: undefined }, { ...v2.windows, dailyLevelDays: undefined }, 'every other window unchanged')
  t.strictSame(v3.componentWeights, v2.componentWeights, 'component weights unchanged')
  t.strictSame(v3.contributorWeights, v2.contributorWeights, 'contributor weights unchanged')
  t.strictSame(v3.bands, v2.bands, 'bands unchanged')
  t.strictSame(v3.minimums, v2.minimums, 'minimums unchanged (4 days of the current week)')
  t.match(v3.changelog, /28 days/, 'the changelog states the window')
  t.match(v3.changelog, /at most 1 point/, 'and the guarantee it buys')
  t.equal(v3.released, '2026-11-26')
})
