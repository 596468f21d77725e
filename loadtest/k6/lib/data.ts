// Realistic request bodies. Values stay inside healthy ranges and jitter around a per-user
// baseline: uniformly random values would make many readings "far outside the user's own
// baseline", flag them `suspect` and exercise an unusual path instead of the everyday one.
import { randomBytes } from 'k6/crypto';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------- randomness
export function randInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
export function randNum(min: number, max: number, decimals = 1): number {
  const f = 10 ** decimals;
  return Math.round((min + Math.random() * (max - min)) * f) / f;
}
export function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}
export function chance(p: number): boolean {
  return Math.random() < p;
}
function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}

export function uuidv4(): string {
  const b = new Uint8Array(randomBytes(16));
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------- time
// Only zones without daylight saving: k6 has no time-zone database, and a fixed offset lets us
// write timestamps in the user's local offset and compute the user's local calendar day exactly,
// so dates never land in the user's future (a 422) or on the wrong day.
export const ZONES: ReadonlyArray<{ tz: string; offsetMin: number }> = [
  { tz: 'UTC', offsetMin: 0 },
  { tz: 'Asia/Tokyo', offsetMin: 540 },
  { tz: 'Asia/Kolkata', offsetMin: 330 },
  { tz: 'Asia/Singapore', offsetMin: 480 },
  { tz: 'Africa/Nairobi', offsetMin: 180 },
  { tz: 'America/Bogota', offsetMin: -300 },
  { tz: 'America/Phoenix', offsetMin: -420 },
  { tz: 'Pacific/Honolulu', offsetMin: -600 },
];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** RFC 3339 at `epochMs`, written in the given offset (`Z` for UTC, as the API answers). */
export function rfc3339(epochMs: number, offsetMin: number): string {
  const wall = new Date(Math.floor(epochMs / 1000) * 1000 + offsetMin * MINUTE_MS);
  const date = wall.toISOString().slice(0, 19);
  if (offsetMin === 0) return `${date}Z`;
  const sign = offsetMin > 0 ? '+' : '-';
  const a = Math.abs(offsetMin);
  return `${date}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The user's local calendar day `daysAgo` days before today, as YYYY-MM-DD. */
export function localDay(offsetMin: number, daysAgo: number): string {
  return new Date(Date.now() + offsetMin * MINUTE_MS - daysAgo * DAY_MS).toISOString().slice(0, 10);
}

/** Epoch ms of local wall time `day` + `minutes` past midnight (negative: the evening before). */
export function localEpoch(day: string, minutes: number, offsetMin: number): number {
  return Date.parse(`${day}T00:00:00Z`) + (minutes - offsetMin) * MINUTE_MS;
}

// ---------------------------------------------------------------- users
/** What the load flows need to know about a seeded user; travels from setup() to every VU. */
export interface Profile {
  user_uuid: string;
  offsetMin: number;
  // Personal baselines the generators jitter around.
  weightKg: number;
  restingHr: number;
  hrv: number;
}

export interface SeededUser extends Profile {
  /** Seeded days, newest first (each has activity and sleep). */
  days: string[];
  /** Seeded bio-metric timestamps in the API's UTC form, for single-record GETs. */
  recorded: string[];
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Maya', 'Kenji', 'Priya', 'Lena', 'Omar', 'Sofia', 'Tomas'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Okafor', 'Tanaka', 'Sharma', 'Novak', 'Haddad'];

export function newProfile(): { profile: Profile; body: { [k: string]: unknown } } {
  const zone = pick(ZONES);
  const sex = pick(['female', 'male', 'female', 'male', 'other', 'unknown'] as const);
  const user_uuid = uuidv4();
  const heightCm = sex === 'female' ? randInt(152, 180) : randInt(162, 195);
  const profile: Profile = {
    user_uuid,
    offsetMin: zone.offsetMin,
    weightKg: randNum(55, 95),
    restingHr: randInt(54, 70),
    hrv: randInt(38, 70),
  };
  const body = {
    user_uuid,
    // The uuid makes the email unique across runs and VUs; example.com never receives mail.
    email: `k6+${user_uuid}@loadtest.example.com`,
    name: `${pick(FIRST)} ${pick(LAST)}`,
    birth_date: `${randInt(1950, 2004)}-${pad(randInt(1, 12))}-${pad(randInt(1, 28))}`,
    sex,
    height_cm: heightCm,
    timezone: zone.tz,
  };
  return { profile, body };
}

// ---------------------------------------------------------------- bio-metrics
/** A morning check-in from a smart scale + BP cuff + overnight HRV: the single-POST shape. */
export function bioMetricsBody(u: Profile, epochMs: number): { [k: string]: unknown } {
  const systolic = randInt(105, 135);
  return {
    user_uuid: u.user_uuid,
    recorded: rfc3339(epochMs, u.offsetMin),
    source: pick(['manual', 'withings', 'apple_health']),
    resting_heart_rate_bpm: clamp(u.restingHr + randInt(-3, 3), 50, 75),
    hrv_rmssd_ms: clamp(u.hrv + randInt(-8, 8), 30, 80),
    systolic_mmhg: systolic,
    // Ranges never overlap (65–85 < 105), so systolic > diastolic always holds.
    diastolic_mmhg: randInt(65, 85),
    weight_kg: randNum(u.weightKg - 0.8, u.weightKg + 0.8),
  };
}

/** A wearable's per-minute sample, the typical batch item. */
function wearableSample(u: Profile, epochMs: number): { [k: string]: unknown } {
  return {
    user_uuid: u.user_uuid,
    recorded: rfc3339(epochMs, u.offsetMin),
    source: 'garmin',
    heart_rate_bpm: u.restingHr + randInt(5, 45),
    spo2_pct: randInt(95, 99),
    respiratory_rate_bpm: randInt(12, 18),
  };
}

/**
 * `count` samples one minute apart ending a little before now, as a watch uploads its buffer.
 * The random second makes two concurrent uploads for one user rarely touch the same keys.
 */
export function bioMetricsBatch(u: Profile, count: number): { items: Array<{ [k: string]: unknown }> } {
  const end = Date.now() - randInt(60, 600) * 1000 - randInt(0, 59) * 1000;
  const items: Array<{ [k: string]: unknown }> = [];
  for (let i = count - 1; i >= 0; i--) items.push(wearableSample(u, end - i * MINUTE_MS));
  return { items };
}

// ---------------------------------------------------------------- physical activity
export function physicalActivityBody(u: Profile, date: string, withUser = true): { [k: string]: unknown } {
  const steps = randInt(2000, 15000);
  const moderate = randInt(5, 60);
  const vigorous = randInt(0, 40);
  const body: { [k: string]: unknown } = {
    date,
    source: pick(['apple_health', 'garmin', 'manual']),
    steps,
    distance_m: Math.round(steps * randNum(0.65, 0.8, 2)),
    // Active time includes moderate and vigorous time plus light activity.
    active_minutes: moderate + vigorous + randInt(20, 120),
    moderate_minutes: moderate,
    vigorous_minutes: vigorous,
    calories_kcal: randInt(1700, 3200),
    floors: randInt(0, 25),
    avg_heart_rate_bpm: u.restingHr + randInt(10, 25),
    max_heart_rate_bpm: u.restingHr + randInt(60, 110),
  };
  // PATCH bodies name the user in the path only (the API rejects unknown properties).
  if (withUser) body.user_uuid = u.user_uuid;
  return body;
}

// ---------------------------------------------------------------- sleep
/** The night ending on local `date`: 6–9 h in bed, stages summing below the time in bed. */
export function sleepBody(u: Profile, date: string, withUser = true): { [k: string]: unknown } {
  const end = localEpoch(date, randInt(6 * 60, 8 * 60 + 30), u.offsetMin);
  const inBed = randInt(6 * 60, 9 * 60);
  const awake = randInt(10, 40);
  const asleep = inBed - awake - randInt(5, 20); // time to fall asleep is in bed but no stage
  const deep = Math.round(asleep * randNum(0.13, 0.22, 2));
  const rem = Math.round(asleep * randNum(0.18, 0.25, 2));
  const light = asleep - deep - rem;
  const body: { [k: string]: unknown } = {
    date,
    source: pick(['oura', 'apple_health', 'garmin']),
    sleep_start: rfc3339(end - inBed * MINUTE_MS, u.offsetMin),
    sleep_end: rfc3339(end, u.offsetMin),
    total_sleep_minutes: deep + rem + light,
    deep_minutes: deep,
    rem_minutes: rem,
    light_minutes: light,
    awake_minutes: awake,
    interruptions: randInt(0, 5),
  };
  if (withUser) body.user_uuid = u.user_uuid;
  return body;
}

// ---------------------------------------------------------------- blood tests
export function bloodResults(): Array<{ marker: string; value: number; unit: string }> {
  // About one lab in five reports glucose in mmol/L, which exercises unit conversion.
  const glucose = chance(0.2)
    ? { marker: 'glucose', value: randNum(4.2, 5.8), unit: 'mmol/L' }
    : { marker: 'glucose', value: randInt(75, 105), unit: 'mg/dL' };
  return [
    glucose,
    { marker: 'ldl', value: randInt(70, 160), unit: 'mg/dL' },
    { marker: 'hdl', value: randInt(40, 80), unit: 'mg/dL' },
    { marker: 'triglycerides', value: randInt(60, 180), unit: 'mg/dL' },
  ];
}

export function bloodTestBody(u: Profile, testDate: string): { [k: string]: unknown } {
  return {
    user_uuid: u.user_uuid,
    test_date: testDate,
    lab: pick(['Quest Diagnostics', 'Labcorp', 'Synlab']),
    source: 'manual',
    results: bloodResults(),
  };
}
