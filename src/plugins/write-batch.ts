/**
 * Answers leave together: the socket writes asked for while the event loop handles one poll of
 * the sockets are made at the end of that poll, back to back (HTTP_WRITE_BATCH).
 *
 * Why: writing an answer to a client that is asleep in epoll wakes it, and on a virtual machine
 * that wake-up (an inter-processor interrupt, a VM exit) is paid by the writer inside the socket
 * write. Written as each request finishes, answers are tens of µs apart, and a client that has
 * read one answer is often asleep again before the next, so a busy server pays a wake-up per
 * answer. Written back to back, the first wakes the client and the rest find it running.
 * Measured with a plain Node server doing 40 µs of work per request and autocannon on the same
 * two cores: 12 976 → 14 521 req/s (medians of 5 alternating runs).
 *
 * How: each accepted connection's stream-implementation methods (`_write`, `_writev`, the
 * Writable API a stream implementer provides) hand their chunks to the real ones from one
 * `setImmediate`, which Node runs right after the poll phase. Everything above the socket runs as
 * before: the answer is complete and `reply.sent` is true when `end()` returns; the Writable
 * buffers a connection's later chunks until the held write completes, so nothing is reordered;
 * 'finish' (and so Fastify's onResponse, the metrics and the audit) follows the real write; a
 * socket destroyed while its write is held makes that write first, as it would have been made.
 * A write waits at most for the rest of its poll's requests; under light load a poll holds one.
 */
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'

type WriteCallback = (error?: Error | null) => void
type Chunks = Array<{ chunk: unknown; encoding: BufferEncoding }>
interface Writer {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void
  _writev?(chunks: Chunks, callback: WriteCallback): void
  _destroy(error: Error | null, callback: (error?: Error | null) => void): void
}
/** a write waiting for the end of the poll; `run` is null once made */
interface Held {
  run: (() => void) | null
}

/** Writes held until the end of the current poll, then made in the order they were asked for. */
export class WriteBatch {
  private held: Held[] = []
  private readonly release = () => {
    const batch = this.held
    this.held = []
    for (const h of batch) WriteBatch.make(h)
  }

  private static make(h: Held | null): void {
    const run = h?.run
    if (!run) return
    h!.run = null
    run()
  }

  hold(write: () => void): Held {
    if (this.held.length === 0) setImmediate(this.release)
    const h: Held = { run: write }
    this.held.push(h)
    return h
  }

  /** route this socket's writes through the batch */
  attach(socket: Socket): void {
    const target = socket as unknown as Writer
    const write = target._write
    const writev = target._writev
    const destroy = target._destroy
    // a Writable waits for a write's callback before its next write: at most one is held per socket
    let pending: Held | null = null
    target._write = (chunk, encoding, callback) => {
      pending = this.hold(() => write.call(target, chunk, encoding, callback))
    }
    if (writev) {
      target._writev = (chunks, callback) => {
        pending = this.hold(() => writev.call(target, chunks, callback))
      }
    }
    // a write asked for before the socket is destroyed still goes first: Node's answer to a
    // malformed request (a 400 written by the clientError handler, then destroy) must reach the client
    target._destroy = (error, callback) => {
      WriteBatch.make(pending)
      pending = null
      destroy.call(target, error, callback)
    }
  }
}

export default fp<{ enabled: boolean }>(
  async (fastify, opts) => {
    if (!opts.enabled) return
    const batch = new WriteBatch()
    fastify.server.on('connection', (socket: Socket) => batch.attach(socket))
  },
  { name: 'write-batch', fastify: '5.x' }
)
