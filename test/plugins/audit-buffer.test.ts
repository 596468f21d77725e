/**
 * The audit buffer (plugins/audit.ts): changes are a row each; reads are one row per key per
 * flush, however many users read, until the (large) key limit.
 */
import t from 'tap'
import { ArrayRows, AuditBuffer, ROWS_PER_STATEMENT, writeInStatements } from '../../src/plugins/audit.js'
import type { AuditEntry } from '../../src/repositories/audit.js'

const entry = (target: string, action: AuditEntry['action'] = 'read'): AuditEntry => ({
  at: new Date(0), actor_sub: target, actor_role: 'user', action, target_user_uuid: target, method: action === 'read' ? 'GET' : 'POST',
  route: '/api/get_health_score', status: 200, request_id: 'r', count: 1, last_at: null
})

function read(buffer: AuditBuffer, target: string, nowMs: number): boolean {
  if (buffer.countRead(target, nowMs)) return false
  buffer.firstRead(target, entry(target), nowMs)
  return buffer.due
}

t.test('reads of 2 000 users, each read three times: one row per user, no flush due before the limit', async (t) => {
  const buffer = new AuditBuffer()
  let due = 0
  for (let round = 0; round < 3; round++) for (let u = 0; u < 2000; u++) if (read(buffer, `u${u}`, 1000 + round)) due++
  t.equal(due, 0, 'no flush due: the timer flushes')
  const rows = buffer.drain()
  t.equal(rows.length, 2000)
  t.ok(rows.every((r) => r.count === 3 && r.last_at?.getTime() === 1002), 'each row counts its three reads and the last one')
  t.equal(buffer.size, 0, 'empty after the drain')
})

t.test('limits: a flush is due at the change limit and at the read-key limit', async (t) => {
  const buffer = new AuditBuffer({ changes: 3, readKeys: 4 })
  t.same([buffer.change(entry('a', 'create')), buffer.change(entry('b', 'create')), buffer.change(entry('c', 'create'))], [false, false, true])
  buffer.drain()
  t.same(['a', 'b', 'c', 'a', 'd'].map((k) => read(buffer, k, 0)), [false, false, false, false, true], 'the fourth distinct key makes it due; a repeat does not')
  const rows = buffer.drain()
  t.equal(rows.length, 4)
  t.equal(rows.find((r) => r.target_user_uuid === 'a')!.count, 2)
  t.equal(rows.find((r) => r.target_user_uuid === 'b')!.last_at, null, 'a single read has no last_at')
})

t.test('a failed flush keeps its rows, bounded', async (t) => {
  const buffer = new AuditBuffer({ changes: 2, readKeys: 10 })
  buffer.change(entry('a', 'create'))
  read(buffer, 'r', 0)
  const failed = buffer.drain()
  buffer.change(entry('b', 'create'))
  buffer.restore(failed)
  t.same(buffer.drain().map((r) => r.target_user_uuid), ['a', 'r', 'b'], 'the failed rows come first, then the new ones')
  buffer.restore(Array.from({ length: 50 }, (_, i) => entry(`x${i}`, 'create')))
  t.equal(buffer.drain().length, 20, 'at most ten times the change limit')
})

t.test('a flush writes in statements of ROWS_PER_STATEMENT; a failed one returns its rows and the rest', async (t) => {
  const rows = Array.from({ length: 2 * ROWS_PER_STATEMENT + 37 }, (_, i) => entry(`u${i}`))
  const written: AuditEntry[][] = []
  t.equal(await writeInStatements(new ArrayRows(rows), async (chunk) => void written.push(chunk.rows())), null)
  t.same(written.map((c) => c.length), [ROWS_PER_STATEMENT, ROWS_PER_STATEMENT, 37])
  t.same(written.flat(), rows, 'every row once, in order')
  t.equal(await writeInStatements(new ArrayRows([]), async () => { throw new Error('no statement for no rows') }), null)
  let calls = 0
  const failed = await writeInStatements(new ArrayRows(rows), async () => {
    if (++calls === 2) throw new Error('connection lost')
  })
  t.equal(calls, 2, 'stops at the failed statement')
  t.same(failed?.rest, rows.slice(ROWS_PER_STATEMENT), 'the failed statement\'s rows and all after it')
  t.match((failed?.error as Error).message, 'connection lost')
})

