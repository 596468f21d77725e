/**
 * A bounded map that evicts in insertion order (first in, first out). A lookup is one Map.get, with
 * no bookkeeping: cheaper than an LRU on paths that read far more often than they write (verified
 * tokens, local copies of cached answers), where an evicted hot entry is simply made again once.
 * Bounded by entry count and, optionally, by the summed `size` of the entries.
 */
export class FifoCache<K, V> {
  private readonly map = new Map<K, { value: V; size: number }>()
  private bytes = 0

  constructor(private readonly options: { maxEntries: number; maxSize?: number; sizeOf?: (value: V) => number }) {}

  get(key: K): V | undefined {
    return this.map.get(key)?.value
  }

  /** Add or replace; returns how many other entries this evicted. */
  set(key: K, value: V): number {
    const size = this.options.sizeOf ? this.options.sizeOf(value) : 0
    const max = this.options.maxSize ?? Number.POSITIVE_INFINITY
    this.delete(key) // a replaced entry moves to the back
    if (size > max) return 0
    this.map.set(key, { value, size })
    this.bytes += size
    let evicted = 0
    while (this.map.size > this.options.maxEntries || this.bytes > max) {
      const oldest = this.map.keys().next()
      if (oldest.done) break
      this.delete(oldest.value)
      evicted++
    }
    return evicted
  }

  delete(key: K): void {
    const entry = this.map.get(key)
    if (!entry) return
    this.map.delete(key)
    this.bytes -= entry.size
  }

  clear(): void {
    this.map.clear()
    this.bytes = 0
  }

  get size(): number {
    return this.map.size
  }

  /** the summed sizes of the entries */
  get totalSize(): number {
    return this.bytes
  }
}

/**
 * A FifoCache whose byte budget is split between size classes: an entry of class i evicts only
 * older entries of class i. Many small entries (scores, ~3 KB) then keep their share however many
 * large ones (list pages, ~21 KB) come and go. One Map for lookups, one insertion-ordered Set per
 * class for eviction.
 */
export class SplitFifoCache<K, V> {
  private readonly map = new Map<K, { value: V; size: number; cls: number }>()
  private readonly order: Array<Set<K>>
  private readonly bytes: number[]

  constructor(private readonly options: { maxSizes: readonly number[]; sizeOf: (value: V) => number; classOf: (value: V, size: number) => number }) {
    this.order = options.maxSizes.map(() => new Set<K>())
    this.bytes = options.maxSizes.map(() => 0)
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value
  }

  set(key: K, value: V): void {
    const size = this.options.sizeOf(value)
    const cls = this.options.classOf(value, size)
    const max = this.options.maxSizes[cls]!
    this.delete(key) // a replaced entry moves to the back
    if (size > max) return
    this.map.set(key, { value, size, cls })
    this.order[cls]!.add(key)
    this.bytes[cls]! += size
    while (this.bytes[cls]! > max) {
      const oldest = this.order[cls]!.values().next()
      if (oldest.done) break
      this.delete(oldest.value)
    }
  }

  /** Whether `value` could be added now without evicting anything. */
  fits(value: V): boolean {
    const size = this.options.sizeOf(value)
    const cls = this.options.classOf(value, size)
    return this.bytes[cls]! + size <= this.options.maxSizes[cls]!
  }

  delete(key: K): void {
    const entry = this.map.get(key)
    if (!entry) return
    this.map.delete(key)
    this.order[entry.cls]!.delete(key)
    this.bytes[entry.cls]! -= entry.size
  }

  get size(): number {
    return this.map.size
  }

  /** the summed sizes of the entries */
  get totalSize(): number {
    return this.bytes.reduce((a, b) => a + b, 0)
  }

  /** the summed sizes of the entries of class `cls` */
  classSize(cls: number): number {
    return this.bytes[cls]!
  }
}
