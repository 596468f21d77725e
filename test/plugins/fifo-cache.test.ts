import t from 'tap'
import fc from 'fast-check'
import { FifoCache, SplitFifoCache } from '../../src/plugins/fifo-cache.js'

t.test('bounded by entries and by size, evicting the oldest first', async (t) => {
  const c = new FifoCache<string, string>({ maxEntries: 3, maxSize: 10, sizeOf: (v) => v.length })
  c.set('a', 'xx')
  c.set('b', 'xx')
  t.equal(c.set('c', 'xx'), 0, 'room left: nothing evicted')
  t.equal(c.set('d', 'xx'), 1, 'set says it evicted one')
  t.equal(c.get('a'), undefined, 'the oldest went when a fourth came')
  t.same(['b', 'c', 'd'].map((k) => c.get(k)), ['xx', 'xx', 'xx'])
  c.set('b', 'xxxxxx') // replaced: moves to the back, 2 + 2 + 6 = 10 bytes
  t.equal(c.totalSize, 10)
  t.equal(c.set('e', 'x'), 1) // 11 bytes: c (oldest) goes
  t.equal(c.get('c'), undefined)
  t.equal(c.totalSize, 9)
  t.equal(c.set('huge', 'x'.repeat(11)), 0)
  t.equal(c.get('huge'), undefined, 'an entry larger than the bound is not kept')
  t.equal(c.get('d'), 'xx', 'and evicts nothing')
  c.delete('d')
  t.equal(c.totalSize, 7)
})

t.test('never over its bounds, and always holds the newest entry that fits (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.string({ maxLength: 12 })), { maxLength: 200 }), (ops) => {
      const c = new FifoCache<number, string>({ maxEntries: 8, maxSize: 40, sizeOf: (v) => v.length })
      for (const [k, v] of ops) {
        const before = c.size - (c.get(k) === undefined ? 0 : 1) // the others
        const evicted = c.set(k, v)
        if (evicted !== before + 1 - c.size) throw new Error(`set reported ${evicted} evicted, ${before + 1 - c.size} were`)
        if (c.size > 8 || c.totalSize > 40) throw new Error('over its bounds')
        if (c.get(k) !== v) throw new Error('the newest entry is missing')
      }
    })
  )
  t.pass()
})

t.test('SplitFifoCache: each size class evicts only its own oldest entries', async (t) => {
  const c = new SplitFifoCache<string, string>({ maxSizes: [6, 20], sizeOf: (v) => v.length, classOf: (_v, size) => (size <= 2 ? 0 : 1) })
  c.set('s1', 'ab')
  c.set('s2', 'cd')
  for (let i = 0; i < 10; i++) c.set(`big${i}`, 'x'.repeat(5)) // 50 bytes of large entries through a 20-byte share
  t.same([c.get('s1'), c.get('s2')], ['ab', 'cd'], 'the small entries stay')
  t.equal(c.classSize(1), 20, 'the large class is at its share')
  t.same(['big6', 'big7', 'big8', 'big9'].map((k) => c.get(k)), ['xxxxx', 'xxxxx', 'xxxxx', 'xxxxx'], 'the newest large entries')
  t.equal(c.get('big5'), undefined)
  c.set('s3', 'ef')
  c.set('s4', 'gh') // 8 bytes in a 6-byte share: s1 (the oldest small one) goes
  t.equal(c.get('s1'), undefined)
  t.equal(c.get('big9'), 'xxxxx', 'and no large entry')
  t.notOk(c.fits('zz'), 'the small share is full')
  t.ok(c.fits('z'.repeat(21)) === false && c.fits('z'.repeat(5)) === false, 'so is the large one')
  c.set('s3', 'x'.repeat(4)) // a key that changes class moves to the other share
  t.equal(c.classSize(0), 4)
  t.equal(c.get('s3'), 'xxxx')
  c.delete('s3')
  t.equal(c.totalSize, c.classSize(0) + c.classSize(1))
  t.equal(c.get('s3'), undefined)
})

t.test('SplitFifoCache: never over a share, always holds the newest entry that fits (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.string({ maxLength: 12 })), { maxLength: 200 }), (ops) => {
      const c = new SplitFifoCache<number, string>({ maxSizes: [10, 30], sizeOf: (v) => v.length, classOf: (_v, size) => (size <= 3 ? 0 : 1) })
      const model = new Map<number, string>()
      for (const [k, v] of ops) {
        c.set(k, v)
        model.set(k, v)
        if (c.classSize(0) > 10 || c.classSize(1) > 30) throw new Error('over a share')
        if (c.get(k) !== v) throw new Error('the newest entry is missing')
        for (const [mk, mv] of model) {
          const got = c.get(mk)
          if (got !== undefined && got !== mv) throw new Error('a stale value')
        }
      }
      let sum = 0
      for (const k of model.keys()) sum += c.get(k)?.length ?? 0
      if (sum !== c.totalSize) throw new Error(`sizes ${sum} ≠ ${c.totalSize}`)
    })
  )
  t.pass()
})