t.test('drain(false) leaves the read rows counting; readsFull at the read-key limit', async (t) => {
  const buffer = new AuditBuffer({ changes: 100, readKeys: 3 })
  read(buffer, 'a', 1)
  read(buffer, 'a', 2)
  buffer.change(entry('b', 'create'))
  t.same(buffer.drain(false).map((r) => r.action), ['create'], 'the change only')
  t.equal(buffer.size, 1, 'the read row stays')
  read(buffer, 'a', 3)
  t.notOk(buffer.readsFull)
  read(buffer, 'c', 4)
  read(buffer, 'd', 5)
  t.ok(buffer.readsFull, 'three read keys: full')
  const rows = buffer.drain()
  t.same(rows.map((r) => [r.target_user_uuid, r.count, r.last_at?.getTime() ?? null]), [['a', 3, 3], ['c', 1, null], ['d', 1, null]])
  t.equal(buffer.size, 0)
})

t.test('a slot counts its key\'s reads window after window: one row per window with its own count, first read and request id; a slot idle for a window is dropped', async (t) => {
  const buffer = new AuditBuffer()
  t.equal(buffer.slot('a'), undefined, 'no slot yet')
  const slot = buffer.firstRead('a', { ...entry('a'), request_id: 'r1' }, 1000)
  t.equal(buffer.slot('a'), slot, 'firstRead returns the slot the key now counts into')
  t.ok(slot)
  t.ok(buffer.countSlot(slot, 1001, 'r2'))
  t.ok(buffer.countSlot(slot, 1002, 'r3'))
  t.ok(buffer.countRead('a', 1003, 'r4'), 'the key finds the same slot')
  const first = buffer.drain()
  t.equal(first.length, 1)
  t.equal(first[0]!.count, 4, 'slot and key counts land in one row')
  t.equal(first[0]!.at.getTime(), 1000, 'the row starts at the window\'s first read')
  t.equal(first[0]!.request_id, 'r1', 'and carries its request id')
  t.equal(first[0]!.last_at?.getTime(), 1003)
  t.equal(buffer.size, 0, 'nothing waits after the drain')
  t.equal(buffer.slot('a'), slot, 'the slot outlives its window...')
  t.ok(buffer.countSlot(slot, 2000, 'r5'), '...and counts the next window\'s reads')
  t.ok(buffer.countSlot(slot, 2001, 'r6'))
  const second = buffer.drain()
  t.equal(second.length, 1)
  t.equal(second[0]!.count, 2, 'the new window counts only its own reads')
  t.equal(second[0]!.at.getTime(), 2000)
  t.equal(second[0]!.request_id, 'r5', 'the request id of the window\'s first read')
  t.equal(second[0]!.last_at?.getTime(), 2001)
  t.not(second[0], first[0], 'each window\'s row is an object of its own')
  t.same(buffer.drain(), [], 'a window without reads writes no read row; its slot is dropped')
  t.equal(buffer.slot('a'), undefined, 'a slot without reads for a whole window is dropped')
  t.notOk(buffer.countSlot(slot, 3000, 'r7'), 'a dropped slot refuses: the read goes under its key again')
  t.equal(buffer.size, 0, 'and the refused count buffered nothing')
  t.notOk(buffer.countRead('a', 3000, 'r7'), 'the key has no slot: firstRead makes a new one')
})

