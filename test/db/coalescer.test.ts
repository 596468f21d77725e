import t from 'tap'
import { Coalescer } from '../../src/repositories/coalescer.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('the calls of one turn run as one group, in order, each getting its own result', async (t) => {
  const groups: number[][] = []
  const c = new Coalescer(async (items: number[]) => {
    groups.push(items)
    return items.map((i) => i * 10)
  })
  const first = await Promise.all([c.submit(1), c.submit(2), c.submit(3)])
  t.same(first, [10, 20, 30])
  const second = await Promise.all([c.submit(4)])
  t.same(second, [40])
  t.same(groups, [[1, 2, 3], [4]], 'one group per turn; a lone call is a group of one')
})

t.test('a lone call runs at the end of the turn: it waits for no timer', async (t) => {
  const c = new Coalescer(async (items: string[]) => items)
  const started = process.hrtime.bigint()
  t.equal(await c.submit('a'), 'a')
  t.ok(process.hrtime.bigint() - started < 50_000_000n, 'answered within the turn, not after a delay')
})

t.test('a group is sent as soon as it is full; the rest form the next group', async (t) => {
  const groups: number[][] = []
  const c = new Coalescer(async (items: number[]) => {
    groups.push(items)
    return items
  }, { maxItems: 3 })
  const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => c.submit(i)))
  t.same(answers, [1, 2, 3, 4, 5, 6, 7])
  t.same(groups, [[1, 2, 3], [4, 5, 6], [7]])
})

t.test('a failing group fails every call of it, and only those', async (t) => {
  let n = 0
  const c = new Coalescer(async (items: number[]) => {
    n += 1
    if (n === 1) throw new Error('statement failed')
    return items
  })
  const failed = await Promise.allSettled([c.submit(1), c.submit(2)])
  t.same(failed.map((r) => r.status), ['rejected', 'rejected'])
  t.match((failed[0] as PromiseRejectedResult).reason, { message: 'statement failed' })
  t.same(await c.submit(3), 3, 'the next group runs as usual')
})

t.test('a synchronous throw, or a wrong number of results, fails the group instead of hanging it', async (t) => {
  const throws = new Coalescer((): Promise<number[]> => {
    throw new Error('sync')
  })
  await t.rejects(throws.submit(1), { message: 'sync' })
  const short = new Coalescer(async (items: number[]) => items.slice(1))
  const results = await Promise.allSettled([short.submit(1), short.submit(2)])
  t.same(results.map((r) => r.status), ['rejected', 'rejected'])
  t.match((results[0] as PromiseRejectedResult).reason, { message: /1 results for 2 items/ })
})

t.test('calls made while a group runs form the next group', async (t) => {
  const groups: number[][] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const c = new Coalescer(async (items: number[]) => {
    groups.push(items)
    if (groups.length === 1) await gate
    return items
  })
  const a = c.submit(1)
  await tick()
  const b = Promise.all([c.submit(2), c.submit(3)])
  await tick()
  t.same(groups, [[1], [2, 3]], 'the second group did not wait for the first')
  release()
  t.same(await a, 1)
  t.same(await b, [2, 3])
})

t.test('isolate: a group failing with an item\'s error runs each item alone, so only that call fails', async (t) => {
  const groups: number[][] = []
  const c = new Coalescer(
    async (items: number[]) => {
      groups.push(items)
      if (items.includes(13)) throw Object.assign(new Error('13 is not a value'), { code: '22P02' })
      if (items.includes(99)) throw new Error('connection lost')
      return items
    },
    { isolate: (error) => (error as { code?: string }).code === '22P02' }
  )
  const results = await Promise.allSettled([c.submit(1), c.submit(13), c.submit(2)])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.same(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [1, '13 is not a value', 2])
  t.same(groups, [[1, 13, 2], [1], [13], [2]], 'the group, then each item alone')
  groups.length = 0
  const other = await Promise.allSettled([c.submit(3), c.submit(99)])
  t.same(other.map((r) => r.status), ['rejected', 'rejected'], 'any other error fails the whole group')
  t.same(groups, [[3, 99]], 'without running the items again')
})

t.test('onGroup is told the size of each group as it is sent', async (t) => {
  const sizes: number[] = []
  const c = new Coalescer(async (items: number[]) => items, { maxItems: 2, onGroup: (n) => sizes.push(n) })
  await Promise.all([1, 2, 3].map((i) => c.submit(i)))
  await c.submit(4)
  t.same(sizes, [2, 1, 1])
})
