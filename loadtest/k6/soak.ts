// Soak: moderate steady load for an hour or more, to surface what only time reveals: memory or
// connection leaks, growing tables and indexes slowing queries, cache churn, token expiry (tokens
// live 1 h and are re-minted, so auth must stay clean past the first hour).
// Default: 5 m ramp, 1 h at 30/s, 5 m down = 70 m. Bounded by SOAK_DURATION.
//   k6 run -e BASE_URL=... -e AUTH_JWT_SECRET=... -e RATE=30 -e SOAK_DURATION=4h loadtest/k6/soak.ts
import type { Options } from 'k6/options';
import { baseOptions, envDuration, envInt } from './lib/config.ts';
import { userAction } from './lib/flows.ts';
import { setupUsers, teardownUsers } from './lib/setup.ts';
import type { SetupData } from './lib/setup.ts';

// Moderate: well below the load test's peak, so any drift over time is the finding, not overload.
const RATE = Math.max(1, envInt('RATE', 30));

export const options: Options = {
  // The meltdown guard matters most here: it ends a broken soak in minutes instead of an hour.
  ...baseOptions(true),
  scenarios: {
    soak: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      stages: [
        { duration: envDuration('RAMP_UP', '5m'), target: RATE },
        { duration: envDuration('SOAK_DURATION', '1h'), target: RATE },
        { duration: envDuration('RAMP_DOWN', '5m'), target: 0 },
      ],
      preAllocatedVUs: envInt('PRE_VUS', Math.max(5, Math.ceil(RATE / 2))),
      maxVUs: envInt('MAX_VUS', Math.max(20, RATE * 2)),
      gracefulStop: '30s',
    },
  },
};

export function setup(): SetupData {
  return setupUsers(envInt('USERS', 100));
}

export default function (data: SetupData): void {
  userAction(data);
}

export function teardown(data: SetupData): void {
  teardownUsers(data);
}
