/**
 * Fast reads. `readThrough` serves a GET from the shared cache under the user's current generation
 * (any write bumps it, so no read after a 2xx write returns pre-write data), coalesces concurrent
 * misses of one key into one database read, and stores the serialized answer (for single records
 * only from a key's second read: `storeOnSecondRead`). Every 200 GET gets a
 * strong ETag (304 on If-None-Match) and `Cache-Control: private` unless the route chose `public`.
 * `?fields=a,b` narrows an answer (and each item of a page) to those fields.
 * Answers of HTTP_GZIP_MIN_BYTES or more are sent gzip-compressed to clients that accept it
 * (`Accept-Encoding`): the compressed form is a cache entry of its own (its own key and ETag),
 * compressed once when it is made, so a hit costs no compression and a 21 KB list page crosses
 * Redis, the process's copies and the network as ~1 KB. `?fields=` answers are sent uncompressed.
 * @see https://www.rfc-editor.org/rfc/rfc9111 (private, no-cache), RFC 9110 §8.8.3 (ETag),
 * §12.5.3 (Accept-Encoding), §8.4 (Content-Encoding)
 */
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { splitEntry, type SplitEntry } from './cache.js'
import { Doorkeeper } from './doorkeeper.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Sends the answer: synchronously when the process's own copy may be served (then it returns
     * nothing), else it returns a promise that settles once the answer is sent.
     */
    readThrough<T>(request: FastifyRequest, reply: FastifyReply, userUuid: string, load: () => Promise<T>, variant?: string, options?: ReadThroughOptions): void | Promise<void>
    /** the pool for a user's reads: the replica, unless the user wrote in the last REPLICA_LAG_SECONDS */
    readerFor(userUuid: string): Promise<import('kysely').Kysely<import('../repositories/database.js').Database>>
    markWritten(userUuid: string): Promise<void>
  }
}

export interface ReadThroughOptions {
  /**
   * Store an answer only when its key was asked for before (Doorkeeper): for reads most of which
   * are made once (a single record opened from a list), a store per miss is a Redis write, a local
   * copy and memory for an entry nobody reads again. The first read of a key is answered from
   * PostgreSQL as usual (coalesced, at the current generation; without asking Redis when this
   * process holds a lease on the generation); the second stores it.
   */
  storeOnSecondRead?: boolean
}

/** how long after a user's write their reads stay on the writer (bounds replica lag) */
export const REPLICA_LAG_SECONDS = 10

export function project(value: unknown, fields: string[]): unknown {
  const pick = (o: Record<string, unknown>) => Object.fromEntries(fields.filter((f) => f in o).map((f) => [f, o[f]]))
  if (value && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items)) {
    const page = value as { items: Array<Record<string, unknown>>; next_cursor?: unknown }
    return { ...page, items: page.items.map(pick) }
  }
  return value && typeof value === 'object' ? pick(value as Record<string, unknown>) : value
}

/** the `?fields=` of a request, if any (the answer is then narrowed in onSend) */
const fieldsOf = (request: FastifyRequest): string | undefined => (request.query as { fields?: string } | undefined)?.fields

const gzipAsync = promisify(gzip)
/** the ETag suffix of a gzip-coded entry: a representation of its own (RFC 9110 §8.8.3) */
const GZIP_ETAG_SUFFIX = '-gz"'

