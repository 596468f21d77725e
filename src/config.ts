/**
 * The one place that reads the environment. Validated once at boot against a TypeBox schema;
 * a missing or malformed variable stops the process with a message naming it.
 * Never branches on NODE_ENV: behaviour is chosen by explicit settings.
 * @see ../shared/CONTRACT.md "Configuration (environment)"
 */
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { ALGORITHMS } from './domain/score/algorithms.js'

const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description })
const Int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description })
const Url = (description: string, pattern: string) => Type.Optional(Type.String({ pattern, description }))

export const ConfigSchema = Type.Object({
  PORT: Int(3000, 0, 65535, 'API port'),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'API listen address' }),
  DATABASE_URL: Url('PostgreSQL / TimescaleDB writer; unset: embedded PostgreSQL under DATA_DIR', '^postgres(ql)?://'),
  DATABASE_READ_URL: Url('read replica for read-only queries; unset: the writer', '^postgres(ql)?://'),
  REDIS_URL: Url('Redis for cache and rate limits; unset: in-process', '^rediss?://'),
  AUTH_JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HS256 secret (at least 32 characters)' })),
  AUTH_JWKS_URL: Url('JWKS endpoint of an identity provider (RS256/ES256)', '^https?://'),
  AUTH_JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'required `iss` claim' })),
  AUTH_JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, description: 'required `aud` claim' })),
  MIGRATE_ON_START: Bool(true, 'run pending migrations at boot under an advisory lock'),
  METRICS_PORT: Int(9464, 0, 65535, 'Prometheus /metrics port'),
  RATE_LIMIT_MAX: Int(600, 1, 1_000_000, 'requests per principal per window'),
  RATE_LIMIT_WINDOW: Type.String({
    default: '1 minute',
    pattern: '^\\d+\\s*(ms|millisecond|milliseconds|s|second|seconds|m|minute|minutes|h|hour|hours)?$',
    description: 'rate-limit window, e.g. "1 minute", "30 seconds"'
  }),
  HEALTH_SCORE_ALGORITHM: Type.Optional(Type.String({ minLength: 1, description: 'active score algorithm version; unset: the newest' })),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  LOG_FORMAT: Type.Union([Type.Literal('json'), Type.Literal('ecs')], { default: 'json', description: 'json (pino) or ecs (Elastic Common Schema)' }),
  DATA_DIR: Type.String({ default: '.data', minLength: 1, description: 'embedded PostgreSQL data and the generated dev secret' }),
  EMBEDDED_PG_PORT: Int(54329, 1, 65535, 'port of the embedded PostgreSQL'),
  DB_POOL_MAX: Int(10, 1, 500, 'connections per pool'),
  DB_STATEMENT_TIMEOUT_MS: Int(5000, 100, 600_000, 'PostgreSQL statement_timeout'),
  DB_CONNECTION_TIMEOUT_MS: Int(2000, 100, 60_000, 'time to wait for a new connection'),
  DB_PREPARED_STATEMENTS: Int(128, 0, 10_000, 'repeated statements each pool prepares by name, so PostgreSQL plans them once per connection (0: off, e.g. behind PgBouncer in transaction mode before 1.21)'),
  DB_IDLE_TIMEOUT_MS: Int(30_000, 1000, 600_000, 'idle connection lifetime'),
  REDIS_COMMAND_TIMEOUT_MS: Int(250, 10, 60_000, 'Redis command timeout'),
  CACHE_TTL_SECONDS: Int(300, 1, 86_400, 'cache entry TTL'),
  CACHE_MAX_ENTRIES: Int(50_000, 100, 10_000_000, 'in-process cache size'),
  CACHE_LOCAL_MAX_MB: Int(64, 0, 4096, 'Redis mode: MiB of answers each process keeps a copy of (half for answers up to 8 KiB, half for larger ones), served only at the user\'s current generation (0: off)'),
  AUDIT_READ_FLUSH_MS: Int(30_000, 1000, 300_000, 'reads are audited as one row per actor, target, route and status per this many ms (a count and the first and last time); changes are written within a second'),
  HTTP_GZIP_MIN_BYTES: Int(1024, 0, 10_000_000, 'cached GET answers of this many bytes or more are sent gzip-compressed to clients that accept it, compressed once per cache entry (0: never compress)'),
  HTTP_WRITE_BATCH: Bool(true, 'answers finished in one poll of the sockets are written together right after it, so a busy server wakes a waiting client once per batch instead of once per answer (false: each answer is written when it is ready)'),
  CACHE_LOCAL_LEASE_MS: Int(25, 0, 10_000, 'Redis mode: generations are pushed to every process, which answers from its copies without Redis while it holds a lease this long; a write waits it out when another process is listening (0: every read asks Redis)'),
  WORKER_ENABLED: Bool(true, 'run the score worker inside the API process'),
  WORKER_CONCURRENCY: Int(2, 1, 64, 'score jobs processed at once per worker'),
  WORKER_POLL_MS: Int(500, 10, 60_000, 'idle poll interval of the worker'),
  WORKER_MAX_ATTEMPTS: Int(5, 1, 100, 'attempts before a job is parked'),
  WORKER_DEBOUNCE_MS: Int(2000, 0, 600_000, "a score job is computed once its user's writes have been quiet this long, so a burst of writes is computed once"),
  WORKER_MAX_WAIT_MS: Int(30_000, 0, 3_600_000, 'a user who keeps writing has their score job computed at the latest this long after the first write (≤ WORKER_DEBOUNCE_MS: a fixed delay after the first write)'),
  CORS_ORIGINS: Type.String({ default: '', description: 'comma-separated allowlist of origins; empty: CORS off' }),
  TRUST_PROXY: Type.String({ default: 'loopback', description: 'Fastify trustProxy (true, false, hop count or address list)' }),
  SHUTDOWN_DRAIN_MS: Int(5000, 0, 120_000, 'after SIGTERM: readiness fails this long before the listener closes'),
  SHUTDOWN_TIMEOUT_MS: Int(25_000, 1000, 600_000, 'hard limit on graceful shutdown'),
  REQUEST_TIMEOUT_MS: Int(15_000, 1000, 600_000, 'server request timeout'),
  CONNECTION_TIMEOUT_MS: Int(10_000, 1000, 600_000, 'socket idle timeout before headers'),
  KEEP_ALIVE_TIMEOUT_MS: Int(72_000, 1000, 600_000, 'keep-alive timeout; longer than the load balancer idle timeout'),
  BODY_LIMIT_BYTES: Int(1_048_576, 1024, 104_857_600, 'body limit of single-record requests'),
  BATCH_BODY_LIMIT_BYTES: Int(5_242_880, 1024, 104_857_600, 'body limit of batch requests'),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Int(1000, 0, 60_000, '503 past this event-loop delay (0: off)'),
  PRESSURE_MAX_EVENT_LOOP_UTILIZATION: Type.Number({ default: 0.98, minimum: 0, maximum: 1, description: '503 past this event-loop utilization (0: off)' }),
  PRESSURE_MAX_HEAP_BYTES: Int(0, 0, 1e12, '503 past this heap size (0: off)'),
  PRESSURE_SHED_EVENT_LOOP_DELAY_MS: Int(200, 0, 60_000, 'shed non-critical routes past this event-loop delay (0: off)'),
  PRESSURE_MAX_IN_FLIGHT: Int(10, 0, 100_000, '503 at once past this many requests in flight in one process (0: off); default: one per database connection (DB_POOL_MAX default)')
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parse and validate an environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim()
  }
  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw))
  const problems = new Map<string, string>()
  for (const error of Value.Errors(ConfigSchema, converted)) {
    const name = error.instancePath.replace(/^\//, '')
    if (!problems.has(name)) problems.set(name, `${name}=${JSON.stringify(raw[name])}: ${describe(name)}`)
  }
  if (problems.size > 0) {
    throw new ConfigError(`invalid configuration:\n  ${[...problems.values()].join('\n  ')}`)
  }
  const config = converted as Config
  if (config.DATABASE_URL && !config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL) {
    throw new ConfigError(
      'invalid configuration:\n  AUTH_JWT_SECRET or AUTH_JWKS_URL is required when DATABASE_URL is set ' +
        '(only the embedded default generates a development secret)'
    )
  }
  if (config.HEALTH_SCORE_ALGORITHM && !ALGORITHMS.some((a) => a.version === config.HEALTH_SCORE_ALGORITHM)) {
    throw new ConfigError(
      `invalid configuration:\n  HEALTH_SCORE_ALGORITHM=${JSON.stringify(config.HEALTH_SCORE_ALGORITHM)}: one of ${ALGORITHMS.map((a) => a.version).join(', ')}`
    )
  }
  return config
}

