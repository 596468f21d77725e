/**
 * Personal-baseline anomaly detection: marks an accepted reading `suspect` when it lies far from
 * the user's own recent history (contract "Data quality"). Pure: callers pass the history, already
 * filtered to the BASELINE_WINDOW_DAYS before the reading and to `quality: 'ok'` readings.
 *
 * Method: the modified z-score of Iglewicz & Hoaglin (1993), robust because median and MAD are
 * barely moved by the outliers it looks for (50 % breakdown point).
 * Citations `[n]` point to /work/shared/research/health-score-sources.md §4.
 */

/**
 * 0.6745 = Φ⁻¹(0.75), so MAD / 0.6745 estimates σ for Gaussian data and M is on a z-like scale.
 * @see Iglewicz & Hoaglin 1993, ASQC Basic References vol. 16 [66]; MathWorks hampel [67].
 *      Confirmed via search: rdrr.io skinnider/modern `iglewicz_hoaglin` (Mi = 0.6745 (x − med)/MAD).
 */
export const MODIFIED_Z_SCALE = 0.6745

/**
 * Iglewicz & Hoaglin recommend flagging |M| > 3.5 [66] (confirmed via search: the same rdrr.io
 * page, "recommend an absolute Z score threshold of 3.5").
 */
export const MODIFIED_Z_THRESHOLD = 3.5

/**
 * Engineering choice (UNVERIFIED): four weeks sits between Oura's 14-day recent average and its
 * ≈2-month long-term baseline [8], and covers every weekday four times.
 */
export const BASELINE_WINDOW_DAYS = 28

/**
 * No consensus exists on minimum history (Oura 14 days, WHOOP 4 nights, Biostrap 5–30 days); the
 * research file suggests personal z-scores from ≥ 7 valid days (UNVERIFIED) [8][61][75].
 * With fewer points the reading is never flagged.
 */
export const MIN_BASELINE_POINTS = 7

export interface ModifiedZScore {
  /** M = 0.6745 · (x − median) / spread; ±Infinity only when spread is 0 and x ≠ median. */
  z: number
  median: number
  /** The raw median absolute deviation of the history. */
  mad: number
  /** The spread actually used: max(mad, madFloor). */
  spread: number
}

