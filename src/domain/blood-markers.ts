/**
 * Blood markers: catalog look-ups, unit conversion to the canonical unit, reference intervals,
 * flags, and validation of a whole panel. Pure functions over the data in
 * ./validation/blood-marker-catalog.ts (see its header for conventions and sources).
 * @see /work/shared/CONTRACT.md "Blood tests"
 */
import {
  BLOOD_MARKER_IDS,
  BLOOD_MARKERS,
  type BloodMarkerDefinition,
  type BloodMarkerId,
  type ReferenceInterval,
  type UnitConversion,
} from './validation/blood-marker-catalog.js'
import { checkText, formatNumber } from './validation/field-checks.js'
import {
  type FieldIssue,
  invalid,
  isAbsent,
  pointer,
  prefixIssues,
  valid,
  type Validated,
} from './validation/result.js'
import { quote, readDateField } from './validation/time.js'
import type { Sex } from './validation/user.js'

export {
  BLOOD_MARKER_IDS,
  BLOOD_MARKERS,
  type BloodMarkerDefinition,
  type BloodMarkerId,
  type ReferenceInterval,
  type UnitConversion,
}

export type BloodFlag = 'low' | 'normal' | 'high'

export interface BloodResultInput {
  readonly marker?: string | null
  readonly value?: number | null
  readonly unit?: string | null
}

/** One stored result, exactly the contract's fields. `value`/`unit` are canonical. */
export interface NormalizedBloodResult {
  marker: BloodMarkerId
  loinc: string
  value: number
  unit: string
  original_value: number
  /** The accepted unit in its catalog spelling (`umol/l` is stored as `µmol/L`). */
  original_unit: string
  reference_low: number | null
  reference_high: number | null
  flag: BloodFlag
}

export interface BloodPanelInput {
  readonly test_date?: string | null
  readonly lab?: string | null
  readonly results?: readonly BloodResultInput[] | null
}

export interface NormalizedBloodPanel {
  test_date: string
  lab: string | null
  results: NormalizedBloodResult[]
}

/** Engineering choice: room for any lab's name and site, bounded for storage and logs. */
export const MAX_LAB_NAME_LENGTH = 200

/** Marker names match after trimming and lowercasing (`' Glucose '` → `glucose`). */
export function findMarker(name: string): BloodMarkerDefinition | undefined {
  const id = name.trim().toLowerCase()
  return (BLOOD_MARKER_IDS as readonly string[]).includes(id) ? BLOOD_MARKERS[id as BloodMarkerId] : undefined
}

/**
 * The comparison key for a unit: NFKC (folds the micro sign U+00B5 into Greek mu U+03BC), both mu
 * spellings and "mc" (as in mcg) to `u`, lowercase, no spaces. So `µmol/L`, `μmol/l`, `umol/L`
 * and `UMOL / L` all match.
 */
export function unitKey(unit: string): string {
  return unit.normalize('NFKC').replace(/μ/g, 'u').toLowerCase().replace(/\s+/g, '').replace(/^mc/, 'u')
}

export function findUnit(marker: BloodMarkerDefinition, unit: string): UnitConversion | undefined {
  const key = unitKey(unit)
  return marker.units.find((u) => [u.unit, ...(u.aliases ?? [])].some((spelling) => unitKey(spelling) === key))
}

/**
 * Round half away from zero at `decimals`, computed on a 15-significant-digit intermediate so float
 * noise cannot flip a tie (5.5 × 18.016 × 10 = 990.88 → 991 → 99.1; 1.005 → 1.01).
 */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals
  const scaled = Number.parseFloat((Math.abs(value) * factor).toPrecision(15))
  return (Math.sign(value) * Math.round(scaled)) / factor
}

/**
 * The adult reference interval. For `female`/`male` the sex-specific one; for `other`, `unknown`
 * or no sex the union of both (lowest low, highest high), so nobody is flagged by the other sex's
 * limits. A side that is `null` for either sex stays `null`.
 */
export function referenceRange(marker: BloodMarkerId, sex?: Sex | null): ReferenceInterval {
  const { female, male } = BLOOD_MARKERS[marker].reference
  if (sex === 'female') return female
  if (sex === 'male') return male
  return {
    low: female.low === null || male.low === null ? null : Math.min(female.low, male.low),
    high: female.high === null || male.high === null ? null : Math.max(female.high, male.high),
  }
}

/** Inclusive interval: `low ≤ value ≤ high` is normal; a `null` side never flags. */
export function flagValue(value: number, range: ReferenceInterval): BloodFlag {
  if (range.low !== null && value < range.low) return 'low'
  if (range.high !== null && value > range.high) return 'high'
  return 'normal'
}

/** Converts a value in an accepted unit to the rounded canonical value, or `undefined` if unknown. */
export function toCanonicalValue(marker: BloodMarkerId, value: number, unit: string): number | undefined {
  const definition = BLOOD_MARKERS[marker]
  const conversion = findUnit(definition, unit)
  return conversion === undefined ? undefined : roundTo(conversion.toCanonical(value), definition.decimals)
}

function allowedUnits(marker: BloodMarkerDefinition): string {
  return marker.units.map((u) => u.unit).join(', ')
}

/**
 * Validates and normalizes one result: known marker, accepted unit, value > 0, canonical value
 * within the marker's plausibility bounds; adds LOINC, reference interval (by `sex`) and flag.
 * Issue paths are relative to the result (`/marker`, `/value`, `/unit`).
 */
