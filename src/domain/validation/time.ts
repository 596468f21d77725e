/**
 * Calendar dates and RFC 3339 timestamps, parsed strictly and checked against an injected `now`
 * (domain code never reads the clock, so every rule here is testable at any instant).
 */
import { type FieldIssue, isAbsent, pointer } from './result.js'

/**
 * How far in the future a timestamp may lie before it counts as "in the future" (contract: "beyond
 * a small clock-skew allowance"). Engineering choice borrowed from Kerberos, whose recommended
 * acceptable clock skew between hosts is five minutes.
 * @see RFC 4120 (Kerberos V5), as restated in Microsoft [MS-KILE] §1.5 "the recommended acceptable
 *      clock skew is five minutes" — confirmed via search.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60 * 1000

/**
 * The furthest-ahead civil time zone is UTC+14 (Line Islands, Kiribati: IANA `Pacific/Kiritimati`),
 * so a local calendar date can be at most one day ahead of the UTC date. Confirmed with the IANA tz
 * data shipped in Node's ICU (tz 2025c): `Intl.DateTimeFormat` reports Pacific/Kiritimati as GMT+14.
 * @see https://data.iana.org/time-zones/tzdb/australasia (Zone Pacific/Kiritimati 14:00)
 */
export const MAX_UTC_OFFSET_AHEAD_MINUTES = 14 * 60

/**
 * Engineering choice: no wearable reading or lab result we ingest predates 1900; an earlier date is
 * a typo (`0226-…`, `1026-…`). Birth dates use the stricter age rule in user.ts instead.
 */
export const EARLIEST_RECORD_DATE = '1900-01-01'

const DAY_MS = 86_400_000
const EARLIEST_RECORD_INSTANT_MS = Date.parse(`${EARLIEST_RECORD_DATE}T00:00:00Z`)

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string }

export interface ParsedTimestamp {
  /** The instant, at millisecond precision (digits beyond milliseconds are truncated). */
  instant: Date
  /** The instant as an ISO 8601 UTC string, e.g. `2026-03-01T06:30:00.000Z` (the output format). */
  iso: string
  /** The calendar date in the timestamp's own offset, e.g. `2026-03-01` for `…T23:30:00-05:00`. */
  localDate: string
  /** The offset east of UTC, in minutes (`-05:00` → -300). */
  offsetMinutes: number
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
}

/** Echoes client input in messages, shortened so a 1 MB string cannot bloat an error response. */
export function quote(text: string): string {
  return `'${text.length > 40 ? text.slice(0, 40) + '…' : text}'`
}

function checkYearMonthDay(year: number, month: number, day: number): string | null {
  if (month < 1 || month > 12) return `month ${month} does not exist`
  if (day < 1 || day > daysInMonth(year, month)) {
    return `day ${day} does not exist in ${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`
  }
  return null
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/

/** Parses `YYYY-MM-DD` and rejects dates that are not on the calendar (2026-02-30). */
export function parseCalendarDate(text: string): ParseResult<string> {
  const match = DATE_PATTERN.exec(text)
  if (match === null) return { ok: false, reason: 'must be a date in YYYY-MM-DD form' }
  const problem = checkYearMonthDay(Number(match[1]), Number(match[2]), Number(match[3]))
  return problem === null ? { ok: true, value: text } : { ok: false, reason: `is not a calendar date: ${problem}` }
}

/**
 * RFC 3339 §5.6 date-time. Like ajv-formats' `date-time` (used by the schema layer) it accepts `t`
 * or a space as separator and `±hhmm`/`±hh` offsets, so anything the schema passes parses here.
 * A leap second (`:60`) is rejected: JavaScript dates cannot represent it, and none has been
 * inserted since 2016.
 */
const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/

export function parseTimestamp(text: string): ParseResult<ParsedTimestamp> {
  const match = TIMESTAMP_PATTERN.exec(text)
  if (match === null) {
    return { ok: false, reason: 'must be an RFC 3339 timestamp with an offset, e.g. 2026-03-01T07:30:00+01:00' }
  }
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  const hour = Number(match[4])
  const minute = Number(match[5])
  const second = Number(match[6])
  const dateProblem = checkYearMonthDay(year, month, day)
  if (dateProblem !== null) return { ok: false, reason: `is not a calendar date: ${dateProblem}` }
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: 'has an invalid time of day (hours 00–23, minutes and seconds 00–59)' }
  }
  const offsetHours = match[9] === undefined ? 0 : Number(match[10])
  const offsetMins = match[11] === undefined ? 0 : Number(match[11])
  if (offsetHours > 23 || offsetMins > 59) return { ok: false, reason: 'has an invalid UTC offset' }
  const offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  const fraction = match[7]
  const millis = fraction === undefined ? 0 : Number(fraction.length === 3 ? fraction : fraction.padEnd(3, '0').slice(0, 3))

  // Date.UTC maps years 0–99 to 1900–1999: those go through setUTCFullYear
  let localMs: number
  if (year >= 100) localMs = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  else {
    const local = new Date(0)
    local.setUTCFullYear(year, month - 1, day)
    local.setUTCHours(hour, minute, second, millis)
    localMs = local.getTime()
  }
  const instant = new Date(localMs - offsetMinutes * 60_000)
  // already in the output form (what devices and our own answers send): no need to format it again
  const canonical = match[8] === 'Z' && fraction !== undefined && fraction.length === 3 && text.charCodeAt(10) === 84 /* T */
  return { ok: true, value: { instant, iso: canonical ? text : instant.toISOString(), localDate: text.slice(0, 10), offsetMinutes } }
}

