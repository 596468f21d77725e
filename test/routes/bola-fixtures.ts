/**
 * Fixtures of the BOLA matrix: what of bob's exists, and for each operation the request alice
 * sends at it. Destructive operations target records seeded only for the attack, so the owner's
 * check that follows still finds something to act on.
 */
import type { FastifyInstance } from 'fastify'

import { createUser } from '../helper.js'

export interface Victim {
  userUuid: string
  /** a second user of bob's household, erased by the DELETE case */
  disposableUser: string
}

export async function seedVictim(app: FastifyInstance, bob: string): Promise<Victim> {
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
}

export function bolaCases(bob: string, victim: Victim): Record<string, BolaCase> {
  return {
    'POST /api/users': { url: '/api/users/', body: { user_uuid: bob, email: 'bob2@example.com' }, expect: [403], adminOnly: true, ownerExpect: [409] },
    'GET /api/users': { url: '/api/users/', expect: [403], adminOnly: true },
    'GET /api/users/{user_uuid}': { url: `/api/users/${bob}`, expect: [404] },
    'PATCH /api/users/{user_uuid}': { url: `/api/users/${bob}`, body: { name: 'pwned' }, expect: [404] },
    'DELETE /api/users/{user_uuid}': { url: `/api/users/${victim.disposableUser}`, expect: [404], adminOnly: true }
  }
}
