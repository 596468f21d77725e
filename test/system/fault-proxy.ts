/**
 * A TCP proxy on 127.0.0.1 in front of one dependency (PostgreSQL, Redis) that a test can break
 * on purpose, the way networks and servers really fail:
 *
 *   pause()   the dependency hangs: connections stay open (new ones are accepted) but no byte is
 *             forwarded in either direction until resume(). Nothing errors: only timeouts help.
 *   reset()   the dependency dies: every open connection is reset (RST) and the port refuses new
 *             connections (the listener is closed) until resume().
 *   slow(ms)  every chunk is delayed by `ms` in both directions (order kept); slow(0) turns it off.
 *   resume()  back to normal; held bytes are delivered, the port listens again.
 *
 * Every timer and queue is bounded by the connections the test opens; close() ends everything.
 */
import net from 'node:net'

interface Link {
  client: net.Socket
  upstream: net.Socket
}

export interface FaultProxyStats {
  /** connections accepted since start */
  accepted: number
  /** connections open now */
  open: number
  /** connections destroyed by reset() */
  reset: number
}

export class FaultProxy {
  readonly stats: FaultProxyStats = { accepted: 0, open: 0, reset: 0 }
  private server: net.Server
  private readonly links = new Set<Link>()
  private paused = false
  private refusing = false
  private closed = false
  private delayMs = 0
  private wake: Array<() => void> = []

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
    public port: number
  ) {
    this.server = this.createServer()
  }

  /** Start a proxy to `host:port` on a free 127.0.0.1 port. */
  static async start(targetHost: string, targetPort: number): Promise<FaultProxy> {
    const proxy = new FaultProxy(targetHost, targetPort, 0)
    await proxy.listen(0)
    return proxy
  }

  /** The proxy's address in a URL of the dependency, e.g. postgres://u@127.0.0.1:5432/db → :<port>. */
  rewrite(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  get mode(): 'normal' | 'paused' | 'reset' | 'slow' {
    if (this.refusing) return 'reset'
    if (this.paused) return 'paused'
    return this.delayMs > 0 ? 'slow' : 'normal'
  }

  pause(): void {
    this.paused = true
  }

  slow(ms: number): void {
    this.delayMs = Math.max(0, ms)
  }

  /** Reset every connection and refuse new ones until resume(). */
  async reset(): Promise<void> {
    this.refusing = true
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const link of this.links) {
      this.stats.reset += 1
      link.client.resetAndDestroy()
      link.upstream.destroy()
    }
    this.links.clear()
    await closing
  }

  /** Back to normal: deliver held bytes, listen again on the same port. */
  async resume(): Promise<void> {
    this.paused = false
    this.delayMs = 0
    if (this.refusing && !this.closed) {
      this.server = this.createServer()
      await this.listen(this.port)
      this.refusing = false
    }
    this.flush()
  }

  async close(): Promise<void> {
    this.closed = true
    this.paused = false
    for (const link of this.links) {
      link.client.destroy()
      link.upstream.destroy()
    }
    this.links.clear()
    this.flush()
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private flush(): void {
    const waiting = this.wake
    this.wake = []
    for (const wake of waiting) wake()
  }

  private async listen(port: number): Promise<void> {
    // re-listening on the same port right after close can race a TIME_WAIT or another bind:
    // a few bounded attempts
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.server.once('error', reject)
          this.server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
            this.server.off('error', reject)
            resolve()
          })
        })
        this.port = (this.server.address() as net.AddressInfo).port
        return
      } catch (error) {
        if (attempt >= 20) throw error
        this.server = this.createServer()
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  private createServer(): net.Server {
    return net.createServer({ noDelay: true }, (client) => this.accept(client))
  }

  private accept(client: net.Socket): void {
    if (this.refusing || this.closed) {
      client.resetAndDestroy()
      return
    }
    this.stats.accepted += 1
    this.stats.open += 1
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort, noDelay: true })
    const link = { client, upstream }
    this.links.add(link)
    let done = false
    const end = () => {
      if (done) return
      done = true
      this.stats.open -= 1
      this.links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    this.forward(client, upstream)
    this.forward(upstream, client)
  }

  /** Copy `from` → `to`, chunk by chunk, honouring pause and slow; backpressure through from.pause(). */
  private forward(from: net.Socket, to: net.Socket): void {
    const queue: Buffer[] = []
    let pumping = false
    let ended = false
    const pump = async () => {
      if (pumping) return
      pumping = true
      try {
        while (queue.length > 0 && !to.destroyed) {
          if (this.paused) {
            await new Promise<void>((resolve) => this.wake.push(resolve))
            continue
          }
          if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
          if (this.paused || to.destroyed) continue
          const chunk = queue.shift()!
          if (!to.write(chunk)) await new Promise<void>((resolve) => { to.once('drain', resolve); to.once('close', resolve) })
        }
        if (ended && queue.length === 0 && !to.destroyed) to.end()
      } finally {
        pumping = false
        if (!from.destroyed) from.resume()
      }
    }
    from.on('data', (chunk: Buffer) => {
      queue.push(chunk)
      from.pause()
      void pump()
    })
    from.on('end', () => {
      ended = true
      void pump()
    })
  }
}
