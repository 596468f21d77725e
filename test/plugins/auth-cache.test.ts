import t from 'tap'
import { cachedVerifier } from '../../src/plugins/auth.js'

t.test('verified tokens are reused until exp, never before nbf, and failures are not cached', async (t) => {
  let clock = 1_000_000_000_000
  const calls: string[] = []
  const claimsOf: Record<string, Record<string, unknown>> = {
    good: { sub: 'a', exp: clock / 1000 + 60 },
    later: { sub: 'b', exp: clock / 1000 + 60, nbf: clock / 1000 + 10 },
    noexp: { sub: 'c' }
  }
  const verify = cachedVerifier(async (token) => {
    calls.push(token)
    if (token === 'bad') throw new Error('invalid')
    if (token === 'later' && clock < (claimsOf.later!.nbf as number) * 1000) throw new Error('not yet valid')
    if (typeof claimsOf[token]!.exp === 'number' && clock >= (claimsOf[token]!.exp as number) * 1000) throw new Error('expired')
    return claimsOf[token]!
  }, 100, () => clock)

  t.same(await verify('good'), claimsOf.good)
  t.same(await verify('good'), claimsOf.good)
  t.same(calls, ['good'], 'the second use is served from the cache')
  clock += 60_000
  await t.rejects(verify('good'), /expired/, 'at exp the token is verified again, and rejected')
  t.same(calls, ['good', 'good'])

  await t.rejects(verify('bad'))
  await t.rejects(verify('bad'))
  t.equal(calls.filter((c) => c === 'bad').length, 2, 'a failure is verified again every time')

  clock = 1_000_000_000_000
  await t.rejects(verify('later'), /not yet valid/)
  clock += 10_000
  t.same(await verify('later'), claimsOf.later)
  t.same(await verify('later'), claimsOf.later)
  t.equal(calls.filter((c) => c === 'later').length, 2, 'valid from nbf on, then cached')

  await verify('noexp')
  await verify('noexp')
  t.equal(calls.filter((c) => c === 'noexp').length, 2, 'a token without exp is never cached')
})
