/**
 * User profile fields.
 * @see /work/shared/CONTRACT.md "Users"
 */
import { checkNumberInRange, checkText } from './field-checks.js'
import { USER_RANGES } from './ranges.js'
import { type FieldIssue, invalid, isAbsent, valid, type Validated } from './result.js'
import { latestLocalDateOnEarth, parseCalendarDate, quote, utcDateOf } from './time.js'

export const SEXES = ['female', 'male', 'other', 'unknown'] as const
export type Sex = (typeof SEXES)[number]

/** Contract: "timezone (IANA name, default UTC)". Applied here, so stored users always have one. */
export const DEFAULT_TIMEZONE = 'UTC'

/**
 * Jeanne Calment (1875-02-21 – 1997-08-04) lived 122 years and 164 days, the oldest verified human
 * (confirmed via search: Wikipedia "Jeanne Calment"). 125 leaves a margin over the record while
 * still catching birth-year typos (1826 for 1926).
 */
export const MAX_AGE_YEARS = 125

/** RFC 5321 §4.5.3.1: local part ≤ 64 octets; a path ≤ 256 octets incl. `<>`, so an address ≤ 254. */
export const MAX_EMAIL_LENGTH = 254
export const MAX_EMAIL_LOCAL_PART_LENGTH = 64
/** Engineering choice: generous for any real name, small enough to bound storage and logs. */
export const MAX_NAME_LENGTH = 200

export type UserInput = Readonly<{
  email?: string | null
  name?: string | null
  birth_date?: string | null
  sex?: string | null
  height_cm?: number | null
  timezone?: string | null
}>

export interface NormalizedUser {
  /** As the user typed it, trimmed: shown back to them. */
  email: string
  /**
   * Lowercased (after Unicode NFC) for the unique index: the contract makes email unique
   * case-insensitively. RFC 5321 lets a server treat local parts case-sensitively, but no
   * mainstream provider does, and the contract decides here.
   */
  email_normalized: string
  name: string | null
  birth_date: string | null
  sex: Sex | null
  height_cm: number | null
  /** The IANA name as given (trimmed); {@link DEFAULT_TIMEZONE} when absent. */
  timezone: string
}

function readEmail(issues: FieldIssue[], value: unknown): string | null {
  if (isAbsent(value)) {
    issues.push({ path: '/email', message: 'email is required' })
    return null
  }
  if (typeof value !== 'string') {
    issues.push({ path: '/email', message: 'email must be a string' })
    return null
  }
  const email = value.trim()
  const at = email.lastIndexOf('@')
  const local = email.slice(0, at)
  const domain = email.slice(at + 1)
  const domainLabels = domain.split('.')
  const wellFormed =
    at > 0 &&
    !/\s/.test(email) &&
    // An "@" inside the local part is legal only in a quoted local part ("a@b"@example.com).
    (!local.includes('@') || /^".*"$/.test(local)) &&
    domainLabels.length >= 2 &&
    domainLabels.every((label) => label.length > 0)
  if (!wellFormed) {
    issues.push({ path: '/email', message: `email must be an address like name@example.com (got ${quote(email)})` })
    return null
  }
  if (email.length > MAX_EMAIL_LENGTH || local.length > MAX_EMAIL_LOCAL_PART_LENGTH) {
    issues.push({
      path: '/email',
      message: `email must be at most ${MAX_EMAIL_LENGTH} characters with at most ${MAX_EMAIL_LOCAL_PART_LENGTH} before the @`,
    })
    return null
  }
  return email
}

function readBirthDate(issues: FieldIssue[], value: unknown, now: Date): string | null {
  if (isAbsent(value)) return null
  if (typeof value !== 'string') {
    issues.push({ path: '/birth_date', message: 'birth_date must be a string in YYYY-MM-DD form' })
    return null
  }
  const parsed = parseCalendarDate(value)
  if (!parsed.ok) {
    issues.push({ path: '/birth_date', message: `birth_date ${parsed.reason} (got ${quote(value)})` })
    return null
  }
  // Someone born "today" in UTC+14 is already born; anything later is not.
  const latest = latestLocalDateOnEarth(now)
  if (parsed.value > latest) {
    issues.push({ path: '/birth_date', message: `birth_date must not be in the future (got ${value})` })
    return null
  }
  // Age in completed years ≤ MAX_AGE_YEARS ⇔ born after this date (today, MAX_AGE_YEARS + 1 years ago).
  const today = utcDateOf(now)
  const tooOld = `${String(Number(today.slice(0, 4)) - MAX_AGE_YEARS - 1).padStart(4, '0')}${today.slice(4)}`
  if (parsed.value <= tooOld) {
    issues.push({
      path: '/birth_date',
      message: `birth_date implies an age over ${MAX_AGE_YEARS} years (the oldest verified human lived to 122); got ${value}`,
    })
    return null
  }
  return parsed.value
}

function readSex(issues: FieldIssue[], value: unknown): Sex | null {
  if (isAbsent(value)) return null
  if (typeof value === 'string' && (SEXES as readonly string[]).includes(value)) return value as Sex
  issues.push({ path: '/sex', message: `sex must be one of ${SEXES.join(', ')} (got ${quote(String(value))})` })
  return null
}

/** True when `name` is a time-zone name the runtime's IANA database knows. */
export function isIanaTimeZone(name: string): boolean {
  // ES2024 lets Intl accept offset zones ("+01:00"); the contract asks for an IANA name.
  if (name.length === 0 || /^[+-]/.test(name)) return false
  try {
    new Intl.DateTimeFormat('en', { timeZone: name })
    return true
  } catch {
    return false
  }
}

function readTimezone(issues: FieldIssue[], value: unknown): string | null {
  if (isAbsent(value)) return DEFAULT_TIMEZONE
  if (typeof value !== 'string') {
    issues.push({ path: '/timezone', message: 'timezone must be a string (IANA name such as Europe/Berlin)' })
    return null
  }
  const name = value.trim()
  if (!isIanaTimeZone(name)) {
    issues.push({
      path: '/timezone',
      message: `timezone must be an IANA time-zone name such as Europe/Berlin or America/New_York (got ${quote(value)})`,
    })
    return null
  }
  return name
}

/**
 * Validates a user (POST, or PATCH merged with the stored user via `applyMergePatch`).
 * `email` is required; every other field is optional; `timezone` defaults to UTC.
 */
export function validateUser(input: UserInput, now: Date): Validated<NormalizedUser> {
  const issues: FieldIssue[] = []
  const email = readEmail(issues, input.email)
  const name = checkText(issues, 'name', input.name, MAX_NAME_LENGTH)
  const birthDate = readBirthDate(issues, input.birth_date, now)
  const sex = readSex(issues, input.sex)
  const heightCm = checkNumberInRange(issues, 'height_cm', input.height_cm, USER_RANGES.height_cm)
  const timezone = readTimezone(issues, input.timezone)

  if (issues.length > 0 || email === null || timezone === null) return invalid(issues)
  return valid({
    email,
    email_normalized: email.normalize('NFC').toLowerCase(),
    name,
    birth_date: birthDate,
    sex,
    height_cm: heightCm,
    timezone,
  })
}
