import t from 'tap'
import { auth, buildTestApp, createTestDatabase, createUser } from '../helper.js'
import { ScoreWorker } from '../../src/worker/score-worker.js'

const dbUrl = await createTestDatabase(t)
const { app } = await buildTestApp(t, { databaseUrl: dbUrl })
const today = new Date().toISOString().slice(0, 10)
const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)

async function seedWeek(user: string, steps: number, sleepMinutes: number) {
  const activity = Array.from({ length: 7 }, (_, i) => ({ user_uuid: user, date: day(i), steps, active_minutes: 45, moderate_minutes: 30, vigorous_minutes: 10 }))
  const sleep = Array.from({ length: 7 }, (_, i) => ({ user_uuid: user, date: day(i), total_sleep_minutes: sleepMinutes }))
  const h = auth(user)
  t.equal((await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: h, payload: { items: activity } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/sleep-activity/batch', headers: h, payload: { items: sleep } })).statusCode, 200)
}

const score = async (user: string) => {
  const res = await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: auth(user) })
  t.equal(res.statusCode, 200, res.body)
  return res.json()
}

t.test('a new user has insufficient data, never a made-up number', async (t) => {
  const u = await createUser(app, { timezone: 'UTC' })
  const s = await score(u)
  t.equal(s.state, 'insufficient_data')
  t.equal(s.score, null)
  t.equal(s.band, null)
  t.equal(s.date, today)
})

t.test('write then read: the score reflects the write', async (t) => {
  const u = await createUser(app, { timezone: 'UTC', birth_date: '1985-01-01' })
  await seedWeek(u, 3000, 360)
  const before = await score(u)
  t.equal(before.state, 'ok')
  t.type(before.score, 'number')
  t.ok(before.components.activity && before.components.sleep)
  await seedWeek(u, 11000, 450)
  const after = await score(u)
  t.ok(after.score > before.score, `more steps and sleep raise the score (${before.score} → ${after.score})`)
  t.ok(after.components.activity.score > before.components.activity.score)
  const again = await score(u)
  t.equal(again.computed_at, after.computed_at, 'the second read is the stored fast path')
})

t.test('the score reads the active algorithm\'s windows: v3 levels cover 28 days of activity', async (t) => {
  const u = await createUser(app, { timezone: 'UTC' })
  // this week 7 000 steps a day, the three weeks before 9 000–13 000 (not far enough to be suspect)
  const items = Array.from({ length: 28 }, (_, i) => ({ user_uuid: u, date: day(i), steps: i < 7 ? 7000 : 9000 + (i % 5) * 1000, moderate_minutes: 20 }))
  t.equal((await app.inject({ method: 'POST', url: '/api/physical-activity/batch', headers: auth(u), payload: { items } })).statusCode, 200)
  const sleep = Array.from({ length: 7 }, (_, i) => ({ user_uuid: u, date: day(i), total_sleep_minutes: 450 }))
  t.equal((await app.inject({ method: 'POST', url: '/api/sleep-activity/batch', headers: auth(u), payload: { items: sleep } })).statusCode, 200)
  const s = await score(u)
  t.equal(s.algorithm_version, 'v3')
  t.equal(s.state, 'ok', JSON.stringify(s).slice(0, 600))
  const steps = s.components.activity.contributors.find((c: { name: string }) => c.name === 'steps')
  t.equal(s.excluded_readings, 0)
  // the 28-day level (about 10 000), not this week's 7 000 alone
  t.ok(steps.value > 8500 && steps.value < 11500, `steps level over 28 days (${steps.value})`)
})

t.test('worker: killed between write and computation, the score becomes current on restart', async (t) => {
  const u = await createUser(app, { timezone: 'UTC' })
  await seedWeek(u, 8000, 420)
  const queued = await app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
  t.equal(queued.length, 1, 'the write enqueued one coalesced job in its transaction')
  // the in-process worker is disabled in tests: "start it again" is a fresh worker
  const worker = new ScoreWorker(app, { concurrency: 4, pollMs: 50, maxAttempts: 3 })
  while ((await worker.drainOnce()) > 0) {}
  const left = await app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
  t.equal(left.length, 0, 'job done')
  const stored = await app.db.writer.selectFrom('health_scores' as never).selectAll().where('user_uuid' as never, '=', u as never).where('date' as never, '=', today as never).execute()
  t.equal(stored.length, 1, 'today\'s score stored by the worker')
  const s = await score(u)
  t.equal(new Date(s.computed_at).getTime(), new Date((stored[0] as { computed_at: Date }).computed_at).getTime(), 'the read uses the worker\'s current score')
  const hist = await app.inject({ method: 'GET', url: `/api/health-scores/${u}?from=${day(6)}&to=${today}`, headers: auth(u) })
  t.equal(hist.statusCode, 200)
  t.ok(hist.json().items.length >= 7, 'daily history from the earliest affected date')
})

