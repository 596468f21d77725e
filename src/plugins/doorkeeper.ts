/**
 * Which keys were asked for recently, in fixed memory: the "doorkeeper" of TinyLFU, which keeps a
 * cache from storing entries read only once. Two bitsets hold the keys seen in the current and the
 * previous period (two bit positions per key from one 32-bit hash); a period ends after `perPeriod`
 * new keys, when the previous set is cleared and becomes the current one. A key is remembered for
 * one to two periods. False positives (a new key taken for a seen one, ~1–2 % at the defaults)
 * only mean an entry is stored as it would be without the doorkeeper.
 * @see Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM TOS 13(4), 2017, §3.4.2
 */
export class Doorkeeper {
  private current: Uint32Array
  private previous: Uint32Array
  private added = 0
  private readonly mask: number

  /** `bits`: log2 of each bitset's size in bits (22: 512 KiB each) */
  constructor(private readonly perPeriod = 1 << 18, bits = 22) {
    this.current = new Uint32Array(1 << (bits - 5))
    this.previous = new Uint32Array(1 << (bits - 5))
    this.mask = (1 << bits) - 1
  }

  /** Record `key`; true when it was seen before (in this period or the last). */
  seen(key: string): boolean {
    // FNV-1a over the UTF-16 code units
    let h = 0x811c9dc5
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
    const a = h & this.mask
    const b = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 7) & this.mask
    const inCurrent = has(this.current, a) && has(this.current, b)
    if (inCurrent) return true
    const before = has(this.previous, a) && has(this.previous, b)
    set(this.current, a)
    set(this.current, b)
    if (++this.added >= this.perPeriod) {
      const cleared = this.previous.fill(0)
      this.previous = this.current
      this.current = cleared
      this.added = 0
    }
    return before
  }
}

function has(bits: Uint32Array, i: number): boolean {
  return (bits[i >>> 5]! & (1 << (i & 31))) !== 0
}

function set(bits: Uint32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31)
}
