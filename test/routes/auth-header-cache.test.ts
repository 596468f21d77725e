import t from 'tap'
import { signToken } from '../../src/plugins/auth.js'
import { TEST_SECRET, buildTestApp, createUser } from '../helper.js'

// identify() keeps the principal of each Authorization header whose token verified: these are the
// cases where a header seen before must not be let through
const { app } = await buildTestApp(t)
const user = await createUser(app)
const get = (authorization: string) => app.inject({ method: 'GET', url: `/api/bio-metrics/${user}?limit=1`, headers: { authorization } })

t.test('a remembered header stops working when its token expires', async (t) => {
  const header = `Bearer ${signToken(TEST_SECRET, { sub: user, expiresInSeconds: 2 })}`
  t.equal((await get(header)).statusCode, 200)
  t.equal((await get(header)).statusCode, 200, 'served from the remembered principal')
  await new Promise((resolve) => setTimeout(resolve, 2100))
  const late = await get(header)
  t.equal(late.statusCode, 401, 'after exp the header is verified again, and refused')
  t.match(late.headers['www-authenticate'], /expired/)
})

t.test('a header that differs from a remembered one by one character is verified on its own', async (t) => {
  const token = signToken(TEST_SECRET, { sub: user })
  t.equal((await get(`Bearer ${token}`)).statusCode, 200)
  // a character inside the signature (the last one carries two padding bits that base64url decoding drops)
  const at = token.length - 10
  const changed = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`
  t.equal((await get(`Bearer ${changed}`)).statusCode, 401, 'a changed signature is refused')
  t.equal((await get(`Basic ${token}`)).statusCode, 401, 'and so is another scheme with the same token')
  t.equal((await get(`Bearer ${token}`)).statusCode, 200, 'the remembered header still works')
})
