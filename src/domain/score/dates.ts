/**
 * Calendar arithmetic on 'YYYY-MM-DD' strings, done in UTC so it never depends on the host's time
 * zone or clock (the engine reads no clock at all).
 */

export const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/**
 * The engine does not know the user's time zone, so when it checks a timestamp against a window of
 * local days it admits the widest span any zone could produce.
 * @see IANA time zone database: offsets run from UTC−12:00 (Etc/GMT+12) to UTC+14:00 (Pacific/Kiritimati)
 */
export const EARLIEST_ZONE_LEAD_MS = 14 * HOUR_MS
export const LATEST_ZONE_LAG_MS = 12 * HOUR_MS

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/

/** Milliseconds of the day's UTC midnight, or null when the string is not a real calendar day. */
export function parseIsoDay(day: unknown): number | null {
  if (typeof day !== 'string') return null
  const match = ISO_DAY.exec(day)
  if (match === null) return null
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const ms = Date.UTC(year, month - 1, date)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== date) return null
  return ms
}

export function isIsoDay(day: unknown): day is string {
  return parseIsoDay(day) !== null
}

export function formatIsoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** Shifts a valid day by whole days (negative goes back). */
export function addDays(day: string, days: number): string {
  return formatIsoDay((parseIsoDay(day) as number) + days * DAY_MS)
}

/** Goes back whole calendar months; the 31st of a shorter month clamps to its last day. */
export function subtractMonths(day: string, months: number): string {
  const ms = parseIsoDay(day) as number
  const d = new Date(ms)
  const monthIndex = d.getUTCFullYear() * 12 + d.getUTCMonth() - months
  const year = Math.floor(monthIndex / 12)
  const month = monthIndex - year * 12
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  return formatIsoDay(Date.UTC(year, month, Math.min(d.getUTCDate(), lastDay)))
}

/** True when `day` is a valid day within [from, to] (ISO days compare correctly as strings). */
export function isDayWithin(day: unknown, from: string, to: string): boolean {
  return isIsoDay(day) && day >= from && day <= to
}

/** Parses an RFC 3339 timestamp; null when it is not one. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value !== 'string' || value.length < 10) return null
  const ms = Date.parse(value)
  return Number.isFinite(ms) ? ms : null
}

export function utcDayOf(ms: number): string {
  return formatIsoDay(Math.floor(ms / DAY_MS) * DAY_MS)
}

/** Whole years between a birth date and a day, or null when the birth date is unusable. */
export function ageInYears(birthDate: string | null | undefined, on: string): number | null {
  if (!isIsoDay(birthDate) || birthDate > on) return null
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4))
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years
}

const dayFormatters = new Map<string, Intl.DateTimeFormat | null>()

function formatDay(ms: number, formatter: Intl.DateTimeFormat): string {
  const parts = Object.fromEntries(formatter.formatToParts(new Date(ms)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day}`
}

/**
 * Local days of 15-minute UTC slots, per zone. A slot is cached only when its first and last
 * millisecond fall on the same local day; zone offsets and DST transitions fall on quarter hours, so
 * every instant in such a slot has that day. A slot that holds a local midnight is never cached.
 */
const SLOT_MS = 15 * 60_000
const MAX_SLOTS_PER_ZONE = 50_000
const slotDays = new Map<string, Map<number, string | false>>()

/**
 * The calendar day of an instant in an IANA time zone, or null when the zone is unknown to the
 * runtime. Formatters and quarter-hour slots are cached per zone (Intl formatting per reading
 * dominated the score's cost for dense wearable data); the caches only save time.
 */
export function localDayOf(ms: number, timeZone: string): string | null {
  let formatter = dayFormatters.get(timeZone)
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    } catch {
      formatter = null
    }
    dayFormatters.set(timeZone, formatter)
  }
  if (formatter === null) return null
  if (!Number.isFinite(ms)) return formatDay(ms, formatter) // throws like an uncached call would
  let slots = slotDays.get(timeZone)
  if (slots === undefined) slotDays.set(timeZone, (slots = new Map()))
  const slot = Math.floor(ms / SLOT_MS)
  let day = slots.get(slot)
  if (day === undefined) {
    const first = formatDay(slot * SLOT_MS, formatter)
    day = first === formatDay(slot * SLOT_MS + SLOT_MS - 1, formatter) ? first : false
    if (slots.size >= MAX_SLOTS_PER_ZONE) slots.clear()
    slots.set(slot, day)
  }
  return day === false ? formatDay(ms, formatter) : day
}

export function isKnownTimeZone(timeZone: unknown): timeZone is string {
  return typeof timeZone === 'string' && timeZone.length > 0 && localDayOf(0, timeZone) !== null
}
