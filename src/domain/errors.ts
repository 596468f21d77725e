/**
 * Failures as typed values. Domain and repository code throws these; one error handler
 * (src/plugins/errors.ts) maps them to RFC 9457 problem+json.
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */
export interface FieldError {
  /** JSON pointer into the request, e.g. "/body/systolic_mmhg" */
  path: string
  message: string
}

export abstract class DomainError extends Error {
  abstract readonly status: number
  abstract readonly type: string
  readonly errors?: FieldError[]
  readonly headers?: Record<string, string>
  constructor(message: string, errors?: FieldError[], headers?: Record<string, string>) {
    super(message)
    this.name = this.constructor.name
    this.errors = errors
    this.headers = headers
  }
}

export class BadRequest extends DomainError {
  readonly status = 400
  readonly type = 'bad-request'
}
export class Unauthorized extends DomainError {
  readonly status = 401
  readonly type = 'unauthorized'
}
export class Forbidden extends DomainError {
  readonly status = 403
  readonly type = 'forbidden'
}
export class NotFound extends DomainError {
  readonly status = 404
  readonly type = 'not-found'
}
export class Conflict extends DomainError {
  readonly status = 409
  readonly type = 'conflict'
}
export class PayloadTooLarge extends DomainError {
  readonly status = 413
  readonly type = 'payload-too-large'
}
/** Well-formed input whose values are implausible or inconsistent (422). */
export class Implausible extends DomainError {
  readonly status = 422
  readonly type = 'unprocessable-content'
}
export class ServiceUnavailable extends DomainError {
  readonly status = 503
  readonly type = 'service-unavailable'
}