/** The UTC calendar date of an instant. */
export function utcDateOf(instant: Date): string {
  return instant.toISOString().slice(0, 10)
}

/** Calendar arithmetic on `YYYY-MM-DD` strings (UTC, so no DST surprises). */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number)
  const base = new Date(0)
  base.setUTCFullYear(year, month - 1, day)
  return utcDateOf(new Date(base.getTime() + days * DAY_MS))
}

/** The latest calendar date that is "today" somewhere on Earth at `now` (UTC+14). */
export function latestLocalDateOnEarth(now: Date): string {
  return utcDateOf(new Date(now.getTime() + MAX_UTC_OFFSET_AHEAD_MINUTES * 60_000))
}

/**
 * Reads a `YYYY-MM-DD` field: a real calendar date, not before {@link EARLIEST_RECORD_DATE} and
 * not after today in the furthest-ahead time zone. Returns the date or `null` (absent or invalid).
 */
export function readDateField(
  issues: FieldIssue[],
  field: string,
  value: unknown,
  now: Date,
  required: boolean,
): string | null {
  const path = pointer(field)
  if (isAbsent(value)) {
    if (required) issues.push({ path, message: `${field} is required (YYYY-MM-DD)` })
    return null
  }
  if (typeof value !== 'string') {
    issues.push({ path, message: `${field} must be a string in YYYY-MM-DD form` })
    return null
  }
  const parsed = parseCalendarDate(value)
  if (!parsed.ok) {
    issues.push({ path, message: `${field} ${parsed.reason} (got ${quote(value)})` })
    return null
  }
  if (parsed.value < EARLIEST_RECORD_DATE) {
    issues.push({ path, message: `${field} must not be before ${EARLIEST_RECORD_DATE} (got ${value})` })
    return null
  }
  const latest = latestLocalDateOnEarth(now)
  if (parsed.value > latest) {
    issues.push({
      path,
      message: `${field} must not be in the future: the latest date anywhere on Earth (UTC+14) is ${latest} (got ${value})`,
    })
    return null
  }
  return parsed.value
}

/**
 * Reads an RFC 3339 timestamp field: parseable, not before {@link EARLIEST_RECORD_DATE}, and not
 * more than {@link CLOCK_SKEW_ALLOWANCE_MS} after `now`.
 */
export function readTimestampField(
  issues: FieldIssue[],
  field: string,
  value: unknown,
  now: Date,
  required: boolean,
): ParsedTimestamp | null {
  const path = pointer(field)
  if (isAbsent(value)) {
    if (required) issues.push({ path, message: `${field} is required (RFC 3339 timestamp with an offset)` })
    return null
  }
  if (typeof value !== 'string') {
    issues.push({ path, message: `${field} must be a string (RFC 3339 timestamp with an offset)` })
    return null
  }
  const parsed = parseTimestamp(value)
  if (!parsed.ok) {
    issues.push({ path, message: `${field} ${parsed.reason} (got ${quote(value)})` })
    return null
  }
  if (parsed.value.instant.getTime() < EARLIEST_RECORD_INSTANT_MS) {
    issues.push({ path, message: `${field} must not be before ${EARLIEST_RECORD_DATE} (got ${value})` })
    return null
  }
  if (parsed.value.instant.getTime() > now.getTime() + CLOCK_SKEW_ALLOWANCE_MS) {
    issues.push({
      path,
      message: `${field} must not be in the future (got ${parsed.value.iso}; server time is ${now.toISOString()}, allowed clock skew is ${CLOCK_SKEW_ALLOWANCE_MS / 60_000} minutes)`,
    })
    return null
  }
  return parsed.value
}
