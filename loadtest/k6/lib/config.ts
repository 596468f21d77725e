// Run configuration, read once per VU from `-e NAME=value` / the environment (__ENV).
// Every number a scenario uses comes through envInt/envNum/envStr so any run can be re-shaped
// from the command line without editing scripts.
import type { Options, Threshold } from 'k6/options';

export function envStr(name: string, fallback: string): string {
  const v = __ENV[name];
  return v === undefined || v === '' ? fallback : v;
}

export function envNum(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  // Fail loudly: a typo like RATE=5O silently becoming the default would invalidate a whole run.
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

export function envInt(name: string, fallback: number): number {
  return Math.round(envNum(name, fallback));
}

export function envBool(name: string, fallback: boolean): boolean {
  const v = envStr(name, fallback ? 'true' : 'false').toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

/** Seconds in a k6 duration string such as "90s", "2m", "1h30m" (used to chain scenarios). */
export function durationSeconds(d: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(d); m !== null; m = re.exec(d)) {
    matched += m[0];
    total += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : m[2] === 's' ? 1 : 0.001);
  }
  if (matched !== d || d === '') throw new Error(`not a k6 duration: "${d}" (use e.g. 30s, 2m, 1h30m)`);
  return total;
}

/** A duration from the environment, validated early so a typo fails at start, not mid-run. */
export function envDuration(name: string, fallback: string): string {
  const v = envStr(name, fallback);
  durationSeconds(v);
  return v;
}

// Trailing slashes stripped so `${BASE_URL}/api/...` never produces `//api`.
export const BASE_URL = envStr('BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, '');

// Same secret the API verifies HS256 tokens with. Required: without it every /api call is a 401
// and the run would only measure the auth rejection path. Checked in setup (see requireSecret)
// rather than at import time so `k6 inspect` still works without it.
export const AUTH_JWT_SECRET = envStr('AUTH_JWT_SECRET', '');
// Mirror the API's optional AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE so tokens pass its iss/aud checks.
export const AUTH_JWT_ISSUER = envStr('AUTH_JWT_ISSUER', '');
export const AUTH_JWT_AUDIENCE = envStr('AUTH_JWT_AUDIENCE', '');

export function requireSecret(): string {
  if (AUTH_JWT_SECRET === '') {
    throw new Error('AUTH_JWT_SECRET is required (k6 run -e AUTH_JWT_SECRET=... ); it must match the API');
  }
  return AUTH_JWT_SECRET;
}

// Share of iterations that write (the rest read). 0.2 mirrors a tracker app: dashboards are
// opened far more often than devices sync.
export const WRITE_RATIO = Math.min(1, envNum('WRITE_RATIO', 0.2));
// Days of history seeded per user in setup(), ending yesterday.
export const SEED_DAYS = Math.max(1, envInt('SEED_DAYS', 7));
// Keep the users (and their data) after the run, e.g. to inspect them; default is to erase them.
export const KEEP_DATA = envBool('KEEP_DATA', false);

// Budgets from the brief. They apply to every request of the run, reads and writes alike, because
// a client experiences the API as a whole; the per-kind sub-metrics below only help find the culprit.
const BUDGET: { [metric: string]: Threshold[] } = {
  http_req_duration: ['p(95)<200', 'p(99)<400'],
  http_req_failed: ['rate<0.01'],
  checks: ['rate>0.99'],
};

// `max>=0` never fails: it only makes k6 print these sub-metrics in the end-of-test summary,
// which is how one sees whether reads, writes or one endpoint broke the global budget.
const BREAKDOWN: string[] = [
  'http_req_duration{kind:read}',
  'http_req_duration{kind:write}',
  'http_req_duration{name:GET /api/get_health_score}',
  'http_req_duration{name:POST /api/bio-metrics/batch}',
  'http_req_failed{kind:read}',
  'http_req_failed{kind:write}',
];

/**
 * Thresholds shared by all scenarios. `meltdownGuard` adds an abort when more than half the
 * requests fail for a sustained 30 s: at that point the service is down, further load measures
 * nothing and (in a shared environment) only hurts others, so long runs stop early.
 */
export function thresholds(meltdownGuard: boolean): { [metric: string]: Threshold[] } {
  const t: { [metric: string]: Threshold[] } = {};
  for (const k of Object.keys(BUDGET)) t[k] = BUDGET[k].slice();
  for (const k of BREAKDOWN) t[k] = ['max>=0'];
  if (meltdownGuard) {
    t.http_req_failed.push({ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '30s' });
  }
  return t;
}

/** Options every scenario shares; each file adds its `scenarios`. */
export function baseOptions(meltdownGuard: boolean): Options {
  return {
    thresholds: thresholds(meltdownGuard),
    // p(99) is a budget, so show it in the summary (k6's default stops at p(95)).
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
    // Creating and seeding users is bounded too: a hung setup must not hang CI.
    setupTimeout: envStr('SETUP_TIMEOUT', '5m'),
    teardownTimeout: envStr('TEARDOWN_TIMEOUT', '5m'),
    // A test id on every metric lets runs be told apart when streamed to Prometheus/Grafana.
    tags: { testid: envStr('TEST_ID', 'local') },
    userAgent: 'health-tracker-k6/1.0',
  };
}
