/**
 * Sleep: one main sleep per user and `date`, the day the sleep ENDED.
 * @see /work/shared/CONTRACT.md "Sleep"
 */
import {
  anyGiven,
  formatNumber,
  presentNames,
  presentValues,
  readMetrics,
  sumExceedsLimit,
} from './field-checks.js'
import { SLEEP_METRIC_FIELDS, SLEEP_RANGES, type SleepMetricField } from './ranges.js'
import { type FieldIssue, invalid, valid, type Validated } from './result.js'
import { addDays, type ParsedTimestamp, readDateField, readTimestampField } from './time.js'

export type SleepInput = Readonly<
  { date?: string | null; sleep_start?: string | null; sleep_end?: string | null } & {
    [F in SleepMetricField]?: number | null
  }
>

/**
 * A validated sleep. `sleep_start`/`sleep_end` are ISO 8601 UTC strings (or `null`);
 * `total_sleep_minutes` is derived from the stages when it was not given (see below).
 */
export type NormalizedSleep = { date: string; sleep_start: string | null; sleep_end: string | null } & {
  [F in SleepMetricField]: number | null
}

/** Contract: "sleep_start, sleep_end (end after start, at most 24 h apart)". */
export const MAX_TIME_IN_BED_MINUTES = 24 * 60

/**
 * Total sleep time is the sum of the ASLEEP stages only (N1 + N2 = "light", N3 = "deep", REM);
 * wake after sleep onset is time in bed but not sleep, which is why sleep efficiency is
 * TST / time in bed. @see research file §1 (stage shares are "% of TST") [41]; NSF sleep-quality
 * indicators list WASO separately from sleep duration [43].
 */
export const ASLEEP_STAGE_FIELDS = ['deep_minutes', 'rem_minutes', 'light_minutes'] as const
const IN_BED_STAGE_FIELDS = [...ASLEEP_STAGE_FIELDS, 'awake_minutes'] as const

/**
 * The local date of `sleep_end` (in its own offset) must equal `date`. Clients that convert to UTC
 * before sending shift the local date by at most one day (offsets span −12:00…+14:00), so ±1 day
 * is accepted: an engineering tolerance that still rejects a sleep filed under the wrong week.
 */
export const SLEEP_DATE_TOLERANCE_DAYS = 1

function minutesBetween(start: ParsedTimestamp, end: ParsedTimestamp): number {
  return (end.instant.getTime() - start.instant.getTime()) / 60_000
}

/**
 * Validates one main sleep (POST, batch item, or PATCH merged with the stored record).
 * Rules: `date` required (real date, not after today anywhere on Earth); at least one metric or
 * the start/end pair; start and end given together, end after start, at most 24 h apart, end not in
 * the future; the end's local date within ±1 day of `date`; each metric in SLEEP_RANGES; stage
 * minutes (asleep + awake) ≤ time in bed; total ≤ time in bed; asleep stages ≤ total.
 * When all three asleep stages are given and the total is not, total = deep + rem + light.
 */
