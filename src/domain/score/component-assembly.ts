import { roundTo } from './robust-stats.js'
import type { Contributor } from './types.js'

/** A contributor as computed, before rounding for display. */
export interface ScoredContributor {
  name: string
  value: number | null
  unit: string
  target?: string
  baseline?: number | null
  score: number // unrounded 0–100
  source: string
}

/** A component as computed; the score is kept unrounded so the total rounds only once. */
export interface ComponentComputation {
  score: number
  contributors: Contributor[]
  /** Share of the component's configured contributor weight that had data (0–1). */
  contributorShare: number
  /** Share of the component's window that had data (0–1). */
  dataCoverage: number
}

/**
 * Weighted mean of the contributors that have data and a weight in this algorithm version; the
 * weights of missing contributors are spread over the present ones (renormalized). Null when no
 * weighted contributor has data. Contributors keep the order they are given in.
 */
export function assembleComponent(
  candidates: readonly (ScoredContributor | null)[],
  weights: Readonly<Partial<Record<string, number>>>,
  dataCoverage: number,
): ComponentComputation | null {
  const configuredWeight = Object.values(weights).reduce<number>((sum, w) => sum + (w ?? 0), 0)
  const present = candidates.filter(
    (c): c is ScoredContributor => c !== null && (weights[c.name] ?? 0) > 0,
  )
  if (present.length === 0 || configuredWeight <= 0) return null
  let weightSum = 0
  let weighted = 0
  for (const contributor of present) {
    const weight = weights[contributor.name] as number
    weightSum += weight
    weighted += weight * clampScore(contributor.score)
  }
  return {
    score: weighted / weightSum,
    contributors: present.map(toDisplayedContributor),
    contributorShare: Math.min(1, weightSum / configuredWeight),
    dataCoverage: Math.max(0, Math.min(1, dataCoverage)),
  }
}

export function clampScore(score: number): number {
  return Math.max(0, Math.min(100, score))
}

function toDisplayedContributor(contributor: ScoredContributor): Contributor {
  const displayed: Contributor = {
    name: contributor.name,
    value: contributor.value,
    unit: contributor.unit,
    score: Math.round(clampScore(contributor.score)),
    source: contributor.source,
  }
  if (contributor.target !== undefined) displayed.target = contributor.target
  if (contributor.baseline !== undefined) displayed.baseline = contributor.baseline
  return displayed
}

/** Rounds a displayed value, keeping null. */
export function displayValue(value: number | null, decimals: number): number | null {
  return value === null ? null : roundTo(value, decimals)
}
