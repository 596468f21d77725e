/**
 * Small robust statistics. Every function sorts its input first, so a result never depends on the
 * order of the data (floating-point sums are taken in ascending order).
 */

/**
 * MAD × 1.4826 estimates the standard deviation of Gaussian data (1.4826 = 1/Φ⁻¹(0.75)).
 * @see MathWorks hampel algorithm page; Iglewicz & Hoaglin 1993 (research file [66][67])
 */
export const MAD_TO_SD = 1.4826

/**
 * The values in ascending order, as a new array. Sorted as a Float64Array: a numeric sort that
 * never calls back into JavaScript (2-3x faster than a comparator for a window of 28-112
 * readings). Inputs are finite; a -0 sorts before a 0, which are equal for every use here.
 */
export function ascending(values: readonly number[]): number[] {
  const n = values.length
  const sorted = new Float64Array(n)
  for (let i = 0; i < n; i++) sorted[i] = values[i]
  sorted.sort()
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = sorted[i]
  return out
}

export function sumAscending(values: readonly number[]): number {
  let sum = 0
  for (const value of ascending(values)) sum += value
  return sum
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list')
  const sorted = ascending(values)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Median absolute deviation from `center` (not scaled). */
export function medianAbsoluteDeviation(values: readonly number[], center: number): number {
  return median(values.map((value) => Math.abs(value - center)))
}

/**
 * 1-winsorized mean: the lowest value is replaced by the second lowest and the highest by the
 * second highest before averaging. One wild value therefore counts as its nearest neighbour, while
 * the statistic stays close to the plain mean that guidelines are written in (steps per day,
 * minutes per week). With fewer than 3 values it is the plain mean.
 * Winsorized means are a textbook robust estimator (Wilcox 2012, Introduction to Robust Estimation,
 * research file [70]); winsorizing exactly one value per side is our engineering choice, sized to
 * the "one outlier" guarantee of docs/health-score.md.
 */
export function winsorizedMean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('winsorized mean of an empty list')
  const sorted = ascending(values)
  const n = sorted.length
  if (n >= 3) {
    sorted[0] = sorted[1]
    sorted[n - 1] = sorted[n - 2]
  }
  return sumAscending(sorted) / n
}

/**
 * Collapses several values recorded for the same day into one value per day, days in date order.
 * The API stores one activity or sleep record per day, so duplicates only come from a caller's
 * mistake. A day with several candidates takes the centre (median) of its candidates together with
 * the centre of every candidate in the window: a stray duplicate can pull the day at most to the
 * week's typical value, never beyond it. The same rule works on clock times when `center` is a
 * circular centre. Nothing here depends on the order of the candidates.
 */
export function collapseDuplicateDays(
  byDay: ReadonlyMap<string, readonly number[]>,
  center: (values: readonly number[]) => number = median,
): number[] {
  const all = [...byDay.values()].flat()
  if (all.length === 0) return []
  const reference = center(all)
  return [...byDay.keys()].sort().map((day) => {
    const candidates = byDay.get(day) as readonly number[]
    return candidates.length === 1 ? candidates[0] : center([...candidates, reference])
  })
}

/** Groups values by a key; the caller decides what a key is (a day, a marker). */
export function groupValues<T>(items: readonly T[], key: (item: T) => string | null, value: (item: T) => number | null): Map<string, number[]> {
  const groups = new Map<string, number[]>()
  for (const item of items) {
    const k = key(item)
    const v = value(item)
    if (k === null || v === null) continue
    addToGroup(groups, k, v)
  }
  return groups
}

/** Appends `value` to the group `key` (groupValues one item at a time). */
export function addToGroup(groups: Map<string, number[]>, key: string, value: number): void {
  const list = groups.get(key)
  if (list === undefined) groups.set(key, [value])
  else list.push(value)
}

/** A finite number ≥ 0, else null (defensive: the API validates, the engine does not trust it). */
export function nonNegative(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null
}

/** A finite number > 0, else null. */
export function positive(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals
  const scaled = value * factor
  // a value so large that scaling overflows has no fractional digits to round (doubles above 2^53
  // are integers): keep it finite instead of turning it into Infinity
  return Number.isFinite(scaled) ? Math.round(scaled) / factor : value
}
