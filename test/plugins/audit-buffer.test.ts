/**
 * The audit buffer (plugins/audit.ts): changes are a row each; reads are one row per key per
 * flush, however many users read, until the (large) key limit.
 */
import t from 'tap'
import { AuditBuffer } from '../../src/plugins/audit.js'
import type { AuditEntry } from '../../src/repositories/audit.js'

const entry = (target: string, action: AuditEntry['action'] = 'read'): AuditEntry => ({
  at: new Date(0), actor_sub: target, actor_role: 'user', action, target_user_uuid: target, method: action === 'read' ? 'GET' : 'POST',
  route: '/api/get_health_score', status: 200, request_id: 'r', count: 1, last_at: null
})

function read(buffer: AuditBuffer, target: string, nowMs: number): boolean {
  return buffer.countRead(target, nowMs) ? false : buffer.firstRead(target, entry(target), nowMs)
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
