/**
 * Set-based seeding straight into PostgreSQL (generate_series): a few hundred users × 90 days take
 * seconds, 10 000 users × 1 year a minute or two, where the API's batch route would need far longer.
 * Values are steady and inside every plausibility range, so nothing would be flagged `suspect`.
 * Blood panels are not seeded here (their stored shape is the API's canonicalised JSON); the score
 * users of run.ts get theirs through the API.
 */
import pg from 'pg'
import { signToken, type Role } from '../../../src/plugins/auth.js'
import { JWT_SECRET } from './infra.js'

export interface SeededUser {
  uuid: string
  token: string
  auth: string
}

export function userToken(sub: string, role: Role = 'user'): string {
  return signToken(JWT_SECRET, { sub, role, expiresInSeconds: 6 * 3600 })
}

export function toSeeded(uuid: string): SeededUser {
  const token = userToken(uuid)
  return { uuid, token, auth: `Bearer ${token}` }
}

/**
 * Read every user's score and first list page once, `concurrency` users at a time, so the measured
 * runs read warm (inline scores computed and stored, cache entries made), once per Accept-Encoding
 * in `encodings` (each coding is a cache entry of its own; fetch would send gzip unasked).
 */
export async function prime(baseUrl: string, users: SeededUser[], concurrency: number, encodings: string[] = ['identity']): Promise<void> {
  const queue = [...users]
  const worker = async () => {
    for (let u = queue.shift(); u; u = queue.shift()) {
      for (const path of [`/api/get_health_score?user_uuid=${u.uuid}`, `/api/bio-metrics/${u.uuid}?limit=50`]) {
        for (const encoding of encodings) {
          const res = await fetch(baseUrl + path, { headers: { authorization: u.auth, 'accept-encoding': encoding } })
          if (!res.ok) throw new Error(`prime ${path}: ${res.status} ${await res.text()}`)
          // a 50-item page is well over HTTP_GZIP_MIN_BYTES: a gzip client must get the gzip form
          if (encoding === 'gzip' && path.includes('limit=50') && res.headers.get('content-encoding') !== 'gzip') throw new Error(`prime ${path}: not gzip-coded`)
          await res.arrayBuffer()
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export interface SeedOptions {
  users: number
  days: number
  /** bio-metric readings per day (1–5) */
  bioPerDay: number
  /** users per INSERT statement */
  chunk?: number
  /** connections inserting chunks in parallel (2) */
  parallel?: number
  log?: (message: string) => void
}

/** Users with `days` days of bio-metrics, activity and sleep ending yesterday. Returns their uuids. */
export async function seedUsers(url: string, options: SeedOptions): Promise<string[]> {
  const chunk = options.chunk ?? 500
  const started = Date.now()
  const uuids: string[] = []
  let offset = 0
  const worker = () => withClient(url, async (client) => {
    // a bulk load: no per-row foreign-key triggers (rows reference users made in the same chunk)
    // when we may, and no wait for the WAL flush per statement
    const su = await client.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user')
    if (su.rows[0]?.su) await client.query("SET session_replication_role = 'replica'")
    await client.query('SET synchronous_commit = off')
    while (offset < options.users) {
      const n = Math.min(chunk, options.users - offset)
      offset += n
      await client.query('BEGIN')
      const inserted = await client.query<{ user_uuid: string }>(
        `INSERT INTO users (user_uuid, email, email_normalized, name, birth_date, sex, height_cm, timezone)
         SELECT u, e, e, 'Bench user ' || i, DATE '1960-01-01' + (i * 37 % 15000), (ARRAY['female', 'male'])[1 + i % 2], 160 + i % 30, 'UTC'
         FROM (SELECT gen_random_uuid() AS u, 'bench-' || gen_random_uuid() || '@example.com' AS e, i FROM generate_series(1, $1::int) AS i) s
         RETURNING user_uuid`,
        [n]
      )
      const ids = inserted.rows.map((r) => r.user_uuid)
      await seedHistory(client, ids, options.days, options.bioPerDay)
      await client.query('COMMIT')
      uuids.push(...ids)
      options.log?.(`  seeded ${uuids.length}/${options.users} users × ${options.days} days (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    }
  })
  await Promise.all(Array.from({ length: Math.min(options.parallel ?? 2, Math.ceil(options.users / chunk)) }, worker))
  // hint bits, visibility map and statistics now, so neither autovacuum nor the first reads of
  // each page do that work during a measurement; then flush the dirty pages
  await withClient(url, async (client) => {
    await client.query('VACUUM (ANALYZE) users, bio_metrics, physical_activity, sleep_activity')
    await client.query('CHECKPOINT').catch(() => {}) // needs superuser or pg_checkpoint
  })
  return uuids
}

async function seedHistory(client: pg.Client, ids: string[], days: number, bioPerDay: number): Promise<void> {
  await client.query(
    `INSERT INTO bio_metrics (user_uuid, recorded, weight_kg, body_fat_pct, heart_rate_bpm, resting_heart_rate_bpm, hrv_rmssd_ms,
                              systolic_mmhg, diastolic_mmhg, spo2_pct, body_temperature_c, respiratory_rate_bpm, source)
     SELECT u, date_trunc('day', now()) - make_interval(days => d) + make_interval(hours => 7 + h * 3),
            round((70 + random())::numeric, 1), 22, 70 + (random() * 4)::int, 58 + (random() * 3)::int, 45 + (random() * 5)::int,
            118 + (random() * 4)::int, 76 + (random() * 3)::int, 97 + (random() * 1)::int, 36.7, 14, 'bench-seed'
     FROM unnest($1::uuid[]) AS u, generate_series(1, $2::int) AS d, generate_series(0, $3::int - 1) AS h`,
    [ids, days, bioPerDay]
  )
  await client.query(
    `INSERT INTO physical_activity (user_uuid, date, steps, distance_m, active_minutes, moderate_minutes, vigorous_minutes, calories_kcal, floors, source)
     SELECT u, current_date - d, 7000 + (random() * 2000)::int, 5500, 45, 25, 12, 2200, 8, 'bench-seed'
     FROM unnest($1::uuid[]) AS u, generate_series(1, $2::int) AS d`,
    [ids, days]
  )
  await client.query(
    `INSERT INTO sleep_activity (user_uuid, date, sleep_start, sleep_end, total_sleep_minutes, deep_minutes, rem_minutes, light_minutes, awake_minutes, interruptions, source)
     SELECT u, current_date - d, ((current_date - d - 1) + time '23:00') AT TIME ZONE 'UTC', ((current_date - d) + time '07:00') AT TIME ZONE 'UTC',
            440, 85, 100, 235, 20, 2, 'bench-seed'
     FROM unnest($1::uuid[]) AS u, generate_series(1, $2::int) AS d`,
    [ids, days]
  )
}

/** The one-row INSERT ceiling's table: bio_metrics' columns, defaults and key; no foreign key. */
export async function createScratchTable(url: string): Promise<void> {
  await withClient(url, (client) => client.query('CREATE TABLE bench_scratch (LIKE bio_metrics INCLUDING ALL)'))
}

/** Up to `limit` seeded bio-metric keys of these users, in random order. */
export async function sampleRecords(url: string, users: string[], limit: number): Promise<Array<{ user_uuid: string; recorded: string }>> {
  return withClient(url, async (client) => {
    const result = await client.query<{ user_uuid: string; recorded: Date }>(
      'SELECT user_uuid, recorded FROM bio_metrics WHERE user_uuid = ANY($1::uuid[]) ORDER BY random() LIMIT $2',
      [users, limit]
    )
    return result.rows.map((r) => ({ user_uuid: r.user_uuid, recorded: r.recorded.toISOString() }))
  })
}
