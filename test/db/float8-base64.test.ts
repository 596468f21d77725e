/**
 * float8sFromBase64 (repositories/database.ts): doubles as PostgreSQL sends them in
 * `encode(string_agg(float8send(x), ''::bytea), 'base64')`, the way the single writes' baselines
 * come out of the database. Every value must be the double PostgreSQL holds, as its text form
 * would have given it.
 */
import t from 'tap'
import fc from 'fast-check'
import pg from 'pg'
import { float8sFromBase64 } from '../../src/repositories/database.js'
import { createTestDatabase } from '../helper.js'

/** float8send of each value, concatenated, base64 with a line break every 76 characters (as PostgreSQL's encode) */
function send(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 8)
  values.forEach((v, i) => bytes.writeDoubleBE(v, i * 8))
  return bytes.toString('base64').replace(/.{76}(?=.)/g, '$&\n')
}

t.test('every double, in order, through the line breaks; NULL is null', async (t) => {
  t.equal(float8sFromBase64(null), null)
  t.same(float8sFromBase64(''), [], 'no bytes: no values')
  fc.assert(
    fc.property(fc.array(fc.double(), { maxLength: 300 }), (values) => {
      const got = float8sFromBase64(send(values))!
      return got.length === values.length && values.every((v, i) => Object.is(v, got[i]))
    }),
    { numRuns: 500 }
  )
  t.throws(() => float8sFromBase64(Buffer.alloc(12).toString('base64')), /not a run of float8 values/, 'bytes that are not whole doubles')
})

t.test('what PostgreSQL sends: the same numbers as its text form', async (t) => {
  const url = await createTestDatabase(t, { migrate: false })
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.end())
  const values = `'{0,-0,1,-1,0.1,0.2,0.30000000000000004,70.7,98.6,36.6,1e-300,5e-324,1.7976931348623157e308,123456789.123456789,NaN,Infinity,-Infinity}'::float8[]`
  const res = await client.query<{ sent: string; text: number[]; none: string | null; many: string; manytext: number[] }>(
    `SELECT (SELECT encode(string_agg(float8send(x), ''::bytea ORDER BY o), 'base64') FROM unnest(${values}) WITH ORDINALITY u(x, o)) AS sent, ${values} AS text,
       (SELECT encode(string_agg(float8send(x), ''::bytea) FILTER (WHERE x IS NOT NULL), 'base64') FROM unnest('{NULL}'::float8[]) x) AS none,
       encode(string_agg(float8send(x), ''::bytea), 'base64') AS many, array_agg(x) AS manytext
     FROM (SELECT random() * 200 - 100 AS x FROM generate_series(1, 2000)) r`
  )
  const row = res.rows[0]!
  t.ok(row.many.includes('\n'), 'PostgreSQL breaks its base64 into lines')
  const got = float8sFromBase64(row.sent)!
  t.equal(got.length, row.text.length)
  t.ok(got.every((v, i) => Object.is(v, row.text[i]) || (Number.isNaN(v) && Number.isNaN(row.text[i]))), `${got.length} values as in the text form`)
  t.ok(Object.is(got[1], -0), 'minus zero stays minus zero')
  t.equal(float8sFromBase64(row.none), null, 'no value: NULL')
  t.same(float8sFromBase64(row.many), row.manytext, '2 000 random doubles, bit for bit as the text form')
})
