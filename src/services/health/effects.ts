/**
 * What every committed write of a user's health data implies, in one place: inside the write's
 * transaction the user's data version is bumped (scores made before it are stale) and a score
 * recomputation is enqueued (transactional outbox); after commit, the user's cached reads are
 * invalidated on every instance.
 */
import type { FastifyInstance } from 'fastify'
import type { DB } from '../../repositories/database.js'
import { touchUsersData } from '../../repositories/users.js'
import { enqueueScoreJobs } from '../../repositories/score-jobs.js'

/** In the write transaction: `affected` maps user → earliest affected date (YYYY-MM-DD). */
export async function recordDataChange(tx: DB, affected: Map<string, string>): Promise<void> {
  if (affected.size === 0) return
  await touchUsersData(tx, [...affected.keys()])
  await enqueueScoreJobs(tx, affected)
}

/** After commit. Never throws: the cache degrades to a bypass when Redis is away. */
export async function afterDataChange(app: FastifyInstance, userUuids: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(userUuids)].map(async (u) => {
    await app.cache.bumpGeneration(u)
    await app.markWritten(u)
  }))
}

export function earliest(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a
}
