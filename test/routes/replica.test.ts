/**
 * DATABASE_READ_URL: read-only queries go to the replica, except a user's reads right after their
 * own write (those stay on the writer), and the score path always reads the writer. The "replica"
 * here is a second, empty database, so where a read went is visible in its answer.
 */
import t from 'tap'
import { auth, buildTestApp, createTestDatabase, createUser } from '../helper.js'

const writer = await createTestDatabase(t)
const replica = await createTestDatabase(t)
const { app } = await buildTestApp(t, { databaseUrl: writer, env: { DATABASE_READ_URL: replica } })

t.test('reads go to the replica, except right after the user\'s own write', async (t) => {
  const user = await createUser(app)
  const h = auth(user)
  const today = new Date().toISOString().slice(0, 10)
  const other = await createUser(app)
  // other's list: nothing written by other recently → served by the (empty) replica
  const fromReplica = await app.inject({ method: 'GET', url: `/api/physical-activity/${other}`, headers: auth(other) })
  t.equal(fromReplica.statusCode, 200)
  const writerRows = await app.db.writer.selectFrom('users').select('user_uuid').execute()
  t.ok(writerRows.length >= 2)
  t.equal(await app.readerFor(other) === app.db.reader, true, 'a user who has not written reads the replica')
  const write = await app.inject({ method: 'POST', url: '/api/physical-activity/', headers: h, payload: { user_uuid: user, date: today, steps: 777 } })
  t.equal(write.statusCode, 201)
  t.equal(await app.readerFor(user) === app.db.writer, true, 'right after a write, the user reads the writer')
  const read = await app.inject({ method: 'GET', url: `/api/physical-activity/${user}/${today}`, headers: h })
  t.equal(read.statusCode, 200, 'the write is visible although the replica has not got it')
  t.equal(read.json().steps, 777)
  const score = await app.inject({ method: 'GET', url: `/api/get_health_score?user_uuid=${user}`, headers: h })
  t.equal(score.statusCode, 200, 'the score path reads the writer')
})
