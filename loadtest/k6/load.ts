// Load: the expected production peak, as an open model (ramping-arrival-rate): k6 starts
// iterations at the target rate whether or not the API keeps up, so a slow API shows up as
// latency and dropped_iterations instead of silently lowering the offered load (as closed-loop
// VUs would). 2 m ramp + 6 m hold + 2 m ramp-down = 10 m.
//   k6 run -e BASE_URL=http://localhost:8080 -e AUTH_JWT_SECRET=... -e RATE=50 loadtest/k6/load.ts
import type { Options } from 'k6/options';
import { baseOptions, envDuration, envInt } from './lib/config.ts';
import { userAction } from './lib/flows.ts';
import { setupUsers, teardownUsers } from './lib/setup.ts';
import type { SetupData } from './lib/setup.ts';

// User actions per second (≈ requests per second; a few actions send two requests).
const RATE = Math.max(1, envInt('RATE', 50));

export const options: Options = {
  ...baseOptions(true),
  scenarios: {
    load: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      stages: [
        { duration: envDuration('RAMP_UP', '2m'), target: RATE },
        { duration: envDuration('HOLD', '6m'), target: RATE },
        { duration: envDuration('RAMP_DOWN', '2m'), target: 0 },
      ],
      // Little's law: VUs in flight ≈ rate × latency. At the 400 ms p99 budget RATE × 0.4 is
      // enough; the ceiling of RATE × 2 covers 2 s latencies and bounds the generator's memory.
      preAllocatedVUs: envInt('PRE_VUS', Math.max(5, Math.ceil(RATE / 2))),
      maxVUs: envInt('MAX_VUS', Math.max(20, RATE * 2)),
      gracefulStop: '30s',
    },
  },
};

export function setup(): SetupData {
  // 100 users at 50/s is ≈ 0.5 req/s per user: realistic, and far below RATE_LIMIT_MAX (600/min).
  return setupUsers(envInt('USERS', 100));
}

export default function (data: SetupData): void {
  userAction(data);
}

export function teardown(data: SetupData): void {
  teardownUsers(data);
}
