/**
 * The one error handler: every failure leaves as RFC 9457 application/problem+json.
 * Typed domain errors keep their status; unique violations are 409; lost database connections
 * are 503 with Retry-After; anything unexpected is a 500 whose body carries no stack or SQL.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError, type FieldError } from '../domain/errors.js'
import type { ProblemBody } from '../schemas/common.js'

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

export function problem(status: number, type: string, detail: string, errors?: FieldError[]): ProblemBody {
  const body: ProblemBody = { type: `/problems/${type}`, title: TITLES[status] ?? 'Error', status, detail }
  if (errors && errors.length > 0) body.errors = errors
  return body
}

/** PostgreSQL/pg errors that mean "the database is not reachable right now". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006'])

export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  if (e?.code && UNAVAILABLE_CODES.has(e.code)) return true
  const message = e?.message ?? ''
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error/i.test(message)
}

function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: string })?.code === '57014'
}

type Validation = NonNullable<FastifyError['validation']>

function validationErrors(validation: Validation, context: string | undefined): FieldError[] {
  return validation.map((v) => {
    let path = `/${context ?? 'body'}${v.instancePath}`
    const params = v.params as Record<string, unknown>
    if (v.keyword === 'additionalProperties') path += `/${String(params.additionalProperty)}`
    if (v.keyword === 'required') path += `/${String(params.missingProperty)}`
    const message = v.keyword === 'enum' ? `${v.message}: ${(params.allowedValues as unknown[]).join(', ')}` : (v.message ?? 'invalid')
    return { path, message }
  })
}

export interface MappedError {
  status: number
  body: ProblemBody
  headers: Record<string, string>
  /** the 4xx/5xx class the log line and metrics use */
  kind: 'client' | 'unavailable' | 'server'
}

export function mapError(error: unknown): MappedError {
  if (error instanceof DomainError) {
    return { status: error.status, body: problem(error.status, error.type, error.message, error.errors), headers: error.headers ?? {}, kind: error.status >= 500 ? 'unavailable' : 'client' }
  }
  const fe = error as FastifyError & { code?: string; constraint?: string }
  if (fe.validation) {
    return { status: 400, body: problem(400, 'validation', 'the request does not match the schema', validationErrors(fe.validation, fe.validationContext)), headers: {}, kind: 'client' }
  }
  if (fe.code === '23505') {
    return { status: 409, body: problem(409, 'conflict', 'a record with the same unique key already exists'), headers: {}, kind: 'client' }
  }
  if (fe.code === '22021' || fe.code === '22P05') {
    return { status: 400, body: problem(400, 'bad-request', 'text contains a character that cannot be stored (e.g. NUL)'), headers: {}, kind: 'client' }
  }
  if (fe.code === '22P02' || fe.code === '22007' || fe.code === '22008' || fe.code === '22003') {
    return { status: 400, body: problem(400, 'bad-request', 'a value could not be interpreted'), headers: {}, kind: 'client' }
  }
  if (isDatabaseUnavailable(error) || isStatementTimeout(error)) {
    return { status: 503, body: problem(503, 'service-unavailable', 'the database is temporarily unavailable; retry later'), headers: { 'retry-after': '5' }, kind: 'unavailable' }
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500
  if (status >= 400 && status < 500) {
    const detail = status === 413 ? 'the request body is too large' : fe.message || TITLES[status] || 'bad request'
    const type = status === 413 ? 'payload-too-large' : status === 415 ? 'unsupported-media-type' : status === 429 ? 'rate-limited' : 'bad-request'
    return { status, body: problem(status, type, detail), headers: {}, kind: 'client' }
  }
  if (status === 503) {
    return { status, body: problem(503, 'service-unavailable', 'the service is overloaded; retry later'), headers: { 'retry-after': '5' }, kind: 'unavailable' }
  }
  return { status: 500, body: problem(500, 'internal', 'an unexpected error occurred; it has been logged'), headers: {}, kind: 'server' }
}

export function sendProblem(reply: FastifyReply, mapped: MappedError): FastifyReply {
  for (const [name, value] of Object.entries(mapped.headers)) reply.header(name, value)
  return reply.code(mapped.status).type('application/problem+json; charset=utf-8').send(mapped.body)
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the problem this request was answered with, if any (read by the rejection log) */
    problem: ProblemBody | null
  }
}

export default fp(
  async (fastify) => {
    fastify.decorateRequest('problem', null)
    fastify.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = mapError(error)
      request.problem = mapped.body
      if (mapped.kind === 'server') request.log.error({ err: error }, 'unhandled error')
      else if (mapped.kind === 'unavailable') request.log.warn({ err: { message: (error as Error).message, code: (error as { code?: string }).code } }, 'dependency unavailable')
      else request.log.info({ status: mapped.status, problem: mapped.body.type, fields: mapped.body.errors?.map((e) => e.path) }, 'request rejected')
      return sendProblem(reply, mapped)
    })
    fastify.setNotFoundHandler((request, reply) => {
      return sendProblem(reply, { status: 404, body: problem(404, 'not-found', `no route ${request.method} ${request.url.split('?')[0]}`), headers: {}, kind: 'client' })
    })
  },
  { name: 'errors' }
)
