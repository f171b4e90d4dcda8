import { StoreUnavailableError, type NonceStore } from './store.js'

export interface MemoryNonceStoreOptions {
  ttlMs: number
  /** Refuse (fail closed) rather than forget an unexpired nonce when full. */
  maxEntries: number
  now?: () => number
}

/**
 * The embedded, single-instance store. Every entry lives for the same TTL, so
 * insertion order is expiry order and expired entries are dropped from the
 * front of the Map: O(1) amortised, no timers. Memory is bounded by
 * `maxEntries`; when that many nonces are still live the store refuses new
 * ones instead of evicting live ones, which would reopen them to replay.
 */
export class MemoryNonceStore implements NonceStore {
  readonly kind = 'memory'
  private readonly expiries = new Map<string, number>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor({ ttlMs, maxEntries, now = Date.now }: MemoryNonceStoreOptions) {
    this.ttlMs = ttlMs
    this.maxEntries = maxEntries
    this.now = now
  }

  get size(): number {
    return this.expiries.size
  }

  async claim(scope: string, nonce: string): Promise<boolean> {
    const now = this.now()
    for (const [key, expiresAt] of this.expiries) {
      if (expiresAt > now) break
      this.expiries.delete(key)
    }
    const key = `${scope}\n${nonce}`
    if (this.expiries.has(key)) return false
    if (this.expiries.size >= this.maxEntries) {
      throw new StoreUnavailableError(`in-memory nonce store is full (${this.maxEntries} live nonces); raise auth.nonceStore.maxEntries or use Redis`)
    }
    this.expiries.set(key, now + this.ttlMs)
    return true
  }
}
