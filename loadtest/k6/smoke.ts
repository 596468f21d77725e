// Smoke: 1–2 VUs for 30 s walking through every flow in turn. Run it first (and in CI after a
// deploy): it proves routes, auth, seeding and thresholds work before any real load is applied.
//   k6 run -e BASE_URL=http://localhost:8080 -e AUTH_JWT_SECRET=... loadtest/k6/smoke.ts
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { baseOptions, envDuration, envInt, envNum } from './lib/config.ts';
import { userAction } from './lib/flows.ts';
import { setupUsers, teardownUsers } from './lib/setup.ts';
import type { SetupData } from './lib/setup.ts';

const VUS = Math.min(2, Math.max(1, envInt('VUS', 2)));
// Pause between actions, like a person tapping through the app; keeps smoke far from any limit.
const THINK_TIME = envNum('THINK_TIME', 1);

export const options: Options = {
  ...baseOptions(false),
  scenarios: {
    smoke: {
      executor: 'constant-vus',
      vus: VUS,
      duration: envDuration('DURATION', '30s'),
      gracefulStop: '10s',
    },
  },
};

export function setup(): SetupData {
  return setupUsers(envInt('USERS', 2));
}

export default function (data: SetupData): void {
  userAction(data, true);
  sleep(THINK_TIME);
}

export function teardown(data: SetupData): void {
  teardownUsers(data);
}
