/**
 * The background score worker: claims outbox jobs (FOR UPDATE SKIP LOCKED with a lease, so two
 * workers never compute the same user at once), recomputes the user's daily scores from the
 * earliest affected date (at most RECOMPUTE_HORIZON_DAYS back) to their today, retries failures
 * with exponential backoff, parks a job after WORKER_MAX_ATTEMPTS, and exports depth, lag and
 * outcomes as metrics. It also purges expired idempotency keys and old rejection logs.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { addDays, userDataVersion } from '../repositories/scores.js'
import { claimScoreJobs, completeScoreJob, failScoreJob, queueStats, releaseScoreJobs, type ScoreJob } from '../repositories/score-jobs.js'
import { purgeOldRejections } from '../repositories/rejections.js'
import { computeAndStore, todayIn } from '../services/scores.js'

export const RECOMPUTE_HORIZON_DAYS = 90
const LEASE_SECONDS = 60
const MAINTENANCE_EVERY_MS = 10 * 60_000
const OBSERVE_EVERY_MS = 1000

export class ScoreWorker {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`
  private running = false
  private loop: Promise<void> | null = null
  private wake: (() => void) | null = null
  private lastMaintenance = 0
  private lastObserved = 0

  constructor(
    private readonly app: FastifyInstance,
    private readonly options: { concurrency: number; pollMs: number; maxAttempts: number; debounceMs?: number; maxWaitMs?: number }
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.loop = this.run()
  }

  /** Finish the jobs in hand, then give back anything still claimed. */
  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
    await releaseScoreJobs(this.app.db.writer, this.id).catch(() => {})
  }

  /** Process whatever is ready now (tests and the loop use it). Returns the number of jobs handled. */
  async drainOnce(): Promise<number> {
    const jobs = await claimScoreJobs(this.app.db.writer, this.id, this.options.concurrency, LEASE_SECONDS, this.options.debounceMs ?? 0, this.options.maxWaitMs)
    await Promise.all(jobs.map((job) => this.process(job)))
    return jobs.length
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0
      try {
        handled = await this.drainOnce()
        await this.observeQueue()
        await this.maintain()
      } catch (error) {
        this.app.log.warn({ err: { message: (error as Error).message } }, 'score worker loop failed; retrying')
      }
      if (handled === 0 && this.running) await this.sleep(this.options.pollMs)
    }
  }

  private async process(job: ScoreJob): Promise<void> {
    const db = this.app.db.writer
    try {
      const user = await userDataVersion(db, job.user_uuid)
      if (user) {
        const today = todayIn(user.timezone)
        const horizon = addDays(today, -RECOMPUTE_HORIZON_DAYS)
        const from = job.from_date < horizon ? horizon : job.from_date > today ? today : job.from_date
        await computeAndStore(this.app, db, job.user_uuid, from, today, undefined, user)
      }
      await completeScoreJob(db, job)
      this.app.metrics.scoreJobs.inc({ result: 'done' })
    } catch (error) {
      const parked = await failScoreJob(db, job, (error as Error).message, this.options.maxAttempts).catch(() => false)
      this.app.metrics.scoreJobs.inc({ result: parked ? 'parked' : 'failed' })
      this.app.log.warn({ user: job.user_uuid, attempts: job.attempts + 1, parked, err: { message: (error as Error).message } }, 'score job failed')
    }
  }

  /** Queue depth and lag, at most once a second (a busy worker loops far more often). */
  private async observeQueue(): Promise<void> {
    if (Date.now() - this.lastObserved < OBSERVE_EVERY_MS) return
    this.lastObserved = Date.now()
    const stats = await queueStats(this.app.db.writer)
    this.app.metrics.queueDepth.set(stats.depth)
    this.app.metrics.queueOldestAge.set(stats.oldestAgeSeconds)
  }

  private async maintain(): Promise<void> {
    if (Date.now() - this.lastMaintenance < MAINTENANCE_EVERY_MS) return
    this.lastMaintenance = Date.now()
    await sql`DELETE FROM idempotency_keys WHERE expires_at < now()`.execute(this.app.db.writer)
    await purgeOldRejections(this.app.db.writer)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
