import t from 'tap'
import { Doorkeeper } from '../../src/plugins/doorkeeper.js'

t.test('a key is new the first time, seen after', async (t) => {
  const d = new Doorkeeper()
  t.equal(d.seen('r2:a::/api/x/1'), false)
  t.equal(d.seen('r2:a::/api/x/1'), true)
  t.equal(d.seen('r2:a::/api/x/2'), false, 'another key is new')
  t.equal(d.seen(''), false)
  t.equal(d.seen(''), true)
})

t.test('remembered for one to two periods, then forgotten', async (t) => {
  const d = new Doorkeeper(100, 16)
  d.seen('old')
  for (let i = 0; i < 99; i++) d.seen(`fill-${i}`) // the 100th new key ends the first period
  t.equal(d.seen('old'), true, 'seen in the previous period still counts')
  const e = new Doorkeeper(100, 16)
  e.seen('old')
  for (let i = 0; i < 250; i++) e.seen(`fill-${i}`) // two more periods
  t.equal(e.seen('old'), false, 'forgotten after two periods')
})

t.test('false positives stay rare at the default size', async (t) => {
  const d = new Doorkeeper()
  for (let i = 0; i < 200_000; i++) d.seen(`r2:${i}::/api/bio-metrics/user-${i}/2026-01-01T00:00:${i}Z`)
  let wrong = 0
  for (let i = 0; i < 20_000; i++) if (d.seen(`other-${i}`)) wrong++
  t.ok(wrong / 20_000 < 0.03, `${((100 * wrong) / 20_000).toFixed(2)} % of new keys taken for seen ones`)
})
