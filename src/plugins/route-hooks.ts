/**
 * Hooks that only some routes need, attached to those routes when they are registered (onRoute)
 * instead of running on every request and returning at once: a GET never passes through the
 * idempotency or rejection-log hooks.
 */
import type { RouteOptions } from 'fastify'

type HookName = 'preHandler' | 'onSend'

export function addRouteHook(route: RouteOptions, name: HookName, hook: unknown): void {
  const existing = route[name] as unknown
  route[name] = (existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook]) as never
}

export function routeMethods(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method]
}
