/**
 * What every committed write of a user's health data implies, in one place: inside the write's
 * transaction the user's data version is bumped (scores made before it are stale) and a score
 * recomputation is enqueued (transactional outbox); after commit, the user's cached reads are
 * invalidated on every instance.
 */
import type { FastifyInstance } from 'fastify'

/**
 * In the write transaction (or as CTEs of the write itself: repositories/data-change.ts):
 * `affected` maps user → earliest affected date (YYYY-MM-DD).
 */
export { recordDataChange } from '../../repositories/data-change.js'

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
