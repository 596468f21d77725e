import t from 'tap'
import net, { type Socket } from 'node:net'
import { WriteBatch } from '../../src/plugins/write-batch.js'
import { auth, buildTestApp, createUser } from '../helper.js'

type Cb = (error?: Error | null) => void

/** a stand-in for a socket: records what reaches the real write methods */
function fakeSocket(log: string[], name: string) {
  return {
    _write(chunk: unknown, _encoding: string, cb: Cb) {
      log.push(`${name}:${String(chunk)}`)
      cb()
    },
    _writev(chunks: Array<{ chunk: unknown }>, cb: Cb) {
      log.push(`${name}:[${chunks.map((c) => String(c.chunk)).join(',')}]`)
      cb()
    }
  }
}

t.test('writes asked for in one turn are held, then made together in order, their callbacks called', async (t) => {
  const batch = new WriteBatch()
  const log: string[] = []
  const a = fakeSocket(log, 'a')
  const b = fakeSocket(log, 'b')
  batch.attach(a as unknown as Socket)
  batch.attach(b as unknown as Socket)
  const done: string[] = []
  a._write('1', 'utf8', () => done.push('a1'))
  b._writev([{ chunk: 'h' }, { chunk: 'x' }], () => done.push('b'))
  a._write('2', 'utf8', () => done.push('a2'))
  t.same(log, [], 'nothing reaches the socket in the turn the writes were asked for')
  t.same(done, [])
  await new Promise((resolve) => setImmediate(resolve))
  t.same(log, ['a:1', 'b:[h,x]', 'a:2'], 'made in the order asked, right after the poll')
  t.same(done, ['a1', 'b', 'a2'])
  a._write('3', 'utf8', () => done.push('a3'))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(log.at(-1), 'a:3', 'a later turn gets a batch of its own')
})

t.test('a socket destroyed while its write is held makes that write first', async (t) => {
  const batch = new WriteBatch()
  let received = ''
  const closed = new Promise<void>((resolve) => {
    const server = net.createServer((socket) => {
      socket.on('data', (d) => (received += d.toString()))
      socket.on('close', () => resolve())
      socket.on('error', () => {})
    })
    server.listen(0, '127.0.0.1', () => {
      const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => {
        batch.attach(socket)
        socket.write('answer before close')
        socket.destroy() // as Node's clientError handler does after writing its 400
      })
    })
    t.teardown(() => server.close())
  })
  await closed
  t.equal(received, 'answer before close')
})

t.test('the app over real sockets: concurrent, pipelined and large answers all arrive whole (HTTP_WRITE_BATCH on and off)', async (t) => {
  for (const enabled of ['true', 'false']) {
    const { app } = await buildTestApp(t, { env: { HTTP_WRITE_BATCH: enabled } })
    const user = await createUser(app)
    const headers = auth(user)
    // a page large enough to take several socket writes
    const items = Array.from({ length: 200 }, (_, i) => ({ user_uuid: user, recorded: new Date(Date.now() - (i + 1) * 3_600_000).toISOString(), weight_kg: 70 + (i % 10) / 10 }))
    const batchRes = await app.inject({ method: 'POST', url: '/api/bio-metrics/batch', headers, payload: { items } })
    t.equal(batchRes.statusCode, 200, batchRes.body)
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const base = address.replace('localhost', '127.0.0.1')
    const page = `${base}/api/bio-metrics/${user}?limit=200`
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => fetch(i % 2 ? page : `${base}/healthz`, { headers }).then(async (r) => ({ status: r.status, body: await r.text(), i })))
    )
    for (const a of answers) {
      t.equal(a.status, 200, `HTTP_WRITE_BATCH=${enabled}: request ${a.i}`)
      if (a.i % 2) t.equal((JSON.parse(a.body) as { items: unknown[] }).items.length, 200)
    }
    // two requests pipelined on one connection: both answers, in order
    const raw = await new Promise<string>((resolve, reject) => {
      const port = Number(new URL(base).port)
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: first\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: second\r\nconnection: close\r\n\r\n`)
      })
      let data = ''
      socket.on('data', (d) => (data += d.toString()))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    const ids = [...raw.matchAll(/x-request-id: (\w+)/g)].map((m) => m[1])
    t.same(ids, ['first', 'second'], `HTTP_WRITE_BATCH=${enabled}: pipelined answers in request order`)
    // a malformed request: Node's parser fails, Fastify's clientError handler writes a 400 and destroys the socket
    const rejected = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(base).port), '127.0.0.1', () => {
        socket.write('POST /api/users HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n\r\n')
      })
      let data = ''
      socket.on('data', (d) => (data += d.toString()))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
    })
    t.match(rejected, /^HTTP\/1\.1 400 /, `HTTP_WRITE_BATCH=${enabled}: a malformed request still gets its 400`)
    await app.close()
  }
})
