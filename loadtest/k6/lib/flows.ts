// The realistic traffic mix: ~80 % reads (dashboard, history, record lists) and ~20 % writes
// (single manual entries, create-or-update syncs, device batch uploads). One iteration is one
// user action, usually one request, so the arrival rate is close to the request rate.
import { check } from 'k6';
import exec from 'k6/execution';
import { WRITE_RATIO } from './config.ts';
import {
  bioMetricsBatch,
  bioMetricsBody,
  bloodResults,
  bloodTestBody,
  chance,
  localDay,
  physicalActivityBody,
  pick,
  randInt,
  sleepBody,
} from './data.ts';
import type { SeededUser } from './data.ts';
import { batchItemsRejected, idempotencyKey, json, send } from './http.ts';
import type { Req } from './http.ts';
import { tokenFor } from './jwt.ts';
import type { SetupData } from './setup.ts';

interface Ctx {
  u: SeededUser;
  token: string;
}

interface Flow {
  name: string;
  kind: 'read' | 'write';
  /** Relative weight inside its kind; the read/write split itself is WRITE_RATIO. */
  weight: number;
  run: (c: Ctx) => void;
}

function get(c: Ctx, name: string, path: string): ReturnType<typeof send> {
  return send({ method: 'GET', path, name, kind: 'read', token: c.token, expect: [200] });
}

function write(c: Ctx, r: Omit<Req, 'kind' | 'token'>): ReturnType<typeof send> {
  // Every create carries an Idempotency-Key, as a mobile client that may retry would send.
  const idem = r.method === 'POST' ? idempotencyKey(exec.vu.idInTest) : undefined;
  return send({ ...r, kind: 'write', token: c.token, idempotencyKey: r.idempotencyKey ?? idem });
}

/**
 * Day-keyed resources are create-or-update from the client's point of view: POST, and on 409
 * (that day exists) PATCH. Random days in a window mean early POSTs mostly create and later ones
 * mostly fall through to PATCH, like a long-lived user base.
 */
function createOrUpdate(c: Ctx, resource: 'physical-activity' | 'sleep-activity', windowDays: number): void {
  const date = localDay(c.u.offsetMin, randInt(1, windowDays));
  const body = resource === 'physical-activity' ? physicalActivityBody(c.u, date) : sleepBody(c.u, date);
  const res = write(c, { method: 'POST', path: `/api/${resource}/`, name: `POST /api/${resource}/`, body, expect: [201, 409] });
  if (res.status !== 409) return;
  const patch = resource === 'physical-activity' ? physicalActivityBody(c.u, date, false) : sleepBody(c.u, date, false);
  write(c, {
    method: 'PATCH',
    path: `/api/${resource}/${c.u.user_uuid}/update`,
    name: `PATCH /api/${resource}/:uuid/update`,
    body: patch,
    expect: [200],
  });
}

function batch(c: Ctx, resource: string, items: unknown[]): void {
  const name = `POST /api/${resource}/batch`;
  const res = write(c, { method: 'POST', path: `/api/${resource}/batch`, name, body: { items }, expect: [200] });
  if (res.status !== 200) return;
  const results = json<{ results?: Array<{ status: string }> }>(res)?.results ?? [];
  const rejected = results.filter((r) => r.status === 'rejected').length;
  if (rejected > 0) batchItemsRejected.add(rejected, { name });
  check(
    results,
    { [`${name} every item accepted`]: (r) => r.length === items.length && rejected === 0 },
    { name, kind: 'write' },
  );
}

