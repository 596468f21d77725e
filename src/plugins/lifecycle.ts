/**
 * Process lifecycle shared by readiness and load shedding: draining after SIGTERM, and the
 * current pressure reason (set by the protection plugin) or null.
 */
import fp from 'fastify-plugin'

export interface Lifecycle {
  draining: boolean
  /** hard overload (under-pressure thresholds): readiness fails, every request is shed */
  underPressure(): string | null
  /** soft pressure: shed non-critical work first */
  shedding(): boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

export default fp(
  async (fastify) => {
    fastify.decorate('lifecycle', { draining: false, underPressure: () => null, shedding: () => false } as Lifecycle)
  },
  { name: 'lifecycle' }
)