t.test('the read-key limit counts the keys read in this window, not the slots kept from the last', async (t) => {
  const buffer = new AuditBuffer({ changes: 100, readKeys: 3 })
  for (const k of ['a', 'b']) buffer.firstRead(k, entry(k), 0)
  buffer.drain()
  t.notOk(buffer.readsFull)
  t.ok(buffer.countRead('a', 1))
  buffer.firstRead('c', entry('c'), 1)
  t.notOk(buffer.due, 'two keys read in this window')
  buffer.firstRead('d', entry('d'), 1)
  t.ok(buffer.due, 'the third makes a flush due')
  t.ok(buffer.readsFull)
  t.equal(buffer.size, 3)
})

t.test('a drain of changes only leaves the read slots counting', async (t) => {
  const buffer = new AuditBuffer()
  buffer.firstRead('a', entry('a'), 0)
  const slot = buffer.slot('a')!
  buffer.change(entry('b', 'create'))
  t.equal(buffer.drain(false).length, 1, 'the change is written')
  t.ok(buffer.countSlot(slot, 5), 'the read row is still waiting: the slot counts')
  t.equal(buffer.drain()[0]!.count, 2)
})

t.test('drainRows: changes first, then the read rows, made only when sliced, in statements of 500; a failure returns the rest', async (t) => {
  const buffer = new AuditBuffer({ changes: 10_000, readKeys: 10_000 })
  for (let i = 0; i < 3; i++) buffer.change(entry(`c${i}`, 'create'))
  for (let u = 0; u < 1200; u++) {
    buffer.firstRead(`u${u}`, { ...entry(`u${u}`), request_id: `r${u}` }, 1000 + u)
    if (u % 2 === 0) buffer.countRead(`u${u}`, 5000 + u, 'later')
  }
  const source = buffer.drainRows()
  t.equal(source.length, 1203)
  t.equal(buffer.size, 0, 'the buffer is empty once drained')
  // reads after the drain belong to the next window, not to the drained rows
  buffer.countRead('u0', 9000, 'next')
  const all = source.slice(0)
  t.same(all.slice(0, 3).map((r) => r.action), ['create', 'create', 'create'], 'the changes come first')
  const u0 = all.find((r) => r.target_user_uuid === 'u0')!
  t.same([u0.count, u0.at.getTime(), u0.last_at?.getTime(), u0.request_id], [2, 1000, 5000, 'r0'], 'a read row as of the drain')
  const u1 = all.find((r) => r.target_user_uuid === 'u1')!
  t.same([u1.count, u1.last_at], [1, null])
  t.same(source.slice(2, 5).map((r) => r.target_user_uuid), ['c2', 'u0', 'u1'], 'a slice across the changes and the reads')
  t.not(source.slice(3, 4)[0], source.slice(3, 4)[0], 'rows are made when sliced')
  // the JSON a statement sends is the entries' JSON (keys in another order), across the changes and the reads too
  for (const [from, to] of [[0, 1203], [0, 3], [2, 5], [3, 4], [1100, 1203], [5, 5]] as const) {
    t.same(JSON.parse(source.json(from, to)), JSON.parse(JSON.stringify(source.slice(from, to))), `rows ${from}-${to} as JSON`)
  }
  t.same(JSON.parse(source.json(3, 4))[0], { ...JSON.parse(JSON.stringify(u0)) }, 'a read row: its key and its window')

  const written: string[] = []
  let calls = 0
  const failed = await writeInStatements(source, async (statement) => {
    if (++calls === 2) throw new Error('database away')
    written.push(...statement.rows().map((r) => r.target_user_uuid!))
  })
  t.equal(written.length, ROWS_PER_STATEMENT, 'the first statement went in')
  t.equal(failed?.rest.length, 1203 - ROWS_PER_STATEMENT, 'the failed statement and all after it come back')
  t.equal(failed?.rest[0]!.target_user_uuid, all[ROWS_PER_STATEMENT]!.target_user_uuid)
  t.same(buffer.drain().map((r) => [r.target_user_uuid, r.count, r.request_id]), [['u0', 1, 'next']], 'the next window counts on its own')
})