t.test('a worker killed after claiming a job: the lease runs out and another worker computes it', async (t) => {
  const u = await createUser(app, { timezone: 'UTC' })
  await seedWeek(u, 7000, 400)
  const { claimScoreJobs } = await import('../../src/repositories/score-jobs.js')
  const claimed = await claimScoreJobs(app.db.writer, 'killed-worker', 100, 1)
  t.ok(claimed.some((j) => j.user_uuid === u), 'the doomed worker holds the job')
  const survivor = new ScoreWorker(app, { concurrency: 100, pollMs: 10, maxAttempts: 3 })
  const before = await app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
  await survivor.drainOnce()
  const still = await app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
  t.equal(still.length, before.length, 'not taken while the lease holds')
  await new Promise((r) => setTimeout(r, 1100))
  while ((await survivor.drainOnce()) > 0) {}
  const left = await app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).execute()
  t.equal(left.length, 0, 'computed after the lease expired')
  const s = await score(u)
  t.equal(s.state, 'ok')
})

t.test('a failing job is retried with backoff, then parked', async (t) => {
  const u = await createUser(app, { timezone: 'UTC' })
  await seedWeek(u, 6000, 400)
  await app.db.writer.updateTable('users').set({ timezone: 'Not/AZone' }).where('user_uuid', '=', u).execute() // breaks the computation
  const worker = new ScoreWorker(app, { concurrency: 50, pollMs: 10, maxAttempts: 3 })
  const job = () => app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).executeTakeFirst() as Promise<{ attempts: number; state: string; run_after: Date; last_error: string } | undefined>
  for (let attempt = 1; attempt <= 3; attempt++) {
    await app.db.writer.updateTable('score_jobs' as never).set({ run_after: new Date(0) } as never).where('user_uuid' as never, '=', u as never).execute()
    await worker.drainOnce()
    const j = await job()
    t.equal(j?.attempts, attempt)
    if (attempt < 3) {
      t.equal(j?.state, 'pending')
      t.ok(j!.run_after.getTime() > Date.now(), 'retried later (backoff)')
    }
  }
  const parked = await job()
  t.equal(parked?.state, 'parked', 'parked after WORKER_MAX_ATTEMPTS')
  t.match(parked?.last_error, /time zone|Invalid/i)
  const failures = (await app.metrics.scoreJobs.get()).values
  t.ok(failures.find((v) => v.labels.result === 'parked')?.value, 'parked jobs are counted')
  await app.db.writer.updateTable('users').set({ timezone: 'UTC' }).where('user_uuid', '=', u).execute()
  await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: auth(u), payload: { user_uuid: u, date: day(20), steps: 100 } })
  t.equal((await job())?.state, 'pending', 'a new write revives a parked job')
})

t.test('debounce: a burst of writes is computed once, after WORKER_DEBOUNCE_MS of quiet', async (t) => {
  // jobs left by earlier tests first, so the counts below are this user's
  const flush = new ScoreWorker(app, { concurrency: 50, pollMs: 10, maxAttempts: 3 })
  while ((await flush.drainOnce()) > 0) {}
  const u = await createUser(app, { timezone: 'UTC' })
  const job = () => app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).executeTakeFirst() as Promise<{ version: number; run_after: Date; state: string } | undefined>
  const done = async () => (await app.metrics.scoreJobs.get()).values.find((v) => v.labels.result === 'done')?.value ?? 0
  const write = async (i: number) =>
    t.equal((await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: auth(u), payload: { user_uuid: u, date: day(i), steps: 4000 + i } })).statusCode, 201)
  await write(0)
  const first = await job()
  for (let i = 1; i < 5; i++) await write(i)
  const queued = await job()
  t.equal(queued?.version, first!.version + 4, 'five writes, one coalesced job')
  t.equal(queued?.run_after.getTime(), first!.run_after.getTime(), 'later writes of the burst do not postpone it')
  const worker = new ScoreWorker(app, { concurrency: 10, pollMs: 10, maxAttempts: 3, debounceMs: 400 })
  const start = await done()
  t.equal(await worker.drainOnce(), 0, 'not claimed inside the debounce window')
  await new Promise((r) => setTimeout(r, 450))
  t.equal(await worker.drainOnce(), 1, 'claimed once the window has passed')
  t.equal((await done()) - start, 1, 'five writes, one computation')
  t.equal(await job(), undefined, 'and the job is gone')
  // a write while the job is being computed keeps it, due one debounce after that computation
  await write(6)
  await new Promise((r) => setTimeout(r, 450))
  const claimed = await (await import('../../src/repositories/score-jobs.js')).claimScoreJobs(app.db.writer, 'slow-worker', 10, 60, 400)
  const mine = claimed.find((j) => j.user_uuid === u)!
  t.ok(mine, 'claimed by a slow worker')
  await write(7)
  const { completeScoreJob } = await import('../../src/repositories/score-jobs.js')
  await completeScoreJob(app.db.writer, mine)
  const kept = await job()
  t.equal(kept?.state, 'pending', 'a write during the computation keeps the job')
  t.equal(await worker.drainOnce(), 0, 'but it waits one more debounce, not back to back')
  await new Promise((r) => setTimeout(r, 450))
  t.equal(await worker.drainOnce(), 1)
  t.equal(await job(), undefined)
})

