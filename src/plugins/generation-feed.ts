/**
 * Pushed generations, so a cached read can skip Redis without ever serving data older than a
 * completed write (issue #5: "no read after a 2xx write ever returns pre-write data").
 *
 * Every generation bump is published on a Redis channel in the same script that sets it. Each
 * process subscribes on a connection of its own and learns the current generation of users it has
 * seen, from those messages and from the lookups it still makes. Whether what it knows is current
 * is decided by a lease on that connection:
 *
 *  - the process PINGs the subscription every `pingMs`; Redis answers a PING after every message
 *    published before it, on the same connection, so once the answer to a PING sent at time s is
 *    in, the process knows every bump published before s;
 *  - the process answers from what it knows only while its newest answered PING was sent less than
 *    `leaseMs` ago;
 *  - a write whose bump reached another subscribed process (PUBLISH counts the receivers) waits
 *    `leaseMs` before it answers. A read that starts after that answer started more than
 *    `leaseMs` after the publish; if its process still holds a lease, that lease's PING was sent
 *    after the publish, so the process already applied the bump.
 *
 * With one process the write never waits. A lost connection drops what the process knows (messages
 * may be lost while disconnected) and its lease runs out by itself. Lookups made with MGET race
 * with messages: a lookup's answer is kept only if no message about that user arrived meanwhile.
 */
import type { Redis } from 'ioredis'
import { FifoCache } from './fifo-cache.js'

/** The channel of processes that were not told their database (tests, tools). */
export const DEFAULT_GENERATION_CHANNEL = 'ht:generations:default'

/** The channel of the processes serving one database (its name; host and credentials left out). */
export function generationChannel(databaseUrl: string): string {
  let name = ''
  try {
    name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1))
  } catch {}
  return name ? `ht:generations:${name}` : DEFAULT_GENERATION_CHANNEL
}

export interface GenerationFeedOptions {
  pingMs: number
  leaseMs: number
  /** users whose generation is remembered */
  maxUsers?: number
  now?: () => number
}

export class GenerationFeed {
  private readonly known: FifoCache<string, string>
  /** the message count at which a user's last message arrived (for the lookup race) */
  private readonly lastMessage: FifoCache<string, number>
  private messages = 0
  /**
   * counts every change that can turn a generation found current into one that is not: a changed
   * generation, an eviction, a clear (not a user learned into free room, nor a lookup that
   * confirms what was known)
   */
  private changes = 0
  private leaseFrom = Number.NEGATIVE_INFINITY
  private pinging = false
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private readonly now: () => number
  private readonly maxUsers: number

  constructor(private readonly sub: Redis, private readonly channel: string, private readonly options: GenerationFeedOptions) {
    this.now = options.now ?? (() => performance.now())
    this.maxUsers = options.maxUsers ?? 100_000
    this.known = new FifoCache({ maxEntries: this.maxUsers })
    this.lastMessage = new FifoCache({ maxEntries: this.maxUsers })
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return
      const cut = message.indexOf(' ')
      if (cut <= 0) return
      this.apply(message.slice(0, cut), message.slice(cut + 1))
    })
    // while disconnected, messages may be lost: forget everything, let the lease run out
    sub.on('close', () => this.forget())
    sub.on('ready', () => {
      this.forget()
      void sub.subscribe(channel).catch(() => {})
    })
    if (sub.status === 'ready') void sub.subscribe(channel).catch(() => {})
    this.schedule()
  }

  /** A user's current generation, when this process knows it and holds a lease; else undefined. */
  current(userUuid: string): string | undefined {
    if (this.now() - this.leaseFrom >= this.options.leaseMs) return undefined
    return this.known.get(userUuid)
  }

  /** The message count, to pass to `learn` with a lookup sent now. */
  mark(): number {
    return this.messages
  }

  /** What a lookup sent at `mark` answered: kept unless a message about the user arrived since. */
  learn(userUuid: string, generation: string, mark: number): void {
    const last = this.lastMessage.get(userUuid)
    if (last !== undefined && last > mark) return
    // the user's last message may have been evicted: only trust a lookup no older than that memory
    if (last === undefined && this.messages - mark >= this.maxUsers) return
    const before = this.known.get(userUuid)
    if (before === generation) return // confirmed: nothing this process knows changes
    // a user learned while there is room changes no answer found current (it had none): the
    // version moves only for a changed generation or an eviction. Lookups are made whenever a lease
    // lapses; each one that moved the version sent every copy found current back to a lookup of
    // its own (with 10 000 users, one in a cold map per read)
    if (this.known.set(userUuid, generation) > 0 || before !== undefined) this.changes++
  }

  /** This process's own bump: known at once, without waiting for its message. */
  apply(userUuid: string, generation: string): void {
    this.messages++
    this.changes++
    this.lastMessage.set(userUuid, this.messages)
    this.known.set(userUuid, generation)
  }

  /**
   * Changes so far to what this process knows. While it stands still, `current(u)` (under the
   * lease) answers what it answered before for every u it answered for (a user unknown before
   * may become known): a caller that found a generation current may skip the lookup until the
   * version moves.
   */
  get version(): number {
    return this.changes
  }

  get leaseMs(): number {
    return this.options.leaseMs
  }

  /** True while this process holds a lease (tests, health). */
  fresh(): boolean {
    return this.now() - this.leaseFrom < this.options.leaseMs
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private forget(): void {
    this.leaseFrom = Number.NEGATIVE_INFINITY
    this.changes++
    this.known.clear()
    this.lastMessage.clear()
  }

  private schedule(): void {
    if (this.closed) return
    this.timer = setTimeout(() => this.ping(), this.options.pingMs)
    this.timer.unref()
  }

  private ping(): void {
    if (this.pinging || this.sub.status !== 'ready') return this.schedule()
    this.pinging = true
    const sentAt = this.now()
    this.sub.ping().then(
      () => {
        this.pinging = false
        if (sentAt > this.leaseFrom) this.leaseFrom = sentAt
        this.schedule()
      },
      () => {
        this.pinging = false
        this.schedule()
      }
    )
  }
}
