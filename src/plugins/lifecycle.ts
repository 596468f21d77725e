/**
 * Process lifecycle shared by readiness and load shedding: draining after SIGTERM, and the
 * current pressure reason (set by the protection plugin) or null.
 */
import fp from 'fastify-plugin'

export interface Lifecycle {
  draining: boolean
  underPressure(): string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle
  }
}

export default fp(
  async (fastify) => {
    fastify.decorate('lifecycle', { draining: false, underPressure: () => null } as Lifecycle)
  },
  { name: 'lifecycle' }
)
