/**
 * Fixtures of the BOLA matrix: what of bob's exists, and for each operation the request alice
 * sends at it. Destructive operations target records seeded only for the attack, so the owner's
 * check that follows still finds something to act on.
 */
import type { FastifyInstance } from 'fastify'
import { auth, createUser } from '../helper.js'

const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)
const at = (offset: number) => new Date(Date.UTC(2026, 0, 1, 8, 0, offset)).toISOString()

interface ResourceFixture {
  path: string
  key: string
  keyParam: string
  /** a body for bob with key number n */
  body(bob: string, n: number): Record<string, unknown>
  keyOf(n: number): string
  patch: Record<string, unknown>
  patchKeyInBody: boolean
}

export const FIXTURES: ResourceFixture[] = [
  { path: 'blood-tests', key: 'test_date', keyParam: '{test_date}', keyOf: (n) => day(n), body: (u, n) => ({ user_uuid: u, test_date: day(n), results: [{ marker: 'glucose', value: 91, unit: 'mg/dL' }] }), patch: { lab: 'pwned' }, patchKeyInBody: false },
  { path: 'bio-metrics', key: 'recorded', keyParam: '{recorded}', keyOf: (n) => at(n), body: (u, n) => ({ user_uuid: u, recorded: at(n), weight_kg: 73.21 }), patch: { weight_kg: 99 }, patchKeyInBody: false },
  { path: 'physical-activity', key: 'date', keyParam: '{date}', keyOf: (n) => day(n), body: (u, n) => ({ user_uuid: u, date: day(n), steps: 4321 }), patch: { steps: 1 }, patchKeyInBody: true },
  { path: 'sleep-activity', key: 'date', keyParam: '{date}', keyOf: (n) => day(n), body: (u, n) => ({ user_uuid: u, date: day(n), total_sleep_minutes: 421 }), patch: { total_sleep_minutes: 1 }, patchKeyInBody: true }
]

export interface Victim {
  userUuid: string
  /** a second user, erased by the DELETE case */
  disposableUser: string
}

export async function seedVictim(app: FastifyInstance, bob: string): Promise<Victim> {
  for (const f of FIXTURES) {
    for (const n of [1, 2]) {
      const res = await app.inject({ method: 'POST', url: `/api/${f.path}/`, headers: auth(bob), payload: f.body(bob, n) })
      if (res.statusCode !== 201) throw new Error(`seeding ${f.path} failed: ${res.body}`)
    }
  }
  return { userUuid: bob, disposableUser: await createUser(app) }
}

export interface BolaCase {
  url: string
  body?: unknown
  /** acceptable answers to alice */
  expect: number[]
  /** owner check needs an admin (admin-only routes) */
  adminOnly?: boolean
  /** what the owner/admin gets, when not a 2xx (e.g. 409: the record alice tried to create exists) */
  ownerExpect?: number[]
  /** a string of bob's that must never appear in alice's answer */
  secret?: string
  /** extra check on alice's 2xx answer (batch: every item rejected) */
  aliceBody?: (body: unknown) => boolean
}

export function bolaCases(bob: string, victim: Victim): Record<string, BolaCase> {
  const cases: Record<string, BolaCase> = {
    'POST /api/users': { url: '/api/users/', body: { user_uuid: bob, email: 'bob2@example.com' }, expect: [403], adminOnly: true, ownerExpect: [409] },
    'GET /api/users': { url: '/api/users/', expect: [403], adminOnly: true },
    'GET /api/users/{user_uuid}': { url: `/api/users/${bob}`, expect: [404] },
    'PATCH /api/users/{user_uuid}': { url: `/api/users/${bob}`, body: { name: 'pwned' }, expect: [404] },
    'DELETE /api/users/{user_uuid}': { url: `/api/users/${victim.disposableUser}`, expect: [404], adminOnly: true },
    'GET /api/ingest-rejections': { url: `/api/ingest-rejections?user_uuid=${bob}`, expect: [403], adminOnly: true },
    'GET /api/users/{user_uuid}/export': { url: `/api/users/${bob}/export`, expect: [404], secret: 'bob@example' },
    'GET /api/audit-log': { url: `/api/audit-log?user_uuid=${bob}`, expect: [403], adminOnly: true },
    'GET /api/get_health_score': { url: `/api/get_health_score?user_uuid=${bob}`, expect: [404], secret: bob },
    'GET /api/health-scores/{user_uuid}': { url: `/api/health-scores/${bob}`, expect: [404], secret: bob },
    // nothing personal: every token may read it
    'GET /api/health-score/algorithms': { url: '/api/health-score/algorithms', expect: [200], secret: bob }
  }
  FIXTURES.forEach((f, i) => {
    const base = `/api/${f.path}`
    const enc = (n: number) => encodeURIComponent(f.keyOf(n))
    cases[`POST ${base}`] = { url: `${base}/`, body: f.body(bob, 10 + i), expect: [404], secret: 'no-secret' }
    cases[`POST ${base}/batch`] = {
      url: `${base}/batch`,
      body: { items: [f.body(bob, 20 + i)] },
      expect: [200],
      aliceBody: (b) => (b as { results: Array<{ status: string }> }).results.every((r) => r.status === 'rejected')
    }
    cases[`GET ${base}/{user_uuid}`] = { url: `${base}/${bob}`, expect: [404], secret: bob }
    cases[`GET ${base}/{user_uuid}/${f.keyParam}`] = { url: `${base}/${bob}/${enc(1)}`, expect: [404], secret: bob }
    cases[`DELETE ${base}/{user_uuid}/delete`] = { url: `${base}/${bob}/delete?${f.key}=${enc(2)}`, expect: [404], secret: bob }
    if (f.patchKeyInBody) {
      cases[`PATCH ${base}/{user_uuid}/update`] = { url: `${base}/${bob}/update`, body: { [f.key]: f.keyOf(1), ...f.patch }, expect: [404], secret: bob }
    } else {
      cases[`PATCH ${base}/{user_uuid}/${f.keyParam}/update`] = { url: `${base}/${bob}/${enc(1)}/update`, body: f.patch, expect: [404], secret: bob }
    }
  })
  return cases
}
