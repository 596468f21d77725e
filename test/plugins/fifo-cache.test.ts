import t from 'tap'
import fc from 'fast-check'
import { FifoCache } from '../../src/plugins/fifo-cache.js'

t.test('bounded by entries and by size, evicting the oldest first', async (t) => {
  const c = new FifoCache<string, string>({ maxEntries: 3, maxSize: 10, sizeOf: (v) => v.length })
  c.set('a', 'xx')
  c.set('b', 'xx')
  c.set('c', 'xx')
  c.set('d', 'xx')
  t.equal(c.get('a'), undefined, 'the oldest went when a fourth came')
  t.same(['b', 'c', 'd'].map((k) => c.get(k)), ['xx', 'xx', 'xx'])
  c.set('b', 'xxxxxx') // replaced: moves to the back, 2 + 2 + 6 = 10 bytes
  t.equal(c.totalSize, 10)
  c.set('e', 'x') // 11 bytes: c (oldest) goes
  t.equal(c.get('c'), undefined)
  t.equal(c.totalSize, 9)
  c.set('huge', 'x'.repeat(11))
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
        c.set(k, v)
        if (c.size > 8 || c.totalSize > 40) throw new Error('over its bounds')
        if (c.get(k) !== v) throw new Error('the newest entry is missing')
      }
    })
  )
  t.pass()
})

t.test('fits: whether a value can be added without evicting anything', async (t) => {
  const c = new FifoCache<string, string>({ maxEntries: 3, maxSize: 10, sizeOf: (v) => v.length })
  c.set('a', 'xxxx')
  t.ok(c.fits('xxxxxx'), '4 + 6 bytes fit in 10')
  t.notOk(c.fits('xxxxxxx'), '4 + 7 do not')
  c.set('b', 'x')
  c.set('c', 'x')
  t.notOk(c.fits(''), 'no room for a fourth entry')
})
