/**
 * Physical activity: one daily summary per user and local `date`.
 * @see /work/shared/CONTRACT.md "Physical activity"
 */
import {
  anyGiven,
  formatNumber,
  presentNames,
  presentValues,
  readMetrics,
  sumExceedsLimit,
} from './field-checks.js'
import {
  MINUTES_PER_DAY,
  PHYSICAL_ACTIVITY_FIELDS,
  PHYSICAL_ACTIVITY_RANGES,
  type PhysicalActivityField,
} from './ranges.js'
import { type FieldIssue, invalid, valid, type Validated } from './result.js'
import { readDateField } from './time.js'

export type PhysicalActivityInput = Readonly<
  { date?: string | null } & { [F in PhysicalActivityField]?: number | null }
>

/** A validated daily summary; `date` is the user's local `YYYY-MM-DD`, absent metrics are `null`. */
export type NormalizedPhysicalActivity = { date: string } & { [F in PhysicalActivityField]: number | null }

const INTENSITY_FIELDS = ['moderate_minutes', 'vigorous_minutes'] as const

/**
 * Validates a daily activity summary (POST, batch item, or PATCH merged with the stored record).
 * Rules: `date` required, a real calendar date not later than today anywhere on Earth (UTC+14);
 * at least one metric; each within PHYSICAL_ACTIVITY_RANGES; and the cross-field rules below.
 */
export function validatePhysicalActivity(
  input: PhysicalActivityInput,
  now: Date,
): Validated<NormalizedPhysicalActivity> {
  const issues: FieldIssue[] = []
  const date = readDateField(issues, 'date', input.date, now, true)

  if (!anyGiven(input, PHYSICAL_ACTIVITY_FIELDS)) {
    issues.push({ path: '', message: `at least one metric is required: ${PHYSICAL_ACTIVITY_FIELDS.join(', ')}` })
  }
  const metrics = readMetrics(issues, input, PHYSICAL_ACTIVITY_RANGES)

  // Moderate (3.0–<6 METs) and vigorous (≥6 METs) are disjoint intensity bands, so their minutes
  // add up and the sum cannot exceed the day.
  // @see PAG 2018 Appendix 1; AHA MET bands [21]; research file §1 "moderate + vigorous ≤ 1,440".
  const intensityMinutes = presentValues(metrics, INTENSITY_FIELDS)
  const intensityNames = presentNames(metrics, INTENSITY_FIELDS)
  const intensitySum = intensityMinutes.reduce((sum, m) => sum + m, 0)
  if (intensityMinutes.length === 2 && sumExceedsLimit(intensityMinutes, MINUTES_PER_DAY, false)) {
    issues.push({
      path: '',
      message: `moderate_minutes + vigorous_minutes (${formatNumber(intensitySum)}) must not exceed the ${MINUTES_PER_DAY} minutes of a day`,
    })
  }

  // Every moderate or vigorous minute is also an active minute, whichever definition a device
  // uses for active_minutes: light + moderate + vigorous (all activity above sedentary), MVPA only
  // (moderate + vigorous), or Fitbit-style Active Zone Minutes (which count vigorous minutes twice).
  // In all three, active_minutes ≥ moderate_minutes + vigorous_minutes, so a smaller value means
  // the fields were mixed up. @see PAG 2018 intensity bands [21]
  const active = metrics.active_minutes
  if (active !== null && intensityMinutes.length > 0 && sumExceedsLimit(intensityMinutes, active, true)) {
    issues.push({
      path: '/active_minutes',
      message: `active_minutes (${formatNumber(active)}) must be at least ${intensityNames.join(' + ')} (${formatNumber(intensitySum)}): moderate and vigorous minutes are part of the active minutes`,
    })
  }

  // An average cannot exceed the maximum of the same series.
  const { avg_heart_rate_bpm: avgHeartRate, max_heart_rate_bpm: maxHeartRate } = metrics
  if (avgHeartRate !== null && maxHeartRate !== null && avgHeartRate > maxHeartRate) {
    issues.push({
      path: '/avg_heart_rate_bpm',
      message: `avg_heart_rate_bpm (${formatNumber(avgHeartRate)}) must not exceed max_heart_rate_bpm (${formatNumber(maxHeartRate)})`,
    })
  }

  if (issues.length > 0 || date === null) return invalid(issues)
  return valid({ date, ...metrics })
}
