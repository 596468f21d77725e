/**
 * Shapes shared by every resource: problem+json, pages, identifiers, dates.
 * One schema per shape: validation, serialization, OpenAPI and TS types all come from here.
 */
import { Type, type Static, type TSchema } from 'typebox'

export const StringEnum = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })

export const Uuid = Type.String({ format: 'uuid', description: 'UUID', examples: ['5b7a3f0e-8f3e-4a2e-9a0a-3c1f2b4d5e6f'] })
export const DateOnly = Type.String({ format: 'date', description: 'calendar date YYYY-MM-DD (the user\'s local day)' })
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp; UTC (Z) on output' })
/** Output timestamps: pg returns Date objects, serialized as RFC 3339 UTC. */
export const TimestampOut = Type.Unsafe<string | Date>({ type: 'string', format: 'date-time', description: 'RFC 3339 timestamp (UTC)' })
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const FieldErrorSchema = Type.Object({
  path: Type.String({ description: 'JSON pointer of the offending field, e.g. /body/systolic_mmhg' }),
  message: Type.String()
})

/** RFC 9457 problem details. @see https://www.rfc-editor.org/rfc/rfc9457 */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema))
  },
  { $id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' }
)
export type ProblemBody = Static<typeof Problem>

export const ProblemRef = Type.Unsafe<ProblemBody>({ $ref: 'Problem#' })

/** Error responses every /api route may give. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const all = new Set([400, 401, 429, 500, 503, ...statuses])
  const out: Record<number, unknown> = {}
  for (const status of [...all].sort()) out[status] = { ...ProblemRef, description: problemDescriptions[status] ?? 'error' }
  return out
}

const problemDescriptions: Record<number, string> = {
  400: 'malformed request (bad JSON, wrong types, unknown fields)',
  401: 'missing or invalid bearer token',
  403: 'the role may not do this',
  404: 'not found (or not yours)',
  409: 'conflict: duplicate natural key, or the same Idempotency-Key still in flight',
  413: 'body too large',
  415: 'unsupported content type',
  422: 'well-formed but implausible or inconsistent values',
  429: 'rate limited; see Retry-After',
  500: 'internal error (no details are exposed)',
  503: 'overloaded or a dependency is down; see Retry-After'
}

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'page size' }),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'opaque cursor from next_cursor' })),
    from: Type.Optional(DateOnly),
    to: Type.Optional(DateOnly),
    fields: Type.Optional(Type.String({ maxLength: 512, pattern: '^[a-z_]+(,[a-z_]+)*$', description: 'comma-separated fields to return' }))
  },
  { additionalProperties: false }
)
export type ListQueryType = Static<typeof ListQuery>

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next_cursor: Nullable(Type.String())
  })

export const UserUuidParams = Type.Object({ user_uuid: Uuid }, { additionalProperties: false })

/** no schema default: a PATCH without `source` must keep the stored one (the service defaults POSTs to "manual") */
export const Source = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: 'device or integration that produced the record (e.g. apple_health, garmin); default "manual"'
})
export const Quality = StringEnum(['ok', 'suspect'] as const)
