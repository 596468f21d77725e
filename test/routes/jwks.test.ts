/** Tokens from an identity provider: RS256 keys fetched from AUTH_JWKS_URL, `iss`/`aud` enforced. */
import t from 'tap'
import http from 'node:http'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createSigner } from 'fast-jwt'
import Fastify from 'fastify'
import app, { serverOptions } from '../../src/app.js'
import { createTestDatabase, testConfig } from '../helper.js'

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const kid = 'key-1'
const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
const idp = http.createServer((req, res) => {
  if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
  else res.writeHead(404).end()
})
await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve))
t.teardown(() => idp.close())
const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`

t.test('RS256 tokens verified against the JWKS, with iss and aud', async (t) => {
  const url = await createTestDatabase(t)
  const config = testConfig(url, { AUTH_JWKS_URL: `${issuer}/.well-known/jwks.json`, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: 'health-tracker' })
  const fastify = Fastify(serverOptions(config))
  // no HS256 secret: only the identity provider's keys count
  await fastify.register(app, { config: { ...config, AUTH_JWT_SECRET: undefined }, databaseUrl: url, metricsPort: null })
  await fastify.ready()
  t.teardown(() => fastify.close())
  const sign = (claims: Record<string, unknown>, key = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string) =>
    createSigner({ key, algorithm: 'RS256', kid, expiresIn: 60_000 })(claims)
  const sub = randomUUID()
  const good = sign({ sub, role: 'admin', iss: issuer, aud: 'health-tracker' })
  const ok = await fastify.inject({ method: 'GET', url: '/api/users/?limit=1', headers: { authorization: `Bearer ${good}` } })
  t.equal(ok.statusCode, 200, ok.body)
  const wrongAud = sign({ sub, role: 'admin', iss: issuer, aud: 'someone-else' })
  t.equal((await fastify.inject({ method: 'GET', url: '/api/users/', headers: { authorization: `Bearer ${wrongAud}` } })).statusCode, 401)
  const wrongIss = sign({ sub, role: 'admin', iss: 'https://evil.example.com', aud: 'health-tracker' })
  t.equal((await fastify.inject({ method: 'GET', url: '/api/users/', headers: { authorization: `Bearer ${wrongIss}` } })).statusCode, 401)
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  const forged = sign({ sub, role: 'admin', iss: issuer, aud: 'health-tracker' }, other)
  t.equal((await fastify.inject({ method: 'GET', url: '/api/users/', headers: { authorization: `Bearer ${forged}` } })).statusCode, 401, 'a key the IdP does not publish')
  const hs = createSigner({ key: 'x'.repeat(40), algorithm: 'HS256' })({ sub, role: 'admin', iss: issuer, aud: 'health-tracker' })
  t.equal((await fastify.inject({ method: 'GET', url: '/api/users/', headers: { authorization: `Bearer ${hs}` } })).statusCode, 401, 'no algorithm confusion')
})