export function median(values: readonly number[]): number {
  // a typed array sorts numerically without a comparator callback: several times faster, and batch
  // ingest computes two medians per checked field per reading
  const sorted = Float64Array.from(values).sort()
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** M = 0.6745 · deviation / spread; ±Infinity when spread is 0 and deviation is not. */
function zOf(deviation: number, spread: number): number {
  return deviation === 0 ? 0 : spread === 0 ? Math.sign(deviation) * Infinity : (MODIFIED_Z_SCALE * deviation) / spread
}

/**
 * The modified z-score of `x` against `history` (non-finite history values are ignored), or `null`
 * when fewer than MIN_BASELINE_POINTS remain or `x` is not finite.
 *
 * MAD = 0 happens whenever more than half the history holds one value (quantised heart rate,
 * a manually re-entered weight) [71]; M is then undefined. `madFloor` applies the research file's
 * option (b), flooring the spread at a minimum meaningful value (cmapR's `min_mad`) [73].
 */
export function modifiedZScore(x: number, history: readonly number[], madFloor = 0): ModifiedZScore | null {
  const values = history.filter((value) => Number.isFinite(value))
  if (values.length < MIN_BASELINE_POINTS || !Number.isFinite(x)) return null
  const center = median(values)
  const mad = median(values.map((value) => Math.abs(value - center)))
  const spread = Math.max(mad, madFloor)
  return { z: zOf(x - center, spread), median: center, mad, spread }
}

export type SuspectResource = 'bio_metrics' | 'physical_activity' | 'sleep'

export interface BaselineRule {
  readonly field: string
  /** Minimum spread, in the field's unit (or ln units when `logScale`). See the table below. */
  readonly madFloor: number
  /** Score ln(value) instead of value (right-skewed metrics). */
  readonly logScale?: boolean
}

/**
 * Which fields are compared with the baseline, and the MAD floor of each.
 *
 * Floors are ENGINEERING CHOICES (research file §4 "MAD = 0", option (b) [73]). With floor f a
 * reading is flagged only when |x − median| > (3.5 / 0.6745) · f ≈ 5.2 f, so each floor is set so
 * that 5.2 f is a jump a real day-to-day change rarely makes, while illness-sized changes (Oura's
 * RHR contributor reacts at 3–5 bpm [8]) stay below it and keep feeding the score:
 *   weight 0.3 kg → 1.6 kg · resting HR 2 bpm → 10 bpm · ln RMSSD 0.1 → ×1.7 / ÷1.7 ·
 *   systolic 3 → 16 mmHg · diastolic 2 → 10 mmHg · SpO2 1 → 5 points · temperature 0.2 → 1.0 °C ·
 *   respiratory rate 1 → 5 /min · steps 500 → 2,600 · active minutes 10 → 52 min ·
 *   total sleep 15 → 78 min.
 *
 * Checked: bio-metrics' vital signs and weight, the quantities a person keeps near a set point.
 * Not checked, with reasons:
 * - heart_rate_bpm: a spot reading depends on what the person was doing (exercise, stress).
 * - body_fat_pct: bio-impedance swings with hydration; device noise would dominate the flags.
 * - distance_m, calories_kcal, floors: derived from steps by the device; flagging steps suffices.
 * - moderate/vigorous minutes: zero on most days (MAD 0), so every workout would be flagged.
 * - activity heart rates: depend on the kind of workout, not on the person's baseline.
 * - sleep stages and interruptions: consumer stage estimates vary far more night to night than
 *   total sleep; flagging them would mark genuine nights.
 * HRV (RMSSD) is right-skewed and is analysed on the log scale [29].
 */
export const BASELINE_CHECKED_FIELDS: Readonly<Record<SuspectResource, readonly BaselineRule[]>> = {
  bio_metrics: [
    { field: 'weight_kg', madFloor: 0.3 },
    { field: 'resting_heart_rate_bpm', madFloor: 2 },
    { field: 'hrv_rmssd_ms', madFloor: 0.1, logScale: true },
    { field: 'systolic_mmhg', madFloor: 3 },
    { field: 'diastolic_mmhg', madFloor: 2 },
    { field: 'spo2_pct', madFloor: 1 },
    { field: 'body_temperature_c', madFloor: 0.2 },
    { field: 'respiratory_rate_bpm', madFloor: 1 },
  ],
  physical_activity: [
    { field: 'steps', madFloor: 500 },
    { field: 'active_minutes', madFloor: 10 },
  ],
  sleep: [{ field: 'total_sleep_minutes', madFloor: 15 }],
}

type NumericRecord = Readonly<Record<string, unknown>>

function finiteNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** A value a rule can judge: a finite number, and positive on the log scale; else null. */
function usableValue(rule: BaselineRule, value: unknown): number | null {
  const x = finiteNumber(value)
  return x === null || (rule.logScale === true && x <= 0) ? null : x
}

function formatValue(value: number): string {
  return String(Number.parseFloat(value.toFixed(2)))
}

/** e.g. "resting_heart_rate_bpm 95 is far from the 28-day baseline (median 58, modified z 9.4 > 3.5)" */
function suspectReason(rule: BaselineRule, x: number, z: number, rawMedian: number): string {
  const comparison = z > 0 ? `> ${MODIFIED_Z_THRESHOLD}` : `< -${MODIFIED_Z_THRESHOLD}`
  const scale = rule.logScale === true ? ' on the log scale' : ''
  return `${rule.field} ${formatValue(x)} is far from the ${BASELINE_WINDOW_DAYS}-day baseline (median ${formatValue(rawMedian)}, modified z${scale} ${z.toFixed(1)} ${comparison})`
}

/** A history as one list of values per checked field (what a single write's query returns). */
export type BaselineColumns = Readonly<Record<string, readonly unknown[] | null | undefined>>

/** History rows as the columns of the resource's checked fields. */
export function baselineColumns(resource: SuspectResource, history: readonly NumericRecord[]): Record<string, unknown[]> {
  return Object.fromEntries(BASELINE_CHECKED_FIELDS[resource].map((rule) => [rule.field, history.map((entry) => entry[rule.field])]))
}

/**
 * Reasons why `record` looks suspect against `history` (empty = ok), one per checked field, e.g.
 * "resting_heart_rate_bpm 95 is far from the 28-day baseline (median 58, modified z 9.4 > 3.5)".
 * Fields absent from the record, or with fewer than MIN_BASELINE_POINTS historical values, are
 * skipped.
 */
export function detectSuspectFields(
  resource: SuspectResource,
  record: NumericRecord,
  history: readonly NumericRecord[],
): string[] {
  return detectSuspectInColumns(resource, record, baselineColumns(resource, history))
}

/**
 * `detectSuspectFields` with the history given as columns (values of one field in any order).
 * Each column is sorted once (a typed array, no comparator); median and MAD then come from the
 * sorted values (`SortedWindow`), with the same numbers `modifiedZScore` computes from two sorts.
 */
export function detectSuspectInColumns(resource: SuspectResource, record: NumericRecord, columns: BaselineColumns): string[] {
  const reasons: string[] = []
  for (const rule of BASELINE_CHECKED_FIELDS[resource]) {
    const x = usableValue(rule, record[rule.field])
    if (x === null) continue
    const column = columns[rule.field] ?? []
    const past = scratchOf(column.length)
    let n = 0
    for (const value of column) {
      const usable = usableValue(rule, value)
      if (usable !== null) past[n++] = usable
    }
    if (n < MIN_BASELINE_POINTS) continue
    const reason = judged(rule, x, SortedWindow.of(past.subarray(0, n).sort(), rule.logScale === true))
    if (reason !== null) reasons.push(reason)
  }
  return reasons
}

/**
 * One array reused by every `detectSuspectInColumns` call (each is synchronous and done with it
 * before it returns): a 28-day baseline of 4 readings a day is 112 values, 896 bytes, beyond what
 * V8 keeps on its heap (64 bytes), so a new array per field was a malloc'd backing store, freed by
 * the garbage collector, 8 times per single write.
 */
let scratch = new Float64Array(256)
function scratchOf(length: number): Float64Array {
  if (scratch.length < length) scratch = new Float64Array(Math.max(length, scratch.length * 2))
  return scratch
}

/** The reason `x` is suspect against the values of `window` (at least MIN_BASELINE_POINTS), or null. */
function judged(rule: BaselineRule, x: number, window: SortedWindow): string | null {
  const tx = rule.logScale === true ? Math.log(x) : x
  const center = window.median()
  const spread = Math.max(window.mad(center), rule.madFloor)
  const z = zOf(tx - center, spread)
  return Math.abs(z) <= MODIFIED_Z_THRESHOLD ? null : suspectReason(rule, x, z, window.rawMedian())
}

/**
 * The multiset of one field's values in a moving window, kept sorted, so that median and MAD are
 * O(1) and O(log n) instead of two sorts per reading. The transform (identity or ln) is
 * non-decreasing, so the sorted raw values are also sorted after it, and every median and
 * deviation below is computed from exactly the same floating-point numbers as `modifiedZScore`,
 * so the results are identical, not approximations.
 */
class SortedWindow {
  /**
   * `log`: medians and deviations are of ln(value) (right-skewed metrics); `values`: the first
   * `size` are the window, ascending (the window keeps the array)
   */
  constructor(
    private readonly log: boolean,
    private values: Float64Array = new Float64Array(64),
    public size = 0,
  ) {}

  /** A window holding `sorted` (ascending; the window keeps the array). */
  static of(sorted: Float64Array, log: boolean): SortedWindow {
    return new SortedWindow(log, sorted, sorted.length)
  }

  /** the first position whose value is greater than x */
  private upperBound(x: number): number {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.values[mid]! <= x) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  // equal values are interchangeable: a value goes in after its equals and the last of them goes
  // out, so only the greater values move (readings repeat: whole beats per minute, percent SpO2)
  add(x: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    const at = this.upperBound(x)
    if (at < this.size) this.values.copyWithin(at + 1, at, this.size)
    this.values[at] = x
    this.size++
  }

  remove(x: number): void {
    const at = this.upperBound(x) - 1
    if (at < 0 || this.values[at] !== x) throw new Error('SortedWindow.remove: value not in the window')
    if (at + 1 < this.size) this.values.copyWithin(at, at + 1, this.size)
    this.size--
  }

  private t(i: number): number {
    return this.log ? Math.log(this.values[i]!) : this.values[i]!
  }

  /** median of the raw values (the figure quoted in a reason) */
  rawMedian(): number {
    const mid = this.size >>> 1
    return this.size % 2 === 1 ? this.values[mid]! : (this.values[mid - 1]! + this.values[mid]!) / 2
  }

  /** median of the transformed values */
  median(): number {
    const mid = this.size >>> 1
    return this.size % 2 === 1 ? this.t(mid) : (this.t(mid - 1) + this.t(mid)) / 2
  }

  /**
   * The k-th smallest (0-based) absolute deviation from `center`. Below the split the deviations
   * `center − v` grow leftwards, above it `v − center` grow rightwards: two sorted sequences, and
   * the k-th smallest of their union is found by binary search on how many come from the left.
   */
  private kthDeviation(center: number, k: number): number {
    let split = 0
    let hi = this.size
    while (split < hi) {
      const mid = (split + hi) >>> 1
      if (this.t(mid) < center) split = mid + 1
      else hi = mid
    }
    // left(i) = center − t(split − 1 − i) and right(j) = t(split + j) − center, both ascending
    const nLeft = split
    const nRight = this.size - split
    let lo = Math.max(0, k + 1 - nRight)
    let top = Math.min(k + 1, nLeft)
    while (lo < top) {
      const i = (lo + top) >>> 1
      const j = k + 1 - i
      if (j > 0 && this.t(split + j - 1) - center > center - this.t(split - 1 - i)) lo = i + 1
      else top = i
    }
    const j = k + 1 - lo
    return Math.max(lo > 0 ? center - this.t(split - lo) : -Infinity, j > 0 ? this.t(split + j - 1) - center : -Infinity)
  }

  /** median absolute deviation from `center` (of the transformed values) */
  mad(center: number): number {
    const mid = this.size >>> 1
    return this.size % 2 === 1 ? this.kthDeviation(center, mid) : (this.kthDeviation(center, mid - 1) + this.kthDeviation(center, mid)) / 2
  }
}

/** one reading to judge: its values and its baseline window, a half-open range of the series */
export interface WindowedReading {
  readonly record: NumericRecord
  readonly start: number
  readonly end: number
  /**
   * Where this reading itself sits in the series, when it is part of it (a batch item that later
   * items of the batch count in their baselines). Judged suspect, it leaves the series: a suspect
   * reading is never part of a baseline, just as a stored one is not (baselines are `ok` readings).
   */
  readonly self?: number
}

/**
 * `detectSuspectFields` for many readings at once, each against its own window of one sorted
 * history `series` (batch ingest: every reading has its own 28-day window). The result for
 * reading i equals `detectSuspectFields(resource, readings[i].record, series.slice(start, end))`
 * without the series entries of readings judged suspect before it (see `self`); readings are
 * judged in order of their windows, which for windows that end before the reading itself (every
 * baseline does) is the order of time, so this is what judging them one by one would give.
 * Windows are visited in order of `start`, adding and removing only what changes between
 * neighbours, so a batch of n readings over h history points costs O((n + h) log h) searches and
 * memory moves instead of n sorts of h values.
 */
export function detectSuspectInWindows(
  resource: SuspectResource,
  series: readonly NumericRecord[],
  readings: readonly WindowedReading[],
): string[][] {
  const results: string[][] = readings.map(() => [])
  const order = readings.map((_, i) => i).sort((a, b) => readings[a]!.start - readings[b]!.start || readings[a]!.end - readings[b]!.end)
  const rules = BASELINE_CHECKED_FIELDS[resource]
  const columns = rules.map((rule) => series.map((entry) => usableValue(rule, entry[rule.field])))
  const windows = rules.map((rule) => new SortedWindow(rule.logScale === true))
  const excluded = new Uint8Array(series.length)
  const add = (k: number) => {
    if (excluded[k] === 1) return
    for (let r = 0; r < rules.length; r++) {
      const v = columns[r]![k]
      if (v !== null && v !== undefined) windows[r]!.add(v)
    }
  }
  const drop = (k: number) => {
    if (excluded[k] === 1) return
    for (let r = 0; r < rules.length; r++) {
      const v = columns[r]![k]
      if (v !== null && v !== undefined) windows[r]!.remove(v)
    }
  }
  let start = 0
  let end = 0
  for (const i of order) {
    const reading = readings[i]!
    // the window is always [start, end) with start <= end: extend the end, move the start, then
    // trim the end, so no index is ever added twice or removed while outside
    const target = Math.max(reading.start, reading.end)
    while (end < target) add(end++)
    while (start < reading.start) drop(start++)
    while (start > reading.start) add(--start)
    while (end > target) drop(--end)
    rules.forEach((rule, r) => {
      const window = windows[r]!
      const x = usableValue(rule, reading.record[rule.field])
      if (x === null || window.size < MIN_BASELINE_POINTS) return
      const reason = judged(rule, x, window)
      if (reason !== null) results[i]!.push(reason)
    })
    if (results[i]!.length > 0 && reading.self !== undefined && excluded[reading.self] === 0) {
      if (reading.self >= start && reading.self < end) drop(reading.self)
      excluded[reading.self] = 1
    }
  }
  return results
}
