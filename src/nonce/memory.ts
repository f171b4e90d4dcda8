import { StoreUnavailableError, type NonceStore } from './store.js'

export interface MemoryNonceStoreOptions {
  ttlMs: number
  /** Refuse (fail closed) rather than forget an unexpired nonce when full. */
  maxEntries: number
  now?: () => number
}

/**
 * The embedded, single-instance store. Every entry lives for the same TTL, so
 * arrival order is expiry order: a queue holds keys in that order and each
 * claim drops the expired ones from its head, O(1) amortised, no timers.
 * (Iterating a Map from its start instead would walk over every deleted
 * entry V8 has not compacted yet: quadratic under load.) Memory is bounded by
 * `maxEntries`; when that many nonces are live the store refuses new ones
 * instead of evicting one, which would reopen it to replay.
 */
export class MemoryNonceStore implements NonceStore {
  readonly kind = 'memory'
  private readonly live = new Set<string>()
  private keys: string[] = []
  private expiries: number[] = []
  private head = 0
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor({ ttlMs, maxEntries, now = Date.now }: MemoryNonceStoreOptions) {
    this.ttlMs = ttlMs
    this.maxEntries = maxEntries
    this.now = now
  }

  get size(): number {
    return this.live.size
  }

  async claim(scope: string, nonce: string): Promise<boolean> {
    const now = this.now()
    this.expire(now)
    const key = `${scope}\n${nonce}`
    if (this.live.has(key)) return false
    if (this.live.size >= this.maxEntries) {
      throw new StoreUnavailableError(`in-memory nonce store is full (${this.maxEntries} live nonces); raise auth.nonceStore.maxEntries or use Redis`)
    }
    this.live.add(key)
    this.keys.push(key)
    this.expiries.push(now + this.ttlMs)
    return true
  }

  private expire(now: number): void {
    while (this.head < this.keys.length && (this.expiries[this.head] as number) <= now) {
      this.live.delete(this.keys[this.head] as string)
      this.head++
    }
    // Reclaim the consumed front of the queue once it is the larger part.
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head)
      this.expiries = this.expiries.slice(this.head)
      this.head = 0
    }
  }
}
