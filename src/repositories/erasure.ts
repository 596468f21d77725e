/**
 * GDPR Art. 17 erasure: every row that belongs to the user, in the caller's transaction.
 * Health-data tables reference users ON DELETE CASCADE; tables without a foreign key
 * (logs kept apart from the user row) are deleted explicitly here.
 */
import type { Kysely } from 'kysely'
import type { DB } from './database.js'

export async function eraseUserData(db: DB, userUuid: string): Promise<boolean> {
  const any = db as unknown as Kysely<any>
  await any.deleteFrom('ingest_rejections').where('user_uuid', '=', userUuid).execute()
  await any
    .deleteFrom('idempotency_keys')
    .where((eb: any) => eb.or([eb('user_uuid', '=', userUuid), eb('principal', '=', `user:${userUuid}`)]))
    .execute()
  const result = await db.deleteFrom('users').where('user_uuid', '=', userUuid).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}
