/**
 * Statement coalescing (group commit): the calls of one event-loop turn leave as one statement.
 * Under load many requests are in the same phase at once (fifty single POSTs reading their
 * baselines, say); each alone is a round trip, a parse of its reply and, for a write, a commit of
 * its own. Together they are one of each. A lone call waits for nothing but the end of the current
 * turn (setImmediate), so an idle service answers as fast as before.
 *
 * `run` gets the items in submission order and answers one result per item, in the same order. If it
 * throws, every call of the group fails with that error, unless `isolate` says the error may be one
 * item's fault (a value PostgreSQL cannot take): then each item runs again alone, so the error
 * reaches only its own call. A `run` that can tell one item's failure from the group's may also
 * answer it as that item's result.
 * @see https://www.postgresql.org/docs/current/wal-async-commit.html (commit cost per transaction)
 */
export class Coalescer<I, O> {
  private pending: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = []
  private scheduled = false

  readonly maxItems: number
  private readonly isolate: ((error: unknown) => boolean) | undefined
  private readonly onGroup: ((size: number) => void) | undefined

  /** `onGroup`: told each group's size as it is sent (a metric) */
  constructor(private readonly run: (items: I[]) => Promise<O[]>, options: { maxItems?: number; isolate?: (error: unknown) => boolean; onGroup?: (size: number) => void } = {}) {
    this.maxItems = options.maxItems ?? 100
    this.isolate = options.isolate
    this.onGroup = options.onGroup
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject })
      if (this.pending.length >= this.maxItems) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => {
          this.scheduled = false
          this.flush()
        })
      }
    })
  }

  private flush(): void {
    const group = this.pending
    if (group.length === 0) return
    this.pending = []
    this.onGroup?.(group.length)
    this.send(group, true)
  }

  private send(group: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }>, mayIsolate: boolean): void {
    let results: Promise<O[]>
    try {
      results = this.run(group.map((g) => g.item))
    } catch (error) {
      results = Promise.reject(error)
    }
    results.then(
      (outputs) => {
        if (outputs.length !== group.length) {
          const error = new Error(`coalesced statement answered ${outputs.length} results for ${group.length} items`)
          for (const g of group) g.reject(error)
          return
        }
        for (let i = 0; i < group.length; i++) group[i]!.resolve(outputs[i]!)
      },
      (error: unknown) => {
        if (mayIsolate && group.length > 1 && this.isolate?.(error)) for (const g of group) this.send([g], false)
        else for (const g of group) g.reject(error)
      }
    )
  }
}
