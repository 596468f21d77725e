// One place that sends a request, tags it, checks it and counts throttling, so every flow and
// setup step is measured the same way.
import http from 'k6/http';
import type { Params, Response } from 'k6/http';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL, envStr } from './config.ts';
import { bearer } from './jwt.ts';

// Throttling is reported apart from other failures: a 429 means our per-user rate is above
// RATE_LIMIT_MAX (a test-design problem), a 503 means the API shed load (a capacity finding).
export const rateLimited = new Counter('http_429_rate_limited');
export const shed = new Counter('http_503_shed');
export const throttled = new Rate('http_throttled');
// Batch answers are 200 even when items are rejected, so rejected items need their own count.
export const batchItemsRejected = new Counter('batch_items_rejected');
// 409 on create is an expected outcome of create-or-update flows; counted to see how often.
export const createConflicts = new Counter('create_conflicts_409');

export type Kind = 'read' | 'write' | 'setup' | 'teardown';

export interface Req {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path with query, e.g. `/api/bio-metrics/<uuid>?limit=50`. */
  path: string;
  /** Low-cardinality metric name: the route template, never the concrete URL. */
  name: string;
  kind: Kind;
  /** Bearer token; '' for the unauthenticated operational routes. */
  token: string;
  body?: unknown;
  /** Statuses that count as success (for http_req_failed and the status check). */
  expect: number[];
  idempotencyKey?: string;
}

// Bounded per request: a hung connection must not hold a VU for k6's default 60 s.
const TIMEOUT = envStr('REQUEST_TIMEOUT', '10s');

export function params(r: Req): Params {
  // as browsers and mobile HTTP stacks do: large cached answers then come gzip-coded (k6 decodes them)
  const headers: { [k: string]: string } = { Accept: 'application/json', 'Accept-Encoding': 'gzip' };
  if (r.token !== '') Object.assign(headers, bearer(r.token)); // operational routes need none
  if (r.body !== undefined) headers['Content-Type'] = 'application/json';
  if (r.idempotencyKey !== undefined) headers['Idempotency-Key'] = r.idempotencyKey;
  return {
    headers,
    tags: { name: r.name, kind: r.kind },
    timeout: TIMEOUT,
    responseCallback: http.expectedStatuses(...r.expect),
  };
}

export function url(path: string): string {
  return `${BASE_URL}${path}`;
}

export function encodeBody(body: unknown): string | null {
  return body === undefined ? null : JSON.stringify(body);
}

let loggedFailures = 0;
const MAX_LOGGED_FAILURES = 10; // per VU: enough to diagnose, not enough to flood the console

/** Count throttling, run the status check, and log the first few unexpected answers. */
export function observe(r: Req, res: Response): boolean {
  if (res.status === 429 || res.status === 503) {
    // The API answers problem+json; a proxy (nginx, ingress-nginx limit_req) answers HTML.
    // Telling them apart shows whether the API or the edge in front of it is throttling.
    const origin = (res.headers['Content-Type'] || '').indexOf('problem+json') >= 0 ? 'api' : 'proxy';
    (res.status === 429 ? rateLimited : shed).add(1, { name: r.name, origin });
  }
  throttled.add(res.status === 429 || res.status === 503, { name: r.name });
  if (res.status === 409 && r.expect.indexOf(409) >= 0) createConflicts.add(1, { name: r.name });
  const ok = check(
    res,
    { [`${r.name} status ${r.expect.join('|')}`]: (x) => r.expect.indexOf(x.status) >= 0 },
    { name: r.name, kind: r.kind },
  );
  if (!ok && loggedFailures < MAX_LOGGED_FAILURES) {
    loggedFailures++;
    const body = typeof res.body === 'string' ? res.body.slice(0, 300) : '';
    console.warn(`${r.method} ${r.path} -> ${res.status} ${res.error || ''} ${body}`);
  }
  return ok;
}

export function send(r: Req): Response {
  const res = http.request(r.method, url(r.path), encodeBody(r.body), params(r));
  observe(r, res);
  return res;
}

/** Several requests in parallel (setup/teardown), each observed like `send`. */
export function sendAll(reqs: Req[]): Response[] {
  const responses = http.batch(
    reqs.map((r) => ({ method: r.method, url: url(r.path), body: encodeBody(r.body), params: params(r) })),
  );
  responses.forEach((res, i) => observe(reqs[i], res));
  return responses;
}

/** Parsed JSON body, or null when there is none or it is not JSON (e.g. a proxy's HTML 502). */
export function json<T>(res: Response): T | null {
  if (typeof res.body !== 'string' || res.body === '') return null;
  try {
    return JSON.parse(res.body) as T;
  } catch {
    return null;
  }
}

/** Seconds from Retry-After (1 if absent or unparseable). */
export function retryAfter(res: Response): number {
  const n = Number(res.headers['Retry-After']);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

let keySeq = 0;
/** Unique per VU and request; readable in server logs when debugging a replay. */
export function idempotencyKey(vu: number): string {
  keySeq++;
  return `k6-${vu}-${Date.now().toString(36)}-${keySeq}-${Math.random().toString(36).slice(2, 10)}`;
}
