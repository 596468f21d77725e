/**
 * Opaque keyset cursors: base64url of the last row's sort key. Keyset (not OFFSET) pagination
 * keeps every page an index range scan however deep the client pages.
 */
import { BadRequest } from '../domain/errors.js'

export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor(cursor: string | undefined, arity: number): Array<string | number> | null {
  if (cursor === undefined) return null
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key
  } catch {
    // fall through
  }
  throw new BadRequest('invalid cursor', [{ path: '/querystring/cursor', message: 'not a cursor returned by this API' }])
}

/** Split a fetched page of limit+1 rows into items and the next cursor. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => ReadonlyArray<string | number>) {
  const items = rows.length > limit ? rows.slice(0, limit) : rows
  const last = items[items.length - 1]
  return { items, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}

/** Exclusive end of an inclusive `to` date: the start of the next day, as an ISO date. */
export function dayAfter(date: string): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + 1)
  return d.toISOString().slice(0, 10)
}