let lastAccept: string | undefined
let lastAcceptsGzip = false
/**
 * Whether an Accept-Encoding field admits gzip (RFC 9110 §12.5.3): `gzip`, `x-gzip` or `*` with a
 * q-value above 0, an explicit gzip entry taking precedence over `*`. No field: identity only.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  // clients send the same field on every request: remember the last answer
  if (header === lastAccept) return lastAcceptsGzip
  let star = false
  let answer: boolean | undefined
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';')
    const coding = name.trim().toLowerCase()
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue
    let q = 1
    for (const param of params) {
      const eq = param.indexOf('=')
      if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'q') {
        const value = Number(param.slice(eq + 1).trim())
        q = Number.isFinite(value) ? value : 0
      }
    }
    if (coding === '*') star = q > 0
    else {
      answer = q > 0
      break
    }
  }
  lastAccept = header
  lastAcceptsGzip = answer ?? star
  return lastAcceptsGzip
}

export default fp(
  async (fastify) => {
    const gzipMinBytes = fastify.appConfig.HTTP_GZIP_MIN_BYTES
    const inflight = new Map<string, Promise<Buffer>>() // keyed with the generation: one load per version
    const JSON_TYPE = 'application/json; charset=utf-8'

    // a cached entry is "<etag>\n<body>": the ETag is hashed once, when the entry is made; from
    // Redis it arrives as bytes and the body goes to the socket without being decoded
    const etagOf = (body: string | Buffer) => `"${createHash('sha1').update(body).digest('base64url')}"`
    const sendEntry = (request: FastifyRequest, reply: FastifyReply, entry: string | Buffer | SplitEntry): void => {
      const { head: etag, body } = typeof entry === 'object' && !Buffer.isBuffer(entry) ? entry : splitEntry(entry)
      // with ?fields= the answer is narrowed in onSend, and its ETag is computed there
      if (!fieldsOf(request)) {
        reply.header('etag', etag)
        if (etag.endsWith(GZIP_ETAG_SUFFIX)) reply.header('content-encoding', 'gzip')
      }
      reply.type(JSON_TYPE).send(body)
    }
    /** the gzip form for this request: the client accepts it and the answer is not narrowed */
    const wantsGzip = (request: FastifyRequest): boolean =>
      gzipMinBytes > 0 && acceptsGzip(request.headers['accept-encoding']) && !fieldsOf(request)

    const doorkeeper = new Doorkeeper()
    fastify.decorate('readThrough', function <T>(request: FastifyRequest, reply: FastifyReply, userUuid: string, load: () => Promise<T>, variant = '', options?: ReadThroughOptions) {
      const gz = wantsGzip(request)
      // r2: entries carry their ETag; the gzip form is an entry of its own (a URL has no space)
      const key = `r2:${userUuid}:${variant}:${request.url}${gz ? ' gzip' : ''}`
      // the common case, a copy this process may serve on its own, without a promise
      const local = fastify.cache.peekForUser(userUuid, key)
      if (local !== undefined) {
        sendEntry(request, reply, local)
        return
      }
      if (options?.storeOnSecondRead === true && !doorkeeper.seen(key)) {
        // a first read is not stored; when this process holds a lease on the user's generation it
        // does not ask Redis either (another process's entry would only save a primary-key lookup)
        const generation = fastify.cache.leasedGeneration(userUuid)
        if (generation !== undefined) {
          fastify.metrics.cacheRequests.inc({ result: 'miss' })
          return loadShared(request, reply, key, generation, load, false, gz)
        }
        return readShared(request, reply, userUuid, key, load, false, gz)
      }
      // a load of this key at the leased (current) generation is in flight, e.g. a first read's: join it
      const leased = fastify.cache.leasedGeneration(userUuid)
      const pending = leased === undefined ? undefined : inflight.get(`${leased}:${key}`)
      if (pending) {
        fastify.metrics.cacheRequests.inc({ result: 'miss' })
        return pending.then((entry) => sendEntry(request, reply, entry))
      }
      return readShared(request, reply, userUuid, key, load, true, gz)
    })

    async function readShared<T>(request: FastifyRequest, reply: FastifyReply, userUuid: string, key: string, load: () => Promise<T>, store: boolean, gz: boolean): Promise<void> {
      const { generation, value: hit } = await fastify.cache.getForUser(userUuid, key)
      if (generation === null) {
        // the store is unreachable: serve from PostgreSQL, uncached
        reply.send(await load())
        return
      }
      if (hit !== null) return sendEntry(request, reply, hit)
      return loadShared(request, reply, key, generation, load, store, gz)
    }

    /**
     * Load the answer at `generation` (one load per key and generation in flight), send it, and
     * store it if `store`. `gz`: the entry is the gzip form when the answer is large enough.
     */
    async function loadShared<T>(request: FastifyRequest, reply: FastifyReply, key: string, generation: string, load: () => Promise<T>, store: boolean, gz: boolean): Promise<void> {
      // a read after a write never joins a load that started before it: the generation is in the key
      const flight = `${generation}:${key}`
      let pending = inflight.get(flight)
      if (!pending) {
        pending = (async () => {
          const body = reply.serialize(await load()) as string
          // encoded once: the same bytes go to the socket, to Redis and into the local copy
          if (!gz || body.length < gzipMinBytes) return Buffer.from(`${etagOf(body)}\n${body}`)
          // the identity form's validator marked as another representation (RFC 9110 §8.8.3)
          const etag = `${etagOf(body).slice(0, -1)}${GZIP_ETAG_SUFFIX}`
          return Buffer.concat([Buffer.from(`${etag}\n`, 'latin1'), await gzipAsync(body)])
        })()
        inflight.set(flight, pending)
        pending.finally(() => inflight.delete(flight)).catch(() => {})
        const entry = await pending
        if (store) await fastify.cache.setForUser(key, generation, entry)
        return sendEntry(request, reply, entry)
      }
      return sendEntry(request, reply, await pending)
    }

    const separateReader = fastify.db.reader !== fastify.db.writer
    fastify.decorate('markWritten', async (userUuid: string) => {
      if (separateReader) await fastify.cache.set(`w:${userUuid}`, '1', REPLICA_LAG_SECONDS)
    })
    fastify.decorate('readerFor', async (userUuid: string) => {
      if (!separateReader) return fastify.db.reader
      // a user who just wrote reads from the writer; if the cache can't tell, the writer is the safe side
      const marker = await fastify.cache.get(`w:${userUuid}`)
      const generation = marker === null ? await fastify.cache.generation(userUuid) : null
      return marker !== null || generation === null ? fastify.db.writer : fastify.db.reader
    })

    // synchronous (a callback hook, no promise): the answer is written within reply.send, so a
    // handler that returns the reply finds it sent and Fastify adds no end-of-stream listeners
    fastify.addHook('onSend', (request, reply, payload, done) => {
      done(null, validated(request, reply, payload))
    })
    function validated(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
      if (request.method !== 'GET' || reply.statusCode !== 200 || !(typeof payload === 'string' || Buffer.isBuffer(payload))) return payload
      let body: string | Buffer = payload
      const fields = fieldsOf(request)
      if (fields && request.url.startsWith('/api')) body = JSON.stringify(project(JSON.parse(payload.toString()), fields.split(',')))
      let etag = reply.getHeader('etag') as string | undefined
      if (etag === undefined) reply.header('etag', (etag = etagOf(body)))
      if (!reply.getHeader('cache-control')) {
        reply.header('cache-control', request.url.startsWith('/api') ? 'private, no-cache' : 'no-cache')
        // the answer depends on the caller and, for cached reads, on the codings they accept
        reply.header('vary', 'Authorization, Accept-Encoding')
      }
      const match = request.headers['if-none-match']
      if (match && match.split(',').some((m) => m.trim().replace(/^W\//, '') === etag)) {
        reply.code(304)
        reply.removeHeader('content-encoding') // no content to decode
        return ''
      }
      return body
    }
  },
  { name: 'http-cache', dependencies: ['cache', 'db', 'metrics'] }
)
