/**
 * The one result shape every validator in src/domain returns.
 *
 * Validators never throw on well-typed input: they collect every problem they find, so a client
 * fixes a whole form in one round trip, and the HTTP layer maps `issues` 1:1 onto the
 * RFC 9457 problem `errors: [{ path, message }]` array (422).
 */

/**
 * One offending field. `path` is an RFC 6901 JSON Pointer into the request body
 * (`/systolic_mmhg`, `/results/2/unit`); `""` is the whole document, used for rules that span
 * several fields (e.g. "at least one metric is required"). ajv uses the same convention for its
 * `instancePath`, so 400 and 422 errors read alike.
 * @see https://www.rfc-editor.org/rfc/rfc6901#section-5 (the empty string is the whole document)
 */
export interface FieldIssue {
  path: string
  message: string
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] }

export function valid<T>(value: T): Validated<T> {
  return { ok: true, value }
}

export function invalid<T>(issues: FieldIssue[]): Validated<T> {
  return { ok: false, issues }
}

/** Builds a JSON Pointer from path segments, escaping `~` and `/` as RFC 6901 §3 requires. */
export function pointer(...segments: Array<string | number>): string {
  if (segments.length === 1 && typeof segments[0] === 'string') return fieldPointer(segments[0])
  return segments.map(escaped).join('')
}

const escaped = (s: string | number) => '/' + String(s).replaceAll('~', '~0').replaceAll('/', '~1')

// validators name the same few dozen fields for every item of a 1000-item batch: each pointer is
// built once (bounded: field names come from the code, a larger set means a caller passes data)
const fieldPointers = new Map<string, string>()
function fieldPointer(field: string): string {
  let path = fieldPointers.get(field)
  if (path === undefined) {
    path = escaped(field)
    if (fieldPointers.size < 1000) fieldPointers.set(field, path)
  }
  return path
}

/** Re-roots issues found in a nested value, e.g. one blood result under `/results/3`. */
export function prefixIssues(prefix: string, issues: FieldIssue[]): FieldIssue[] {
  return issues.map((issue) => ({ path: prefix + issue.path, message: issue.message }))
}

/** `null` and `undefined` both mean "not given" in every input shape (see the module docs). */
export function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined
}
