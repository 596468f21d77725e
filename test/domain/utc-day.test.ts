import t from 'tap'
import { utcDay } from '../../src/services/scores.js'

t.test('utcDay: the UTC date, also across midnight and backwards in time', async (t) => {
  const at = (iso: string) => utcDay(Date.parse(iso))
  t.equal(at('2026-11-26T23:59:59.999Z'), '2026-11-26')
  t.equal(at('2026-11-27T00:00:00.000Z'), '2026-11-27', 'the cached day ends at midnight')
  t.equal(at('2026-11-26T12:00:00.000Z'), '2026-11-26', 'an earlier instant is not answered from the later day')
  t.equal(at('1970-01-01T00:00:00.000Z'), '1970-01-01')
  t.equal(utcDay(), new Date().toISOString().slice(0, 10))
})
