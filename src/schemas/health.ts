/**
 * Health-record shapes: blood tests, bio-metrics, physical activity, sleep. Plausibility ranges
 * are domain rules (422), documented here in each field's description; the schema checks types (400).
 */
import { Type, type Static, type TSchema } from 'typebox'
import { BIO_METRIC_RANGES, PHYSICAL_ACTIVITY_RANGES, SLEEP_RANGES } from '../domain/validation/ranges.js'
import { DateOnly, Nullable, Quality, Source, StringEnum, Timestamp, TimestampOut, Uuid } from './common.js'

interface RangeDoc { min: number; max: number; unit: string }

function metric(range: RangeDoc, integer = false) {
  const description = `plausible ${range.min}–${range.max} ${range.unit}`
  return Type.Optional(Nullable(integer ? Type.Integer({ description }) : Type.Number({ description })))
}

function outMetric(integer = false) {
  return Nullable(integer ? Type.Integer() : Type.Number())
}

const RecordMeta = {
  source: Type.String(),
  quality: Quality,
  quality_reasons: Type.Array(Type.String()),
  created_at: TimestampOut,
  updated_at: TimestampOut
}

const INTEGER_FIELDS = new Set(['steps', 'floors', 'interruptions'])
function inputMetrics<T extends Record<string, RangeDoc>>(ranges: T) {
  return Object.fromEntries(Object.entries(ranges).map(([k, r]) => [k, metric(r, INTEGER_FIELDS.has(k))])) as { [K in keyof T]: ReturnType<typeof metric> }
}
function outputMetrics<T extends Record<string, RangeDoc>>(ranges: T) {
  return Object.fromEntries(Object.keys(ranges).map((k) => [k, outMetric(INTEGER_FIELDS.has(k))])) as { [K in keyof T]: ReturnType<typeof outMetric> }
}

const strict = { additionalProperties: false }

// ---------- bio-metrics ----------
export const BioMetric = Type.Object({ user_uuid: Uuid, recorded: TimestampOut, ...outputMetrics(BIO_METRIC_RANGES), ...RecordMeta }, { $id: 'BioMetric' })
export const BioMetricCreate = Type.Object({ user_uuid: Uuid, recorded: Timestamp, ...inputMetrics(BIO_METRIC_RANGES), source: Type.Optional(Source) }, strict)
export const BioMetricPatch = Type.Object({ ...inputMetrics(BIO_METRIC_RANGES), source: Type.Optional(Source), quality: Type.Optional(Quality) }, { ...strict, minProperties: 1 })

// ---------- physical activity ----------
export const PhysicalActivity = Type.Object({ user_uuid: Uuid, date: DateOnly, ...outputMetrics(PHYSICAL_ACTIVITY_RANGES), ...RecordMeta }, { $id: 'PhysicalActivity' })
export const PhysicalActivityCreate = Type.Object({ user_uuid: Uuid, date: DateOnly, ...inputMetrics(PHYSICAL_ACTIVITY_RANGES), source: Type.Optional(Source) }, strict)
export const PhysicalActivityPatch = Type.Object({ date: DateOnly, ...inputMetrics(PHYSICAL_ACTIVITY_RANGES), source: Type.Optional(Source), quality: Type.Optional(Quality) }, { ...strict, minProperties: 2 })

// ---------- sleep ----------
const SleepTimes = {
  sleep_start: Type.Optional(Nullable(Timestamp)),
  sleep_end: Type.Optional(Nullable(Timestamp))
}
export const Sleep = Type.Object({ user_uuid: Uuid, date: DateOnly, sleep_start: Nullable(TimestampOut), sleep_end: Nullable(TimestampOut), ...outputMetrics(SLEEP_RANGES), ...RecordMeta }, { $id: 'Sleep' })
export const SleepCreate = Type.Object({ user_uuid: Uuid, date: DateOnly, ...SleepTimes, ...inputMetrics(SLEEP_RANGES), source: Type.Optional(Source) }, strict)
export const SleepPatch = Type.Object({ date: DateOnly, ...SleepTimes, ...inputMetrics(SLEEP_RANGES), source: Type.Optional(Source), quality: Type.Optional(Quality) }, { ...strict, minProperties: 2 })

// ---------- blood tests ----------
export const BloodResultInput = Type.Object(
  {
    marker: Type.String({ minLength: 1, maxLength: 64, description: 'catalog marker, e.g. glucose, hba1c, ldl' }),
    value: Type.Number(),
    unit: Type.String({ minLength: 1, maxLength: 32, description: 'an accepted unit of the marker, e.g. mg/dL or mmol/L' })
  },
  strict
)
export const BloodResult = Type.Object({
  marker: Type.String(),
  loinc: Type.String(),
  value: Type.Number(),
  unit: Type.String(),
  original_value: Type.Number(),
  original_unit: Type.String(),
  reference_low: Nullable(Type.Number()),
  reference_high: Nullable(Type.Number()),
  flag: StringEnum(['low', 'normal', 'high'] as const)
})
export const BloodTest = Type.Object(
  { user_uuid: Uuid, test_date: DateOnly, lab: Nullable(Type.String()), results: Type.Array(BloodResult), ...RecordMeta },
  { $id: 'BloodTest' }
)
const Results = Type.Array(BloodResultInput, { minItems: 1, maxItems: 100 })
export const BloodTestCreate = Type.Object(
  { user_uuid: Uuid, test_date: DateOnly, lab: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), source: Type.Optional(Source), results: Results },
  strict
)
export const BloodTestPatch = Type.Object(
  { lab: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), source: Type.Optional(Source), quality: Type.Optional(Quality), results: Type.Optional(Results) },
  { ...strict, minProperties: 1 }
)

// ---------- batch ----------
export const BATCH_MAX_ITEMS = 1000
/** Items are validated one by one by the service (a bad item is `rejected`, not a 400 for the batch). */
export const BatchBody = Type.Object(
  { items: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: BATCH_MAX_ITEMS, description: `up to ${BATCH_MAX_ITEMS} items, each shaped like the single POST body` }) },
  strict
)
export const BatchResult = Type.Object({
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: StringEnum(['created', 'updated', 'unchanged', 'rejected'] as const),
      errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() })))
    })
  )
})
export type BatchResultType = Static<typeof BatchResult>

export type AnySchema = TSchema
