/**
 * A bounded LRU with per-entry expiry, for credentials looked up in Redis or
 * over HTTP. Misses are cached too (briefly) so that a flood of bogus keys
 * costs one lookup each per negative TTL and never more than `maxEntries` of
 * memory.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size
  }

  /** The cached entry, or `undefined` when absent or expired. */
  get(key: string): { value: V } | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    if (entry.expiresAt <= this.now()) return undefined
    this.entries.set(key, entry) // most recently used goes last
    return entry
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs })
  }

  delete(key: string): void {
    this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}
