// Stress: climb in steps past the expected peak to find where latency or errors break the
// budget, then drop to zero to see that the API recovers. Failing thresholds here is the
// expected outcome; the finding is the step at which it happened (see docs/loadtest.md).
// Default: 5 steps from 50/s to 500/s, each 30 s ramp + 2 m hold, then 1 m down ≈ 13.5 m.
//   k6 run -e BASE_URL=... -e AUTH_JWT_SECRET=... -e START_RATE=100 -e MAX_RATE=1000 loadtest/k6/stress.ts
import type { Options, Stage } from 'k6/options';
import { baseOptions, envDuration, envInt } from './lib/config.ts';
import { userAction } from './lib/flows.ts';
import { setupUsers, teardownUsers } from './lib/setup.ts';
import type { SetupData } from './lib/setup.ts';

const START_RATE = Math.max(1, envInt('START_RATE', 50));
const MAX_RATE = Math.max(START_RATE, envInt('MAX_RATE', 500));
const STEPS = Math.max(1, envInt('STEPS', 5));
const STEP_RAMP = envDuration('STEP_RAMP', '30s');
const STEP_HOLD = envDuration('STEP_HOLD', '2m');

// Equal steps so each plateau is long enough for latency percentiles to settle at that rate.
const stages: Stage[] = [];
for (let s = 1; s <= STEPS; s++) {
  const target = Math.round(START_RATE + ((MAX_RATE - START_RATE) * (s - 1)) / Math.max(1, STEPS - 1));
  stages.push({ duration: STEP_RAMP, target }, { duration: STEP_HOLD, target });
}
stages.push({ duration: envDuration('RAMP_DOWN', '1m'), target: 0 });

export const options: Options = {
  // The meltdown guard still applies: once half the requests fail the limit has been found.
  ...baseOptions(true),
  scenarios: {
    stress: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      stages,
      preAllocatedVUs: envInt('PRE_VUS', Math.max(10, Math.ceil(START_RATE / 2))),
      // The cap is what keeps an overloaded run bounded: beyond it k6 drops iterations (reported
      // as dropped_iterations) instead of opening ever more connections.
      maxVUs: envInt('MAX_VUS', Math.max(100, MAX_RATE * 2)),
      gracefulStop: '30s',
    },
  },
};

export function setup(): SetupData {
  // 200 users keep the 500/s peak at ≈ 2.5 req/s per user, under RATE_LIMIT_MAX (600/min), so
  // the run measures capacity, not the rate limiter. Raise USERS with MAX_RATE.
  return setupUsers(envInt('USERS', 200));
}

export default function (data: SetupData): void {
  userAction(data);
}

export function teardown(data: SetupData): void {
  teardownUsers(data);
}
