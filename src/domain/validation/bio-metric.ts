/**
 * Bio-metrics: point-in-time vital signs and body measurements, keyed by `recorded`.
 * @see /work/shared/CONTRACT.md "Bio-metrics"
 */
import {
  anyGiven,
  readMetrics,
} from './field-checks.js'
import { BIO_METRIC_FIELDS, BIO_METRIC_RANGES, type BioMetricField } from './ranges.js'
import { type FieldIssue, invalid, valid, type Validated } from './result.js'
import { readTimestampField } from './time.js'

export type BioMetricInput = Readonly<{ recorded?: string | null } & { [F in BioMetricField]?: number | null }>

/**
 * A validated reading. `recorded` is an ISO 8601 UTC string with milliseconds
 * (`2026-03-01T06:30:00.000Z`): the contract's output form, the natural key, and directly usable as
 * a `timestamptz` parameter. Absent metrics are `null`.
 */
export type NormalizedBioMetric = { recorded: string } & { [F in BioMetricField]: number | null }

/**
 * Validates a bio-metric reading (POST, batch item, or a PATCH merged with the stored record via
 * `applyMergePatch`). Rules: `recorded` required, RFC 3339 with an offset, not beyond the clock-skew
 * allowance in the future; at least one metric; every metric within BIO_METRIC_RANGES;
 * systolic > diastolic when both are present.
 */
export function validateBioMetric(input: BioMetricInput, now: Date): Validated<NormalizedBioMetric> {
  const issues: FieldIssue[] = []
  const recorded = readTimestampField(issues, 'recorded', input.recorded, now, true)

  if (!anyGiven(input, BIO_METRIC_FIELDS)) {
    issues.push({ path: '', message: `at least one metric is required: ${BIO_METRIC_FIELDS.join(', ')}` })
  }
  const metrics = readMetrics(issues, input, BIO_METRIC_RANGES)

  // Systolic is the peak and diastolic the trough of the same pressure wave, so systolic must be
  // strictly higher; equal or inverted values are a swapped or mistyped pair.
  // @see Whelton 2018 ACC/AHA, Hypertension 71:1269 [13] (definitions of SBP and DBP)
  const { systolic_mmhg: systolic, diastolic_mmhg: diastolic } = metrics
  if (systolic !== null && diastolic !== null && systolic <= diastolic) {
    issues.push({
      path: '/systolic_mmhg',
      message: `systolic_mmhg (${systolic}) must be greater than diastolic_mmhg (${diastolic}); were they swapped?`,
    })
  }

  if (issues.length > 0 || recorded === null) return invalid(issues)
  return valid({ recorded: recorded.iso, ...metrics })
}
