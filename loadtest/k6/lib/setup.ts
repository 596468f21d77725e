// setup(): create N users with the admin token, seed a few days of history for each, and hand
// the list to every VU. teardown(): erase them again. Shared by all scenarios.
import { sleep } from 'k6';
import exec from 'k6/execution';
import type { Response } from 'k6/http';
import { KEEP_DATA, SEED_DAYS, requireSecret } from './config.ts';
import {
  bioMetricsBody,
  bloodTestBody,
  localDay,
  localEpoch,
  newProfile,
  physicalActivityBody,
  randInt,
  rfc3339,
  sleepBody,
} from './data.ts';
import type { Profile, SeededUser } from './data.ts';
import { adminToken, tokenFor } from './jwt.ts';
import { batchItemsRejected, json, retryAfter, send, sendAll } from './http.ts';
import type { Req } from './http.ts';

export interface SetupData {
  users: SeededUser[];
}

// Parallel requests per http.batch call: quick setup without bursting past the admin's rate limit.
const PARALLEL = 10;
const MAX_ATTEMPTS = 3;

/**
 * Send `reqs` in parallel chunks; retry the ones answered 429/503 after Retry-After (setup is a
 * closed loop, so honouring back-off is right here, unlike in the measured phase).
 */
function sendWithRetry(reqs: Req[]): Array<Response | null> {
  const out: Array<Response | null> = reqs.map(() => null);
  let pending = reqs.map((_, i) => i);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && pending.length > 0; attempt++) {
    const retry: number[] = [];
    let wait = 0;
    for (let c = 0; c < pending.length; c += PARALLEL) {
      const chunk = pending.slice(c, c + PARALLEL);
      const res = sendAll(chunk.map((i) => reqs[i]));
      res.forEach((r, j) => {
        out[chunk[j]] = r;
        if (r.status === 429 || r.status === 503) {
          retry.push(chunk[j]);
          wait = Math.max(wait, retryAfter(r));
        }
      });
    }
    pending = retry;
    if (pending.length > 0 && attempt < MAX_ATTEMPTS) sleep(Math.min(wait, 30));
  }
  return out;
}

function seedRequests(p: Profile, days: string[], recorded: number[]): Req[] {
  const token = tokenFor(p.user_uuid);
  const batch = (resource: string, items: unknown[]): Req => ({
    method: 'POST',
    path: `/api/${resource}/batch`,
    name: `POST /api/${resource}/batch`,
    kind: 'setup',
    token,
    body: { items },
    expect: [200],
  });
  return [
    batch('bio-metrics', recorded.map((t) => bioMetricsBody(p, t))),
    batch('physical-activity', days.map((d) => physicalActivityBody(p, d))),
    batch('sleep-activity', days.map((d) => sleepBody(p, d))),
    // One panel inside the seeded window: people get blood drawn every few months, not daily.
    batch('blood-tests', [bloodTestBody(p, days[randInt(0, days.length - 1)])]),
  ];
}

export function setupUsers(count: number): SetupData {
  requireSecret();
  // Fail in seconds, not after minutes of errors, when BASE_URL or the stack is wrong.
  const ready = send({ method: 'GET', path: '/readyz', name: 'GET /readyz', kind: 'setup', token: '', expect: [200] });
  if (ready.status !== 200) {
    exec.test.abort(`API not ready at /readyz (status ${ready.status} ${ready.error}); check BASE_URL`);
  }

  const admin = adminToken();
  const created = Array.from({ length: count }, () => newProfile());
  const userRes = sendWithRetry(
    created.map(({ body }) => ({
      method: 'POST',
      path: '/api/users/',
      name: 'POST /api/users/',
      kind: 'setup',
      token: admin,
      body,
      expect: [201],
    })),
  );
  const profiles = created.filter((_, i) => userRes[i]?.status === 201).map((c) => c.profile);
  if (profiles.length === 0) exec.test.abort('could not create any user: check AUTH_JWT_SECRET and the logs above');

  // Seed days end yesterday (local): today's sleep may not have ended and today's data is partial.
  const seeds: Req[] = [];
  const users: SeededUser[] = profiles.map((p) => {
    const days = Array.from({ length: SEED_DAYS }, (_, i) => localDay(p.offsetMin, i + 1));
    // A morning and an evening reading per day, at whole minutes so the UTC form round-trips.
    const epochs: number[] = [];
    for (const d of days) {
      epochs.push(localEpoch(d, randInt(6 * 60 + 30, 8 * 60), p.offsetMin));
      epochs.push(localEpoch(d, randInt(20 * 60, 22 * 60), p.offsetMin));
    }
    seeds.push(...seedRequests(p, days, epochs));
    return { ...p, days, recorded: epochs.map((t) => rfc3339(t, 0)) };
  });
  const seedRes = sendWithRetry(seeds);
  let rejected = 0;
  for (const r of seedRes) {
    const body = r === null ? null : json<{ results?: Array<{ status: string }> }>(r);
    for (const item of body?.results ?? []) if (item.status === 'rejected') rejected++;
  }
  if (rejected > 0) {
    batchItemsRejected.add(rejected, { name: 'setup' });
    console.warn(`setup: ${rejected} seeded items were rejected; reads of those records will 404`);
  }
  console.info(`setup: ${users.length}/${count} users created, ${SEED_DAYS} days seeded each`);
  // Setup data is copied into every VU, so it holds only what the flows read.
  return { users };
}

/** Erase the run's users (the API deletes their records, scores and cache entries too). */
export function teardownUsers(data: SetupData | undefined): void {
  if (KEEP_DATA || data === undefined || data.users.length === 0) return;
  const admin = adminToken();
  sendWithRetry(
    data.users.map((u) => ({
      method: 'DELETE',
      path: `/api/users/${u.user_uuid}`,
      name: 'DELETE /api/users/:uuid',
      kind: 'teardown',
      token: admin,
      expect: [204, 404],
    })),
  );
}
