import { randomUUID } from 'node:crypto'
import { StoreUnavailableError } from '../nonce/store.js'
import type { Claim, IdempotencyStore, StoredResponse } from './store.js'

interface Entry {
  fingerprint: string
  token?: string
  response?: StoredResponse
  expiresAt: number
  waiters: Array<() => void>
}

/**
 * The single-instance store. Bounded: when every slot holds a live record it
 * refuses new keys (503) rather than forget one, which could let a retry move
 * money twice.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly kind = 'memory'
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly options: { ttlMs: number; lockMs: number; maxEntries: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key)
      entry.waiters.forEach((wake) => wake())
      return undefined
    }
    return entry
  }

  async claim(key: string, fingerprint: string): Promise<Claim> {
    const entry = this.live(key)
    if (entry) return entry.response ? { state: 'done', fingerprint: entry.fingerprint, response: entry.response } : { state: 'pending', fingerprint: entry.fingerprint }
    if (this.entries.size >= this.options.maxEntries) {
      for (const k of [...this.entries.keys()]) this.live(k)
      if (this.entries.size >= this.options.maxEntries) {
        throw new StoreUnavailableError(`in-memory idempotency store is full (${this.options.maxEntries} live records); use Redis or raise idempotency.maxEntries`)
      }
    }
    const token = randomUUID()
    this.entries.set(key, { fingerprint, token, expiresAt: this.now() + this.options.lockMs, waiters: [] })
    return { state: 'claimed', token }
  }

  async complete(key: string, token: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const entry = this.entries.get(key)
    if (!entry || entry.token !== token) return
    const waiters = entry.waiters
    this.entries.set(key, { fingerprint, response, expiresAt: this.now() + this.options.ttlMs, waiters: [] })
    waiters.forEach((wake) => wake())
  }

  async release(key: string, token: string): Promise<void> {
    const entry = this.entries.get(key)
    if (!entry || entry.token !== token) return
    this.entries.delete(key)
    entry.waiters.forEach((wake) => wake())
  }

  changed(key: string, waitMs: number): Promise<void> {
    const entry = this.live(key)
    if (!entry || entry.response) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(waitMs, Math.max(0, entry.expiresAt - this.now())))
      entry.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