t.test('a user who writes without pause is computed once per WORKER_MAX_WAIT_MS, not once per debounce', async (t) => {
  const flush = new ScoreWorker(app, { concurrency: 50, pollMs: 10, maxAttempts: 3 })
  while ((await flush.drainOnce()) > 0) {}
  const u = await createUser(app, { timezone: 'UTC' })
  const job = () => app.db.writer.selectFrom('score_jobs' as never).selectAll().where('user_uuid' as never, '=', u as never).executeTakeFirst() as Promise<{ version: number } | undefined>
  const write = async (i: number) =>
    t.equal((await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: auth(u), payload: { user_uuid: u, date: day(i), steps: 5000 + i } })).statusCode, 201)
  const worker = new ScoreWorker(app, { concurrency: 10, pollMs: 10, maxAttempts: 3, debounceMs: 600, maxWaitMs: 1500 })
  const started = Date.now()
  let claims = 0
  let firstClaimAfter = -1
  // a write every 100 ms or so: never 600 ms of quiet
  for (let i = 0; Date.now() - started < 2000; i++) {
    await write(i % 28)
    const n = await worker.drainOnce()
    if (n > 0 && firstClaimAfter < 0) firstClaimAfter = Date.now() - started
    claims += n
    await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(claims, 1, 'computed once in 2 s of writes (a fixed 600 ms delay after the first write would have computed it three times)')
  t.ok(firstClaimAfter >= 1500, `not before the max wait (${firstClaimAfter} ms)`)
  t.ok(await job(), 'the writes after that computation are queued again')
  // once the writes stop, the quiet period alone makes it due
  await new Promise((r) => setTimeout(r, 650))
  t.equal(await worker.drainOnce(), 1, 'quiet for one debounce: computed')
  t.equal(await job(), undefined)
})

t.test('two workers on one queue: each job computed once', async (t) => {
  const users: string[] = []
  for (let i = 0; i < 12; i++) {
    const u = await createUser(app)
    users.push(u)
    await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: auth(u), payload: { user_uuid: u, date: today, steps: 5000 + i } })
  }
  const done = async () => (await app.metrics.scoreJobs.get()).values.find((v) => v.labels.result === 'done')?.value ?? 0
  const start = await done()
  const pending = (await app.db.writer.selectFrom('score_jobs' as never).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n: number }
  const a = new ScoreWorker(app, { concurrency: 3, pollMs: 10, maxAttempts: 3 })
  const b = new ScoreWorker(app, { concurrency: 3, pollMs: 10, maxAttempts: 3 })
  const drain = async (w: ScoreWorker) => { let n = 0; let k; while ((k = await w.drainOnce()) > 0) n += k; return n }
  const [na, nb] = await Promise.all([drain(a), drain(b)])
  t.equal(na + nb, Number(pending.n), `jobs split between workers (${na} + ${nb}), none twice`)
  t.equal((await done()) - start, Number(pending.n))
})

t.test('algorithm versions, and a rollback recomputes with the older version', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/api/health-score/algorithms', headers: auth(users0()) })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.ok(body.items.length >= 2)
  t.match(res.headers['cache-control'], /public, max-age=/)
  const latest = body.active
  const older = body.items.find((i: { version: string }) => i.version !== latest).version
  const u = await createUser(app, { timezone: 'UTC' })
  await seedWeek(u, 9000, 430)
  const s = await score(u)
  t.equal(s.algorithm_version, latest)
  const { app: rolledBack } = await buildTestApp(t, { databaseUrl: dbUrl, env: { HEALTH_SCORE_ALGORITHM: older } })
  const r = await rolledBack.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${u}`, headers: auth(u) })
  t.equal(r.statusCode, 200)
  t.equal(r.json().algorithm_version, older, 'scores made by another version are stale and recomputed')
  const algos = await rolledBack.inject({ method: 'GET', url: '/api/health-score/algorithms', headers: auth(u) })
  t.equal(algos.json().active, older)
})

function users0() {
  return '00000000-0000-4000-8000-000000000001'
}
