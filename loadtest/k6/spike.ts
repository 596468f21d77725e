// Spike: steady base traffic, a sudden 10× jump for a minute (push notification, TV mention),
// then back to base. Two scenarios so the recovery phase has its own threshold: the spike may
// hurt, but once it is over latency must be back within budget (no stuck pools or queues).
// Default: 2 m at 20/s, 10 s to 200/s, 1 m hold, 10 s down, 3 m recovery at 20/s ≈ 6.5 m.
//   k6 run -e BASE_URL=... -e AUTH_JWT_SECRET=... -e BASE_RATE=30 -e FACTOR=10 loadtest/k6/spike.ts
import type { Options } from 'k6/options';
import { baseOptions, durationSeconds, envDuration, envInt } from './lib/config.ts';
import { userAction } from './lib/flows.ts';
import { setupUsers, teardownUsers } from './lib/setup.ts';
import type { SetupData } from './lib/setup.ts';

const BASE_RATE = Math.max(1, envInt('BASE_RATE', 20));
const PEAK_RATE = BASE_RATE * Math.max(1, envInt('FACTOR', 10));
const WARM = envDuration('WARM', '2m');
const SPIKE_HOLD = envDuration('SPIKE_HOLD', '1m');
const EDGE = '10s'; // "sudden": the jump and the drop take 10 s each
const spikeSeconds = durationSeconds(WARM) + durationSeconds(SPIKE_HOLD) + 2 * durationSeconds(EDGE);

const base = baseOptions(true);
export const options: Options = {
  ...base,
  thresholds: {
    ...base.thresholds,
    // The recovery phase alone must meet the budget again.
    'http_req_duration{scenario:recovery}': ['p(95)<200', 'p(99)<400'],
    'http_req_failed{scenario:recovery}': ['rate<0.01'],
  },
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: BASE_RATE,
      timeUnit: '1s',
      stages: [
        { duration: WARM, target: BASE_RATE },
        { duration: EDGE, target: PEAK_RATE },
        { duration: SPIKE_HOLD, target: PEAK_RATE },
        { duration: EDGE, target: BASE_RATE },
      ],
      preAllocatedVUs: envInt('PRE_VUS', Math.max(10, PEAK_RATE)),
      maxVUs: envInt('MAX_VUS', Math.max(100, PEAK_RATE * 3)),
      // Short, so stragglers from the spike barely overlap the recovery measurement.
      gracefulStop: '5s',
    },
    recovery: {
      executor: 'constant-arrival-rate',
      startTime: `${spikeSeconds}s`,
      rate: BASE_RATE,
      timeUnit: '1s',
      duration: envDuration('RECOVERY', '3m'),
      preAllocatedVUs: Math.max(5, BASE_RATE),
      maxVUs: Math.max(20, BASE_RATE * 4),
      gracefulStop: '30s',
    },
  },
};

export function setup(): SetupData {
  // 100 users: even the 200/s peak is ≈ 2 req/s per user, below the per-principal rate limit,
  // so what we see is the API absorbing the spike rather than the limiter refusing it.
  return setupUsers(envInt('USERS', 100));
}

export default function (data: SetupData): void {
  userAction(data);
}

export function teardown(data: SetupData): void {
  teardownUsers(data);
}
