/**
 * The four health resources described once: table, natural key, data columns, schemas, and the
 * domain rules that validate them. Routes, repository and services are generic over these specs,
 * so the four resources behave identically (pagination, idempotency, batch, quality, erasure).
 */
import type { TSchema } from 'typebox'
import type { SuspectResource } from '../../domain/anomaly.js'
import { mergeBloodResults, validateBloodPanel, type NormalizedBloodResult } from '../../domain/blood-markers.js'
import { applyMergePatch } from '../../domain/validation/merge-patch.js'
import { BIO_METRIC_FIELDS, PHYSICAL_ACTIVITY_FIELDS, SLEEP_METRIC_FIELDS } from '../../domain/validation/ranges.js'
import type { Validated } from '../../domain/validation/result.js'
import { validateBioMetric, validatePhysicalActivity, validateSleep, type Sex } from '../../domain/validation/index.js'
import * as S from '../../schemas/health.js'

export type ResourceName = 'blood_tests' | 'bio_metrics' | 'physical_activity' | 'sleep_activity'
export type KeyName = 'test_date' | 'recorded' | 'date'

/** A validated record: its natural key plus the data columns, as stored. */
export type Normalized = Record<string, unknown>

export interface ResourceSpec {
  name: ResourceName
  /** URL segment under /api */
  path: string
  /** OpenAPI tag */
  tag: string
  key: KeyName
  keyKind: 'date' | 'timestamp'
  /** data columns, in table order (excluding user_uuid, the key and the quality/meta columns) */
  columns: readonly string[]
  /** which anomaly rules apply (none for blood panels: they are judged against reference ranges) */
  anomaly: SuspectResource | null
  record: TSchema
  create: TSchema
  patch: TSchema
  /** PATCH route shape: key in the URL (`/{user}/{key}/update`) or in the body (`/{user}/update`) */
  patchKeyIn: 'url' | 'body'
  validate(input: Record<string, unknown>, now: Date, sex: Sex | null): Validated<Normalized>
  /** merge a PATCH body into the stored record, producing the input to validate */
  merge(stored: Record<string, unknown>, patch: Record<string, unknown>, now: Date, sex: Sex | null): Validated<Normalized>
}

const JSONB = new Set(['results'])
export const isJsonColumn = (column: string) => JSONB.has(column)

function pick(source: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) if (source[f] !== undefined) out[f] = source[f]
  return out
}

function simpleSpec(base: Omit<ResourceSpec, 'merge'>): ResourceSpec {
  return {
    ...base,
    merge(stored, patch, now, sex) {
      const storedInput = pick(stored, [base.key, ...base.columns])
      if (base.keyKind === 'timestamp' && stored[base.key] instanceof Date) storedInput[base.key] = (stored[base.key] as Date).toISOString()
      for (const c of base.columns) if (stored[c] instanceof Date) storedInput[c] = (stored[c] as Date).toISOString()
      return base.validate(applyMergePatch(storedInput, pick(patch, base.columns)), now, sex)
    }
  }
}

export const bioMetrics = simpleSpec({
  name: 'bio_metrics',
  path: 'bio-metrics',
  tag: 'bio-metrics',
  key: 'recorded',
  keyKind: 'timestamp',
  columns: BIO_METRIC_FIELDS,
  anomaly: 'bio_metrics',
  record: S.BioMetric,
  create: S.BioMetricCreate,
  patch: S.BioMetricPatch,
  patchKeyIn: 'url',
  validate: (input, now) => validateBioMetric(input, now) as Validated<Normalized>
})

export const physicalActivity = simpleSpec({
  name: 'physical_activity',
  path: 'physical-activity',
  tag: 'physical-activity',
  key: 'date',
  keyKind: 'date',
  columns: PHYSICAL_ACTIVITY_FIELDS,
  anomaly: 'physical_activity',
  record: S.PhysicalActivity,
  create: S.PhysicalActivityCreate,
  patch: S.PhysicalActivityPatch,
  patchKeyIn: 'body',
  validate: (input, now) => validatePhysicalActivity(input, now) as Validated<Normalized>
})

export const sleepActivity = simpleSpec({
  name: 'sleep_activity',
  path: 'sleep-activity',
  tag: 'sleep-activity',
  key: 'date',
  keyKind: 'date',
  columns: ['sleep_start', 'sleep_end', ...SLEEP_METRIC_FIELDS],
  anomaly: 'sleep',
  record: S.Sleep,
  create: S.SleepCreate,
  patch: S.SleepPatch,
  patchKeyIn: 'body',
  validate: (input, now) => validateSleep(input, now) as Validated<Normalized>
})

export const bloodTests: ResourceSpec = {
  name: 'blood_tests',
  path: 'blood-tests',
  tag: 'blood-tests',
  key: 'test_date',
  keyKind: 'date',
  columns: ['lab', 'results'],
  anomaly: null,
  record: S.BloodTest,
  create: S.BloodTestCreate,
  patch: S.BloodTestPatch,
  patchKeyIn: 'url',
  validate: (input, now, sex) => validateBloodPanel(input, now, sex) as unknown as Validated<Normalized>,
  merge(stored, patch, now, sex) {
    const storedResults = stored.results as NormalizedBloodResult[]
    const lab = patch.lab !== undefined ? (patch.lab as string | null) : (stored.lab as string | null)
    if (patch.results === undefined) return { ok: true, value: { test_date: stored.test_date, lab, results: storedResults } }
    const incoming = validateBloodPanel({ test_date: stored.test_date as string, lab, results: patch.results as never }, now, sex)
    if (!incoming.ok) return incoming as Validated<Normalized>
    return { ok: true, value: { test_date: stored.test_date, lab, results: mergeBloodResults(storedResults, incoming.value.results) } }
  }
}

export const RESOURCES: readonly ResourceSpec[] = [bloodTests, bioMetrics, physicalActivity, sleepActivity]
