import { assembleComponent, displayValue, type ComponentComputation, type ScoredContributor } from './component-assembly.js'
import {
  FASTING_GLUCOSE_CURVE,
  HBA1C_CURVE,
  HDL_CURVE,
  LDL_CURVE,
  TOTAL_CHOLESTEROL_CURVE,
  TRIGLYCERIDES_CURVE,
  scoreOnCurve,
  type ScoringCurve,
} from './curves.js'
import { median, positive } from './robust-stats.js'
import type { AlgorithmDefinition, BloodContributorName, BloodPanelInput, BloodResultInput } from './types.js'

interface ScoredMarker {
  contributor: BloodContributorName
  unit: string // the catalog's canonical unit; results in any other unit are ignored
  curve: ScoringCurve
  decimals: number
}

/**
 * Catalog markers that feed the score, keyed by the contract's marker names. Other markers
 * (haemoglobin, creatinine, ALT, TSH, vitamin D, CRP, …) are stored but not scored yet.
 * Unit conversion belongs to the catalog; the engine expects canonical units.
 */
const SCORED_MARKERS: ReadonlyMap<string, ScoredMarker> = new Map(Object.entries({
  hba1c: { contributor: 'hba1c', unit: '%', curve: HBA1C_CURVE, decimals: 1 },
  glucose: { contributor: 'fasting_glucose', unit: 'mg/dl', curve: FASTING_GLUCOSE_CURVE, decimals: 0 },
  ldl: { contributor: 'ldl_cholesterol', unit: 'mg/dl', curve: LDL_CURVE, decimals: 0 },
  hdl: { contributor: 'hdl_cholesterol', unit: 'mg/dl', curve: HDL_CURVE, decimals: 0 },
  triglycerides: { contributor: 'triglycerides', unit: 'mg/dl', curve: TRIGLYCERIDES_CURVE, decimals: 0 },
  total_cholesterol: { contributor: 'total_cholesterol', unit: 'mg/dl', curve: TOTAL_CHOLESTEROL_CURVE, decimals: 0 },
} satisfies Record<string, ScoredMarker>))

const CONTRIBUTOR_ORDER: readonly string[] = ['hba1c', 'glucose', 'ldl', 'hdl', 'triglycerides', 'total_cholesterol']

export function isOkBloodResult(result: BloodResultInput): boolean {
  return result.quality === undefined || result.quality === 'ok'
}

/**
 * Blood component: the latest panel of the 12-month window that has at least one usable result
 * (quality 'ok', scored marker, canonical unit). Panels of the same date are merged; a marker
 * given twice takes the median. `panels` are the panels inside the window.
 */
export function computeBloodComponent(panels: readonly BloodPanelInput[], algorithm: AlgorithmDefinition): ComponentComputation | null {
  const usableByDate = new Map<string, Map<string, number[]>>()
  for (const panel of panels) {
    for (const result of panel.results ?? []) {
      const usable = usableValue(result)
      if (usable === null) continue
      const byMarker = usableByDate.get(panel.test_date) ?? new Map<string, number[]>()
      usableByDate.set(panel.test_date, byMarker)
      byMarker.set(usable.marker, [...(byMarker.get(usable.marker) ?? []), usable.value])
    }
  }
  const latestDate = [...usableByDate.keys()].sort().at(-1)
  if (latestDate === undefined) return null
  const latest = usableByDate.get(latestDate) as Map<string, number[]>
  return assembleComponent(
    CONTRIBUTOR_ORDER.map((marker) => scoreMarker(marker, latest.get(marker))),
    algorithm.contributorWeights.blood,
    1, // a panel is a single measurement: coverage is carried by the share of markers present
  )
}

function usableValue(result: BloodResultInput): { marker: string; value: number } | null {
  if (result === null || typeof result !== 'object' || !isOkBloodResult(result)) return null
  const marker = typeof result.marker === 'string' ? result.marker.trim().toLowerCase() : ''
  const definition = SCORED_MARKERS.get(marker)
  const value = positive(result.value)
  if (definition === undefined || value === null) return null
  if (typeof result.unit !== 'string' || result.unit.trim().toLowerCase() !== definition.unit) return null
  return { marker, value }
}

function scoreMarker(marker: string, values: number[] | undefined): ScoredContributor | null {
  if (values === undefined || values.length === 0) return null
  const definition = SCORED_MARKERS.get(marker) as ScoredMarker
  const value = median(values)
  return {
    name: definition.contributor,
    value: displayValue(value, definition.decimals),
    unit: definition.unit === 'mg/dl' ? 'mg/dL' : definition.unit,
    target: definition.curve.target,
    score: scoreOnCurve(definition.curve, value),
    source: definition.curve.source,
  }
}