const FLOWS: Flow[] = [
  // ---------------------------------------------------------------- reads (dashboard first)
  {
    name: 'health score',
    kind: 'read',
    weight: 28,
    run: (c) => {
      // Mostly today's score (the app's home screen), sometimes yesterday's.
      const date = chance(0.2) ? `&date=${localDay(c.u.offsetMin, 1)}` : '';
      const res = get(c, 'GET /api/get_health_score', `/api/get_health_score?user_uuid=${c.u.user_uuid}${date}`);
      if (res.status === 200) {
        const body = json<{ state?: string }>(res);
        check(
          body,
          { 'health score has a state': (b) => b?.state === 'ok' || b?.state === 'insufficient_data' },
          { name: 'GET /api/get_health_score', kind: 'read' },
        );
      }
    },
  },
  {
    name: 'score history',
    kind: 'read',
    weight: 8,
    run: (c) => {
      const q = `from=${localDay(c.u.offsetMin, 30)}&to=${localDay(c.u.offsetMin, 0)}`;
      get(c, 'GET /api/health-scores/:uuid', `/api/health-scores/${c.u.user_uuid}?${q}`);
    },
  },
  {
    name: 'list bio-metrics',
    kind: 'read',
    weight: 12,
    run: (c) => {
      const name = 'GET /api/bio-metrics/:uuid';
      const res = get(c, name, `/api/bio-metrics/${c.u.user_uuid}?limit=50`);
      // Some users scroll to the next page: exercises the cursor path.
      const next = res.status === 200 ? json<{ next_cursor?: string | null }>(res)?.next_cursor : null;
      if (next && chance(0.15)) {
        get(c, name, `/api/bio-metrics/${c.u.user_uuid}?limit=50&cursor=${encodeURIComponent(next)}`);
      }
    },
  },
  {
    name: 'list activity',
    kind: 'read',
    weight: 8,
    run: (c) => {
      const q = `from=${localDay(c.u.offsetMin, 30)}&to=${localDay(c.u.offsetMin, 0)}&limit=30`;
      get(c, 'GET /api/physical-activity/:uuid', `/api/physical-activity/${c.u.user_uuid}?${q}`);
    },
  },
  {
    name: 'list sleep',
    kind: 'read',
    weight: 8,
    run: (c) => get(c, 'GET /api/sleep-activity/:uuid', `/api/sleep-activity/${c.u.user_uuid}?limit=30`),
  },
  {
    name: 'list blood tests',
    kind: 'read',
    weight: 4,
    run: (c) => get(c, 'GET /api/blood-tests/:uuid', `/api/blood-tests/${c.u.user_uuid}`),
  },
  {
    name: 'one bio-metric',
    kind: 'read',
    weight: 4,
    run: (c) =>
      get(c, 'GET /api/bio-metrics/:uuid/:recorded', `/api/bio-metrics/${c.u.user_uuid}/${encodeURIComponent(pick(c.u.recorded))}`),
  },
  {
    name: 'one activity day',
    kind: 'read',
    weight: 4,
    run: (c) => get(c, 'GET /api/physical-activity/:uuid/:date', `/api/physical-activity/${c.u.user_uuid}/${pick(c.u.days)}`),
  },
  {
    name: 'one sleep night',
    kind: 'read',
    weight: 2,
    run: (c) => get(c, 'GET /api/sleep-activity/:uuid/:date', `/api/sleep-activity/${c.u.user_uuid}/${pick(c.u.days)}`),
  },
  {
    name: 'profile',
    kind: 'read',
    weight: 2,
    run: (c) => get(c, 'GET /api/users/:uuid', `/api/users/${c.u.user_uuid}`),
  },
  // ---------------------------------------------------------------- writes
  {
    name: 'manual bio-metric',
    kind: 'write',
    weight: 8,
    run: (c) => {
      // Within the last 10 minutes: a reading just taken, never in the future (a 422).
      const body = bioMetricsBody(c.u, Date.now() - randInt(0, 600) * 1000);
      const key = idempotencyKey(exec.vu.idInTest);
      const req = { method: 'POST' as const, path: '/api/bio-metrics/', name: 'POST /api/bio-metrics/', body, expect: [201], idempotencyKey: key };
      const first = write(c, req);
      // 5 %: the client lost the answer and retries with the same key; the API must replay.
      if (first.status === 201 && chance(0.05)) {
        const replay = write(c, req);
        check(replay, { 'idempotent replay flagged': (r) => r.headers['Idempotent-Replayed'] === 'true' }, { name: req.name, kind: 'write' });
      }
    },
  },
  { name: 'sync activity day', kind: 'write', weight: 3, run: (c) => createOrUpdate(c, 'physical-activity', 90) },
  { name: 'sync sleep night', kind: 'write', weight: 2, run: (c) => createOrUpdate(c, 'sleep-activity', 90) },
  {
    name: 'enter blood panel',
    kind: 'write',
    weight: 1,
    run: (c) => {
      const date = localDay(c.u.offsetMin, randInt(1, 730));
      const res = write(c, { method: 'POST', path: '/api/blood-tests/', name: 'POST /api/blood-tests/', body: bloodTestBody(c.u, date), expect: [201, 409] });
      if (res.status !== 409) return;
      // That day's panel exists: a corrected or late result is upserted by marker.
      write(c, {
        method: 'PATCH',
        path: `/api/blood-tests/${c.u.user_uuid}/${date}/update`,
        name: 'PATCH /api/blood-tests/:uuid/:date/update',
        body: { results: bloodResults() },
        expect: [200],
      });
    },
  },
  { name: 'wearable upload', kind: 'write', weight: 5, run: (c) => batch(c, 'bio-metrics', bioMetricsBatch(c.u, randInt(50, 200)).items) },
  {
    name: 'activity backfill',
    kind: 'write',
    weight: 1,
    run: (c) => {
      // A newly linked integration imports 50–200 days of history in one call.
      const n = randInt(50, 200);
      batch(c, 'physical-activity', Array.from({ length: n }, (_, i) => physicalActivityBody(c.u, localDay(c.u.offsetMin, i + 1))));
    },
  },
];

const READS = FLOWS.filter((f) => f.kind === 'read');
const WRITES = FLOWS.filter((f) => f.kind === 'write');

function weighted(flows: Flow[]): Flow {
  const total = flows.reduce((s, f) => s + f.weight, 0);
  let r = Math.random() * total;
  for (const f of flows) {
    r -= f.weight;
    if (r < 0) return f;
  }
  return flows[flows.length - 1];
}

/**
 * One user action. Users are taken round-robin by iteration, not bound to VUs: arrival-rate
 * executors reuse a few idle VUs, which would concentrate traffic on a few users and trip the
 * per-principal rate limit. Per-user rate is therefore ≈ total rate / number of users.
 * `everyFlow` (smoke) cycles through all flows in order so each route is hit at least once.
 */
export function userAction(data: SetupData, everyFlow = false): void {
  const i = exec.scenario.iterationInTest;
  const u = data.users[i % data.users.length];
  const flow = everyFlow ? FLOWS[i % FLOWS.length] : chance(WRITE_RATIO) ? weighted(WRITES) : weighted(READS);
  flow.run({ u, token: tokenFor(u.user_uuid) });
}
