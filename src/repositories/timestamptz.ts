/**
 * PostgreSQL's text form of `timestamptz` to a Date, exactly as pg's own parser (postgres-date)
 * makes it, with a fast path for the form a UTC session sends: `YYYY-MM-DD HH:MM:SS[.ffffff]+00`.
 * postgres-date runs two regular expressions per value; every read row carries two or three
 * timestamps (`recorded`, `created_at`, `updated_at`). Anything else (other offsets, BC, years past
 * 9999, infinity) goes to pg's parser. A property test compares both on every shape.
 */
type Parse = (value: string) => unknown

const ZERO = 48

function digits(s: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/** The parser to register for `timestamptz`; `fallback` is pg's own (`pg.types.getTypeParser(1184)`). */
export function timestamptzParser(fallback: Parse): Parse {
  return (value: string) => parseTimestamptz(value, fallback)
}

export function parseTimestamptz(value: string, parseDate: Parse): unknown {
  const n = value.length
  // 'YYYY-MM-DD HH:MM:SS' + optional '.f…' (1–6 digits) + '+00'
  if (n < 22 || n > 29 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 32 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return parseDate(value)
  if (value.charCodeAt(n - 3) !== 43 || value.charCodeAt(n - 2) !== ZERO || value.charCodeAt(n - 1) !== ZERO) return parseDate(value)
  const year = digits(value, 0, 4)
  const month = digits(value, 5, 7)
  const day = digits(value, 8, 10)
  const hour = digits(value, 11, 13)
  const minute = digits(value, 14, 16)
  const second = digits(value, 17, 19)
  if (year < 1000 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return parseDate(value)
  let ms = 0
  if (n > 22) {
    // '.f…' between the seconds and the offset, as postgres-date reads it: 1000 × parseFloat('.f…')
    if (value.charCodeAt(19) !== 46 || n === 23 || digits(value, 20, n - 3) < 0) return parseDate(value)
    ms = 1000 * Number.parseFloat(value.slice(19, n - 3))
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
}
