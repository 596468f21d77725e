/**
 * compiledOnce (repositories/database.ts): a statement built and compiled by Kysely once per
 * variant, then run with new values in their places. No database: the executor records what it
 * would send.
 */
import t from 'tap'
import { sql, type CompiledQuery } from 'kysely'
import { compiledOnce, type DB } from '../../src/repositories/database.js'

function recorder() {
  const sent: CompiledQuery[] = []
  const db = { executeQuery: async (q: CompiledQuery) => (sent.push(q), { rows: [{ ok: true }] }) } as unknown as DB
  return { db, sent }
}

t.test('values go where their placeholders were; constants stay; one compilation per variant', async (t) => {
  let builds = 0
  const run = compiledOnce<string, { user: string; from: Date; tags: string[] }>(
    (table) => table,
    (table, slot, db) => {
      builds++
      return db
        .selectFrom(table)
        .select('id')
        .where('quality', '=', 'ok')
        .where('user_uuid', 'in', [slot('user')])
        .where('at', '>=', slot('from'))
        .where(sql<boolean>`tags && ${slot('tags')}`)
        .where('user_uuid', '<>', slot('user'))
    }
  )
  const { db, sent } = recorder()
  const from = new Date('2026-01-01T00:00:00Z')
  t.same(await run(db, 'a', { user: 'u1', from, tags: ['x'] }), [{ ok: true }], 'answers the rows')
  await run(db, 'a', { user: 'u2', from, tags: [] })
  await run(db, 'b', { user: 'u3', from, tags: ['y'] })
  t.equal(builds, 2, 'built once per variant')
  t.equal(sent[0]!.sql, 'select "id" from "a" where "quality" = $1 and "user_uuid" in ($2) and "at" >= $3 and tags && $4 and "user_uuid" <> $5')
  t.same(sent[0]!.parameters, ['ok', 'u1', from, ['x'], 'u1'])
  t.same(sent[1]!.parameters, ['ok', 'u2', from, [], 'u2'], 'a second run with other values')
  t.equal(sent[1]!.sql, sent[0]!.sql, 'the same text')
  t.match(sent[2]!.sql, /from "b"/, 'another variant, its own text')
  t.same(sent[2]!.parameters, ['ok', 'u3', from, ['y'], 'u3'])
})

t.test('a placeholder that does not become a parameter is a programming error', async (t) => {
  const run = compiledOnce<string, { name: string }>(
    (k) => k,
    (_k, slot, db) => db.selectFrom('t').select(sql.lit(String(slot('name'))).as('x'))
  )
  const { db } = recorder()
  await t.rejects(run(db, 'k', { name: 'n' }), /value "name" did not become a parameter/)
})
