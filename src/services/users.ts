/**
 * User use-cases: validate (domain), then persist (repository). Erasure runs in one transaction
 * and then drops the user's cache generation.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Conflict, Forbidden, Implausible, NotFound } from '../domain/errors.js'
import { validateUser, type NormalizedUser } from '../domain/validation/user.js'
import type { FieldIssue } from '../domain/validation/result.js'
import { eraseUserData } from '../repositories/erasure.js'
import * as users from '../repositories/users.js'
import type { UserCreateType, UserPatchType } from '../schemas/users.js'
import { assertOwnsOrPrivileged, isPrivileged, type Principal } from '../plugins/auth.js'

export function toImplausible(issues: FieldIssue[], prefix = '/body'): Implausible {
  return new Implausible(
    issues.map((i) => i.message).join('; '),
    issues.map((i) => ({ path: `${prefix}${i.path === '/' ? '' : i.path}`, message: i.message }))
  )
}

/** The stored columns of a validated user. */
function userColumns(v: NormalizedUser) {
  return {
    email: v.email,
    email_normalized: v.email_normalized,
    name: v.name,
    birth_date: v.birth_date,
    sex: v.sex ?? 'unknown',
    height_cm: v.height_cm,
    timezone: v.timezone
  }
}

export async function createUser(app: FastifyInstance, principal: Principal, body: UserCreateType) {
  const userUuid = (body.user_uuid ?? (isPrivileged(principal) ? randomUUID() : principal.sub)).toLowerCase()
  if (!isPrivileged(principal) && userUuid !== principal.sub) {
    throw new Forbidden('a user token may only create the user whose user_uuid equals its sub')
  }
  const checked = validateUser(body, new Date())
  if (!checked.ok) throw toImplausible(checked.issues)
  const v = checked.value
  try {
    return await users.insertUser(app.db.writer, { user_uuid: userUuid, ...userColumns(v) })
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      const onEmail = (error as { constraint?: string }).constraint === 'users_email_normalized_key'
      throw new Conflict(onEmail ? 'a user with this email already exists' : 'a user with this user_uuid already exists', [
        { path: onEmail ? '/body/email' : '/body/user_uuid', message: 'already taken' }
      ])
    }
    throw error
  }
}

export async function getUser(app: FastifyInstance, principal: Principal | null, userUuid: string) {
  assertOwnsOrPrivileged(principal, userUuid, 'user')
  const user = await users.findUser(app.db.writer, userUuid)
  if (!user) throw new NotFound('user not found')
  return user
}

export async function patchUser(app: FastifyInstance, principal: Principal | null, userUuid: string, patch: UserPatchType) {
  const existing = await getUser(app, principal, userUuid)
  const merged = {
    email: patch.email ?? existing.email,
    name: patch.name !== undefined ? patch.name : existing.name,
    birth_date: patch.birth_date !== undefined ? patch.birth_date : existing.birth_date,
    sex: patch.sex ?? existing.sex,
    height_cm: patch.height_cm !== undefined ? patch.height_cm : existing.height_cm,
    timezone: patch.timezone ?? existing.timezone
  }
  const checked = validateUser(merged, new Date())
  if (!checked.ok) throw toImplausible(checked.issues)
  const v = checked.value
  try {
    const updated = await app.db.writer.transaction().execute(async (tx) => {
      const row = await users.updateUser(tx, userUuid, userColumns(v))
      // birth date and sex feed the score: the user's scores must be recomputed
      await users.touchUsersData(tx, [userUuid])
      return row
    })
    if (!updated) throw new NotFound('user not found')
    await app.cache.bumpGeneration(userUuid)
    return updated
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new Conflict('a user with this email already exists', [{ path: '/body/email', message: 'already taken' }])
    }
    throw error
  }
}

export async function deleteUser(app: FastifyInstance, principal: Principal | null, userUuid: string) {
  assertOwnsOrPrivileged(principal, userUuid, 'user')
  const deleted = await app.db.writer.transaction().execute((tx) => eraseUserData(tx, userUuid))
  if (!deleted) throw new NotFound('user not found')
  await app.cache.bumpGeneration(userUuid)
}