export function validateSleep(input: SleepInput, now: Date): Validated<NormalizedSleep> {
  const issues: FieldIssue[] = []
  const date = readDateField(issues, 'date', input.date, now, true)

  if (!anyGiven(input, [...SLEEP_METRIC_FIELDS, 'sleep_start', 'sleep_end'])) {
    issues.push({
      path: '',
      message: `at least one of sleep_start/sleep_end or a metric is required: ${SLEEP_METRIC_FIELDS.join(', ')}`,
    })
  }
  const start = readTimestampField(issues, 'sleep_start', input.sleep_start, now, false)
  const end = readTimestampField(issues, 'sleep_end', input.sleep_end, now, false)
  const metrics = readMetrics(issues, input, SLEEP_RANGES)

  // Time in bed needs both ends; one alone cannot be checked or scored.
  if (anyGiven(input, ['sleep_start']) !== anyGiven(input, ['sleep_end'])) {
    const missing = anyGiven(input, ['sleep_start']) ? 'sleep_end' : 'sleep_start'
    const given = missing === 'sleep_end' ? 'sleep_start' : 'sleep_end'
    issues.push({ path: `/${missing}`, message: `${missing} is required when ${given} is given` })
  }

  let timeInBed: number | null = null
  if (start !== null && end !== null) {
    const minutes = minutesBetween(start, end)
    if (minutes <= 0) {
      issues.push({ path: '/sleep_end', message: `sleep_end (${end.iso}) must be after sleep_start (${start.iso})` })
    } else if (minutes > MAX_TIME_IN_BED_MINUTES) {
      issues.push({
        path: '/sleep_end',
        message: `sleep_end must be at most 24 h after sleep_start (got ${formatNumber(minutes / 60)} h)`,
      })
    } else {
      timeInBed = minutes
    }
  }

  if (end !== null && date !== null) {
    const earliest = addDays(date, -SLEEP_DATE_TOLERANCE_DAYS)
    const latest = addDays(date, SLEEP_DATE_TOLERANCE_DAYS)
    if (end.localDate < earliest || end.localDate > latest) {
      issues.push({
        path: '/date',
        message: `date (${date}) must be the day the sleep ended, but sleep_end is on ${end.localDate} in its own offset (±${SLEEP_DATE_TOLERANCE_DAYS} day is accepted)`,
      })
    }
  }

  // Stage minutes (asleep + awake) fit in the time in bed; without start/end, in the longest
  // allowed time in bed.
  const inBedStages = presentValues(metrics, IN_BED_STAGE_FIELDS)
  const inBedLimit = timeInBed ?? MAX_TIME_IN_BED_MINUTES
  if (inBedStages.length > 0 && sumExceedsLimit(inBedStages, inBedLimit, timeInBed !== null)) {
    const names = presentNames(metrics, IN_BED_STAGE_FIELDS).join(' + ')
    const sum = formatNumber(inBedStages.reduce((total, m) => total + m, 0))
    const limit =
      timeInBed !== null
        ? `the time in bed between sleep_start and sleep_end (${formatNumber(timeInBed)} min)`
        : `${MAX_TIME_IN_BED_MINUTES} min, the longest allowed time in bed`
    issues.push({ path: '', message: `${names} (${sum} min) must not exceed ${limit}` })
  }

  const total = metrics.total_sleep_minutes
  if (timeInBed !== null && total !== null && sumExceedsLimit([total], timeInBed, true)) {
    issues.push({
      path: '/total_sleep_minutes',
      message: `total_sleep_minutes (${formatNumber(total)}) must not exceed the time in bed between sleep_start and sleep_end (${formatNumber(timeInBed)} min)`,
    })
  }

  const asleepStages = presentValues(metrics, ASLEEP_STAGE_FIELDS)
  const asleepSum = asleepStages.reduce((sum, m) => sum + m, 0)
  if (total !== null && asleepStages.length > 0 && sumExceedsLimit(asleepStages, total, true)) {
    issues.push({
      path: '/total_sleep_minutes',
      message: `total_sleep_minutes (${formatNumber(total)}) must be at least ${presentNames(metrics, ASLEEP_STAGE_FIELDS).join(' + ')} (${formatNumber(asleepSum)}); awake_minutes is not counted as sleep`,
    })
  }

  const maxTotal = SLEEP_RANGES.total_sleep_minutes.max
  if (total === null && !anyGiven(input, ['total_sleep_minutes']) && sumExceedsLimit(asleepStages, maxTotal, false)) {
    issues.push({
      path: '',
      message: `deep + rem + light minutes (${formatNumber(asleepSum)}) exceed ${maxTotal} min, the plausible maximum of total_sleep_minutes`,
    })
  }

  if (issues.length > 0 || date === null) return invalid(issues)

  // Derive the total only from a complete set of asleep stages: a partial set (say deep + rem
  // without light) would store an understated total that then feeds the sleep score.
  const derivedTotal = total === null && asleepStages.length === ASLEEP_STAGE_FIELDS.length ? asleepSum : total
  return valid({
    date,
    sleep_start: start?.iso ?? null,
    sleep_end: end?.iso ?? null,
    ...metrics,
    total_sleep_minutes: derivedTotal,
  })
}
