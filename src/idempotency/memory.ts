import { randomUUID } from 'node:crypto'
import { StoreUnavailableError } from '../nonce/store.js'
import type { Claim, IdempotencyStore, StoredResponse } from './store.js'

interface Entry {
  fingerprint: string
  token?: string
  held?: true
  response?: StoredResponse
  expiresAt: number
  waiters: Array<() => void>
}

/** What a record holds besides its key and body, in bytes (measured: 630 B with a 189-byte body). */
const RECORD_OVERHEAD = 440

/**
 * The single-instance store. Bounded in records and in bytes (maxEntries ×
 * 1 KiB, what src/memory-budget.ts reserves): when either is reached it refuses
 * new keys (503) rather than forget one, which could let a retry move money
 * twice. Bytes, because one record can be far larger than the average.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly kind = 'memory'
  private readonly entries = new Map<string, Entry>()
  private bytes = 0

  constructor(
    private readonly options: { ttlMs: number; lockMs: number; maxEntries: number; now?: () => number },
  ) {}

  /** Bytes the live records hold, roughly (UTF-16 strings counted at one byte a character, as JSON mostly is). */
  get size(): { records: number; bytes: number } {
    return { records: this.entries.size, bytes: this.bytes }
  }

  private weigh(key: string, entry: Entry): number {
    return RECORD_OVERHEAD + key.length + entry.fingerprint.length + (entry.response?.body.length ?? 0)
  }

  private put(key: string, entry: Entry): void {
    const old = this.entries.get(key)
    if (old) this.bytes -= this.weigh(key, old)
    this.entries.set(key, entry)
    this.bytes += this.weigh(key, entry)
  }

  private remove(key: string): void {
    const old = this.entries.get(key)
    if (!old) return
    this.bytes -= this.weigh(key, old)
    this.entries.delete(key)
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry && entry.expiresAt <= this.now()) {
      this.remove(key)
      entry.waiters.forEach((wake) => wake())
      return undefined
    }
    return entry
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const entry = this.live(key)
    if (entry) {
      if (entry.response) return { state: 'done', fingerprint: entry.fingerprint, response: entry.response }
      return { state: entry.held ? 'held' : 'pending', fingerprint: entry.fingerprint }
    }
    const full = () => this.entries.size >= this.options.maxEntries || this.bytes >= this.options.maxEntries * 1024
    if (full()) {
      for (const k of [...this.entries.keys()]) this.live(k)
      if (full()) {
        throw new StoreUnavailableError(`in-memory idempotency store is full (${this.entries.size} live records, ${Math.round(this.bytes / 1024)} KiB); use Redis or raise idempotency.maxEntries`)
      }
    }
    const token = randomUUID()
    this.put(key, { fingerprint, token, expiresAt: this.now() + this.options.lockMs, waiters: [] })
    return { state: 'claimed', token }
  }

  async complete(key: string, token: string, fingerprint: string, response: StoredResponse): Promise<void> {
    this.settle(key, token, () => ({ fingerprint, response, expiresAt: this.now() + this.options.ttlMs }))
  }

  async release(key: string, token: string): Promise<void> {
    this.settle(key, token, () => undefined)
  }

  async hold(key: string, token: string): Promise<void> {
    this.settle(key, token, (claim) => ({ fingerprint: claim.fingerprint, held: true, expiresAt: this.now() + this.options.lockMs }))
  }

  /** Replaces (or, given nothing, removes) the claim `token` holds, and wakes whoever waits on it. */
  private settle(key: string, token: string, next: (claim: Entry) => Omit<Entry, 'waiters'> | undefined): void {
    const entry = this.entries.get(key)
    if (!entry || entry.token !== token) return
    const replacement = next(entry)
    if (replacement) this.put(key, { ...replacement, waiters: [] })
    else this.remove(key)
    entry.waiters.forEach((wake) => wake())
  }

  async extend(key: string, token: string): Promise<void> {
    // Not live(): a claim whose holder is still running is renewed even if a late timer let it lapse.
    const entry = this.entries.get(key)
    if (entry && entry.token === token) entry.expiresAt = this.now() + this.options.lockMs
  }

  changed(key: string, waitMs: number): Promise<void> {
    const entry = this.live(key)
    if (!entry || entry.response || entry.held) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(waitMs, Math.max(0, entry.expiresAt - this.now())))
      entry.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