function describe(name: string): string {
  const schema = (ConfigSchema.properties as unknown as Record<string, Record<string, unknown>>)[name]
  if (!schema) return 'unknown setting'
  const parts: string[] = []
  if (schema.description) parts.push(String(schema.description))
  if (schema.type === 'integer') parts.push(`an integer from ${schema.minimum} to ${schema.maximum}`)
  if (schema.type === 'number') parts.push(`a number from ${schema.minimum} to ${schema.maximum}`)
  if (schema.type === 'boolean') parts.push('true or false')
  if (schema.anyOf) parts.push(`one of ${(schema.anyOf as Array<{ const: string }>).map((s) => s.const).join(', ')}`)
  if (schema.pattern) parts.push(`must match ${schema.pattern}`)
  if (schema.minLength) parts.push(`at least ${schema.minLength} characters`)
  return parts.join('; ')
}

/** Parse "1 minute", "30 seconds", "500ms" into milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)\s*([a-z]*)$/.exec(text.trim())
  if (!match) throw new ConfigError(`cannot parse duration ${JSON.stringify(text)}`)
  const n = Number(match[1])
  const unit = match[2] ?? ''
  if (unit === '' || unit.startsWith('ms') || unit.startsWith('milli')) return n
  if (unit.startsWith('s')) return n * 1000
  if (unit.startsWith('m')) return n * 60_000
  return n * 3_600_000
}

export function corsOrigins(config: Config): string[] {
  return config.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean)
}
