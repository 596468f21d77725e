/**
 * Per-field checks shared by the resource validators. Each pushes its issues onto the caller's list
 * and returns the usable value, or `null` when the field is absent or invalid, so cross-field rules
 * run only on values that passed their own checks (one mistake yields one message, not three).
 */
import type { PlausibleRange } from './ranges.js'
import { type FieldIssue, isAbsent, pointer } from './result.js'

/**
 * Clients round each duration to whole minutes before sending it, so a sum of n rounded values can
 * exceed the exact total by up to n × 0.5 min. Engineering choice: sums are compared with that much
 * slack (0.5 min per rounded value on either side of the comparison), so honest device data that
 * adds up "to the minute" is never rejected while double-counting (whole stages) still is.
 */
export const MINUTE_ROUNDING_SLACK_PER_VALUE = 0.5

/** Numbers in messages: up to 2 decimals, no float noise (`0.1 + 0.2` prints as 0.3). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  return String(Number.parseFloat(value.toFixed(2)))
}

/**
 * Checks one numeric field against its plausibility range. Inputs already passed the JSON-schema
 * type check, but the domain still guards against NaN/Infinity and wrong types (never throws).
 */
export function checkNumberInRange(
  issues: FieldIssue[],
  field: string,
  value: unknown,
  range: PlausibleRange,
): number | null {
  if (isAbsent(value)) return null
  const path = pointer(field)
  if (typeof value !== 'number') {
    issues.push({ path, message: `${field} must be a number` })
    return null
  }
  if (!Number.isFinite(value)) {
    issues.push({ path, message: `${field} must be a finite number (got ${String(value)})` })
    return null
  }
  if (value < range.min || value > range.max) {
    issues.push({
      path,
      message: `${field} must be between ${range.min} and ${range.max} ${range.unit} (got ${formatNumber(value)})`,
    })
    return null
  }
  if (range.integer === true && !Number.isInteger(value)) {
    issues.push({ path, message: `${field} must be a whole number (got ${formatNumber(value)})` })
    return null
  }
  return value
}

/** Reads every metric of a resource through its range table; absent or invalid → `null`. */
export function readMetrics<F extends string>(
  issues: FieldIssue[],
  input: Readonly<Record<string, unknown>>,
  ranges: Readonly<Record<F, PlausibleRange>>,
): Record<F, number | null> {
  const values = {} as Record<F, number | null>
  for (const field of Object.keys(ranges) as F[]) {
    values[field] = checkNumberInRange(issues, field, input[field], ranges[field])
  }
  return values
}

/** True when at least one of `fields` was given at all (valid or not). */
export function anyGiven(input: Readonly<Record<string, unknown>>, fields: readonly string[]): boolean {
  return fields.some((field) => !isAbsent(input[field]))
}

/**
 * Whether a sum of rounded minute values exceeds a limit, allowing the rounding slack above.
 * `limitIsRounded` is false for exact limits such as the 1440 minutes of a day.
 */
export function sumExceedsLimit(terms: readonly number[], limit: number, limitIsRounded: boolean): boolean {
  const sum = terms.reduce((total, term) => total + term, 0)
  const roundedValues = terms.length + (limitIsRounded ? 1 : 0)
  return sum > limit + MINUTE_ROUNDING_SLACK_PER_VALUE * roundedValues
}

/** The values of `fields` that are present (non-null) in `values`. */
export function presentValues<F extends string>(values: Record<F, number | null>, fields: readonly F[]): number[] {
  return fields.map((field) => values[field]).filter((value): value is number => value !== null)
}

/** The names of `fields` that are present (non-null) in `values`, for messages. */
export function presentNames<F extends string>(values: Record<F, number | null>, fields: readonly F[]): F[] {
  return fields.filter((field) => values[field] !== null)
}

/** Reads an optional free-text field: trimmed, blank rejected, length-capped. */
export function checkText(
  issues: FieldIssue[],
  field: string,
  value: unknown,
  maxLength: number,
): string | null {
  if (isAbsent(value)) return null
  const path = pointer(field)
  if (typeof value !== 'string') {
    issues.push({ path, message: `${field} must be a string` })
    return null
  }
  const trimmed = value.trim()
  if (trimmed.length === 0) {
    issues.push({ path, message: `${field} must not be blank (send null to leave it empty)` })
    return null
  }
  if (trimmed.length > maxLength) {
    issues.push({ path, message: `${field} must be at most ${maxLength} characters (got ${trimmed.length})` })
    return null
  }
  return trimmed
}
