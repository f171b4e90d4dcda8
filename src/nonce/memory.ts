import { StoreUnavailableError, type NonceStore } from './store.js'

export interface MemoryNonceStoreOptions {
  /** Refuse (fail closed) rather than forget an unexpired nonce when full. */
  maxEntries: number
  now?: () => number
}

/**
 * The embedded, single-instance store. A queue holds keys in arrival order and
 * each claim drops expired ones from its head, O(1) amortised, no timers.
 * Retentions differ per nonce (they follow each request's timestamp), so an
 * entry's expiry is raised to the one before it: the queue stays in expiry
 * order and a nonce is only ever kept longer than asked, never shorter; the
 * excess is bounded by the spread of retentions (two timestamp windows).
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
  private readonly maxEntries: number
  private readonly now: () => number

  constructor({ maxEntries, now = Date.now }: MemoryNonceStoreOptions) {
    this.maxEntries = maxEntries
    this.now = now
  }

  get size(): number {
    return this.live.size
  }

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now()
    this.expire(now)
    const key = `${scope}\n${nonce}`
    if (this.live.has(key)) return false
    if (this.live.size >= this.maxEntries) {
      throw new StoreUnavailableError(`in-memory nonce store is full (${this.maxEntries} live nonces); raise auth.nonceStore.maxEntries or use Redis`)
    }
    this.live.add(key)
    this.keys.push(key)
    this.expiries.push(Math.max(now + ttlMs, this.expiries[this.expiries.length - 1] ?? 0))
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
