/**
 * float8ArrayFromBytes (repositories/database.ts): a float8[] as array_send's bytea, the way the
 * single writes' baselines come out of PostgreSQL. Every value must be the double PostgreSQL
 * holds, as the text form would have given it.
 */
import t from 'tap'
import fc from 'fast-check'
import pg from 'pg'
import { float8ArrayFromBytes } from '../../src/repositories/database.js'
import { createTestDatabase } from '../helper.js'

/** array_send's layout for a one-dimensional float8[] (nulls as length -1) */
function send(values: Array<number | null>): Buffer {
  if (values.length === 0) return Buffer.from('0000000000000000000002bd', 'hex') // no dimensions
  const parts = [Buffer.alloc(20)]
  parts[0]!.writeInt32BE(1, 0)
  parts[0]!.writeInt32BE(values.includes(null) ? 1 : 0, 4)
  parts[0]!.writeUInt32BE(701, 8)
  parts[0]!.writeInt32BE(values.length, 12)
  parts[0]!.writeInt32BE(1, 16)
  for (const v of values) {
    if (v === null) {
      const b = Buffer.alloc(4)
      b.writeInt32BE(-1, 0)
      parts.push(b)
    } else {
      const b = Buffer.alloc(12)
      b.writeInt32BE(8, 0)
      b.writeDoubleBE(v, 4)
      parts.push(b)
    }
  }
  return Buffer.concat(parts)
}

t.test('bytes in the layout of array_send: every double, NULLs, empty; NULL is null', async (t) => {
  t.equal(float8ArrayFromBytes(null), null)
  t.same(float8ArrayFromBytes(Buffer.from('0000000000000000000002bd', 'hex')), [], 'an empty array')
  fc.assert(
    fc.property(fc.array(fc.option(fc.double(), { nil: null }), { maxLength: 300 }), (values) => {
      const got = float8ArrayFromBytes(send(values))!
      if (got.length !== values.length) return false
      return values.every((v, i) => Object.is(v, got[i]))
    }),
    { numRuns: 500 }
  )
  // a view into a larger buffer (a socket read) and PGlite's Uint8Array read alike
  const inner = send([1.5, -0, null, Number.MAX_VALUE])
  const outer = Buffer.concat([Buffer.from('junk'), inner, Buffer.from('more')])
  t.same(float8ArrayFromBytes(outer.subarray(4, 4 + inner.length)), [1.5, -0, null, Number.MAX_VALUE], 'a view at an offset')
  t.same(float8ArrayFromBytes(new Uint8Array(inner)), [1.5, -0, null, Number.MAX_VALUE], 'a Uint8Array')
})

t.test('anything but a one-dimensional float8[] is refused', async (t) => {
  const int4 = send([1])
  int4.writeUInt32BE(23, 8)
  t.throws(() => float8ArrayFromBytes(int4), /one-dimensional float8/)
  const twoDims = send([1, 2])
  twoDims.writeInt32BE(2, 0)
  t.throws(() => float8ArrayFromBytes(twoDims), /one-dimensional float8/)
})

t.test('what PostgreSQL sends: the same numbers as its text form', async (t) => {
  const url = await createTestDatabase(t, { migrate: false })
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  const values = `'{0,-0,1,-1,0.1,0.2,0.30000000000000004,70.7,98.6,36.6,1e-300,5e-324,1.7976931348623157e308,123456789.123456789,NULL,NaN,Infinity,-Infinity}'::float8[]`
  const res = await client.query<{ bytes: Buffer; text: Array<number | null>; empty: Buffer; none: Buffer | null; many: Buffer; manytext: number[] }>(
    `SELECT array_send(${values}) AS bytes, ${values} AS text, array_send('{}'::float8[]) AS empty, array_send(NULL::float8[]) AS none,
       array_send(array_agg(x)) AS many, array_agg(x) AS manytext FROM (SELECT random() * 200 - 100 AS x FROM generate_series(1, 2000)) r`
  )
  const row = res.rows[0]!
  t.ok(Buffer.isBuffer(row.bytes), 'a bytea comes as a Buffer')
  const got = float8ArrayFromBytes(row.bytes)!
  t.equal(got.length, row.text.length)
  t.ok(got.every((v, i) => Object.is(v, row.text[i]) || (Number.isNaN(v) && Number.isNaN(row.text[i]))), `${got.length} values as in the text form`)
  t.ok(Object.is(got[1], -0), 'minus zero stays minus zero')
  t.same(float8ArrayFromBytes(row.empty), [])
  t.equal(float8ArrayFromBytes(row.none), null)
  t.same(float8ArrayFromBytes(row.many), row.manytext, '2 000 random doubles, bit for bit as the text form')
})
