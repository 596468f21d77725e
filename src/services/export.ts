/**
 * GDPR Art. 20 data portability: everything stored about a user, as JSON.
 * @see https://gdpr-info.eu/art-20-gdpr/
 */
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { NotFound } from '../domain/errors.js'
import { RESOURCES } from './health/specs.js'

export async function exportUserData(app: FastifyInstance, userUuid: string) {
  const db = app.db.writer as unknown as Kysely<any>
  const user = await db.selectFrom('users').selectAll().where('user_uuid', '=', userUuid).executeTakeFirst()
  if (!user) throw new NotFound('user not found')
  const out: Record<string, unknown> = {
    format: 'health-tracker-export/1',
    exported_at: new Date().toISOString(),
    user: { user_uuid: user.user_uuid, email: user.email, name: user.name, birth_date: user.birth_date, sex: user.sex, height_cm: user.height_cm, timezone: user.timezone, created_at: user.created_at, updated_at: user.updated_at }
  }
  for (const spec of RESOURCES) {
    out[spec.name] = await db.selectFrom(spec.name).selectAll().where('user_uuid', '=', userUuid).orderBy(spec.key, 'asc').execute()
  }
  out.health_scores = await db.selectFrom('health_scores').select(['date', 'algorithm_version', 'result', 'computed_at']).where('user_uuid', '=', userUuid).orderBy('date', 'asc').execute()
  out.ingest_rejections = await db.selectFrom('ingest_rejections').select(['resource', 'reason', 'errors', 'source', 'created_at']).where('user_uuid', '=', userUuid).orderBy('created_at', 'asc').execute()
  return out
}
