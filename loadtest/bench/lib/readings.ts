/**
 * Bio-metric bodies for the write scenarios. `recorded` values are unique across the whole run and
 * in the past: one per second going back from an hour ago, at .500 s, so they never collide with
 * the seeded readings (whole hours) nor with each other, and every POST creates a new record.
 */
let sequence = 0
const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 500

export const nextRecorded = (): string => new Date(base - ++sequence * 1000).toISOString()

export function reading(user_uuid: string, recorded = nextRecorded()) {
  return { user_uuid, recorded, weight_kg: 70.4, heart_rate_bpm: 72, resting_heart_rate_bpm: 59, hrv_rmssd_ms: 47, systolic_mmhg: 119, diastolic_mmhg: 77, spo2_pct: 97, source: 'bench' }
}