export function normalizeBloodResult(input: BloodResultInput, sex?: Sex | null): Validated<NormalizedBloodResult> {
  const issues: FieldIssue[] = []
  let marker: BloodMarkerDefinition | undefined
  if (isAbsent(input.marker) || typeof input.marker !== 'string') {
    issues.push({ path: '/marker', message: `marker is required; allowed: ${BLOOD_MARKER_IDS.join(', ')}` })
  } else {
    marker = findMarker(input.marker)
    if (marker === undefined) {
      issues.push({
        path: '/marker',
        message: `unknown marker ${quote(input.marker)}; allowed: ${BLOOD_MARKER_IDS.join(', ')}`,
      })
    }
  }

  let conversion: UnitConversion | undefined
  if (isAbsent(input.unit) || typeof input.unit !== 'string') {
    const hint = marker === undefined ? '' : `; allowed for ${marker.id}: ${allowedUnits(marker)}`
    issues.push({ path: '/unit', message: `unit is required${hint}` })
  } else if (marker !== undefined) {
    conversion = findUnit(marker, input.unit)
    if (conversion === undefined) {
      issues.push({
        path: '/unit',
        message: `unit ${quote(input.unit)} is not accepted for ${marker.id}; allowed: ${allowedUnits(marker)}`,
      })
    }
  }

  const value = input.value
  let numericValue: number | undefined
  if (isAbsent(value) || typeof value !== 'number') {
    issues.push({ path: '/value', message: 'value is required and must be a number' })
  } else if (!Number.isFinite(value) || value <= 0) {
    issues.push({ path: '/value', message: `value must be a finite number greater than 0 (got ${String(value)})` })
  } else {
    numericValue = value
  }

  if (marker === undefined || conversion === undefined || numericValue === undefined) return invalid(issues)

  const canonical = roundTo(conversion.toCanonical(numericValue), marker.decimals)
  const given = `${formatNumber(numericValue)} ${conversion.unit}`
  const asCanonical =
    conversion.unit === marker.canonicalUnit ? given : `${given} (${formatNumber(canonical)} ${marker.canonicalUnit})`
  if (!Number.isFinite(canonical) || canonical < marker.plausibleMin || canonical > marker.plausibleMax) {
    const side = canonical < marker.plausibleMin ? `below the plausible minimum of ${marker.plausibleMin}` : `above the plausible maximum of ${marker.plausibleMax}`
    issues.push({
      path: '/value',
      message: `${marker.id} ${asCanonical} is ${side} ${marker.canonicalUnit}; check the value and the unit (accepted: ${allowedUnits(marker)})`,
    })
    return invalid(issues)
  }

  const range = referenceRange(marker.id, sex)
  return valid({
    marker: marker.id,
    loinc: marker.loinc,
    value: canonical,
    unit: marker.canonicalUnit,
    original_value: numericValue,
    original_unit: conversion.unit,
    reference_low: range.low,
    reference_high: range.high,
    flag: flagValue(canonical, range),
  })
}

/**
 * Validates a panel (POST, batch item, or the results of a PATCH before `mergeBloodResults`).
 * `test_date` required (real date, not after today anywhere on Earth); `results` non-empty, each
 * result valid, no marker twice. Result issues are re-rooted at `/results/<index>`.
 */
export function validateBloodPanel(
  input: BloodPanelInput,
  now: Date,
  sex?: Sex | null,
): Validated<NormalizedBloodPanel> {
  const issues: FieldIssue[] = []
  const testDate = readDateField(issues, 'test_date', input.test_date, now, true)
  const lab = checkText(issues, 'lab', input.lab, MAX_LAB_NAME_LENGTH)

  const results: NormalizedBloodResult[] = []
  if (isAbsent(input.results) || !Array.isArray(input.results) || input.results.length === 0) {
    issues.push({ path: '/results', message: 'results must contain at least one { marker, value, unit }' })
  } else {
    // Duplicates are detected on the marker name alone, so they are reported even when one of the
    // duplicated results has other problems too.
    const firstIndexOfMarker = new Map<BloodMarkerId, number>()
    input.results.forEach((item, index) => {
      const outcome = normalizeBloodResult(item ?? {}, sex)
      if (!outcome.ok) issues.push(...prefixIssues(pointer('results', index), outcome.issues))
      const marker = typeof item?.marker === 'string' ? findMarker(item.marker) : undefined
      if (marker === undefined) return
      const first = firstIndexOfMarker.get(marker.id)
      if (first !== undefined) {
        issues.push({
          path: pointer('results', index, 'marker'),
          message: `duplicate marker '${marker.id}' (already given at /results/${first}); send each marker once per panel`,
        })
        return
      }
      firstIndexOfMarker.set(marker.id, index)
      if (outcome.ok) results.push(outcome.value)
    })
  }

  if (issues.length > 0 || testDate === null) return invalid(issues)
  return valid({ test_date: testDate, lab, results })
}

/**
 * PATCH semantics for a panel's results ("results upserted by marker"): an incoming result replaces
 * the stored one with the same marker in place; new markers are appended.
 */
export function mergeBloodResults(
  stored: readonly NormalizedBloodResult[],
  incoming: readonly NormalizedBloodResult[],
): NormalizedBloodResult[] {
  const byMarker = new Map(incoming.map((result) => [result.marker, result]))
  const merged = stored.map((result) => byMarker.get(result.marker) ?? result)
  const storedMarkers = new Set(stored.map((result) => result.marker))
  return [...merged, ...incoming.filter((result) => !storedMarkers.has(result.marker))]
}
